/*
 * journal.h: what the program changed in the system, written down before
 * each change so it can be undone: on a clean exit (SIGINT/SIGTERM), and by
 * `triglav tun --cleanup` / `triglav server --cleanup` after a crash.
 *
 * The journal is a text file (default /run/triglav/<tun>.state), one change
 * per line, undone last to first:
 *   pid <pid> <start time>    (the process, as /proc/<pid>/stat dates it)
 *   rule <priority> <table> <fwmark> <fwmask> <invert 0|1> <suppress|-1> <a.b.c.d/len>
 *   route <table> <a.b.c.d/len> <ifname|-> <gateway|-> <type>
 *   rule6 <priority> <table> <fwmark> <fwmask> <invert> <suppress>   (IPv6, any destination)
 *   route6 <table> <type>             (IPv6 ::/0, e.g. unreachable)
 *   sysctl <path> <old value>
 *   nft <family> <table>
 *   file <path> <backup path>        (restored from the backup, e.g. resolv.conf)
 * Undoing something that is already gone is not an error (routes through
 * the TUN vanish with it).
 */
#ifndef RT_JOURNAL_H
#define RT_JOURNAL_H

#include <stdbool.h>

#include "netlink.h"

#define RT_JOURNAL_MAX 512

struct rt_journal {
    char path[256];
    int fd;
    char *lines[RT_JOURNAL_MAX];
    int n;
    struct rt_nl *nl;
};

/* Start a journal at `path`. If a journal is already there: when its
 * process is alive, fails with -EBUSY (another instance owns it); otherwise
 * undoes it first (a crashed run) and says so. Returns 0 or -errno. */
int rt_journal_open(struct rt_journal *j, const char *path, struct rt_nl *nl);
/* Record a change (printf-style line, no newline) before making it. Returns
 * 0 or -errno; on failure nothing was recorded (do not rt_journal_pop). */
int rt_journal_add(struct rt_journal *j, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The process changed (daemonized): record the new pid. */
void rt_journal_set_pid(struct rt_journal *j);
/* Forget the last record (its change failed, nothing to undo). */
void rt_journal_pop(struct rt_journal *j);
/* Set the sysctl file `path` to `value`, its old value journaled first.
 * Returns 0 when it is set or there is nothing to do (no such sysctl on this
 * kernel, or it has that value already), else -errno with nothing changed
 * and nothing journaled. */
int rt_journal_sysctl(struct rt_journal *j, const char *path, const char *value);
/* Undo everything, last first, remove the file. */
void rt_journal_undo(struct rt_journal *j);
/* Undo the journal file at `path` left by a run that is gone, and remove
 * that run's control socket (the `.sock` beside the `.state` file) when
 * nothing answers on it. A process that was killed but not yet reaped by
 * its parent (a zombie), or a live process that only reuses its pid (a
 * different start time), is gone. Returns 0, -ENOENT (nothing to clean),
 * -EBUSY (its process is still running), or another -errno (the journal
 * cannot be read; a warning says why). */
int rt_journal_cleanup(const char *path, struct rt_nl *nl);

#endif
