/*
 * log.h: messages to people. Lines go to stderr (or the --log-file), each
 * with seconds since the program started. Errors say what was wrong and
 * what to do; the runtime never prints secrets.
 */
#ifndef RT_LOG_H
#define RT_LOG_H

#include <stdbool.h>

enum rt_log_level { RT_LOG_ERROR = 0, RT_LOG_WARN, RT_LOG_INFO, RT_LOG_DEBUG };

void rt_log_init(enum rt_log_level level);
/* Send further lines to `path` (appended); returns 0 or -errno. */
int rt_log_to_file(const char *path);
void rt_log(enum rt_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define rt_err(...)   rt_log(RT_LOG_ERROR, __VA_ARGS__)
#define rt_warn(...)  rt_log(RT_LOG_WARN, __VA_ARGS__)
#define rt_info(...)  rt_log(RT_LOG_INFO, __VA_ARGS__)
#define rt_debug(...) rt_log(RT_LOG_DEBUG, __VA_ARGS__)

#endif
