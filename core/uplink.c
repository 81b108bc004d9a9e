#include "uplink.h"

#include <string.h>

/* 2^40 us: 8 * srtt and 4 * rttvar stay far from overflow. */
#define RTT_SAMPLE_MAX ((tg_time)1 << 40)
#define RATE_QUEUED_MIN_BYTES 1200 /* about a full-size packet */

void tg_uplink_config_default(struct tg_uplink_config *c)
{
    memset(c, 0, sizeof *c);
    c->degraded_failures = 3;
    c->unhealthy_failures = 6;
    c->down_failures = 10;
    c->degraded_loss = 0.10;
    c->unhealthy_loss = 0.30;
    c->degraded_rtt_us = TG_SEC(1);
    c->unhealthy_rtt_us = TG_SEC(5);
    c->loss_margin = 0.03;
    c->rtt_margin = 0.2;
    c->recover_successes = 3;
    c->loss_window = 256;
    c->loss_min_samples = 20;
    c->rate_alpha = 0.2;
    c->rate_interval_us = TG_MSEC(10);
    c->owd_window_us = TG_SEC(5);
    c->congestion_delay_us = TG_MSEC(5);
    c->rto_min_us = TG_MSEC(200);
    c->rto_max_us = TG_SEC(3);
    c->initial_rto_us = TG_SEC(1);
    c->clock_granularity_us = TG_MSEC(1);
}

void tg_uplink_init(struct tg_uplink_est *u, const struct tg_uplink_config *c, tg_time now)
{
    memset(u, 0, sizeof *u);
    u->cfg = *c;
    if (u->cfg.loss_window == 0)
        u->cfg.loss_window = 1;
    if (u->cfg.loss_window > TG_LOSS_WINDOW_MAX)
        u->cfg.loss_window = TG_LOSS_WINDOW_MAX;
    u->rto_us = u->cfg.initial_rto_us;
    u->health = TG_HEALTH_UNKNOWN;
    u->health_since = now;
}

/* ------------------------------------------------------------------ RTT */

static tg_time clamp_rto(const struct tg_uplink_est *u, tg_time rto)
{
    if (rto < u->cfg.rto_min_us)
        rto = u->cfg.rto_min_us;
    if (rto > u->cfg.rto_max_us)
        rto = u->cfg.rto_max_us;
    return rto;
}

static void rtt_sample(struct tg_uplink_est *u, tg_time r)
{
    if (r > RTT_SAMPLE_MAX)
        r = RTT_SAMPLE_MAX;
    if (!u->has_rtt) {
        u->has_rtt = true;
        u->srtt_us = r;
        u->rttvar_us = r / 2;
        u->min_rtt_us = r;
    } else {
        /* rttvar first: RFC 6298 §2.3 uses the srtt from before this sample. */
        tg_time dev = u->srtt_us > r ? u->srtt_us - r : r - u->srtt_us;
        u->rttvar_us = (3 * u->rttvar_us + dev) / 4;
        u->srtt_us = (7 * u->srtt_us + r) / 8;
        if (r < u->min_rtt_us)
            u->min_rtt_us = r;
    }
    u->latest_rtt_us = r;
    tg_time k_var = 4 * u->rttvar_us;
    tg_time g = u->cfg.clock_granularity_us;
    u->rto_us = clamp_rto(u, u->srtt_us + (k_var > g ? k_var : g));
}

/* ----------------------------------------------------------------- loss */

static bool loss_bit(const struct tg_uplink_est *u, uint32_t slot)
{
    return (u->loss_bits[slot / 64] >> (slot % 64)) & 1u;
}

static void loss_push(struct tg_uplink_est *u, bool lost)
{
    uint32_t slot = u->loss_pos;
    uint64_t mask = (uint64_t)1 << (slot % 64);
    if (u->loss_count == u->cfg.loss_window) {
        if (loss_bit(u, slot))
            u->loss_lost--;
    } else {
        u->loss_count++;
    }
    if (lost) {
        u->loss_bits[slot / 64] |= mask;
        u->loss_lost++;
    } else {
        u->loss_bits[slot / 64] &= ~mask;
    }
    u->loss_pos = slot + 1 == u->cfg.loss_window ? 0 : slot + 1;
}

