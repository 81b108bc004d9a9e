/* testnet_util.c: see testnet_util.h. */
#define _GNU_SOURCE
#include "testnet_util.h"

#include <arpa/inet.h>
#include <string.h>
#include <time.h>

#include "cli.h"

uint64_t sim_live_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

bool sim_live_parse_addr(const char *v, struct sockaddr_in *sa)
{
    char ip[INET_ADDRSTRLEN];
    const char *colon = strrchr(v, ':');
    uint64_t port;
    if (!colon || (size_t)(colon - v) >= sizeof ip ||
        !sim_parse_u64(colon + 1, 1, 65535, false, &port))
        return false;
    memcpy(ip, v, (size_t)(colon - v));
    ip[colon - v] = '\0';
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    return inet_pton(AF_INET, ip, &sa->sin_addr) == 1;
}

uint64_t sim_live_next_u64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

double sim_live_uniform01(uint64_t *s)
{
    return ((double)(sim_live_next_u64(s) >> 11) + 0.5) / 9007199254740992.0;
}

int sim_live_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}
