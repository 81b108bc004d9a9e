/*
 * hash.h: FNV-1a, 64-bit, for the simulator's content hashes and seeds
 * (scenario files, scenario names, campaign keys, replay packets). The values
 * are stored in results databases and derive seeds, so they must never
 * change. Header-only: replay.c is also compiled alone into the pcap fuzzer.
 */
#ifndef SIM_HASH_H
#define SIM_HASH_H

#include <stddef.h>
#include <stdint.h>

#define SIM_FNV1A_BASIS 0xcbf29ce484222325u /* the hash of no bytes */

/* h continued over p[0..n): start from SIM_FNV1A_BASIS, feed in pieces. */
static inline uint64_t sim_fnv1a(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3u;
    return h;
}

#endif
