/* settings_opts.h - the backend setting flags (--network, --volumes, ...,
 * --api-version, --cert-path, --tls-verify, --reconcile-logs) that `wpdock
 * exec` and `wpdock agent` both take, their --help block, and building the
 * wpd_settings from the environment and those flags. */
#ifndef WPDOCK_CLI_SETTINGS_OPTS_H
#define WPDOCK_CLI_SETTINGS_OPTS_H

#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <wpdock/runtime.h>

/* Number of setting flags (the option table needs this much room). */
#define CLI_N_SETTING_FLAGS 15

/* Write one required_argument option per setting flag at opts[n...] with
 * the given val; returns the new count. */
size_t cli_setting_options(struct option *opts, size_t n, int val);
/* The "Backend options" block of --help. */
void cli_help_settings(FILE *out);
/* wpd_settings_new (the environment), then the flags in command-line order
 * (names are the flag names without "--"; later ones win), then
 * wpd_settings_validate. NULL after printing the error: the environment's
 * alone, a flag's or a conflict's as "<cmd>: <message>". */
wpd_settings *cli_settings_build(const char *cmd, const char *const *names,
                                 const char *const *values, size_t n);

#endif
