/*
 * table.h: a fixed-capacity hash table from 64-bit keys to 64-bit values.
 *
 * Open addressing with linear probing and backward-shift deletion (Knuth,
 * TAOCP vol. 3, 6.4, Algorithm R): a deletion moves later members of the
 * probe run back instead of leaving a tombstone, so lookups cost the same
 * after a million insertions and deletions as after the first. The capacity
 * is fixed at creation (a power of two at least twice the most keys the
 * caller will hold); nothing allocates afterwards. Key 0 is reserved (empty).
 *
 * Keys are mixed by a 64-bit finaliser, which spreads but does not hide
 * them: callers use keys an attacker cannot choose (random indexes chosen by
 * this side, keyed hashes). This is what the server uses to find sessions by
 * receiver index and by token, and recent handshakes by their ephemeral key.
 */
#ifndef TG_TABLE_H
#define TG_TABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "alloc.h"
#include "error.h"

struct tg_table_entry {
    uint64_t key;   /* 0 = empty */
    uint64_t value;
};

struct tg_table {
    struct tg_table_entry *e;
    uint32_t mask;  /* capacity - 1 */
    uint32_t count; /* keys held */
};

/* Room for at least `keys` keys at a load of at most one half.
 * Returns TG_OK, TG_ERR_INVAL (keys 0 or above 2^30), TG_ERR_NOMEM. */
int tg_table_init(struct tg_table *t, uint32_t keys, const struct tg_allocator *a) TG_MUST_CHECK;
void tg_table_clear(struct tg_table *t, const struct tg_allocator *a);

/* The value stored under `key`, or NULL. */
uint64_t *tg_table_find(const struct tg_table *t, uint64_t key);
/* Store `value` under `key` (replacing what was there). Returns TG_OK,
 * TG_ERR_INVAL (key 0), TG_ERR_NOBUF (the table is at half load). */
int tg_table_put(struct tg_table *t, uint64_t key, uint64_t value) TG_MUST_CHECK;
/* Remove `key`; true when it was there. */
bool tg_table_del(struct tg_table *t, uint64_t key);

#endif
