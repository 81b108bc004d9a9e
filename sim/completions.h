/* completions.h: `triglav-sim completions bash|zsh|fish` (completions.c). */
#ifndef SIM_COMPLETIONS_H
#define SIM_COMPLETIONS_H

/* argv[1] is "completions". Returns the exit status. */
int sim_completions_main(int argc, char **argv);

#endif
