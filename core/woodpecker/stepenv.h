/* stepenv.h - building a step's final environment (spec 5.3). Pure. */
#ifndef WPDOCK_WOODPECKER_STEPENV_H
#define WPDOCK_WOODPECKER_STEPENV_H

#include <stdbool.h>
#include <stdint.h>

#include "woodpecker/config.h"

/* KEY=VALUE pairs in insertion order; setting a key again replaces it. */
typedef struct wpd_envlist {
    wpd_kv *v;
    size_t n, cap;
} wpd_envlist;

void wpd_env_put(wpd_envlist *e, const char *key, const char *value);
const char *wpd_env_get(const wpd_envlist *e, const char *key); /* NULL when unset */
void wpd_env_free(wpd_envlist *e);

/* What the runner adds. */
typedef struct wpd_step_env_ctx {
    const char *machine;  /* CI_MACHINE: the host name */
    const char *platform; /* CI_SYSTEM_PLATFORM, e.g. linux/amd64 */
    bool pipeline_failed; /* CI_PIPELINE_STATUS */
    int64_t pipeline_started, step_started;
} wpd_step_env_ctx;

/* The step's environment, then CI_MACHINE, CI_SYSTEM_PLATFORM, the DRONE_*
 * copies for plugin steps, CI_PIPELINE_STATUS/_STARTED, CI_STEP_STARTED,
 * CI_STEP_TYPE, CI_STEP_NAME, appended to e. */
void wpd_step_env_build(wpd_envlist *e, const wpd_step *s, const wpd_step_env_ctx *ctx);

#endif
