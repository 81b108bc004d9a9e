/*
 * testnet_util.h: what the live flows of the testnet (testnet_probe.c,
 * testnet_web.c) share: the clock, "IP:PORT" addresses, their random draws
 * and a sort order. No state.
 */
#ifndef SIM_TESTNET_UTIL_H
#define SIM_TESTNET_UTIL_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

/* CLOCK_MONOTONIC in nanoseconds (namespaces of one machine share it). */
uint64_t sim_live_now_ns(void);

/* "IP:PORT" (IPv4, port 1..65535) into sa; false if it is not one. */
bool sim_live_parse_addr(const char *v, struct sockaddr_in *sa);

/* splitmix64: the next 64 bits of the stream whose state is *s. */
uint64_t sim_live_next_u64(uint64_t *s);

/* A uniform draw in (0, 1) from the stream. */
double sim_live_uniform01(uint64_t *s);

/* qsort order of uint64_t values, smallest first. */
int sim_live_cmp_u64(const void *a, const void *b);

#endif
