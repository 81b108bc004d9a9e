/*
 * analysis_cmd.h: the `query` and `report` commands of triglav-sim, over the
 * analysis library (analysis/, DESIGN.md §1). sim/main.c hands them argv as
 * it got it (argv[1] is the command); everything after that, options, help and messages, is here, so
 * the program's main knows nothing of analysis beyond these calls.
 *
 * Exit status: 0 success, 1 failure (a bad database, SQL or output folder),
 * 2 bad usage.
 */
#ifndef AN_CLI_H
#define AN_CLI_H

extern const char an_usage_query[];
extern const char an_usage_report[];

/* triglav-sim query DB 'SQL' | --saved NAME | --list ... */
int an_query_main(int argc, char **argv);

/* triglav-sim report DB [--out DIR] ...; version is the program's, for the
 * report's header. */
int an_report_main(int argc, char **argv, const char *version);

#endif
