/*
 * simtest.h: what the simulator's test programs share besides check.h: a
 * temporary folder under $TMPDIR, paths in it, text files written and read
 * whole, a program started with its stdout and stderr going to files, the
 * folder removed with everything in it, and two looks into a results
 * database (its rows as sim_db_dump writes them, one integer a query gives).
 *
 * Needs _XOPEN_SOURCE 700 (nftw, open_memstream) defined before any include.
 */
#ifndef TG_TEST_SIMTEST_H
#define TG_TEST_SIMTEST_H

#if !defined(_XOPEN_SOURCE) || _XOPEN_SOURCE < 700
#error "define _XOPEN_SOURCE 700 before any include to use simtest.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "sim/db.h"

/* Create the folder $TMPDIR/NAME.XXXXXX (/tmp when TMPDIR is unset or
 * empty) and leave its path in dir. 0, or -1 with errno set. */
static inline int simtest_mkdtemp(char *dir, size_t cap, const char *name)
{
    const char *tmp = getenv("TMPDIR");
    int n = snprintf(dir, cap, "%s/%s.XXXXXX", tmp && *tmp ? tmp : "/tmp", name);
    if (n < 0 || (size_t)n >= cap) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return mkdtemp(dir) == NULL ? -1 : 0;
}

/* dir/name into out. */
static inline void simtest_path(char *out, size_t cap, const char *dir, const char *name)
{
    snprintf(out, cap, "%s/%s", dir, name);
}

/* Write text to path (created or truncated). 0, or -1 with errno set. */
static inline int simtest_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return -1;
    int bad = fputs(text, f) < 0;
    if (fclose(f) != 0)
        bad = 1;
    return bad ? -1 : 0;
}

/* The file at path into buf (at most cap - 1 bytes, then a NUL); "" when it
 * cannot be opened. Returns buf. */
static inline char *simtest_read(const char *path, char *buf, size_t cap)
{
    buf[0] = '\0';
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return buf;
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* Start prog with args (NULL-terminated, without argv[0]), stdout into the
 * file out_path and stderr into err_path (both truncated). env, when not
 * NULL, is a NULL-terminated list of name, value pairs set in the child
 * only. Returns the child's pid, or -1 when fork failed. */
static inline pid_t simtest_start(const char *prog, const char *const *args, const char *out_path,
                                  const char *err_path, const char *const *env)
{
    char *argv[32];
    size_t n = 0;
    argv[n++] = strdup(prog);
    for (; *args != NULL && n < 31; args++)
        argv[n++] = strdup(*args); /* execv wants char *; freed by the exec or the exit */
    argv[n] = NULL;
    pid_t pid = fork();
    if (pid == 0) {
        int o = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
            _exit(126);
        for (; env != NULL && env[0] != NULL && env[1] != NULL; env += 2)
            setenv(env[0], env[1], 1);
        execv(prog, argv);
        _exit(127);
    }
    for (size_t i = 0; i < n; i++)
        free(argv[i]);
    return pid;
}

/* Wait for the child pid: its exit status, 128 + the signal that killed it,
 * or -1. */
static inline int simtest_wait(pid_t pid)
{
    int status;
    if (pid <= 0 || waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* simtest_wait with a deadline: after `seconds` the child is killed
 * (SIGKILL) and -2 returned, so a program that hangs fails a test instead of
 * hanging it. */
static inline int simtest_wait_for(pid_t pid, unsigned seconds)
{
    int status;
    if (pid <= 0)
        return -1;
    for (unsigned ms = 0; ms < seconds * 1000u; ms += 10) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        if (r < 0)
            return -1;
        nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -2;
}

static inline int simtest_remove_one(const char *path, const struct stat *sb, int type,
                                     struct FTW *ftw)
{
    (void)sb;
    (void)type;
    (void)ftw;
    return remove(path);
}

/* Remove dir and everything in it (symbolic links are removed, never
 * followed). 0, or -1 with errno set. */
static inline int simtest_rmtree(const char *dir)
{
    return nftw(dir, simtest_remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* The rows of the results database at path as sim_db_dump writes them (to
 * free), or NULL when it cannot be opened (the reason on stderr). */
static inline char *simtest_dump(const char *path)
{
    char err[1024] = "";
    struct sim_db *db;
    if (sim_db_open(path, &db, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return NULL;
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (f == NULL)
        perror("open_memstream");
    else if (sim_db_dump(db, f, err, sizeof err) != 0)
        fprintf(stderr, "%s\n", err);
    if (f != NULL)
        fclose(f);
    sim_db_close(db);
    return buf;
}

/* The first column of the first row of sql, or -1 when it cannot be
 * prepared (the reason on stderr) or gives no row. */
static inline int64_t simtest_db_int(sqlite3 *h, const char *sql)
{
    sqlite3_stmt *st;
    int64_t v = -1;
    if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "%s: %s\n", sql, sqlite3_errmsg(h));
        return -1;
    }
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

#endif
