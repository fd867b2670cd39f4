/* testutil.h - helpers shared by the Check test programs. */
#ifndef WPDOCK_TESTUTIL_H
#define WPDOCK_TESTUTIL_H

#include <stddef.h>

/* Run a shell command; capture stdout (and stderr when merge_stderr).
 * Returns the exit status (or 128+signal); *out is malloc'd. */
int tu_run(const char *cmd, int merge_stderr, char **out);
/* Read a whole file; NULL if missing. *len optional. */
char *tu_read_file(const char *path, size_t *len);
/* Count occurrences of needle in hay. */
size_t tu_count(const char *hay, const char *needle);
/* Environment value or a default. */
const char *tu_env(const char *name, const char *def);

#endif
