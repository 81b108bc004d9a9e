/*
 * cmds.h: the commands that look at or steer a running triglav through its
 * control socket (`status`, `uplink`), check a machine before connecting
 * (`diagnose`) and measure a tunnel (`benchmark`), with what they share:
 * finding the control socket, reading its `status json` answer, and
 * printing rates and durations for people.
 */
#ifndef RT_CMDS_H
#define RT_CMDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/time.h"
#include "json.h"

/* argv[0] is the command's name; each returns the process exit code. */
int rt_cmd_status(int argc, char **argv);
int rt_cmd_uplink(int argc, char **argv);
int rt_cmd_diagnose(int argc, char **argv);
int rt_cmd_benchmark(int argc, char **argv);

/* Every estimate and counter of uplink node u of a `status json` answer,
 * for people (`uplink show`, `status --detailed`). */
void rt_status_print_uplink(FILE *f, const struct rt_json *j, int u);

/* The state directory a program started with default options uses
 * (/run/triglav for root, else $XDG_RUNTIME_DIR/triglav or /tmp/triglav-UID). */
void rt_cmd_state_dir(char *out, size_t cap);

/* Where a running program answers: `tun` ("" = tg0, then tgsrv0 unless
 * client_only) in `dir` ("" = the default). Fills sock and returns 0, or
 * prints why nothing answers (prefixed with `who`) and returns 1. */
int rt_cmd_find(const char *who, const char *tun, const char *dir, bool client_only, char *sock,
                size_t cap);

/* Ask `status json` at `sock` and parse it into j (buf holds the text, j
 * points into it). Returns 0, or 1 after printing why (prefixed with who). */
int rt_cmd_status_json(const char *who, const char *sock, char *buf, size_t cap,
                       struct rt_json *j);

/* "12.3 Mbit/s"-style text of a rate in bit/s. */
const char *rt_fmt_rate(double bps, char *out, size_t cap);
/* "21.4 ms" of microseconds. */
const char *rt_fmt_us(double us, char *out, size_t cap);
/* "1.2 MB" of bytes. */
const char *rt_fmt_bytes(double bytes, char *out, size_t cap);
/* The current time as "2025-06-01T12:00:00Z". */
const char *rt_fmt_now(char *out, size_t cap);

/* Seconds (e.g. "0.5", "30") into microseconds; min_us..max_us. Returns 0 or -1. */
int rt_parse_seconds(const char *s, tg_time min_us, tg_time max_us, tg_time *out);
/* An interface name as the kernel takes it (1..15 bytes, no '/', no space). */
bool rt_ifname_ok(const char *s);

#endif
