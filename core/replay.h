/*
 * replay.h: the sliding-window replay filter over a transport session's
 * explicit nonce counters (the scheme of RFC 6479 / WireGuard).
 *
 * The receiver accepts each counter at most once, in any order, as long as it
 * is not more than TG_REPLAY_WINDOW behind the highest counter accepted so
 * far. Memory is a fixed bitmap (1 KiB); check and update are O(1) except for
 * clearing the blocks a forward jump passes over (bounded by the bitmap size).
 * Check before decrypting, record only after the AEAD tag verified, so forged
 * packets cannot move the window.
 */
#ifndef TG_REPLAY_H
#define TG_REPLAY_H

#include <stdint.h>

#include "error.h"

/* Counters tracked behind the highest accepted one. */
#define TG_REPLAY_WINDOW 8192u
/* Counters at or above this are refused by sender and receiver alike, so the
 * spec's reserved nonce 2^64-1 is never reached: the session must rekey. */
#define TG_REPLAY_COUNTER_LIMIT (UINT64_MAX - TG_REPLAY_WINDOW)

struct tg_replay {
    uint64_t next; /* highest accepted counter + 1; 0 = nothing accepted yet */
    uint64_t bits[TG_REPLAY_WINDOW / 64 + 1]; /* ring of blocks; one spare block */
};

void tg_replay_init(struct tg_replay *r);

/* Acceptance rule, exactly: with top = the highest counter accepted so far,
 * a counter c is accepted iff c < TG_REPLAY_COUNTER_LIMIT and either nothing
 * was accepted yet, or c > top, or (top - c < TG_REPLAY_WINDOW and c was not
 * accepted before). So the window is the TG_REPLAY_WINDOW counters
 * top-WINDOW+1 .. top.
 *
 * Would `counter` be accepted? No state change.
 * Returns TG_OK, TG_ERR_REPLAY (seen, or too far behind),
 * TG_ERR_COUNTER_LIMIT (counter >= TG_REPLAY_COUNTER_LIMIT). */
int tg_replay_check(const struct tg_replay *r, uint64_t counter) TG_MUST_CHECK;

/* Record `counter` as accepted. Only for a counter that tg_replay_check just
 * returned TG_OK for, with r unchanged since (e.g. check, decrypt, record). */
void tg_replay_record(struct tg_replay *r, uint64_t counter);

/* Check and, if acceptable, record `counter`. Same returns as check. */
int tg_replay_accept(struct tg_replay *r, uint64_t counter) TG_MUST_CHECK;

#endif
