/* api_fixtures.h - what the Engine API layer tests (test_api_*.c) share:
 * the engine under test (WPDOCK_TEST_ENGINE_HOST/_KIND/_CERT_PATH, see
 * tests/testutil.h), the sweep, running the loop, what a call's callback
 * reported with the assertions on it, and the program's main. An
 * unreachable engine fails every test.
 *
 * Everything a test makes is named wp_apitest_<pid>_... and labelled
 * wp_apitest_run=<that prefix> (and wp_uuid, which the test command's
 * leftover check looks for). Each test removes what it made and checks
 * the engine has nothing of it left; a sweep by label and name also runs
 * after each test and, in the parent process, after each test case, so a
 * failed or timed-out test leaves nothing behind either. */
#ifndef WPDOCK_TEST_API_FIXTURES_H
#define WPDOCK_TEST_API_FIXTURES_H

#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <wpdock/plugins.h>

#include "engine/call.h"
#include "engine/containers.h"
#include "engine/engine.h"
#include "util/buf.h"
#include "util/json.h"
#include "testutil.h"

#define ck_assert_contains(hay, needle)                                                            \
    ck_assert_msg(strstr((hay), (needle)) != NULL, "\"%s\" does not contain \"%s\"", (hay),        \
                  (needle))

#define CALL_MS 60000L /* the longest any single call may take */

static char RUN[64]; /* wp_apitest_<pid>: prefix of every name, value of the run label */
static wpd_reactor *R;
static wpd_plugin_registry *REG;
static wpd_engine *E;
static const char *SUITE; /* the suite's name: the program is test_<SUITE> */

/* ---- the engine and the sweep ------------------------------------------- */

static inline const char *engine_lookup(void *ctx, const char *name)
{
    (void)ctx;
    if (strcmp(name, "DOCKER_CERT_PATH") == 0)
        return tu_engine_cert_path();
    return getenv(name); /* the transport's own settings (WPDOCK_SSH_COMMAND) */
}

static inline bool podman(void)
{
    return wpd_engine_get_kind(E) == WPD_ENGINE_PODMAN;
}

/* Remove every container, network and volume of this run (blocking
 * requests outside the reactor); their names are appended to what.
 * Returns how many there were. */
static inline size_t sweep(wpd_buf *what)
{
    size_t n = 0;
    char *lf = wpd_xasprintf("{\"label\":[\"wp_apitest_run=%s\"]}", RUN);
    char *esc = tu_url_escape(lf);
    struct {
        const char *list, *array, *key, *del, *query;
    } kinds[] = {
        {"/containers/json?all=1&filters=", NULL, "Id", "/containers/", "?force=1&v=1"},
        {"/networks?filters=", NULL, "Name", "/networks/", ""},
        {"/volumes?filters=", "Volumes", "Name", "/volumes/", "?force=1"},
        /* objects without the label, by name */
        {"/networks", NULL, "Name", "/networks/", ""},
        {"/volumes", "Volumes", "Name", "/volumes/", "?force=1"},
    };
    for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
        bool by_label = k < 3;
        char *url =
            by_label ? wpd_xasprintf("%s%s", kinds[k].list, esc) : wpd_xstrdup(kinds[k].list);
        char *body = NULL;
        long st = tu_engine_request("GET", url, NULL, &body);
        wpd_json j = {0};
        if (st == 200 && wpd_json_parse(&j, body, strlen(body), NULL) == 0) {
            int arr = kinds[k].array ? wpd_json_get(&j, 0, kinds[k].array) : 0;
            for (int i = 0;; i++) {
                int el = wpd_json_at(&j, arr, i);
                if (el < 0)
                    break;
                char *id = wpd_json_get_str(&j, el, kinds[k].key);
                /* RUN_...: not the objects of a run whose pid starts
                 * with ours (test_api_* programs may run at once) */
                if (id &&
                    (by_label || (strncmp(id, RUN, strlen(RUN)) == 0 && id[strlen(RUN)] == '_'))) {
                    char *eid = tu_url_escape(id);
                    char *del = wpd_xasprintf("%s%s%s", kinds[k].del, eid, kinds[k].query);
                    tu_engine_request("DELETE", del, NULL, NULL);
                    if (what)
                        wpd_buf_printf(what, " %s%s", kinds[k].del + 1, id);
                    n++;
                    free(del);
                    free(eid);
                }
                free(id);
            }
        }
        wpd_json_free(&j);
        free(body);
        free(url);
    }
    free(esc);
    free(lf);
    return n;
}

