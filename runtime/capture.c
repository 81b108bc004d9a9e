/* pcap writing through libpcap: a "dead" handle gives the link type and
 * snapshot length, the dumper writes records (see capture.h). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture.h"
#include "log.h"
#include "sys.h"

#define FLUSH_US 1000000u /* a crash loses at most this much */
#define SNAP_LEN 65535u

struct rt_capture {
    pcap_t *pd;
    pcap_dumper_t *dump;
    char path[256];
    tg_time wall_offset_us;
    tg_time flush_at;    /* TG_TIME_NEVER: nothing unflushed */
    uint64_t packets[2]; /* per enum rt_capture_dir */
    uint64_t bytes[2];
    bool write_error;
};

int rt_capture_new(const char *path, tg_time wall_offset_us, struct rt_capture **out, char *err,
                   size_t errcap)
{
    *out = NULL;
    struct rt_capture *c = calloc(1, sizeof *c);
    if (c == NULL) {
        snprintf(err, errcap, "--capture %s: out of memory", path);
        return -1;
    }
    snprintf(c->path, sizeof c->path, "%s", path);
    c->wall_offset_us = wall_offset_us;
    c->flush_at = TG_TIME_NEVER;
    c->pd = pcap_open_dead(DLT_RAW, (int)SNAP_LEN);
    if (c->pd == NULL) {
        snprintf(err, errcap, "--capture %s: libpcap cannot make a raw-IP handle", path);
        free(c);
        return -1;
    }
    /* opened here, not by pcap_dump_open: a FIFO without reader must not hang */
    int fd = rt_file_open_out(path, O_TRUNC, 0666);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (f == NULL && fd >= 0)
        close(fd);
    c->dump = f != NULL ? pcap_dump_fopen(c->pd, f) : NULL;
    if (c->dump == NULL) {
        if (f != NULL)
            fclose(f);
        snprintf(err, errcap,
                 "cannot create the --capture file: %s: %s. Check that its directory exists "
                 "and that this user may write there",
                 path, fd < 0 ? rt_file_strerror(fd) : pcap_geterr(c->pd));
        pcap_close(c->pd);
        free(c);
        return -1;
    }
    *out = c;
    return 0;
}

void rt_capture_packet(struct rt_capture *c, enum rt_capture_dir dir, const uint8_t *pkt,
                       size_t len, tg_time now)
{
    tg_time t = now + c->wall_offset_us;
    struct pcap_pkthdr h;
    memset(&h, 0, sizeof h);
    h.ts.tv_sec = (time_t)(t / 1000000u);
    h.ts.tv_usec = (suseconds_t)(t % 1000000u);
    h.len = (bpf_u_int32)len;
    h.caplen = len > SNAP_LEN ? SNAP_LEN : (bpf_u_int32)len;
    pcap_dump((u_char *)c->dump, &h, pkt);
    c->packets[dir]++;
    c->bytes[dir] += len;
    if (c->flush_at == TG_TIME_NEVER)
        c->flush_at = now + FLUSH_US;
}

tg_time rt_capture_deadline(const struct rt_capture *c)
{
    return c->flush_at;
}

static void flush(struct rt_capture *c)
{
    c->flush_at = TG_TIME_NEVER;
    if (pcap_dump_flush(c->dump) != 0 && !c->write_error) {
        rt_err("capture %s: write error (disk full?): the capture is incomplete", c->path);
        c->write_error = true;
    }
}

void rt_capture_tick(struct rt_capture *c, tg_time now)
{
    if (now >= c->flush_at)
        flush(c);
}

int rt_capture_free(struct rt_capture *c)
{
    if (c == NULL)
        return 0;
    flush(c);
    pcap_dump_close(c->dump);
    pcap_close(c->pd);
    rt_info("capture %s: %llu packets out (%llu bytes), %llu in (%llu bytes)", c->path,
            (unsigned long long)c->packets[RT_CAPTURE_OUT],
            (unsigned long long)c->bytes[RT_CAPTURE_OUT],
            (unsigned long long)c->packets[RT_CAPTURE_IN],
            (unsigned long long)c->bytes[RT_CAPTURE_IN]);
    int rc = c->write_error ? -1 : 0;
    free(c);
    return rc;
}
