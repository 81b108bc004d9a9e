/* test_pcap_replay: `triglav-sim replay` end to end through the program
 * (argv[1]), over the shared captures (argv[2] is the shared data folder).
 *
 * Every capture in pcap/ is replayed through a small lossy two-uplink
 * scenario with two strategies: injected equals the IP packets this test
 * counts itself with libpcap, delivered + lost = injected (stdout and
 * database agree), every packet of --out equals the original packet the
 * database says it is (by index and arrival time) byte for byte, and the
 * timestamps never go back. Then a table of link types (Ethernet with a VLAN
 * tag, raw IP, Linux cooked v1 and v2, hand-written pcapng), refused files
 * (cut mid-record, captured short, unsupported link type, not a capture),
 * packets too big for the tunnel, forced directions, the upgrade of a
 * version 1 database, a capture of one empty IP packet, and paths that are
 * not regular files (a FIFO, a device, a folder) or too large. */
#define _DEFAULT_SOURCE
#define _XOPEN_SOURCE 700

#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pcap/pcap.h>
#include <sqlite3.h>

#include "check.h"
#include "sim/db.h"
#include "simtest.h"

static const char *prog;
static char dir[256];
static char scn[512];
static char out_text[65536], err_text[65536];

static const char scenario_text[] = "[scenario]\n"
                                    "name = \"replay-test\"\n"
                                    "description = \"test_pcap_replay: two lossy uplinks\"\n"
                                    "duration = 5s\n"
                                    "iterations = 1\n"
                                    "strategies = [\"adaptive\"]\n"
                                    "aggregation = [\"full\"]\n"
                                    "\n"
                                    "[[uplink]]\n"
                                    "name = \"wifi\"\n"
                                    "rate = 20Mbit\n"
                                    "delay = 10ms\n"
                                    "jitter = 4ms\n"
                                    "loss = 2%\n"
                                    "\n"
                                    "[[uplink]]\n"
                                    "name = \"lte\"\n"
                                    "rate = 8Mbit\n"
                                    "delay = 30ms\n"
                                    "jitter = 6ms\n"
                                    "loss = 1%\n"
                                    "\n"
                                    "# the loader wants traffic; a replay does not run it\n"
                                    "[[traffic]]\n"
                                    "kind = \"voice\"\n";

/* Run `prog args...`; stdout and stderr into out_text and err_text. */
static int run(const char *const *args)
{
    char o[600], e[600];
    simtest_path(o, sizeof o, dir, "stdout");
    simtest_path(e, sizeof e, dir, "stderr");
    int status = simtest_wait(simtest_start(prog, args, o, e, NULL));
    if (status < 0)
        return -1;
    simtest_read(o, out_text, sizeof out_text);
    simtest_read(e, err_text, sizeof err_text);
    return status;
}

/* ------------------------------------------------------------ captures, counted here */

struct pkt {
    uint8_t *data;
    size_t len;
    int64_t ts_us;
};

struct capture {
    struct pkt *v;
    size_t n;
    size_t frames;
};

static void capture_free(struct capture *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->v[i].data);
    free(c->v);
    memset(c, 0, sizeof *c);
}

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* The IP packets of a capture, counted independently of sim/replay.c:
 * Ethernet frames whose ethertype (after at most one VLAN tag) is IPv4 or
 * IPv6, cut to the IP header's length; raw-IP and cooked frames likewise. */
