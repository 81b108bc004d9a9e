/* completions.h: `triglav completions bash|zsh|fish` (completions.c). */
#ifndef RT_COMPLETIONS_H
#define RT_COMPLETIONS_H

/* argv[0] is "completions", argv[1] the shell. Returns the exit status. */
int rt_cmd_completions(int argc, char **argv);

#endif
