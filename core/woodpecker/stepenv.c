/* stepenv.c - a step's final environment (spec 5.3): its own variables,
 * the runner's CI_* variables and, for plugin steps, the DRONE_* copies. */
#include "woodpecker/stepenv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

void wpd_env_put(wpd_envlist *e, const char *k, const char *v)
{
    for (size_t i = 0; i < e->n; i++) {
        if (strcmp(e->v[i].key, k) == 0) {
            free(e->v[i].value);
            e->v[i].value = wpd_xstrdup(v);
            return;
        }
    }
    if (e->n == e->cap) {
        e->cap = e->cap ? e->cap * 2 : 32;
        e->v = wpd_xrealloc(e->v, e->cap * sizeof *e->v);
    }
    e->v[e->n].key = wpd_xstrdup(k);
    e->v[e->n].value = wpd_xstrdup(v);
    e->n++;
}

const char *wpd_env_get(const wpd_envlist *e, const char *k)
{
    for (size_t i = 0; i < e->n; i++)
        if (strcmp(e->v[i].key, k) == 0)
            return e->v[i].value;
    return NULL;
}

/* Drone compatibility copies for plugin steps (spec 5.3). */
static void add_drone_env(wpd_envlist *e)
{
    static const char *const copies[][3] = {
        {"CI_COMMIT_BRANCH", "DRONE_BRANCH", "DRONE_COMMIT_BRANCH"},
        {"CI_COMMIT_PULL_REQUEST", "DRONE_PULL_REQUEST", "PULLREQUEST_DRONE_PULL_REQUEST"},
        {"CI_COMMIT_TAG", "DRONE_TAG", NULL},
        {"CI_COMMIT_SOURCE_BRANCH", "DRONE_SOURCE_BRANCH", NULL},
        {"CI_COMMIT_TARGET_BRANCH", "DRONE_TARGET_BRANCH", NULL},
        {"CI_PIPELINE_NUMBER", "DRONE_BUILD_NUMBER", NULL},
        {"CI_PIPELINE_PARENT", "DRONE_BUILD_PARENT", NULL},
        {"CI_PIPELINE_EVENT", "DRONE_BUILD_EVENT", NULL},
        {"CI_PIPELINE_URL", "DRONE_BUILD_LINK", NULL},
        {"CI_PIPELINE_CREATED", "DRONE_BUILD_CREATED", NULL},
        {"CI_PIPELINE_STARTED", "DRONE_BUILD_STARTED", NULL},
        {"CI_COMMIT_SHA", "DRONE_COMMIT", "DRONE_COMMIT_SHA"},
        {"CI_PREV_COMMIT_SHA", "DRONE_COMMIT_BEFORE", NULL},
        {"CI_COMMIT_REF", "DRONE_COMMIT_REF", NULL},
        {"CI_PIPELINE_FORGE_URL", "DRONE_COMMIT_LINK", NULL},
        {"CI_COMMIT_MESSAGE", "DRONE_COMMIT_MESSAGE", NULL},
        {"CI_COMMIT_AUTHOR", "DRONE_COMMIT_AUTHOR", "DRONE_COMMIT_AUTHOR_NAME"},
        {"CI_COMMIT_AUTHOR_EMAIL", "DRONE_COMMIT_AUTHOR_EMAIL", NULL},
        {"CI_PIPELINE_AVATAR", "DRONE_COMMIT_AUTHOR_AVATAR", NULL},
        {"CI_REPO", "DRONE_REPO", NULL},
        {"CI_REPO_OWNER", "DRONE_REPO_OWNER", NULL},
        {"CI_REPO_NAME", "DRONE_REPO_NAME", NULL},
        {"CI_REPO_URL", "DRONE_REPO_LINK", NULL},
        {"CI_REPO_DEFAULT_BRANCH", "DRONE_REPO_BRANCH", NULL},
        {"CI_REPO_PRIVATE", "DRONE_REPO_PRIVATE", NULL},
        {"CI_REPO_CLONE_URL", "DRONE_REMOTE_URL", "DRONE_GIT_HTTP_URL"},
        {"CI_SYSTEM_HOST", "DRONE_SYSTEM_HOST", NULL},
        {"CI_STEP_NUMBER", "DRONE_STEP_NUMBER", NULL},
    };
    for (size_t i = 0; i < sizeof copies / sizeof copies[0]; i++) {
        const char *v = wpd_env_get(e, copies[i][0]);
        if (!v)
            continue;
        char *val = wpd_xstrdup(v); /* env_put may move the array */
        wpd_env_put(e, copies[i][1], val);
        if (copies[i][2])
            wpd_env_put(e, copies[i][2], val);
        free(val);
    }
    wpd_env_put(e, "DRONE_BUILD_STATUS", "success");
    wpd_env_put(e, "DRONE_REPO_SCM", "git");
    const char *pr = wpd_env_get(e, "CI_COMMIT_PULL_REQUEST");
    if (!pr || !*pr)
        wpd_env_put(e, "PULLREQUEST_DRONE_PULL_REQUEST", "0");
}

void wpd_step_env_build(wpd_envlist *e, const wpd_step *s, const wpd_step_env_ctx *ctx)
{
    for (size_t i = 0; i < s->environment.n; i++)
        wpd_env_put(e, s->environment.v[i].key, s->environment.v[i].value);
    wpd_env_put(e, "CI_MACHINE", ctx->machine);
    wpd_env_put(e, "CI_SYSTEM_PLATFORM", ctx->platform);
    if (strcmp(s->type, "plugin") == 0)
        add_drone_env(e);
    char num[32];
    wpd_env_put(e, "CI_PIPELINE_STATUS", ctx->pipeline_failed ? "failure" : "success");
    snprintf(num, sizeof num, "%lld", (long long)ctx->pipeline_started);
    wpd_env_put(e, "CI_PIPELINE_STARTED", num);
    snprintf(num, sizeof num, "%lld", (long long)ctx->step_started);
    wpd_env_put(e, "CI_STEP_STARTED", num);
    wpd_env_put(e, "CI_STEP_TYPE", s->type);
    wpd_env_put(e, "CI_STEP_NAME", s->name);
}

void wpd_env_free(wpd_envlist *e)
{
    for (size_t k = 0; k < e->n; k++) {
        free(e->v[k].key);
        free(e->v[k].value);
    }
    free(e->v);
    memset(e, 0, sizeof *e);
}
