/* fuzz_session.h: the world of the fuzz_session target (fuzz_session.c): a
 * real client and server connected to each other, the harness as a second
 * client of that server and as the server of a second real client
 * (fuzz_session_peers.c), and the datagrams in flight between them. */
#ifndef TG_FUZZ_SESSION_H
#define TG_FUZZ_SESSION_H

#include "core/cookie.h"
#include "core/endpoint.h"
#include "core/hello.h"
#include "core/noise.h"
#include "core/transport.h"
#include "core/wire.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SLOTS        4            /* fake client slots, solo uplinks */
#define N_FLIGHT     128          /* datagrams in flight per list */
#define FLIGHT_BYTES (4000 + 128) /* a client's largest datagram */
#define CHECK(x)     ((x) ? (void)0 : __builtin_trap())

enum dest { TO_SERVER, TO_CLIENT, TO_SOLO, TO_FAKE_CLIENT, TO_FAKE_SERVER, TO_SERVER_TUN };

struct flight {
    uint8_t to;     /* enum dest */
    uint8_t uplink; /* client and solo: the uplink; fake client: its slot */
    uint16_t len;
    uint8_t data[FLIGHT_BYTES];
};

struct flights {
    unsigned n;
    struct flight f[N_FLIGHT];
};

/* The harness as the server's second client. */
struct fake_client {
    struct tg_noise_hs hs[SLOTS];
    bool busy[SLOTS], joining[SLOTS];
    uint32_t hs_index[SLOTS];
    struct tg_transport t[SLOTS];
    bool keyed[SLOTS], roam[SLOTS];
    bool session;
    uint8_t addr[4], token[TG_TOKEN_LEN], join_key[TG_NOISE_KEY_LEN];
    uint32_t next_index;
    uint64_t seed;
    uint16_t last_len; /* its last sealed datagram (a replay, op 7) */
    uint8_t last_slot;
    uint8_t last[FLIGHT_BYTES];
};

/* The harness as the solo client's server. */
struct fake_server {
    uint8_t priv[32], pub[32];
    struct tg_mac_keys mac;
    struct tg_transport t[SLOTS];
    bool keyed[SLOTS], nk[SLOTS];
    uint8_t join_key[TG_NOISE_KEY_LEN];
    uint32_t next_index;
    uint64_t seed;
};

struct world {
    struct tg_allocator alloc;
    struct tg_server *server;
    struct tg_client *client, *solo;
    uint8_t server_public[32];
    struct tg_mac_keys server_mac;
    uint8_t client_tun[4]; /* the client's tunnel address */
    uint32_t client_max_packet;
    struct fake_client fc;
    struct fake_server fs;
    uint64_t seed_server, seed_client, seed_solo;
    tg_time now;
    uint8_t net; /* enum net: the client-server network (op 6) */
    uint32_t net_seen;
    unsigned steps_left;         /* deadlines op 4 may still step through */
    bool up[2][SLOTS];           /* client, solo: uplinks the host brought up */
    uint8_t client_host[SLOTS];  /* last byte of each client uplink's address */
    bool announced[256];         /* tunnel addresses the server gave out (last byte) */
    uint64_t dgrams[3], tuns[3]; /* drained from server, client, solo */
    struct flights *next, *cur, *held;
    uint8_t buf[TG_MAX_DATAGRAM]; /* (not reset per input from here on) */
    uint8_t pkt[65536];
    struct flight dup;
};

extern const uint8_t solo_tun[4], solo_token[TG_TOKEN_LEN];

/* fuzz_session.c */
void det_fill(void *ctx, uint8_t *buf, size_t len);
struct tg_key_addr fc_addr(const struct fake_client *fc, unsigned slot);
/* Put a datagram in flight; a full list drops it, like a full queue. */
void send_to(struct flights *l, uint8_t to, unsigned uplink, const uint8_t *data, size_t len);
/* Take every output of the three endpoints, check it, put it in flight. */
void drain(struct world *w);

/* fuzz_session_peers.c: the fake client (fc_) and the fake server (fs_) */
/* Start a handshake on `slot`: NK for a new session, or a join. */
void fc_start(struct world *w, unsigned slot, bool join);
/* Seal `plain` under the slot's keys and give it to the server. */
void fc_seal_send(struct world *w, unsigned slot, const uint8_t *plain, size_t len);
/* A datagram the server sent to the fake client's address of `slot`. */
void fc_receive(struct world *w, unsigned slot, uint8_t *data, size_t len);
/* Seal `plain` under the keys of `slot` and give it to the solo client on `uplink`. */
void fs_seal_send(struct world *w, unsigned slot, unsigned uplink, const uint8_t *plain,
                  size_t len);
/* A datagram the solo client sent on `uplink`. */
void fs_receive(struct world *w, unsigned uplink, uint8_t *data, size_t len);

#endif
