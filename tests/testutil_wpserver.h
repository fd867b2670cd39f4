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

#endif
