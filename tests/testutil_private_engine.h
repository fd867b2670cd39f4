/* testutil_private_engine.h - container engines a test program starts for
 * itself (tests/helpers/private-engine): a private dockerd or Podman API
 * service, with its own socket, state and network namespace, that tests
 * may freeze, crash, restart or cut off without disturbing the shared
 * engines. */
#ifndef WPDOCK_TESTUTIL_PRIVATE_ENGINE_H
#define WPDOCK_TESTUTIL_PRIVATE_ENGINE_H

#include "testutil.h"

typedef struct tu_pe {
    char kind[8];   /* "docker" or "podman" */
    char dir[256];  /* its temp directory (state, data, socket) */
    char host[300]; /* unix://DIR/engine.sock */
    int guard_pid;  /* stops the engine if this process ends without tu_pe_stop */
    int life_fd;
} tu_pe;

/* Start one (kind "docker" or "podman") with the test image imported.
 * Returns 0, or -1 with the reason on stderr: a test program then fails
 * (it never skips). */
int tu_pe_start(tu_pe *pe, const char *kind);
/* Remove its containers, stop it, remove its network namespace, mounts and
 * directory. */
void tu_pe_stop(tu_pe *pe);
/* Make it the engine under test of this process (WPDOCK_TEST_ENGINE_HOST
 * and _KIND): tu_exec_*, tu_engine_request and tu_exec_assert_clean use it. */
void tu_pe_use(const tu_pe *pe);

/* Faults (each fails the test when the helper fails). */
void tu_pe_signal(const tu_pe *pe, const char *sig); /* STOP, CONT, KILL, TERM */
void tu_pe_down(const tu_pe *pe);                    /* SIGTERM, wait until gone */
void tu_pe_up(const tu_pe *pe);                      /* start again, same state */
void tu_pe_hide_socket(const tu_pe *pe);
void tu_pe_show_socket(const tu_pe *pe);
/* The engine process, 0 when it does not run. */
int tu_pe_pid(const tu_pe *pe);
/* Back to normal (running, not frozen, socket in place) and empty of
 * wpdock's objects: the start of every test, whatever the last one left. */
void tu_pe_reset(const tu_pe *pe);

/* What the engine under test holds of wpdock's: containers labelled
 * wp_uuid, networks and volumes labelled wp_workflow, as "container NAME
 * (STATE); network NAME; ..." ("" when none); malloc'd. A network that
 * only Docker's stale endpoint count keeps (moby#43286) is reported on
 * stderr instead. */
char *tu_pe_objects(void);
/* Fail the test when tu_pe_objects() is not empty; `when` says at which
 * point of the test. */
void tu_pe_assert_empty(const char *when);

/* The workflow id of a run (the wp_workflow label of its network and
 * volume): from its JSON workflow events ("workflow_id"), or else from the
 * engine (the labels of a network its first started step is on). NULL when
 * neither knows; malloc'd. */
char *tu_pe_workflow_id(const tu_exec *x);

/* Milliseconds on CLOCK_MONOTONIC (for measured figures). */
long long tu_mono_ms(void);

#endif
