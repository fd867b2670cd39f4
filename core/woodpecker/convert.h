/* convert.h - pure conversions from workflow steps and settings to Docker
 * Engine API request pieces (spec 2.2, 2.3, 4.1-4.4, 4.6): the container
 * create body, network/volume bodies, registry auth header values and image
 * references for the pull call. No I/O. */
#ifndef WPDOCK_CONVERT_H
#define WPDOCK_CONVERT_H

#include <stdbool.h>
#include <stddef.h>
#include <wpdock/error.h>

#include "engine/imageref.h"
#include "engine/registry_auth.h"
#include "util/buf.h"
#include "woodpecker/config.h"
#include "woodpecker/settings.h"

/* Spec 4.1 volume splitter (`src:dst[:mode]`, Windows drive aware). Stores
 * the non-empty parts in *out (malloc'd array of malloc'd strings; free with
 * wpd_strv_free) and returns their count (may be 0; *out is then NULL). */
size_t wpd_volume_split(const char *spec, char ***out);
void wpd_strv_free(char **v, size_t n);

/* Spec 4.4: environment pairs -> "KEY=VALUE" strings sorted bytewise. Empty
 * keys are dropped; for repeated keys the last value wins. Returns the count
 * (0 with *out NULL when nothing is left); free with wpd_strv_free. */
size_t wpd_env_list(const wpd_kv *env, size_t n, char ***out);

/* Container create body (spec 2.3.2 + 2.3.3): Config fields at top level,
 * "HostConfig" nested, and "NetworkingConfig" for the first network the
 * step joins (wpd_convert_joins). env is the step's final environment (including the
 * CI_* variables the runtime adds). For commands steps CI_SCRIPT and
 * SHELL=/bin/sh override same-named variables and the script entrypoint
 * is used unless step->entrypoint is non-empty.
 * Fails (NULL, WPD_ERR_INPUT) for a DNS entry that is not an IP literal
 * and for a tmpfs entry without a mount path (`:size=1m`); a tmpfs entry
 * with a path but empty options (`/run:`) mounts without options. */
char *wpd_convert_create_body(const wpd_step *step, const wpd_kv *env, size_t n_env,
                              const wpd_settings *settings, wpd_error *err);

/* The networks a step joins (2.3.6), in order: its own networks (with
 * their aliases), then the agent's network option (aliases NULL: no
 * EndpointConfig); none with a network_mode. The first is joined in the
 * create body's NetworkingConfig, the others by connects after create.
 * Fills out[0..max) and returns the full count. */
typedef struct wpd_join {
    const char *network;
    const wpd_strlist *aliases;
} wpd_join;
size_t wpd_convert_joins(const wpd_step *step, const wpd_settings *settings, wpd_join *out,
                         size_t max);

/* Appends the container name `wp_<uuid>` to out. */
void wpd_container_name(const wpd_step *step, wpd_buf *out);

#endif
