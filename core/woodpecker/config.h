/* config.h - a Woodpecker backend Config JSON document as C structs
 * (spec section 1). Everything a workflow holds lives in its arena. */
#ifndef WPDOCK_CONFIG_H
#define WPDOCK_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <wpdock/error.h>
#include <wpdock/runtime.h>

#include "util/arena.h"

typedef struct wpd_strlist {
    char **v; /* n strings, never NULL entries */
    size_t n;
} wpd_strlist;

typedef struct wpd_kv {
    char *key;
    char *value;
} wpd_kv;

typedef struct wpd_kvlist {
    wpd_kv *v;
    size_t n;
} wpd_kvlist;

typedef struct wpd_conn {
    char *name;
    wpd_strlist aliases; /* n == 0 when the JSON had null or [] */
} wpd_conn;

typedef struct wpd_hostalias {
    char *name;
    char *ip;
} wpd_hostalias;

typedef struct wpd_step {
    char *name;  /* "" when absent */
    char *uuid;  /* generated when absent */
    char *type;  /* "" when absent */
    char *image; /* "" when absent */
    int pull, detach, privileged;
    char *working_dir;      /* "" when absent */
    char *workspace_base;   /* "" when absent */
    wpd_kvlist environment; /* in document order; empty when absent */
    wpd_strlist entrypoint;
    wpd_strlist commands;
    wpd_hostalias *extra_hosts;
    size_t n_extra_hosts;
    wpd_strlist volumes;
    wpd_strlist tmpfs;
    wpd_strlist devices;
    wpd_conn *networks;
    size_t n_networks;
    wpd_strlist dns;
    wpd_strlist dns_search;
    int on_success, on_failure;
    char *failure;       /* "fail" when absent */
    char *auth_username; /* auth_config.username, "" when absent */
    char *auth_password; /* auth_config.password, "" when absent */
    char *network_mode;  /* "" when absent */
    char *user;          /* backend_options.docker.user, "" when absent */
    int64_t org_id;
} wpd_step;

typedef struct wpd_stage {
    wpd_step *steps;
    size_t n_steps;
} wpd_stage;

typedef struct wpd_workflow {
    wpd_arena *arena;
    char *label; /* the file name as given ("-" for stdin) */
    char *id;    /* unique per run, lower-case; used in generated names and labels */
    wpd_stage *stages;
    size_t n_stages;
    char *network;        /* generated "wp_<id>_default" when absent */
    char *volume;         /* generated "wp_<id>_default" when absent */
    wpd_strlist secrets;  /* secret values, for masking */
    wpd_strlist warnings; /* things a user should hear about, e.g. a step that can never run */
} wpd_workflow;

/* Parse a workflow document. `label` names the source in error messages
 * ("hello.json: pipeline[1].steps[0].volumes[2]: expected a string").
 * Returns NULL and fills err (kind WPD_ERR_INPUT) on invalid input. */
wpd_workflow *wpd_workflow_parse(const char *label, const char *json, size_t len, wpd_error *err);
/* Read a file ("-" = stdin) and parse it. */
wpd_workflow *wpd_workflow_load(const char *path, wpd_error *err);
void wpd_workflow_free(wpd_workflow *wf);

/* A fresh ULID-like id: 26 Crockford base32 characters, upper case. */
void wpd_generate_ulid(char out[27]);

/* Why `name` cannot be an engine object name (network, volume), or NULL
 * when it can: a letter or digit, then letters, digits, '_', '.' or '-' (the
 * engines' own rule), at most 255 bytes. Such names are also safe in API
 * paths. */
const char *wpd_name_problem(const char *name);

#endif