static inline void transports_dir(char *out, size_t n)
{
    snprintf(out, n, "%s", WPDOCK_CLI);
    char *slash = strrchr(out, '/');
    ck_assert_ptr_nonnull(slash);
    snprintf(slash, n - (size_t)(slash - out), "/transports");
}

static inline void setup(void)
{
    const char *host = tu_engine_host();
    wpd_error err = {0};
    R = wpd_reactor_new(&err);
    ck_assert_msg(R != NULL, "%s", err.message);
    char dir[4096];
    transports_dir(dir, sizeof dir);
    /* WPDOCK_PLUGIN_PATH first: the exec suite also runs through a plugin
     * built out of tree (examples/plugin/run-installed) */
    const char *extra = getenv("WPDOCK_PLUGIN_PATH");
    REG = wpd_plugins_load(extra && *extra ? (const char *[]){extra, dir, NULL}
                                           : (const char *[]){dir, NULL});
    E = wpd_engine_new(R, REG, "apitest", host, engine_lookup, NULL, &err);
    ck_assert_msg(E != NULL, "engine %s: %s", host, err.message);
    ck_assert_msg(wpd_engine_connect_sync(E, &err) == 0, "engine at %s unreachable: %s", host,
                  err.message);
    /* what an earlier test of this run left when it failed */
    sweep(NULL);
    bool want_podman = tu_engine_is_podman();
    ck_assert_msg(podman() == want_podman, "WPDOCK_TEST_ENGINE_KIND is %s but %s is %s",
                  tu_engine_kind(), host, wpd_engine_get_info(E)->kind_name);
}

static inline void teardown(void)
{
    wpd_buf left = WPD_BUF_INIT;
    size_t n = sweep(&left);
    size_t in_flight = E ? wpd_engine_in_flight(E) : 0;
    if (E)
        wpd_engine_free(E);
    if (REG)
        wpd_plugins_free(REG);
    if (R)
        wpd_reactor_free(R);
    E = NULL;
    REG = NULL;
    R = NULL;
    ck_assert_msg(n == 0, "the test left on %s:%s", tu_engine_host(), wpd_buf_cstr(&left));
    wpd_buf_free(&left);
    ck_assert_msg(in_flight == 0, "%zu calls still in flight after the test", in_flight);
}

/* In the parent, after a test case: whatever a failed test left. */
static inline void sweep_after_case(void)
{
    wpd_buf left = WPD_BUF_INIT;
    if (sweep(&left))
        fprintf(stderr, "test_%s: removed what failed tests left on %s:%s\n", SUITE,
                tu_engine_host(), wpd_buf_cstr(&left));
    wpd_buf_free(&left);
}

/* ---- running the loop ---------------------------------------------------- */

static inline void on_deadline(void *arg)
{
    *(bool *)arg = true;
    wpd_reactor_stop(R);
}

/* Run the loop until *flag, at most ms; false when the time ran out. */
static inline bool run_until(const bool *flag, long ms)
{
    bool expired = false;
    wpd_timer *t = wpd_timer_new(R, on_deadline, &expired);
    wpd_timer_start(t, ms);
    while (!*flag && !expired)
        ck_assert_int_eq(wpd_reactor_run_until(R, flag), 0);
    wpd_timer_free(t);
    return *flag;
}