static bool read_capture(const char *path, struct capture *c)
{
    memset(c, 0, sizeof *c);
    char e[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline(path, e);
    if (p == NULL) {
        fprintf(stderr, "%s: %s\n", path, e);
        return false;
    }
    int dlt = pcap_datalink(p);
    struct pcap_pkthdr *h;
    const u_char *d;
    size_t cap = 0;
    while (pcap_next_ex(p, &h, &d) == 1) {
        c->frames++;
        size_t off = 0;
        bool ip = false;
        if (dlt == DLT_EN10MB && h->caplen >= 14) {
            uint16_t et = be16(d + 12);
            off = 14;
            if (et == 0x8100 && h->caplen >= 18) {
                et = be16(d + 16);
                off = 18;
            }
            ip = et == 0x0800 || et == 0x86dd;
        } else if (dlt == DLT_LINUX_SLL && h->caplen >= 16) {
            off = 16;
            ip = be16(d + 14) == 0x0800 || be16(d + 14) == 0x86dd;
        } else if (dlt == DLT_LINUX_SLL2 && h->caplen >= 20) {
            off = 20;
            ip = be16(d) == 0x0800 || be16(d) == 0x86dd;
        } else if (dlt == DLT_RAW && h->caplen >= 1) {
            ip = d[0] >> 4 == 4 || d[0] >> 4 == 6;
        }
        if (!ip)
            continue;
        const uint8_t *q = d + off;
        size_t avail = h->caplen - off, len = avail;
        if (avail >= 20 && q[0] >> 4 == 4 && be16(q + 2) <= avail)
            len = be16(q + 2);
        else if (avail >= 40 && q[0] >> 4 == 6 && 40u + be16(q + 4) <= avail)
            len = 40u + be16(q + 4);
        if (c->n == cap) {
            cap = cap ? 2 * cap : 256;
            c->v = realloc(c->v, cap * sizeof *c->v);
        }
        c->v[c->n].data = malloc(len ? len : 1);
        memcpy(c->v[c->n].data, q, len);
        c->v[c->n].len = len;
        c->v[c->n].ts_us = (int64_t)h->ts.tv_sec * 1000000 + h->ts.tv_usec;
        c->n++;
    }
    pcap_close(p);
    return true;
}

/* Write packets of `c` (index from..to) as `dlt` frames with the given header. */
static bool write_capture(const char *path, int dlt, const struct capture *c, size_t from,
                          size_t to, const uint8_t *hdr, size_t hdr_len, int version_at)
{
    pcap_t *p = pcap_open_dead(dlt, 65535);
    pcap_dumper_t *dump = pcap_dump_open(p, path);
    if (dump == NULL)
        return false;
    for (size_t i = from; i < to && i < c->n; i++) {
        uint8_t frame[70000];
        if (hdr_len)
            memcpy(frame, hdr, hdr_len);
        if (version_at >= 0) { /* the protocol field of the link header */
            uint16_t et = (c->v[i].data[0] >> 4) == 6 ? 0x86dd : 0x0800;
            frame[version_at] = (uint8_t)(et >> 8);
            frame[version_at + 1] = (uint8_t)et;
        }
        memcpy(frame + hdr_len, c->v[i].data, c->v[i].len);
        struct pcap_pkthdr h = {{0, 0}, 0, 0};
        h.ts.tv_sec = (time_t)(c->v[i].ts_us / 1000000);
        h.ts.tv_usec = (suseconds_t)(c->v[i].ts_us % 1000000);
        h.caplen = h.len = (bpf_u_int32)(hdr_len + c->v[i].len);
        pcap_dump((u_char *)dump, &h, frame);
    }
    pcap_dump_close(dump);
    pcap_close(p);
    return true;
}

/* ------------------------------------------------------------ a pcapng, by hand */

static void put32(FILE *f, uint32_t v)
{
    fwrite(&v, 4, 1, f); /* host order: the byte-order magic says which */
}

static bool write_pcapng(const char *path, const struct capture *c, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return false;
    /* section header block */
    put32(f, 0x0a0d0d0a);
    put32(f, 28);
    put32(f, 0x1a2b3c4d);
    put32(f, 1); /* major 1, minor 0 (two 16-bit fields, little-endian host) */
    put32(f, 0xffffffff);
    put32(f, 0xffffffff); /* section length: unknown */
    put32(f, 28);
    /* interface description block: LINKTYPE_RAW, microseconds */
    put32(f, 1);
    put32(f, 20);
    put32(f, 101); /* linktype 101, reserved 0 */
    put32(f, 0);   /* snaplen: none */
    put32(f, 20);
    for (size_t i = 0; i < n && i < c->n; i++) {
        size_t pad = (4 - c->v[i].len % 4) % 4;
        uint32_t total = (uint32_t)(32 + c->v[i].len + pad);
        uint64_t ts = (uint64_t)c->v[i].ts_us;
        put32(f, 6);
        put32(f, total);
        put32(f, 0);
        put32(f, (uint32_t)(ts >> 32));
        put32(f, (uint32_t)ts);
        put32(f, (uint32_t)c->v[i].len);
        put32(f, (uint32_t)c->v[i].len);
        fwrite(c->v[i].data, 1, c->v[i].len, f);
        static const uint8_t zero[4];
        fwrite(zero, 1, pad, f);
        put32(f, total);
    }
    return fclose(f) == 0;
}

/* ------------------------------------------------------------ checks */

/* "injected: N delivered: M lost: L" from the last stdout. */
static bool summary(long long *inj, long long *del, long long *lost)
{
    const char *s = strstr(out_text, "injected: ");
    return s != NULL && sscanf(s, "injected: %lld delivered: %lld lost: %lld", inj, del, lost) == 3;
}

/* The last replay in db against the original capture and the --out file. */
static void check_replay(const char *what, const struct capture *orig, const char *db,
                         const char *out)
{
    long long inj = -1, del = -1, lost = -1;
    CHECK(summary(&inj, &del, &lost));
    CHECK_EQ(inj, (long long)orig->n);
    CHECK_EQ(del + lost, inj);

    sqlite3 *h;
    CHECK(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
    long long id = simtest_db_int(h, "SELECT max(id) FROM replays");
    char q[256];
    snprintf(q, sizeof q, "SELECT injected - delivered - lost FROM replays WHERE id = %lld", id);
    CHECK_EQ(simtest_db_int(h, q), 0);
    snprintf(q, sizeof q, "SELECT delivered FROM replays WHERE id = %lld", id);
    CHECK_EQ(simtest_db_int(h, q), del);
    snprintf(q, sizeof q, "SELECT count(*) FROM replay_packets WHERE replay_id = %lld", id);
    CHECK_EQ(simtest_db_int(h, q), inj);
    snprintf(q, sizeof q,
             "SELECT count(*) FROM replay_packets WHERE replay_id = %lld AND lost = 1", id);
    CHECK_EQ(simtest_db_int(h, q), lost);
    snprintf(q, sizeof q,
             "SELECT count(*) FROM replay_packets WHERE replay_id = %lld AND (lost = 0) <> "
             "(delivered_ms IS NOT NULL)",
             id);
    CHECK_EQ(simtest_db_int(h, q), 0);

    /* when each packet should appear in --out: capture start + delivered - session up */
    size_t n = orig->n;
    int64_t *expect = calloc(n ? n : 1, sizeof *expect);
    bool *used = calloc(n ? n : 1, sizeof *used);
    for (size_t i = 0; i < n; i++)
        expect[i] = INT64_MIN;
    sqlite3_stmt *st;
    snprintf(q, sizeof q,
             "SELECT p.packet, p.delivered_ms - r.session_up_ms, p.size_bytes FROM "
             "replay_packets p JOIN replays r ON r.id = p.replay_id WHERE r.id = %lld AND "
             "p.delivered_ms IS NOT NULL",
             id);
    CHECK(sqlite3_prepare_v2(h, q, -1, &st, NULL) == SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) {
        long long i = sqlite3_column_int64(st, 0);
        CHECK(i >= 0 && (size_t)i < n);
        if (i < 0 || (size_t)i >= n)
            continue;
        expect[i] = orig->v[0].ts_us + llround(sqlite3_column_double(st, 1) * 1000);
        CHECK_EQ(sqlite3_column_int64(st, 2), (long long)orig->v[i].len);
    }
    sqlite3_finalize(st);
    sqlite3_close(h);

    /* every delivered packet, byte for byte, as the packet with its index */
    struct capture got;
    CHECK(read_capture(out, &got));
    CHECK_EQ(got.n, del);
    size_t bad = 0, unordered = 0;
    for (size_t k = 0; k < got.n; k++) {
        if (k > 0 && got.v[k].ts_us < got.v[k - 1].ts_us)
            unordered++;
        bool found = false;
        for (size_t i = 0; i < n && !found; i++) {
            if (used[i] || expect[i] == INT64_MIN || llabs(expect[i] - got.v[k].ts_us) > 1 ||
                orig->v[i].len != got.v[k].len ||
                memcmp(orig->v[i].data, got.v[k].data, got.v[k].len) != 0)
                continue;
            used[i] = found = true;
        }
        bad += !found;
    }
    if (bad || unordered)
        fprintf(stderr, "%s: %zu delivered packets differ from their original, %zu out of order\n",
                what, bad, unordered);
    CHECK_EQ(bad, 0);
    CHECK_EQ(unordered, 0);
    capture_free(&got);
    free(expect);
    free(used);
}

static bool has_pcap_suffix(const char *s)
{
    size_t n = strlen(s);
    return (n > 5 && strcmp(s + n - 5, ".pcap") == 0) ||
           (n > 7 && strcmp(s + n - 7, ".pcapng") == 0);
}

static void copy_cut(const char *from, const char *to, long cut_from_end)
{
    FILE *f = fopen(from, "rb");
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    rewind(f);
    long keep = size - cut_from_end;
    uint8_t *buf = malloc((size_t)size);
    size_t got = fread(buf, 1, (size_t)size, f);
    fclose(f);
    CHECK_EQ(got, size);
    FILE *g = fopen(to, "wb");
    fwrite(buf, 1, (size_t)keep, g);
    fclose(g);
    free(buf);
}

int main(int argc, char **argv)
{
    if (argc < 3 || access(argv[1], X_OK) != 0) {
        fprintf(stderr, "usage: test_pcap_replay PATH/TO/triglav-sim SHARED_DATA_DIR\n");
        return 77;
    }
    prog = argv[1];
    char pcap_dir[1024];
    snprintf(pcap_dir, sizeof pcap_dir, "%s/pcap", argv[2]);
    DIR *dp = opendir(pcap_dir);
    if (dp == NULL) {
        fprintf(stderr, "test_pcap_replay: the shared captures are missing: %s\n", pcap_dir);
        return 1;
    }
    if (simtest_mkdtemp(dir, sizeof dir, "test_pcap_replay") != 0) {
        perror(dir);
        return 1;
    }
    simtest_path(scn, sizeof scn, dir, "replay-test.scn");
    if (simtest_write(scn, scenario_text) != 0) {
        perror(scn);
        return 1;
    }
    char db[512], out[512], tmpcap[512];
    simtest_path(db, sizeof db, dir, "replay.db");
    simtest_path(out, sizeof out, dir, "delivered.pcap");
    simtest_path(tmpcap, sizeof tmpcap, dir, "made.pcap");

    /* ---- every shared capture, two strategies */
    char firefox[1024] = "", sipp[1024] = "";
    size_t n_files = 0;
    struct dirent *de;
    while ((de = readdir(dp)) != NULL) {
        if (!has_pcap_suffix(de->d_name))
            continue;
        char path[1024];
        if (snprintf(path, sizeof path, "%s/%s", pcap_dir, de->d_name) >= (int)sizeof path)
            continue;
        if (strstr(de->d_name, "firefox"))
            snprintf(firefox, sizeof firefox, "%s", path);
        if (strstr(de->d_name, "g711"))
            snprintf(sipp, sizeof sipp, "%s", path);
        struct capture c;
        CHECK(read_capture(path, &c));
        CHECK(c.n > 0);
        n_files++;
        static const char *const strategies[] = {"adaptive", "redundant"};
        for (size_t s = 0; s < 2; s++) {
            int rc = run((const char *[]){"replay", path, "--scenario", scn, "--strategy",
                                          strategies[s], "--db", db, "--out", out, NULL});
            CHECK_EQ(rc, 0);
            if (rc != 0)
                fprintf(stderr, "%s", err_text);
            printf("%s (%s): %s", de->d_name, strategies[s], strstr(out_text, "injected: ")
                                                                 ? strstr(out_text, "injected: ")
                                                                 : "(no summary)\n");
            check_replay(de->d_name, &c, db, out);
        }
        /* forced direction: every packet up */
        CHECK_EQ(run((const char *[]){"replay", path, "--scenario", scn, "--direction", "up",
                                      "--db", db, "--out", out, NULL}),
                 0);
        check_replay(de->d_name, &c, db, out);
        sqlite3 *h;
        CHECK(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
        CHECK_EQ(simtest_db_int(h, "SELECT count(*) FROM replay_packets WHERE replay_id = (SELECT "
                                   "max(id) FROM replays) AND direction = 'down'"),
                 0);
        sqlite3_close(h);
        /* non-IP frames: skipped and counted */
        char skipped[64];
        snprintf(skipped, sizeof skipped, "%zu non-IP skipped", c.frames - c.n);
        CHECK(strstr(out_text, skipped) != NULL);
        capture_free(&c);
    }
    closedir(dp);
    CHECK(n_files >= 3);
    if (*sipp == '\0' || *firefox == '\0') {
        fprintf(stderr, "test_pcap_replay: expected the SIPp and Firefox captures in %s\n", pcap_dir);
        return 1;
    }

    /* ---- link types: the first 40 packets of the voice call, re-framed */
    struct capture voice;
    CHECK(read_capture(sipp, &voice));
    static const uint8_t eth_vlan[18] = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2,
                                         0x81, 0x00, 0x00, 0x05, 0, 0};
    static const uint8_t sll[16] = {0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0, 0};
    static const uint8_t sll2[20] = {0, 0, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0};
    const struct {
        const char *name;
        int dlt;
        const uint8_t *hdr;
        size_t hdr_len;
        int proto_at;
    } links[] = {
        {"ethernet+vlan", DLT_EN10MB, eth_vlan, sizeof eth_vlan, 16},
        {"raw", DLT_RAW, NULL, 0, -1},
        {"linux-sll", DLT_LINUX_SLL, sll, sizeof sll, 14},
        {"linux-sll2", DLT_LINUX_SLL2, sll2, sizeof sll2, 0},
    };
    for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
        CHECK(write_capture(tmpcap, links[i].dlt, &voice, 0, 40, links[i].hdr, links[i].hdr_len,
                            links[i].proto_at));
        struct capture c;
        CHECK(read_capture(tmpcap, &c));
        CHECK_EQ(c.n, 40);
        int rc = run((const char *[]){"replay", tmpcap, "--scenario", scn, "--db", db, "--out",
                                      out, NULL});
        CHECK_EQ(rc, 0);
        if (rc != 0)
            fprintf(stderr, "%s: %s", links[i].name, err_text);
        check_replay(links[i].name, &c, db, out);
        capture_free(&c);
    }

    /* ---- pcapng (written by hand: libpcap writes only pcap) */
    char ng[512];
    simtest_path(ng, sizeof ng, dir, "voice.pcapng");
    CHECK(write_pcapng(ng, &voice, 30));
    {
        struct capture c;
        CHECK(read_capture(ng, &c));
        CHECK_EQ(c.n, 30);
        CHECK_EQ(run((const char *[]){"replay", ng, "--scenario", scn, "--db", db, "--out", out,
                                      NULL}),
                 0);
        check_replay("pcapng", &c, db, out);
        capture_free(&c);
    }

    /* ---- too big for the tunnel: lost, counted, still conserved */
    {
        struct capture big = {0};
        big.v = calloc(3, sizeof *big.v);
        big.n = 3;
        const size_t sizes[3] = {1600, 1500, 1490}; /* v4, v4, v6 (1510 with 6in4) */
        for (size_t i = 0; i < 3; i++) {
            uint8_t *p = calloc(1, sizes[i]);
            if (i < 2) {
                p[0] = 0x45;
                p[2] = (uint8_t)(sizes[i] >> 8);
                p[3] = (uint8_t)sizes[i];
                p[8] = 64;
                p[9] = 17;
                memcpy(p + 12, (const uint8_t[]){192, 168, 1, 2, 198, 51, 100, 7}, 8);
            } else {
                p[0] = 0x60;
                p[4] = (uint8_t)((sizes[i] - 40) >> 8);
                p[5] = (uint8_t)(sizes[i] - 40);
                p[6] = 17;
                p[7] = 64;
                p[8] = 0xfd;
                p[24] = 0x20;
                p[25] = 0x01;
            }
            big.v[i] = (struct pkt){p, sizes[i], 1700000000000000 + (int64_t)i * 1000};
        }
        CHECK(write_capture(tmpcap, DLT_RAW, &big, 0, 3, NULL, 0, -1));
        CHECK_EQ(run((const char *[]){"replay", tmpcap, "--scenario", scn, "--db", db, "--out",
                                      out, NULL}),
                 0);
        check_replay("too big", &big, db, out);
        CHECK(strstr(out_text, "injected: 3 delivered: 1 lost: 2 (too big: 2)") != NULL);
        capture_free(&big);
    }

    /* ---- refused: a file cut mid-record, a record captured short, an
     * unsupported link type, not a capture at all; never a crash */
    char cut[512];
    simtest_path(cut, sizeof cut, dir, "cut.pcap");
    copy_cut(firefox, cut, 700);
    CHECK_EQ(run((const char *[]){"replay", cut, "--scenario", scn, "--no-db", NULL}), 1);
    CHECK(strstr(err_text, cut) != NULL && strstr(err_text, "cut short") != NULL);
    CHECK(strstr(out_text, "injected") == NULL);

    {
        pcap_t *p = pcap_open_dead(DLT_RAW, 96);
        pcap_dumper_t *dump = pcap_dump_open(p, tmpcap);
        struct pcap_pkthdr h = {{1, 0}, 96, (bpf_u_int32)voice.v[0].len};
        uint8_t frame[96] = {0};
        memcpy(frame, voice.v[0].data, 96);
        pcap_dump((u_char *)dump, &h, frame);
        pcap_dump_close(dump);
        pcap_close(p);
        CHECK(voice.v[0].len > 96);
        CHECK_EQ(run((const char *[]){"replay", tmpcap, "--scenario", scn, "--no-db", NULL}), 1);
        CHECK(strstr(err_text, tmpcap) != NULL && strstr(err_text, "snap length") != NULL);
    }

    CHECK(write_capture(tmpcap, DLT_PPP, &voice, 0, 5, (const uint8_t[]){0xff, 0x03, 0, 0x21}, 4,
                        -1));
    CHECK_EQ(run((const char *[]){"replay", tmpcap, "--scenario", scn, "--no-db", NULL}), 1);
    CHECK(strstr(err_text, tmpcap) != NULL && strstr(err_text, "not supported") != NULL &&
          strstr(err_text, "PPP") != NULL);

    CHECK_EQ(run((const char *[]){"replay", scn, "--scenario", scn, "--no-db", NULL}), 1);
    CHECK(strstr(err_text, scn) != NULL);

    /* bad usage */
    CHECK_EQ(run((const char *[]){"replay", sipp, NULL}), 2);
    CHECK(strstr(err_text, "--scenario") != NULL);
    CHECK_EQ(run((const char *[]){"replay", sipp, "--scenario", scn, "--direction", "sideways",
                                  "--no-db", NULL}),
             2);
    CHECK_EQ(run((const char *[]){"replay", "--help", NULL}), 0);
    CHECK(strstr(out_text, "--direction") != NULL);

    /* ---- a version 1 database (before replays) is upgraded in place */
    {
        char old[512];
        simtest_path(old, sizeof old, dir, "v1.db");
        const char *v2 = strstr(sim_db_schema, "\n-- @version 2:");
        CHECK(v2 != NULL);
        char *v1 = strndup(sim_db_schema, v2 != NULL ? (size_t)(v2 - sim_db_schema) : 0);
        sqlite3 *h;
        CHECK(sqlite3_open(old, &h) == SQLITE_OK);
        CHECK(sqlite3_exec(h, v1, NULL, NULL, NULL) == SQLITE_OK);
        CHECK(sqlite3_exec(h, "PRAGMA user_version = 1", NULL, NULL, NULL) == SQLITE_OK);
        CHECK_EQ(simtest_db_int(h, "SELECT count(*) FROM sqlite_master WHERE name = 'replays'"), 0);
        sqlite3_close(h);
        free(v1);
        CHECK_EQ(run((const char *[]){"replay", sipp, "--scenario", scn, "--db", old, NULL}), 0);
        CHECK(sqlite3_open(old, &h) == SQLITE_OK);
        CHECK_EQ(simtest_db_int(h, "PRAGMA user_version"), SIM_DB_SCHEMA_VERSION);
        CHECK_EQ(simtest_db_int(h, "SELECT count(*) FROM replay_packets"), (long long)voice.n);
        sqlite3_close(h);
    }
    capture_free(&voice);

    /* ---- an Ethernet frame that is only a header saying IPv4: an IP packet
     * of 0 bytes, the capture's only one (UBSan tripped on its offset into a
     * buffer that was never allocated) */
    {
        static const uint8_t only_header[] = {
            0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0,
            1, 0, 0, 0, 0, 0, 0, 0, 14, 0, 0, 0, 14, 0, 0, 0, /* record: 14 of 14 bytes */
            0, 0x11, 0x22, 0x33, 0x44, 0x55, 0, 0x11, 0x22, 0x33, 0x44, 0x66, 0x08, 0x00};
        FILE *f = fopen(tmpcap, "wb");
        CHECK(f != NULL && fwrite(only_header, 1, sizeof only_header, f) == sizeof only_header);
        if (f)
            fclose(f);
        CHECK_EQ(run((const char *[]){"replay", tmpcap, "--scenario", scn, "--db", db, "--out",
                                      out, NULL}),
                 0);
        CHECK(strstr(out_text, "1 records, 1 IP packets") != NULL);
        CHECK(strstr(err_text, "runtime error") == NULL);
    }

    /* ---- a capture or a scenario path that is not a regular file is refused
     * at once: a FIFO never blocks the program (it hung), a device is never
     * read, and a file above the size limit is refused from its size (a
     * sparse one: it takes no room) */
    {
        char fifo[512], big[512], e[600], o[600];
        simtest_path(fifo, sizeof fifo, dir, "fifo.pcap");
        simtest_path(big, sizeof big, dir, "big.pcap");
        simtest_path(o, sizeof o, dir, "stdout");
        simtest_path(e, sizeof e, dir, "stderr");
        CHECK(mkfifo(fifo, 0600) == 0);
        FILE *f = fopen(big, "wb");
        CHECK(f != NULL && fclose(f) == 0);
        CHECK(truncate(big, (off_t)1024 * 1024 * 1024 + 1) == 0);
        const struct {
            const char *cap, *scn, *want;
        } rows[] = {
            {fifo, scn, ": cannot read capture: not a regular file (a FIFO)"},
            {"/dev/zero", scn, "/dev/zero: cannot read capture: not a regular file (a character device)"},
            {dir, scn, ": cannot read capture: not a regular file (a folder)"},
            {big, scn, "big.pcap: cannot read capture: larger than 1024 MiB"},
            {sipp, fifo, "fifo.pcap: cannot read: not a regular file (a FIFO)"},
        };
        for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
            const char *args[] = {"replay", rows[i].cap, "--scenario", rows[i].scn, "--no-db", NULL};
            int rc = simtest_wait_for(simtest_start(prog, args, o, e, NULL), 20);
            simtest_read(e, err_text, sizeof err_text);
            if (rc != 1 || strstr(err_text, rows[i].want) == NULL)
                fprintf(stderr, "hostile %zu: %s %d, \"%s\", want \"%s\"\n", i,
                        rc == -2 ? "killed after 20 s, exit" : "exit", rc, err_text, rows[i].want);
            CHECK_EQ(rc, 1);
            CHECK(strstr(err_text, rows[i].want) != NULL);
        }
        unlink(fifo);
        unlink(big);
    }

    if (check_failures == 0 && simtest_rmtree(dir) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return check_exit("test_pcap_replay");
}
