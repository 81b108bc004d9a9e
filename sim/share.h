/*
 * share.h: where triglav-sim finds the files it ships with: the bundled
 * scenarios, the saved queries, the results schema and the measured traces
 * the scenarios name as "data:...".
 *
 * They live in one folder, the share folder, laid out like the source tree:
 *   scenarios/NAME.scn, scenarios/README.md
 *   results/schema.sql, results/README.md, results/queries/NAME.sql
 *   data/...            (installed traces; absent in the source tree)
 * The share folder is, in order: --share-dir, else $TRIGLAV_SHARE, else the
 * folder next to the program (TG_SHARE_REL from the executable's folder,
 * ../share/triglav for an install under bin/) when it exists, else the
 * source tree the program was built from (an uninstalled build).
 *
 * The current folder comes before it: `list` reads ./scenarios when there is
 * one, a scenario name is looked for here first, and ./results/queries holds
 * saved queries (analysis/query.h). This module is not the scenario loader
 * (scenario.h) and reads no file; it only tells paths.
 */
#ifndef SIM_SHARE_H
#define SIM_SHARE_H

#include <stddef.h>

/* The folder --share-dir named (NULL: none). The string must outlive the
 * program's use of it (an argv element does). */
void sim_share_set(const char *dir);

/* The share folder into out (cap bytes; PATH_MAX is enough). Returns why it
 * was chosen, for people: "--share-dir", "$TRIGLAV_SHARE", "next to the
 * program" or "the source tree". */
const char *sim_share_dir(char *out, size_t cap);

/* The folder `list` reads when given none: ./scenarios when it is a folder,
 * else the share folder's scenarios/. Returns why, as sim_share_dir. */
const char *sim_share_scenarios(char *out, size_t cap);

/* The file a scenario argument means, into out. An argument naming an
 * existing file, or holding a '/', is taken as given. Otherwise it is a
 * scenario's name, looked for as NAME.scn here (when NAME lacks the suffix),
 * then as NAME and NAME.scn in ./scenarios, then in the share folder's
 * scenarios/; the first regular file found wins. When none exists the argument is returned as
 * given, so the caller's "no such file" names what the user typed. Returns
 * out. */
const char *sim_share_scenario(const char *arg, char *out, size_t cap);

/* The share folder's results/queries into out (for an_queries_dir's last
 * resort). Returns out. */
const char *sim_share_queries(char *out, size_t cap);

/* The folder "data:" paths resolve in when neither --data-dir nor
 * $TRIGLAV_DATA says: the share folder's data/ when it is a folder, else the
 * data folder the build was configured with (TG_DATA_DIR). Returns why. */
const char *sim_share_data(char *out, size_t cap);

#endif
