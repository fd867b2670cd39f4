/* testutil_wpserver.h - the project's Woodpecker test server
 * (tests/helpers/wp-test-server) for the agent's integration tests: start
 * it on free ports, drive it through its control API (queue workflows,
 * read what the agent reported, inject faults), stop it. */
#ifndef WPDOCK_TESTUTIL_WPSERVER_H
#define WPDOCK_TESTUTIL_WPSERVER_H

#include "testutil.h"

typedef struct tu_wps {
    tu_proc proc;
    char grpc[256];    /* "127.0.0.1:PORT" or "unix:///path": WOODPECKER_SERVER */
    char control[128]; /* "127.0.0.1:PORT" */
    char secret[64];
} tu_wps;

/* Start the server with --secret (random) plus extra_args (NULL-terminated,
 * may be NULL); fails the test when it does not come up within 20 s. */
void tu_wps_start(tu_wps *s, const char *const *extra_args);
/* SIGTERM, reap, free; fails the test if it had died on its own. */
void tu_wps_stop(tu_wps *s);
/* One control request; returns the HTTP status (-1: unreachable); *body
 * (when body is not NULL) is malloc'd. */
long tu_wps_request(tu_wps *s, const char *method, const char *path, const char *json, char **body);
/* Queue a workflow (payload: a Config JSON document; labels: a JSON
 * object or NULL); returns its id (malloc'd). */
char *tu_wps_queue(tu_wps *s, const char *payload, const char *labels, int timeout_min);
/* The workflow's state document once Done arrived (fails the test after
 * timeout_s); malloc'd. */
char *tu_wps_wait_done(tu_wps *s, const char *id, int timeout_s);
/* The workflow's state document now; malloc'd. */
char *tu_wps_workflow(tu_wps *s, const char *id);
/* Value at a dotted path ("" = the whole document) of a JSON document as a string (numbers and
 * booleans as written, null/absent = NULL); malloc'd. */
char *tu_json_str(const char *doc, const char *path);
/* The number at path, or def when absent. */
long long tu_json_int(const char *doc, const char *path, long long def);
/* Number of elements of the array (or members of the object) at path. */
int tu_json_len(const char *doc, const char *path);

/* Environment for `wpdock agent` against s: WOODPECKER_SERVER,
 * WOODPECKER_AGENT_SECRET, a private WOODPECKER_AGENT_CONFIG_FILE in dir
 * (NULL: stateless), no health endpoint unless asked, plus extra entries.
 * Returns a NULL-terminated array for tu_exec_start (free with
 * tu_env_free). */
char **tu_wps_agent_env(tu_wps *s, const char *dir, const char *const *extra);
void tu_env_free(char **env);

/* ------------------------------------------------------------------------
 * One test's `wpdock agent` against its own test server: a unique hostname
 * (so the owner labels on the engine are this test's alone), a private
 * config directory, the server. */
typedef struct tu_agent {
    tu_wps srv;
    tu_exec x;
    char host[64];
    char tag[27]; /* a fresh ULID, for unique step uuids */
    char *dir;    /* WOODPECKER_AGENT_CONFIG_FILE's directory; NULL = stateless */
    int started;
    char uuid[96]; /* the step of the last tu_agent_one_step() workflow */
    int n_steps;
} tu_agent;

void tu_agent_setup(tu_agent *r, const char *const *server_args);
/* Start (again) `wpdock agent ARGS...` with WOODPECKER_HOSTNAME and the
 * "K=V" entries of env over tu_wps_agent_env's (both may be NULL). */
void tu_agent_start(tu_agent *r, const char *const *args, const char *const *env);
/* Its exit status (fails the test after 4 minutes). */
int tu_agent_finish(tu_agent *r);
void tu_agent_teardown(tu_agent *r);
/* No network or volume on the engine carries this agent's owner label. */
void tu_agent_assert_clean(tu_agent *r);
/* The payload of a one-step workflow running cmds, with a fresh uuid
 * (kept in r->uuid); malloc'd. */
char *tu_agent_one_step(tu_agent *r, const char *name, const char *const *cmds);
/* The payload a built workflow document holds; frees b; malloc'd. */
char *tu_wf_payload(struct tu_wf *b);
/* The workflow document's "state" is `state`. */
void tu_assert_workflow_state(const char *doc, const char *state);

#endif
