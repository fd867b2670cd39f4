/* convert.h - pure conversions from workflow steps and settings to Docker
 * Engine API request pieces (spec 2.2, 2.3, 4.1-4.4, 4.6): the container
 * create body, network/volume bodies, registry auth header values and image
 * references for the pull call. No I/O. */
#ifndef WPDOCK_CONVERT_H
#define WPDOCK_CONVERT_H

#include <stdbool.h>
#include <stddef.h>
#include <wpdock/error.h>

#include "buf.h"
#include "config.h"
#include "settings.h"

/* Spec 4.1 volume splitter (`src:dst[:mode]`, Windows drive aware). Stores
 * the non-empty parts in *out (malloc'd array of malloc'd strings; free with
 * wpd_strv_free) and returns their count (may be 0; *out is then NULL). */
size_t wpd_volume_split(const char *spec, char ***out);
void wpd_strv_free(char **v, size_t n);

/* Spec 4.4: environment pairs -> "KEY=VALUE" strings sorted bytewise. Empty
 * keys are dropped; for repeated keys the last value wins. Returns the count
 * (0 with *out NULL when nothing is left); free with wpd_strv_free. */
size_t wpd_env_list(const wpd_kv *env, size_t n, char ***out);

/* Registry auth header value (spec 2.3.4, 7.3): base64url with padding of
 * the compact JSON {"username":..,"password":..[,"serveraddress":..]},
 * escaped the way Go's encoder does (including \u003c \u003e \u0026).
 * wpd_registry_auth returns NULL unless user and password are both
 * non-empty; wpd_registry_auth_encode always encodes, omitting empty or
 * NULL fields (so two empty values give "e30="). Both malloc'd. */
char *wpd_registry_auth(const char *user, const char *password, const char *serveraddress);
char *wpd_registry_auth_encode(const char *user, const char *password, const char *serveraddress);

/* Image reference -> pull call parameters (spec 2.3.4), normalised like the
 * Docker client: `alpine` -> from_image `docker.io/library/alpine`, tag
 * `latest`; a digest reference puts the digest (`sha256:...`) in tag.
 * registry is the reference's domain (`docker.io` for Docker Hub). An
 * invalid reference fails with WPD_ERR_INPUT naming the image. */
typedef struct wpd_image_ref {
    char *from_image;
    char *tag;
    char *registry;
} wpd_image_ref;

int wpd_image_ref_parse(const char *image, wpd_image_ref *out, wpd_error *err);
void wpd_image_ref_free(wpd_image_ref *r);

/* Container create body (spec 2.3.2 + 2.3.3): Config fields at top level,
 * "HostConfig" nested. env is the step's final environment (including the
 * CI_* variables the runtime adds). For commands steps CI_SCRIPT and
 * SHELL=/bin/sh override same-named variables and the script entrypoint
 * is used unless step->entrypoint is non-empty.
 * Fails (NULL, WPD_ERR_INPUT) for a DNS entry that is not an IP literal
 * and for a tmpfs entry without a mount path (`:size=1m`); a tmpfs entry
 * with a path but empty options (`/run:`) mounts without options. */
char *wpd_convert_create_body(const wpd_step *step, const wpd_kv *env, size_t n_env,
                              const wpd_settings *settings, wpd_error *err);

/* Network connect body (2.3.6): {"Container":..,"EndpointConfig":{"Aliases":..}}.
 * aliases NULL -> no EndpointConfig; an empty list -> "Aliases":null. */
char *wpd_convert_connect_body(const char *container, const wpd_strlist *aliases);

/* Workflow setup bodies (2.2). The wp_workflow label is left out when
 * workflow_id is NULL or empty. */
char *wpd_convert_volume_body(const char *name, const char *workflow_id);
char *wpd_convert_network_body(const char *name, bool ipv6, const char *workflow_id);

/* Appends the container name `wp_<uuid>` to out. */
void wpd_container_name(const wpd_step *step, wpd_buf *out);

#endif
