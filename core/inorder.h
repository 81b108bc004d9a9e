/*
 * inorder.h: the receiving side of the multipath engine (internal to the
 * core). Striped packets go through the reorder buffer and out in order;
 * the buffer learns which uplinks may still deliver and how late; a packet
 * an uplink's DATA names as sent before it and never seen was lost, and a
 * striped one is asked for again (recover.h) while its gap is held.
 */
#ifndef TG_INORDER_H
#define TG_INORDER_H

#include "mpath.h"

/* Tell the reorder buffer (and the playout) which uplinks may still deliver:
 * those heard from within the reorder hold time, the handshake that keyed
 * one and an answered join (tg_mp_expect) included. */
void tg_mp_set_alive(struct tg_mp *mp, tg_time now);
/* Deliver what the reorder buffer releases while the TUN queue has room. */
void tg_mp_drain_reorder(struct tg_mp *mp, tg_time now);
/* Nothing waits for `seq` any more: lost for good (told by a datagram on
 * uplink `slot`), or delivered unordered (slot TG_REORDER_NO_UPLINK). */
void tg_mp_mark(struct tg_mp *mp, unsigned slot, uint64_t seq, tg_time now);
/* `seq` was sent on uplink `slot` before the datagram being read and has
 * not arrived: lost. `missing` (0: none) more datagrams went missing since
 * the one with counter `after` (a run, LOST_RUN). `held`: the datagram being
 * read was a DATA its sender had held for the uplink (TG_DATA_FLAG_HELD). */
void tg_mp_path_lost(struct tg_mp *mp, unsigned slot, uint64_t seq, bool ordered,
                     uint64_t after, uint32_t missing, bool held, tg_time now);
/* Uplink `slot` measured a one-way delay: how late it may still deliver. */
void tg_mp_note_reach(struct tg_mp *mp, unsigned slot);
/* A striped packet into the reorder buffer (created at the first). */
void tg_mp_ordered_push(struct tg_mp *mp, unsigned slot, uint64_t seq, const uint8_t *pkt,
                        size_t len, tg_time now, tg_time not_before);

#endif
