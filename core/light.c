/* Light flows pass the tunnel's queue: see light.h. */
#include "light.h"

/* Start a new window at `now` once the current one is over; what it counted
 * is the previous window's, unless a whole window went by in between. */
static void roll(tg_time *win_at, uint32_t *bytes, uint32_t *prev, tg_time now)
{
    if (now - *win_at < TG_LIGHT_WINDOW_US)
        return;
    if (prev != NULL)
        *prev = now - *win_at < 2 * TG_LIGHT_WINDOW_US ? *bytes : 0;
    *bytes = 0;
    *win_at = now;
}

static bool taken(const struct tg_light_flow *f, tg_time now)
{
    return f->used && now - f->win_at < 2 * TG_LIGHT_WINDOW_US;
}

/* The flow's entry: one of two, by two parts of its hash (two flows seldom
 * share both), or a free one; NULL when both are other flows', active. */
static struct tg_light_flow *entry(struct tg_light *l, uint64_t hash, tg_time now)
{
    struct tg_light_flow *a = &l->flow[hash % TG_LIGHT_SLOTS];
    struct tg_light_flow *b = &l->flow[(hash >> 32) % TG_LIGHT_SLOTS];
    if (a->used && a->hash == hash)
        return a;
    if (b->used && b->hash == hash)
        return b;
    struct tg_light_flow *f = !taken(a, now) ? a : !taken(b, now) ? b : NULL;
    if (f != NULL) /* a new flow has yet to show it is light: a whole window first */
        *f = (struct tg_light_flow){.hash = hash, .win_at = now, .prev = UINT32_MAX, .used = true};
    return f;
}

uint32_t tg_light_rate(uint32_t cfg, double rates_bps)
{
    double share = rates_bps / 8 / TG_LIGHT_SHARE;
    return rates_bps > 0 && share < (double)cfg ? (uint32_t)share : cfg;
}

bool tg_light_pass(struct tg_light *l, uint32_t rate, uint64_t hash, size_t len, tg_time now)
{
    if (rate == 0)
        return false;
    uint64_t per_window = (uint64_t)rate * TG_LIGHT_WINDOW_US / TG_SEC(1);
    struct tg_light_flow *f = entry(l, hash, now);
    if (f == NULL)
        return false; /* both its entries are other flows', active */
    roll(&f->win_at, &f->bytes, &f->prev, now);
    roll(&l->win_at, &l->bytes, NULL, now);

    uint64_t sum = (uint64_t)f->bytes + len;
    bool little = f->prev <= per_window && sum <= per_window &&
                  (uint64_t)l->bytes + len <= TG_LIGHT_ALL * per_window;
    f->bytes = sum > UINT32_MAX ? UINT32_MAX : (uint32_t)sum;
    if (!little) {
        f->heavy = true;
        f->heavy_at = now;
        return false;
    }
    if (f->heavy && now - f->heavy_at < TG_LIGHT_WINDOW_US)
        return false; /* its last heavy packets may still be held or reordered */
    l->bytes += (uint32_t)len;
    return true;
}
