#include "playout.h"

/* Minimum one-way delays are kept in two buckets of this length: the floor
 * is the smaller, so it looks back 5-10 s (a route change or a clock drift
 * moves it within that time). */
#define FLOOR_BUCKET_US TG_SEC(5)

void tg_playout_owd_sample(struct tg_path *p, tg_time now)
{
    int64_t owd = p->rx_owd_us;
    if (!p->rx_owd_seen || now - p->rx_owd_bucket >= FLOOR_BUCKET_US) {
        p->rx_owd_min[1] = p->rx_owd_seen ? p->rx_owd_min[0] : owd;
        p->rx_owd_min[0] = owd;
        p->rx_owd_bucket = now;
    } else if (owd < p->rx_owd_min[0]) {
        p->rx_owd_min[0] = owd;
    }
    p->rx_owd_seen = true;
}

int64_t tg_playout_owd_floor(const struct tg_path *p)
{
    return p->rx_owd_min[0] < p->rx_owd_min[1] ? p->rx_owd_min[0] : p->rx_owd_min[1];
}

void tg_playout_update(struct tg_mp *mp, uint32_t alive)
{
    if (mp->cfg->playout_max_us == 0)
        return; /* off: playout_on stays false, and every datagram skips the loop */
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    unsigned n = 0;
    for (unsigned i = 0; i < TG_MAX_UPLINKS; i++) {
        const struct tg_path *p = mp->paths[i];
        if (!((alive >> i) & 1u) || p == NULL || !p->rx_owd_seen ||
            p->est.health == TG_HEALTH_DOWN)
            continue;
        int64_t f = tg_playout_owd_floor(p);
        lo = f < lo ? f : lo;
        hi = f > hi ? f : hi;
        n++;
    }
    /* one-way delays carry the clocks' offset: only differences are delays */
    mp->playout_on = n >= 2 && hi > lo &&
                     (uint64_t)hi - (uint64_t)lo <= mp->cfg->playout_max_us;
    mp->playout_owd = hi;
}

tg_time tg_playout_at(const struct tg_mp *mp, tg_time now)
{
    if (!mp->playout_on || !mp->peer_time_known)
        return 0;
    /* the local time at which the slowest uplink would deliver it */
    tg_time at = (tg_time)(mp->peer_time + (uint64_t)mp->playout_owd);
    if (at <= now)
        return 0;
    tg_time latest = tg_time_add(now, mp->cfg->playout_max_us);
    return at < latest ? at : latest;
}
