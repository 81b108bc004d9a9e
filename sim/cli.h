/*
 * cli.h: what the triglav-sim subcommands share on their command lines: the
 * name errors are reported under, bad-usage errors (exit status 2), and
 * "--name VALUE" / "--name=VALUE" options.
 */
#ifndef SIM_CLI_H
#define SIM_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/time.h"

/* "triglav-sim run" etc.: set by each subcommand before it parses. */
extern const char *sim_cmd_name;

/* Print "NAME: message" and a hint to --help on stderr; returns 2. */
int sim_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* If argv[*i] is option `name` ("--name VALUE" or "--name=VALUE"), set *value
 * and advance *i past it. Returns 1 matched, 0 not this option, -1 missing
 * value (after saying so). */
int sim_opt_value(int argc, char **argv, int *i, const char *name, const char **value);

/* A whole number in [min, max], decimal (or 0x-hex when hex is true); no sign,
 * no spaces. False when it is not one. */
bool sim_parse_u64(const char *s, uint64_t min, uint64_t max, bool hex, uint64_t *out);

/* If argv[*i] is --seed S (decimal or 0x-hex, 64 bits), or --iteration I
 * (from 0, 32 bits), parse it into *out and advance *i. Returns 1 matched,
 * 0 not this option, -1 missing or bad value (after saying so). */
int sim_opt_seed(int argc, char **argv, int *i, uint64_t *out);
int sim_opt_iteration(int argc, char **argv, int *i, uint64_t *out);

/* If argv[*i] is --share-dir DIR (share.h), check DIR is a folder, make it
 * the share folder and advance *i. Returns 1 matched, 0 not this option, -1
 * missing value or not a folder (after saying so). */
int sim_opt_share_dir(int argc, char **argv, int *i);

/* A duration for people: "850 ms", "30 s", "2 min", "1.5 h". */
void sim_fmt_duration(char *out, size_t cap, tg_time us);

/* mkdir -p of the folder holding `path` (says what failed). Returns 0 or -1. */
int sim_make_parent(const char *path);

/* `prog` and argv[0..argc) as one shell-quoted line (for the database and
 * the resume hint); malloc'd, NULL when memory runs out. */
char *sim_command_line(const char *prog, int argc, char **argv);

#endif
