/* plot.c: see plot.h. */
#define _XOPEN_SOURCE 700 /* fork, execv, sigaction */

#include "plot.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dbread.h"

static bool executable(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && access(path, X_OK) == 0;
}

bool an_plot_find(const char *program, char *prog, size_t cap, char *why, size_t whylen)
{
    const char *how = "--gnuplot";
    if (program == NULL) {
        program = getenv("TG_GNUPLOT");
        how = "TG_GNUPLOT";
        if (program == NULL || *program == '\0') {
            program = "gnuplot";
            how = NULL;
        }
    }
    if (strcmp(program, "none") == 0) {
        an_errf(why, whylen, "plots were turned off (%s=none)", how);
        return false;
    }
    if (strchr(program, '/') != NULL) {
        if (executable(program) && (size_t)snprintf(prog, cap, "%s", program) < cap)
            return true;
        an_errf(why, whylen, "gnuplot was not found at %s", program);
        return false;
    }
    const char *path = getenv("PATH");
    if (path == NULL)
        path = "/usr/local/bin:/usr/bin:/bin";
    while (*path != '\0') {
        size_t n = strcspn(path, ":");
        int w = snprintf(prog, cap, "%.*s/%s", (int)n, n ? path : ".", program);
        if (n == 0)
            w = snprintf(prog, cap, "./%s", program);
        if (w > 0 && (size_t)w < cap && executable(prog))
            return true;
        path += n;
        if (*path == ':')
            path++;
    }
    if (how == NULL)
        an_errf(why, whylen, "gnuplot is not installed (not found in PATH)");
    else
        an_errf(why, whylen, "%s=%s was not found in PATH", how, program);
    return false;
}

int an_plot_run(const char *prog, const char *script, size_t len, char *err, size_t errlen)
{
    int fds[2];
    if (pipe(fds) != 0) {
        an_errf(err, errlen, "pipe: %s", strerror(errno));
        return -1;
    }
    /* a gnuplot that dies early must not kill us with SIGPIPE */
    struct sigaction ign = {.sa_handler = SIG_IGN}, old;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGPIPE, &ign, &old);
    pid_t pid = fork();
    if (pid < 0) {
        an_errf(err, errlen, "fork: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        sigaction(SIGPIPE, &old, NULL);
        return -1;
    }
    if (pid == 0) {
        sigaction(SIGPIPE, &old, NULL);
        dup2(fds[0], STDIN_FILENO);
        close(fds[0]);
        close(fds[1]);
        char *argv[] = {(char *)(uintptr_t)prog, NULL};
        execv(prog, argv);
        _exit(127);
    }
    close(fds[0]);
    int ret = 0;
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fds[1], script + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            an_errf(err, errlen, "%s: could not write the script: %s", prog,
                    w < 0 ? strerror(errno) : "closed");
            ret = -1;
            break;
        }
        off += (size_t)w;
    }
    close(fds[1]);
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            an_errf(err, errlen, "waitpid: %s", strerror(errno));
            sigaction(SIGPIPE, &old, NULL);
            return -1;
        }
    }
    sigaction(SIGPIPE, &old, NULL);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
        an_errf(err, errlen, "%s could not be started", prog);
        return -1;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        an_errf(err, errlen, "%s failed (%s %d)", prog,
                WIFEXITED(status) ? "exit status" : "signal",
                WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
        return -1;
    }
    return ret;
}

void an_plot_quote(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'')
            fputc('\'', f);
        fputc(*s, f);
    }
    fputc('\'', f);
}