/* Take back up to `n` recorded losses, the newest first: those packets
 * came late, not never. */
static void loss_unmark(struct tg_uplink_est *u, uint32_t n)
{
    uint32_t w = u->cfg.loss_window, slot = u->loss_pos;
    for (uint32_t k = 0; k < u->loss_count && n > 0 && u->loss_lost > 0; k++) {
        slot = slot == 0 ? w - 1 : slot - 1;
        if (loss_bit(u, slot)) {
            u->loss_bits[slot / 64] &= ~((uint64_t)1 << (slot % 64));
            u->loss_lost--;
            n--;
        }
    }
}

/* `n` outcomes of which `lost` lost (lost <= n). The lost ones are spread
 * evenly (outcome i is lost when floor((i+1) lost / n) steps up), so a later
 * partial eviction removes a fair share of them. */
static void loss_record(struct tg_uplink_est *u, uint32_t n, uint32_t lost)
{
    uint32_t w = u->cfg.loss_window;
    if (n > w) {
        lost = (uint32_t)(((uint64_t)lost * w + n / 2) / n);
        n = w;
    }
    for (uint32_t i = 0; i < n; i++) {
        uint64_t before = (uint64_t)i * lost / n;
        uint64_t after = (uint64_t)(i + 1) * lost / n;
        loss_push(u, after != before);
    }
}

double tg_uplink_loss(const struct tg_uplink_est *u)
{
    if (u->loss_count == 0)
        return 0.0;
    return (double)u->loss_lost / (double)u->loss_count;
}

/* --------------------------------------------------------------- health */

static enum tg_health worse(enum tg_health a, enum tg_health b)
{
    return a > b ? a : b;
}

static enum tg_health failure_target(const struct tg_uplink_est *u)
{
    uint32_t f = u->consecutive_failures;
    if (f >= u->cfg.down_failures)
        return TG_HEALTH_DOWN;
    if (f >= u->cfg.unhealthy_failures)
        return TG_HEALTH_UNHEALTHY;
    if (f >= u->cfg.degraded_failures)
        return TG_HEALTH_DEGRADED;
    return TG_HEALTH_HEALTHY;
}

/* Quality level from loss and srtt. Entering a state (leaving = false): above
 * the threshold. Staying in it (leaving = true): not yet below threshold minus
 * the margin. The second is never better than the first, which is the band. */
static enum tg_health quality_target(const struct tg_uplink_est *u, bool leaving)
{
    const struct tg_uplink_config *c = &u->cfg;
    double loss_off = leaving ? c->loss_margin : 0.0;
    double rtt_factor = leaving ? 1.0 - c->rtt_margin : 1.0;
    bool loss_known = u->loss_count > 0 && u->loss_count >= c->loss_min_samples;
    double loss = tg_uplink_loss(u);
    double srtt = (double)u->srtt_us;

    /* x is "in" the state above threshold t: x > t to enter, x >= t' to stay. */
#define IN_STATE(x, t) (leaving ? (x) >= (t) : (x) > (t))
    bool unhealthy = (loss_known && IN_STATE(loss, c->unhealthy_loss - loss_off)) ||
                     (u->has_rtt && IN_STATE(srtt, (double)c->unhealthy_rtt_us * rtt_factor));
    bool degraded = (loss_known && IN_STATE(loss, c->degraded_loss - loss_off)) ||
                    (u->has_rtt && IN_STATE(srtt, (double)c->degraded_rtt_us * rtt_factor));
#undef IN_STATE
    if (unhealthy)
        return TG_HEALTH_UNHEALTHY;
    if (degraded)
        return TG_HEALTH_DEGRADED;
    return TG_HEALTH_HEALTHY;
}

/* The hysteresis: down to the strict target at once, up to the margined
 * target only after a run of successes, otherwise stay. */
static enum tg_health next_health(const struct tg_uplink_est *u)
{
    enum tg_health cur = u->health;
    enum tg_health down = worse(failure_target(u), quality_target(u, false));

