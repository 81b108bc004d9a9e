/*
 * sys.h: small pieces of the operating system the runtime touches besides
 * sockets: files, sysctls, the `nft` program, daemonizing, pid files.
 * Each returns 0 or -errno unless it says otherwise.
 */
#ifndef RT_SYS_H
#define RT_SYS_H

#include <stddef.h>
#include <sys/types.h>

#define RT_FILE_MAX (1u << 20) /* bytes: nothing read by path is larger */

/* Read a whole (small) regular file into buf, NUL-terminated; returns its
 * length or -errno. Only regular files are read (a FIFO, device, socket or
 * directory is refused before any byte is read, and nothing ever blocks):
 * -EINVAL when it is not a regular file, -EISDIR for a directory, -EFBIG
 * when it does not fit in cap (at most RT_FILE_MAX + 1) bytes. */
ssize_t rt_file_read(const char *path, char *buf, size_t cap);
/* Why rt_file_read or rt_file_write failed, for "cannot read FILE: %s". */
const char *rt_file_strerror(int rc);
/* Replace the contents of `path` in place (O_TRUNC, not rename: the file may
 * be a bind mount or a symlink target). Regular files only (-EINVAL). */
int rt_file_write(const char *path, const char *data, size_t len, unsigned mode);
/* Create the file only if it does not exist (mode 0600 for secrets). */
int rt_file_create(const char *path, const char *data, size_t len, unsigned mode);
/* open(2) for writing that never blocks on a FIFO without a reader (then
 * -ENXIO); the descriptor is blocking again once open. For logs and
 * captures, which may be a pipe or a terminal. Returns the fd or -errno. */
int rt_file_open_out(const char *path, int flags, unsigned mode);

/* A sysctl file's first line without the newline. */
int rt_sysctl_get(const char *path, char *buf, size_t cap);
int rt_sysctl_set(const char *path, const char *value);

/* Run `nft -f -` with `script` on its standard input. err gets nft's
 * message when it fails. Returns 0, -ENOENT (no nft program) or -EIO. */
int rt_nft(const char *script, char *err, size_t errcap);

/* Fork into the background (setsid, stdio to /dev/null). The parent exits 0
 * once the child has written `pid_file` (may be NULL). Returns 0 in the
 * child, -errno on failure. */
int rt_daemonize(const char *pid_file);
/* Start time of process `pid` (field 22 of /proc/PID/stat, clock ticks
 * after boot): 0 or -errno. */
int rt_pid_start(pid_t pid, unsigned long long *start);
/* Is process `pid` alive, and the one that started at `start` (0: not
 * known)? A zombie (exited, not yet reaped by its parent) or dead process is
 * not alive, nor is another process that got the same pid later. When
 * /proc does not show the process, only whether the pid exists
 * (kill(pid, 0)). */
int rt_pid_alive(pid_t pid, unsigned long long start);
/* mkdir -p for one level under an existing parent; 0 when it exists. */
int rt_mkdir(const char *path, unsigned mode);
/* "DIR/NAME.EXT" into out: a file of the state directory (NAME.state for the
 * journal, NAME.sock for the control socket). */
void rt_state_path(char *out, size_t cap, const char *dir, const char *name, const char *ext);

#endif
