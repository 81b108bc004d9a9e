/*
 * list.h: `triglav-sim list` (a table of the scenarios in a folder, by
 * default the current folder's scenarios/ or the bundled ones) and
 * `triglav-sim paths` (where the bundled files are found, share.h).
 */
#ifndef SIM_LIST_H
#define SIM_LIST_H

extern const char sim_usage_list[];
extern const char sim_usage_paths[];

/* argv[1] is the command. Return the exit status (0, 1 error, 2 bad usage). */
int sim_list_main(int argc, char **argv);
int sim_paths_main(int argc, char **argv);

#endif