    if (cur == TG_HEALTH_UNKNOWN) {
        if (u->consecutive_successes > 0 || down > TG_HEALTH_HEALTHY)
            return down;
        return cur;
    }
    if (down > cur)
        return down;
    if (u->consecutive_successes >= u->cfg.recover_successes) {
        enum tg_health up = worse(failure_target(u), quality_target(u, true));
        if (up < cur)
            return up;
    }
    return cur;
}

static void update_health(struct tg_uplink_est *u, tg_time now)
{
    enum tg_health next = next_health(u);
    if (next != u->health) {
        u->health = next;
        u->health_since = now;
    }
}

static void success(struct tg_uplink_est *u)
{
    u->successes++;
    u->consecutive_failures = 0;
    if (u->consecutive_successes < UINT32_MAX)
        u->consecutive_successes++;
}

static void failure(struct tg_uplink_est *u)
{
    u->failures++;
    u->consecutive_successes = 0;
    if (u->consecutive_failures < UINT32_MAX)
        u->consecutive_failures++;
}

/* --------------------------------------------------------------- events */

void tg_uplink_on_rtt(struct tg_uplink_est *u, tg_time rtt_us, tg_time now)
{
    rtt_sample(u, rtt_us);
    loss_push(u, false);
    success(u);
    update_health(u, now);
}

void tg_uplink_on_probe_timeout(struct tg_uplink_est *u, tg_time now)
{
    /* RFC 6298 §5.5: back off; rto_max bounds it (and keeps it from wrapping). */
    u->rto_us = clamp_rto(u, u->rto_us > u->cfg.rto_max_us ? u->rto_us : 2 * u->rto_us);
    loss_push(u, true);
    failure(u);
    update_health(u, now);
}

void tg_uplink_on_hold(struct tg_uplink_est *u, tg_time now)
{
    u->held_at = now;
}

void tg_uplink_on_late_answer(struct tg_uplink_est *u, tg_time now)
{
    loss_unmark(u, 1);
    update_health(u, now);
}

/* ------------------------------------------------- one-way delay, queue */

static void owd_sample(struct tg_uplink_est *u, int64_t owd, tg_time now)
{
    if (!u->has_owd) {
        u->has_owd = true;
        u->owd_min_cur = owd;
        u->owd_bucket_start = now;
    } else if (now - u->owd_bucket_start >= u->cfg.owd_window_us) {
        u->owd_min_prev = u->owd_min_cur;
        u->owd_prev_valid = true;
        u->owd_min_cur = owd;
        u->owd_bucket_start = now;
    } else if (owd < u->owd_min_cur) {
        u->owd_min_cur = owd;
    }
    u->owd_us = owd;
    u->owd_at = now;
    int64_t base = u->owd_min_cur;
    if (u->owd_prev_valid && u->owd_min_prev < base)
        base = u->owd_min_prev;
    u->owd_base_us = base;
    /* owd >= base: the difference fits a uint64_t exactly */
    uint64_t q = (uint64_t)owd - (uint64_t)base;
    u->queue_delay_us = q > RTT_SAMPLE_MAX ? RTT_SAMPLE_MAX : q;

    tg_time thresh = u->cfg.congestion_delay_us;
    if (2 * u->rttvar_us > thresh)
        thresh = 2 * u->rttvar_us;
    if (u->queue_delay_us > thresh)
        u->congested_at = now; /* a queue: losses soon after are its overflow */
    if (u->min_rtt_us / 4 > thresh)
        thresh = u->min_rtt_us / 4;
    u->congested = u->queue_delay_us > thresh;
}

/* ------------------------------------------------------- delivery rate */

