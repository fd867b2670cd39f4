/* script.h - step commands -> POSIX shell script -> CI_SCRIPT (spec 3.1-3.3).
 * The script runs inside the step container through the fixed entrypoint
 * below; Windows daemons are not supported. */
#ifndef WPDOCK_SCRIPT_H
#define WPDOCK_SCRIPT_H

#include <stddef.h>

#include "util/buf.h"

#define WPD_SCRIPT_ENTRYPOINT_SHELL "/bin/sh"

/* {"/bin/sh", "-c", "echo $CI_SCRIPT | base64 -d | /bin/sh -e"} */
extern const char *const wpd_script_entrypoint[3];

/* Append s quoted by rule Q (spec 3.2): "''" when empty, unchanged when every
 * byte is in [A-Za-z0-9_@%+=:,./-], otherwise single-quoted with each ' as
 * '"'"'. */
void wpd_shell_quote(wpd_buf *out, const char *s);

/* The exact script text of spec 3.1. working_dir is inserted verbatim (NULL
 * means ""); NULL commands count as "". malloc'd. */
char *wpd_script_posix(const char *const *commands, size_t n, const char *working_dir);

/* Standard base64 of wpd_script_posix(): the CI_SCRIPT value. malloc'd. */
char *wpd_script_ci_script(const char *const *commands, size_t n, const char *working_dir);

#endif