/* Run the loop for ms (late callbacks would show). */
static inline void settle(long ms)
{
    bool never = false;
    run_until(&never, ms);
}

/* What a call's callback reported. */
typedef struct out {
    int calls;
    bool done;
    bool failed;
    wpd_error err;
    wpd_change change;
    char *s;   /* an id or name */
    int64_t n; /* a status code */
    char *msg; /* a wait's error */
} out;

static inline void got(out *o, const wpd_error *err)
{
    o->calls++;
    o->done = true;
    if (err) {
        o->failed = true;
        o->err = *err;
    }
}

static inline void out_free(out *o)
{
    free(o->s);
    free(o->msg);
    memset(o, 0, sizeof *o);
}

static inline void await(out *o, const char *what)
{
    ck_assert_msg(run_until(&o->done, CALL_MS), "%s: no answer within %ld ms", what, CALL_MS);
    ck_assert_msg(o->calls == 1, "%s: callback ran %d times", what, o->calls);
}

static inline void expect_ok(const out *o, const char *what)
{
    ck_assert_msg(!o->failed, "%s on %s: %s (%s, status %d)", what, tu_engine_host(),
                  o->err.message, wpd_errkind_name(o->err.kind), o->err.status);
}

static inline void expect_change(const out *o, wpd_change want, const char *what)
{
    static const char *names[] = {"DONE", "ALREADY", "NOT_FOUND"};
    expect_ok(o, what);
    ck_assert_msg(o->change == want, "%s: %s, not %s", what, names[o->change], names[want]);
}

static inline void expect_engine_error(const out *o, int status, const char *what)
{
    ck_assert_msg(o->failed, "%s: succeeded", what);
    ck_assert_msg(o->err.kind == WPD_ERR_ENGINE && o->err.status == status,
                  "%s: %s %d (%s), not HTTP %d", what, wpd_errkind_name(o->err.kind), o->err.status,
                  o->err.message, status);
}

static inline void on_change(void *arg, wpd_change c, const wpd_error *err)
{
    out *o = arg;
    got(o, err);
    o->change = c;
}

static inline void on_done(void *arg, const wpd_error *err)
{
    got(arg, err);
}

static inline void on_str(void *arg, const char *s, const wpd_error *err)
{
    out *o = arg;
    got(o, err);
    ck_assert_msg(err ? s == NULL : s != NULL, "a result and an error");
    o->s = s ? wpd_xstrdup(s) : NULL;
}

static inline void on_created(void *arg, const wpd_ctr_created *r, const wpd_error *err)
{
    out *o = arg;
    got(o, err);
    o->s = r ? wpd_xstrdup(r->id) : NULL;
}

static inline void on_waited(void *arg, const wpd_ctr_waited *w, const wpd_error *err)
{
    out *o = arg;
    got(o, err);
    if (w) {
        o->n = w->status_code;
        o->msg = wpd_xstrdup(w->error ? w->error : "");
    }
}

/* ---- the program -------------------------------------------------------- */

/* A test case: its name and tests (NULL-terminated). */
typedef struct api_case {
    const char *name;
    const TTest *tests[4];
} api_case;

/* Run the test cases of suite (each test with the engine set up and swept
 * after it, each case swept after it in the parent); the exit status. */
static inline int api_run(const char *suite, const api_case *cases, size_t n)
{
    SUITE = suite;
    snprintf(RUN, sizeof RUN, "wp_apitest_%ld", (long)getpid());
    Suite *s = suite_create(suite);
    for (size_t i = 0; i < n; i++) {
        TCase *tc = tcase_create(cases[i].name);
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_unchecked_fixture(tc, NULL, sweep_after_case);
        tcase_set_timeout(tc, 300);
        for (size_t k = 0; cases[i].tests[k]; k++)
            tcase_add_test(tc, cases[i].tests[k]);
        suite_add_tcase(s, tc);
    }
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    sweep_after_case();
    return failed != 0;
}

#endif