/* Returns the bytes of the sample taken (0: none, or one without data). */
static uint64_t rate_sample(struct tg_uplink_est *u, const struct tg_uplink_feedback *fb)
{
    u->acc_bytes += fb->bytes;
    u->acc_ack_us += fb->ack_interval_us;
    u->acc_send_us += fb->send_interval_us;
    tg_time interval = u->acc_ack_us > u->acc_send_us ? u->acc_ack_us : u->acc_send_us;
    if (interval == 0 || interval < u->cfg.rate_interval_us)
        return 0;
    double sample = (double)u->acc_bytes * 8.0 * 1e6 / (double)interval;
    uint64_t bytes = u->acc_bytes;
    /* a sample spanning losses counted as the queue's overflow measures the
     * uplink while it carried at least half its estimate (a queue that
     * overflows drains at the link's rate); far below, the sender fed it
     * less: an inner flow backing off from a burst of a cellular link's own
     * losses, which a delay swing just before made look like overflow */
    bool overflowed = u->acc_overflow && sample >= u->rate_bps / 2;
    u->acc_bytes = 0;
    u->acc_ack_us = u->acc_send_us = 0;
    u->acc_overflow = false;
    if (bytes == 0)
        return 0; /* probes only: the sender kept it idle */
    if (!u->has_rate) {
        u->has_rate = true;
        u->rate_bps = sample;
    } else if (u->congested || overflowed) {
        u->rate_bps += u->cfg.rate_alpha * (sample - u->rate_bps);
    } else if (sample > u->rate_bps) {
        u->rate_bps = sample; /* the uplink carried at least this */
    }
    return bytes;
}

/* Did `at` (0: never) happen within 4 srtt before `now`? */
static bool within_4_srtt(const struct tg_uplink_est *u, tg_time at, tg_time now)
{
    return at != 0 && now - at <= 4 * u->srtt_us;
}

void tg_uplink_on_feedback(struct tg_uplink_est *u, const struct tg_uplink_feedback *fb,
                           tg_time now)
{
    if (fb->has_owd)
        owd_sample(u, fb->owd_us, now);
    if (u->congested && now - u->owd_at > 2 * u->srtt_us + TG_MSEC(100))
        u->congested = false; /* that queue is old news */
    if (fb->late > 0)
        loss_unmark(u, fb->late);
    uint32_t expected = fb->expected;
    uint32_t delivered = fb->received < expected ? fb->received : expected;
    if (expected == 0)
        return;
    /* losses learned shortly after the queue was seen full, or after the
     * sender filled it to its limit, are its overflow */
    bool queue_seen = u->congested || within_4_srtt(u, u->congested_at, now);
    bool overflow = queue_seen || within_4_srtt(u, u->held_at, now);
    if (overflow) {
        u->congestion_lost += expected - delivered;
        loss_record(u, delivered, 0);
        if (delivered < expected)
            u->acc_overflow = true; /* the sample spans the queue's overflow */
    } else {
        loss_record(u, expected, expected - delivered);
    }
    /* a queue the uplink showed while it carried a full packet or more: its
     * estimate is what it carries (a trickle of acknowledgements under the
     * delay swings of a cellular link shows nothing of its capacity) */
    if (rate_sample(u, fb) >= RATE_QUEUED_MIN_BYTES && queue_seen)
        u->rate_queued = true;

    if (delivered > 0)
        success(u);
    else
        failure(u);
    update_health(u, now);
}

void tg_uplink_on_owd(struct tg_uplink_est *u, int64_t owd_us, tg_time now)
{
    owd_sample(u, owd_us, now);
}

void tg_uplink_set_down(struct tg_uplink_est *u, tg_time now)
{
    u->consecutive_successes = 0;
    if (u->health != TG_HEALTH_DOWN) {
        u->health = TG_HEALTH_DOWN;
        u->health_since = now;
    }
}

const char *tg_health_name(enum tg_health h)
{
    /* fixed-width: plain read-only data, no table of pointers */
    static const char names[][12] = {
        [TG_HEALTH_UNKNOWN] = "unknown",     [TG_HEALTH_HEALTHY] = "healthy",
        [TG_HEALTH_DEGRADED] = "degraded",   [TG_HEALTH_UNHEALTHY] = "unhealthy",
        [TG_HEALTH_DOWN] = "down",
    };
    unsigned i = (unsigned)h;
    return i < sizeof names / sizeof names[0] ? names[i] : "invalid";
}

void tg_uplink_forget_loss(struct tg_uplink_est *u)
{
    memset(u->loss_bits, 0, sizeof u->loss_bits);
    u->loss_pos = u->loss_count = u->loss_lost = 0;
}
