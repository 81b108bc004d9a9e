#include "replay.h"

#include <string.h>

/*
 * Counter c lives in bit c % 64 of block c / 64, and block b sits in ring slot
 * b % RING_BLOCKS. The window's WINDOW counters touch WINDOW/64 + 1 blocks
 * whenever top is not the last counter of its block, which is why the ring
 * has one spare block: every block the window touches owns its own slot, and
 * the window can slide forward inside the top block without clearing anything.
 *
 * Invariant: for each block b in top_block - (RING_BLOCKS-1) .. top_block,
 * slot b % RING_BLOCKS holds exactly the counters of block b accepted so far.
 * Bits of counters behind the window may linger in the oldest block; the
 * distance test comes before the bit test, so they are never consulted.
 */
enum {
    BLOCK_BITS = 64,
    RING_BLOCKS = TG_REPLAY_WINDOW / BLOCK_BITS + 1,
};

_Static_assert(TG_REPLAY_WINDOW % BLOCK_BITS == 0, "window must be whole blocks");
_Static_assert(sizeof(((struct tg_replay *)0)->bits) / sizeof(uint64_t) == RING_BLOCKS,
               "ring must have one spare block");

static size_t slot_of_block(uint64_t block)
{
    return (size_t)(block % RING_BLOCKS);
}

static size_t slot_of(uint64_t counter)
{
    return slot_of_block(counter / BLOCK_BITS);
}

static uint64_t mask_of(uint64_t counter)
{
    return (uint64_t)1 << (counter % BLOCK_BITS);
}

/* The slots of blocks old_top_block+1 .. new_top_block still hold blocks that
 * have now fallen out of the window. A jump of a whole ring or more leaves
 * nothing of the old window, so clearing every slot once is enough and keeps
 * the loop bounded. */
static void clear_passed_blocks(struct tg_replay *r, uint64_t old_top_block, uint64_t new_top_block)
{
    uint64_t jump_blocks = new_top_block - old_top_block;
    if (jump_blocks > RING_BLOCKS)
        jump_blocks = RING_BLOCKS;
    for (uint64_t i = 1; i <= jump_blocks; i++)
        r->bits[slot_of_block(old_top_block + i)] = 0;
}

void tg_replay_init(struct tg_replay *r)
{
    memset(r, 0, sizeof *r);
}

int tg_replay_check(const struct tg_replay *r, uint64_t counter)
{
    if (counter >= TG_REPLAY_COUNTER_LIMIT)
        return TG_ERR_COUNTER_LIMIT;
    /* Also covers the empty filter: next == 0. */
    if (counter >= r->next)
        return TG_OK;
    /* Here counter < next, so top = next - 1 exists and top - counter cannot wrap. */
    uint64_t top = r->next - 1;
    if (top - counter >= TG_REPLAY_WINDOW)
        return TG_ERR_REPLAY;
    if (r->bits[slot_of(counter)] & mask_of(counter))
        return TG_ERR_REPLAY;
    return TG_OK;
}

void tg_replay_record(struct tg_replay *r, uint64_t counter)
{
    if (counter >= r->next) {
        /* Before the first counter every slot is still zero from init, so a
         * large first counter needs no clearing. */
        if (r->next != 0)
            clear_passed_blocks(r, (r->next - 1) / BLOCK_BITS, counter / BLOCK_BITS);
        r->next = counter + 1; /* checked: counter < COUNTER_LIMIT, cannot overflow */
    }
    r->bits[slot_of(counter)] |= mask_of(counter);
}

int tg_replay_accept(struct tg_replay *r, uint64_t counter)
{
    int err = tg_replay_check(r, counter);
    if (err != TG_OK)
        return err;
    tg_replay_record(r, counter);
    return TG_OK;
}
