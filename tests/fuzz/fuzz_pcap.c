/*
 * fuzz_pcap: capture input for `triglav-sim replay` (sim/replay.c). Any
 * bytes, read through libpcap from memory (fmemopen), either load or are
 * refused with a message; a loaded capture's packets must survive the trip
 * into their tunnel form and back byte for byte, keep the checksums that
 * verified valid (sim_replay_selfcheck), and, fed through the run hook as a
 * loss-free tunnel would, all be matched and delivered intact.
 */
#define _DEFAULT_SOURCE /* fmemopen */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/replay.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t tunnel[4] = {198, 18, 0, 2};
    if (size == 0)
        return 0;
    uint8_t *copy = malloc(size); /* fmemopen wants a writable buffer */
    if (copy == NULL)
        return 0;
    memcpy(copy, data, size);
    FILE *f = fmemopen(copy, size, "rb");
    if (f == NULL) {
        free(copy);
        return 0;
    }
    struct sim_replay *rp;
    char err[512];
    if (sim_replay_load_stream(f, "fuzz", SIM_REPLAY_AUTO, &rp, err, sizeof err) != 0) {
        if (err[0] == '\0')
            abort(); /* every refusal says why */
        free(copy);
        return 0;
    }
    if (!sim_replay_selfcheck(rp, tunnel))
        abort();

    /* a perfect tunnel: everything sent is delivered at once, in order */
    const struct sim_replay_src *src = sim_replay_source(rp, 0);
    src->session_up(src->ctx, tunnel, 1000);
    for (size_t i = 0; i < src->n; i++) {
        const struct sim_replay_pkt *p = &src->pkts[i];
        src->sent(src->ctx, i, 0, 1, 1000 + p->at_us);
        enum sim_side at = p->from == SIM_SIDE_LAPTOP ? SIM_SIDE_OUTSIDE : SIM_SIDE_LAPTOP;
        src->deliver(src->ctx, at, p->data, p->len, 1000 + p->at_us);
    }
    struct sim_replay_stats st;
    sim_replay_stats(rp, &st);
    if (st.delivered != st.injected || st.lost != 0 || st.corrupt != 0 || st.unmatched != 0 ||
        st.reordered != 0)
        abort();
    sim_replay_free(rp);
    free(copy);
    return 0;
}
