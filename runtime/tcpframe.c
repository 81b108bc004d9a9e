/* TCP fallback framing (tcpframe.h): a 2-byte length prefix per datagram,
 * reassembled in one fixed buffer per connection. */
#include "tcpframe.h"

#include <string.h>

void tg_tcpframe_init(struct tg_tcpframe_dec *d, size_t max_len)
{
    d->max_len = (max_len == 0 || max_len > TG_TCPFRAME_MAX) ? TG_TCPFRAME_MAX : max_len;
    d->have = 0;
    d->want = 0;
    d->frames = 0;
    d->bad = 0;
}

enum tg_tcpframe_status tg_tcpframe_feed(struct tg_tcpframe_dec *d, const uint8_t **in,
                                         size_t *in_len, const uint8_t **frame, size_t *frame_len)
{
    if (d->bad)
        return TG_TCPFRAME_BAD_LEN;
    /* A frame returned by the previous call is finished: start the next. */
    if (d->want && d->have == TG_TCPFRAME_HDR + d->want) {
        d->have = 0;
        d->want = 0;
    }
    while (*in_len > 0) {
        size_t goal = d->want ? TG_TCPFRAME_HDR + d->want : TG_TCPFRAME_HDR;
        size_t take = goal - d->have;
        if (take > *in_len)
            take = *in_len;
        memcpy(d->buf + d->have, *in, take);
        d->have += take;
        *in += take;
        *in_len -= take;
        if (d->have < goal)
            break;
        if (!d->want) {
            size_t len = (size_t)d->buf[0] << 8 | d->buf[1];
            if (len == 0 || len > d->max_len) {
                d->bad = 1;
                return TG_TCPFRAME_BAD_LEN;
            }
            d->want = len;
            continue;
        }
        d->frames++;
        *frame = d->buf + TG_TCPFRAME_HDR;
        *frame_len = d->want;
        return TG_TCPFRAME_FRAME;
    }
    return TG_TCPFRAME_NEED_MORE;
}

int tg_tcpframe_header(uint8_t hdr[TG_TCPFRAME_HDR], size_t len)
{
    if (len == 0 || len > TG_TCPFRAME_MAX)
        return -1;
    hdr[0] = (uint8_t)(len >> 8);
    hdr[1] = (uint8_t)(len & 0xff);
    return 0;
}
