/* test_api_calls.c - every call of the typed Engine API layer against the
 * real engine under test (WPDOCK_TEST_ENGINE_HOST/_KIND/_CERT_PATH, see
 * tests/testutil.h; scripts/test runs it on Docker, Podman and Docker over
 * TLS): volumes, networks, images and pulls, the container lifecycle
 * (create, attach, start, wait, inspect, logs, stop, kill, remove, list),
 * exec, archive copies both ways, the event stream, and cancellation of
 * long calls. An unreachable engine fails every test.
 *
 * Everything a test makes is named wp_apitest_<pid>_... and labelled
 * wp_apitest_run=<that prefix> (and wp_uuid, which the test command's
 * leftover check looks for). Each test removes what it made and checks
 * the engine has nothing of it left; a sweep by label and name also runs
 * after each test and, in the parent process, after each test case, so a
 * failed or timed-out test leaves nothing behind either. */
#define _GNU_SOURCE
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <wpdock/plugins.h>

#include "engine/archive.h"
#include "engine/containers.h"
#include "engine/engine.h"
#include "engine/events.h"
#include "engine/exec.h"
#include "engine/images.h"
#include "engine/networks.h"
#include "engine/volumes.h"
#include "util/json.h"
#include "util/jsonw.h"
#include "testutil.h"

#define ck_assert_contains(hay, needle)                                                            \
    ck_assert_msg(strstr((hay), (needle)) != NULL, "\"%s\" does not contain \"%s\"", (hay),        \
                  (needle))

#define CALL_MS 60000L /* the longest any single call may take */

static char RUN[64]; /* wp_apitest_<pid>: prefix of every name, value of the run label */
static wpd_reactor *R;
static wpd_plugin_registry *REG;
static wpd_engine *E;

/* ---- the engine and the sweep ------------------------------------------- */

static const char *engine_lookup(void *ctx, const char *name)
{
    (void)ctx;
    if (strcmp(name, "DOCKER_CERT_PATH") == 0)
        return tu_engine_cert_path();
    return NULL;
}

static bool podman(void)
{
    return wpd_engine_get_kind(E) == WPD_ENGINE_PODMAN;
}

/* Remove every container, network and volume of this run (blocking
 * requests outside the reactor); their names are appended to what.
 * Returns how many there were. */
static size_t sweep(wpd_buf *what)
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
                if (id && (by_label || strncmp(id, RUN, strlen(RUN)) == 0)) {
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

static void transports_dir(char *out, size_t n)
{
    snprintf(out, n, "%s", WPDOCK_CLI);
    char *slash = strrchr(out, '/');
    ck_assert_ptr_nonnull(slash);
    snprintf(slash, n - (size_t)(slash - out), "/transports");
}

static void setup(void)
{
    const char *host = tu_engine_host();
    wpd_error err = {0};
    R = wpd_reactor_new(&err);
    ck_assert_msg(R != NULL, "%s", err.message);
    char dir[4096];
    transports_dir(dir, sizeof dir);
    REG = wpd_plugins_load((const char *[]){dir, NULL});
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

static void teardown(void)
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
static void sweep_after_case(void)
{
    wpd_buf left = WPD_BUF_INIT;
    if (sweep(&left))
        fprintf(stderr, "test_api_calls: removed what failed tests left on %s:%s\n",
                tu_engine_host(), wpd_buf_cstr(&left));
    wpd_buf_free(&left);
}

/* ---- running the loop ---------------------------------------------------- */

static void on_deadline(void *arg)
{
    *(bool *)arg = true;
    wpd_reactor_stop(R);
}

/* Run the loop until *flag, at most ms; false when the time ran out. */
static bool run_until(const bool *flag, long ms)
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
static void settle(long ms)
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

static void got(out *o, const wpd_error *err)
{
    o->calls++;
    o->done = true;
    if (err) {
        o->failed = true;
        o->err = *err;
    }
}

static void out_free(out *o)
{
    free(o->s);
    free(o->msg);
    memset(o, 0, sizeof *o);
}

static void await(out *o, const char *what)
{
    ck_assert_msg(run_until(&o->done, CALL_MS), "%s: no answer within %ld ms", what, CALL_MS);
    ck_assert_msg(o->calls == 1, "%s: callback ran %d times", what, o->calls);
}

static void expect_ok(const out *o, const char *what)
{
    ck_assert_msg(!o->failed, "%s on %s: %s (%s, status %d)", what, tu_engine_host(),
                  o->err.message, wpd_errkind_name(o->err.kind), o->err.status);
}

static void expect_change(const out *o, wpd_change want, const char *what)
{
    static const char *names[] = {"DONE", "ALREADY", "NOT_FOUND"};
    expect_ok(o, what);
    ck_assert_msg(o->change == want, "%s: %s, not %s", what, names[o->change], names[want]);
}

static void expect_engine_error(const out *o, int status, const char *what)
{
    ck_assert_msg(o->failed, "%s: succeeded", what);
    ck_assert_msg(o->err.kind == WPD_ERR_ENGINE && o->err.status == status,
                  "%s: %s %d (%s), not HTTP %d", what, wpd_errkind_name(o->err.kind), o->err.status,
                  o->err.message, status);
}

static void on_change(void *arg, wpd_change c, const wpd_error *err)
{
    out *o = arg;
    got(o, err);
    o->change = c;
}

static void on_done(void *arg, const wpd_error *err)
{
    got(arg, err);
}

static void on_str(void *arg, const char *s, const wpd_error *err)
{
    out *o = arg;
    got(o, err);
    ck_assert_msg(err ? s == NULL : s != NULL, "a result and an error");
    o->s = s ? wpd_xstrdup(s) : NULL;
}

static void on_created(void *arg, const wpd_ctr_created *r, const wpd_error *err)
{
    out *o = arg;
    got(o, err);
    o->s = r ? wpd_xstrdup(r->id) : NULL;
}

static void on_waited(void *arg, const wpd_ctr_waited *w, const wpd_error *err)
{
    out *o = arg;
    got(o, err);
    if (w) {
        o->n = w->status_code;
        o->msg = wpd_xstrdup(w->error ? w->error : "");
    }
}

/* ---- names and bodies --------------------------------------------------- */

static char *nm(const char *suffix)
{
    return wpd_xasprintf("%s_%s", RUN, suffix);
}

static void run_labels(wpd_jsonw *w, const char *kind)
{
    wpd_jw_key(w, "Labels");
    wpd_jw_obj_begin(w);
    wpd_jw_kstr(w, "wp_uuid", RUN);
    wpd_jw_kstr(w, "wp_apitest_run", RUN);
    wpd_jw_kstr(w, "wp_apitest_kind", kind);
    wpd_jw_obj_end(w);
}

enum { C_TTY = 1, C_PORT = 2 };

/* A create body: the test image running `sh -c script`. */
static char *ctr_body(const char *image, const char *script, unsigned flags, const char *kind)
{
    wpd_buf b = WPD_BUF_INIT;
    wpd_jsonw w;
    wpd_jw_init(&w, &b);
    wpd_jw_obj_begin(&w);
    wpd_jw_kstr(&w, "Image", image ? image : tu_test_image());
    wpd_jw_key(&w, "Cmd");
    wpd_jw_arr_begin(&w);
    wpd_jw_str(&w, "sh");
    wpd_jw_str(&w, "-c");
    wpd_jw_str(&w, script);
    wpd_jw_arr_end(&w);
    run_labels(&w, kind);
    wpd_jw_kbool(&w, "Tty", (flags & C_TTY) != 0);
    if (flags & C_PORT) {
        wpd_jw_key(&w, "ExposedPorts");
        wpd_jw_raw(&w, "{\"8080/tcp\":{}}");
    }
    wpd_jw_key(&w, "HostConfig");
    wpd_jw_obj_begin(&w);
    if (flags & C_PORT) {
        /* a random host port on the loopback address */
        wpd_jw_key(&w, "PortBindings");
        wpd_jw_raw(&w, "{\"8080/tcp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"\"}]}");
    }
    wpd_jw_obj_end(&w);
    wpd_jw_obj_end(&w);
    return wpd_buf_steal(&b);
}

static char *create_ctr(const char *name, const char *body)
{
    out o = {0};
    wpd_ctr_create(E, name, body, on_created, &o);
    await(&o, "container create");
    expect_ok(&o, "container create");
    ck_assert_msg(o.s && *o.s, "container create: no id");
    char *id = o.s;
    o.s = NULL;
    out_free(&o);
    return id;
}

static void start_ctr(const char *name)
{
    out o = {0};
    wpd_ctr_start(E, name, on_change, &o);
    await(&o, "container start");
    expect_change(&o, WPD_CHANGE_DONE, "container start");
}

static void remove_ctr(const char *name, wpd_change want)
{
    out o = {0};
    wpd_ctr_remove(E, name, true, true, on_change, &o);
    await(&o, "container remove");
    expect_change(&o, want, "container remove");
}

static int64_t wait_ctr(const char *name, wpd_wait_cond cond)
{
    out o = {0};
    wpd_ctr_wait(E, name, cond, on_waited, &o);
    await(&o, "container wait");
    expect_ok(&o, "container wait");
    ck_assert_str_eq(o.msg, "");
    int64_t code = o.n;
    out_free(&o);
    return code;
}

/* ---- volumes -------------------------------------------------------------- */

typedef struct vol_list_out {
    out o;
    size_t n;
    char names[8][128];
    char kind[8][64];
    char driver[8][32];
} vol_list_out;

static void on_vol_list(void *arg, const wpd_vol_summary *v, size_t n, const wpd_error *err)
{
    vol_list_out *l = arg;
    got(&l->o, err);
    ck_assert_msg(err ? v == NULL && n == 0 : true, "a list and an error");
    l->n = n;
    for (size_t i = 0; i < n && i < 8; i++) {
        snprintf(l->names[i], sizeof l->names[i], "%s", v[i].name);
        snprintf(l->driver[i], sizeof l->driver[i], "%s", v[i].driver);
        for (size_t k = 0; k < v[i].n_labels; k++)
            if (strcmp(v[i].labels[k].key, "wp_apitest_kind") == 0)
                snprintf(l->kind[i], sizeof l->kind[i], "%s", v[i].labels[k].value);
    }
}

static void list_volumes(const char *label_filter, vol_list_out *l)
{
    memset(l, 0, sizeof *l);
    wpd_pair f[] = {{"label", label_filter}};
    wpd_vol_list(E, f, 1, on_vol_list, l);
    await(&l->o, "volume list");
    expect_ok(&l->o, "volume list");
}

START_TEST(volumes)
{
    char *name = nm("vol");
    char *run_filter = wpd_xasprintf("wp_apitest_run=%s", RUN);
    wpd_pair labels[] = {{"wp_apitest_run", RUN}, {"wp_apitest_kind", "volume"}};
    wpd_vol_spec spec = {.name = name, .labels = labels, .n_labels = 2};
    out o = {0};
    wpd_vol_create(E, &spec, on_str, &o);
    await(&o, "volume create");
    expect_ok(&o, "volume create");
    ck_assert_str_eq(o.s, name);
    out_free(&o);

    vol_list_out l;
    list_volumes(run_filter, &l);
    ck_assert_uint_eq(l.n, 1);
    ck_assert_str_eq(l.names[0], name);
    ck_assert_str_eq(l.kind[0], "volume");
    ck_assert_str_eq(l.driver[0], "local");
    /* the filter selects: a label nobody has lists nothing */
    char *none = wpd_xasprintf("wp_apitest_run=%s_nobody", RUN);
    list_volumes(none, &l);
    ck_assert_uint_eq(l.n, 0);
    /* unfiltered lists hold it too */
    l = (vol_list_out){0};
    wpd_vol_list(E, NULL, 0, on_vol_list, &l);
    await(&l.o, "volume list");
    expect_ok(&l.o, "volume list");
    ck_assert_uint_ge(l.n, 1);

    wpd_vol_remove(E, name, false, on_change, &o);
    await(&o, "volume remove");
    expect_change(&o, WPD_CHANGE_DONE, "volume remove");
    out_free(&o);
    wpd_vol_remove(E, name, false, on_change, &o);
    await(&o, "volume remove again");
    expect_change(&o, WPD_CHANGE_NOT_FOUND, "volume remove again");
    out_free(&o);
    list_volumes(run_filter, &l);
    ck_assert_uint_eq(l.n, 0);
    free(none);
    free(run_filter);
    free(name);
}
END_TEST

/* ---- networks ------------------------------------------------------------- */

typedef struct net_list_out {
    out o;
    size_t n;
    char names[8][128];
    char ids[8][80];
    char driver[8][32];
    char kind[8][64];
} net_list_out;

static void on_net_list(void *arg, const wpd_net_summary *v, size_t n, const wpd_error *err)
{
    net_list_out *l = arg;
    got(&l->o, err);
    l->n = n;
    for (size_t i = 0; i < n && i < 8; i++) {
        snprintf(l->names[i], sizeof l->names[i], "%s", v[i].name);
        snprintf(l->ids[i], sizeof l->ids[i], "%s", v[i].id);
        snprintf(l->driver[i], sizeof l->driver[i], "%s", v[i].driver);
        for (size_t k = 0; k < v[i].n_labels; k++)
            if (strcmp(v[i].labels[k].key, "wp_apitest_kind") == 0)
                snprintf(l->kind[i], sizeof l->kind[i], "%s", v[i].labels[k].value);
    }
}

static void list_networks(const char *label_filter, net_list_out *l)
{
    memset(l, 0, sizeof *l);
    wpd_pair f[] = {{"label", label_filter}};
    wpd_net_list(E, f, 1, on_net_list, l);
    await(&l->o, "network list");
    expect_ok(&l->o, "network list");
}

/* What a test reads of an inspect. */
typedef struct info_out {
    out o;
    char id[80], name[160], status[32], health[32], image[200];
    bool running, tty;
    int64_t exit_code, pid;
    char kind[64];      /* label wp_apitest_kind */
    char ports[512];    /* "8080/tcp=127.0.0.1:49153;..." */
    char networks[512]; /* "name[alias,alias];..." */
    int host_port;      /* of 8080/tcp */
} info_out;

static void on_info(void *arg, const wpd_ctr_info *i, const wpd_error *err)
{
    info_out *r = arg;
    got(&r->o, err);
    if (!i)
        return;
    snprintf(r->id, sizeof r->id, "%s", i->id);
    snprintf(r->name, sizeof r->name, "%s", i->name);
    snprintf(r->status, sizeof r->status, "%s", i->status);
    snprintf(r->health, sizeof r->health, "%s", i->health);
    snprintf(r->image, sizeof r->image, "%s", i->image);
    r->running = i->running;
    r->tty = i->tty;
    r->exit_code = i->exit_code;
    r->pid = i->pid;
    for (size_t k = 0; k < i->n_labels; k++)
        if (strcmp(i->labels[k].key, "wp_apitest_kind") == 0)
            snprintf(r->kind, sizeof r->kind, "%s", i->labels[k].value);
    wpd_buf b = WPD_BUF_INIT;
    for (size_t k = 0; k < i->n_ports; k++) {
        const wpd_port_binding *p = &i->ports[k];
        wpd_buf_printf(&b, "%d/%s=%s:%d;", p->container_port, p->proto, p->host_ip, p->host_port);
        if (p->container_port == 8080 && strcmp(p->proto, "tcp") == 0)
            r->host_port = p->host_port;
    }
    snprintf(r->ports, sizeof r->ports, "%s", wpd_buf_cstr(&b));
    wpd_buf_reset(&b);
    for (size_t k = 0; k < i->n_networks; k++) {
        wpd_buf_printf(&b, "%s[", i->networks[k].name);
        for (size_t a = 0; a < i->networks[k].n_aliases; a++)
            wpd_buf_printf(&b, "%s%s", a ? "," : "", i->networks[k].aliases[a]);
        wpd_buf_puts(&b, "];");
    }
    snprintf(r->networks, sizeof r->networks, "%s", wpd_buf_cstr(&b));
    wpd_buf_free(&b);
}

static void inspect_ctr(const char *name, info_out *r)
{
    memset(r, 0, sizeof *r);
    wpd_ctr_inspect(E, name, on_info, r);
    await(&r->o, "container inspect");
}

START_TEST(networks)
{
    char *net = nm("net");
    char *ctr = nm("net_ctr");
    char *run_filter = wpd_xasprintf("wp_apitest_run=%s", RUN);
    wpd_pair labels[] = {{"wp_apitest_run", RUN}, {"wp_apitest_kind", "network"}};
    wpd_net_spec spec = {.name = net, .labels = labels, .n_labels = 2};
    out o = {0};
    wpd_net_create(E, &spec, on_str, &o);
    await(&o, "network create");
    expect_ok(&o, "network create");
    ck_assert_msg(o.s && *o.s, "network create: no id");
    char *id = o.s;
    o.s = NULL;
    out_free(&o);

    net_list_out l;
    list_networks(run_filter, &l);
    ck_assert_uint_eq(l.n, 1);
    ck_assert_str_eq(l.names[0], net);
    ck_assert_str_eq(l.ids[0], id);
    ck_assert_str_eq(l.driver[0], "bridge");
    ck_assert_str_eq(l.kind[0], "network");

    /* a created container joins it under two aliases */
    char *body = ctr_body(NULL, "true", 0, "net");
    free(create_ctr(ctr, body));
    const char *aliases[] = {"apitest-db", "apitest-database"};
    wpd_net_endpoint ep = {.aliases = aliases, .n_aliases = 2};
    wpd_net_connect(E, net, ctr, &ep, on_done, &o);
    await(&o, "network connect");
    expect_ok(&o, "network connect");
    out_free(&o);
    info_out info;
    inspect_ctr(ctr, &info);
    expect_ok(&info.o, "container inspect");
    ck_assert_contains(info.networks, net);
    ck_assert_contains(info.networks, "apitest-db");
    ck_assert_contains(info.networks, "apitest-database");
    /* a container that does not exist (Docker 20.10 lets a created
     * container "join" a network that does not exist: only its start fails) */
    char *missing = nm("net_missing");
    wpd_net_connect(E, net, missing, NULL, on_done, &o);
    await(&o, "network connect (missing container)");
    expect_engine_error(&o, 404, "network connect (missing container)");
    out_free(&o);
    remove_ctr(ctr, WPD_CHANGE_DONE);
    wpd_net_remove(E, net, on_change, &o);
    await(&o, "network remove");
    expect_change(&o, WPD_CHANGE_DONE, "network remove");
    out_free(&o);
    wpd_net_remove(E, net, on_change, &o);
    await(&o, "network remove again");
    expect_change(&o, WPD_CHANGE_NOT_FOUND, "network remove again");
    out_free(&o);
    list_networks(run_filter, &l);
    ck_assert_uint_eq(l.n, 0);
    free(missing);
    free(body);
    free(id);
    free(run_filter);
    free(ctr);
    free(net);
}
END_TEST

/* ---- images --------------------------------------------------------------- */

typedef struct image_out {
    out o;
    char id[100], os[32];
    int64_t size;
    char tags[512];
} image_out;

static void on_image(void *arg, const wpd_image_info *i, const wpd_error *err)
{
    image_out *r = arg;
    got(&r->o, err);
    if (!i)
        return;
    snprintf(r->id, sizeof r->id, "%s", i->id);
    snprintf(r->os, sizeof r->os, "%s", i->os);
    r->size = i->size;
    wpd_buf b = WPD_BUF_INIT;
    for (size_t k = 0; k < i->n_repo_tags; k++)
        wpd_buf_printf(&b, "%s;", i->repo_tags[k]);
    snprintf(r->tags, sizeof r->tags, "%s", wpd_buf_cstr(&b));
    wpd_buf_free(&b);
}

static void inspect_image(const char *name, image_out *r)
{
    memset(r, 0, sizeof *r);
    wpd_image_inspect(E, name, on_image, r);
    await(&r->o, "image inspect");
}

typedef struct pull_out {
    out o;
    int progress;
    bool saw_layer;
} pull_out;

static void on_progress(void *arg, const wpd_pull_progress *p)
{
    pull_out *r = arg;
    r->progress++;
    ck_assert_ptr_nonnull(p->status);
    if (*p->id && *p->status)
        r->saw_layer = true;
}

static void pull(const char *image, const char *tag, const char *auth, pull_out *r)
{
    memset(r, 0, sizeof *r);
    wpd_image_pull(E, image, tag, auth, on_progress, r, on_done, &r->o);
    await(&r->o, "image pull");
}

START_TEST(images)
{
    image_out img;
    inspect_image(tu_test_image(), &img);
    expect_ok(&img.o, "image inspect");
    ck_assert_msg(strncmp(img.id, "sha256:", 7) == 0, "image id %s", img.id);
    ck_assert_str_eq(img.os, "linux");
    ck_assert_int_gt(img.size, 0);
    char *tag = wpd_xasprintf("%s;", tu_test_image());
    ck_assert_contains(img.tags, tag);
    free(tag);
    char *missing = wpd_xasprintf("localhost/%s/no-such-image:latest", RUN);
    inspect_image(missing, &img);
    expect_engine_error(&img.o, 404, "image inspect (missing)");

    const char *registry = tu_env("WPDOCK_REGISTRY", NULL);
    const char *reg_image = tu_env("WPDOCK_REGISTRY_IMAGE", NULL);
    bool can_pull = registry && reg_image && tu_env("WPDOCK_REGISTRY_AUTH", NULL) &&
                    (!podman() || strcmp(tu_env("WPDOCK_PODMAN_REGISTRY_OK", "0"), "1") == 0);
    pull_out p;
    if (!can_pull) {
        /* no registry: the offline image cannot be pulled, and says so */
        fprintf(stderr, "test_api_calls: no registry for %s; pulling the offline image only\n",
                tu_engine_host());
        pull(tu_test_image(), NULL, NULL, &p);
        ck_assert_msg(p.o.failed, "pulling %s without a registry succeeded", tu_test_image());
        ck_assert_msg(p.o.err.kind == WPD_ERR_ENGINE, "%s", p.o.err.message);
        free(missing);
        return;
    }
    const char *colon = strrchr(reg_image, ':');
    ck_assert_ptr_nonnull(colon);
    char *repo = wpd_xstrndup(reg_image, (size_t)(colon - reg_image));
    inspect_image(reg_image, &img);
    bool was_present = !img.o.failed;
    /* refused credentials: Docker answers an HTTP error, Podman a 200 with
     * errorDetail; both are a failed pull, without the password */
    pull(repo, colon + 1, tu_env("WPDOCK_REGISTRY_BAD_AUTH", ""), &p);
    if (!was_present) {
        ck_assert_msg(p.o.failed, "a pull with bad credentials succeeded");
        ck_assert_msg(p.o.err.kind == WPD_ERR_ENGINE, "%s", p.o.err.message);
        ck_assert_msg(strstr(p.o.err.message, "unauthorized") ||
                          strstr(p.o.err.message, "authentication required"),
                      "not the registry's refusal: %s", p.o.err.message);
        ck_assert_msg(!strstr(p.o.err.message, tu_env("WPDOCK_REGISTRY_PASS", "wpdock-pass")),
                      "the password is in the message");
        if (podman())
            ck_assert_int_eq(p.o.err.status, 0); /* from inside the stream */
    }
    pull(repo, colon + 1, tu_env("WPDOCK_REGISTRY_AUTH", NULL), &p);
    expect_ok(&p.o, "image pull");
    ck_assert_int_gt(p.progress, 0);
    inspect_image(reg_image, &img);
    expect_ok(&img.o, "image inspect after the pull");
    if (!was_present) {
        char *esc = tu_url_escape(reg_image);
        char *path = wpd_xasprintf("/images/%s", esc);
        tu_engine_request("DELETE", path, NULL, NULL);
        free(path);
        free(esc);
    }
    free(repo);
    free(missing);
}
END_TEST

/* ---- output streams ------------------------------------------------------- */

typedef struct stream_out {
    out o;
    int ready;
    bool is_ready;
    wpd_buf out, err;
    bool truncated, frame_error;
    /* *met once stdout holds want_out and stderr want_err */
    const char *want_out, *want_err;
    bool met;
    int other_stream;
} stream_out;

static void on_ready(void *arg)
{
    stream_out *s = arg;
    s->ready++;
    s->is_ready = true;
}

static int on_data(void *arg, int stream, const char *data, size_t len)
{
    stream_out *s = arg;
    if (stream == 1)
        wpd_buf_append(&s->out, data, len);
    else if (stream == 2)
        wpd_buf_append(&s->err, data, len);
    else
        s->other_stream++;
    if (s->want_out || s->want_err)
        s->met = (!s->want_out || strstr(wpd_buf_cstr(&s->out), s->want_out)) &&
                 (!s->want_err || strstr(wpd_buf_cstr(&s->err), s->want_err));
    return 0;
}

static void on_stream_done(void *arg, const wpd_stream_end *end, const wpd_error *err)
{
    stream_out *s = arg;
    got(&s->o, err);
    if (end) {
        s->truncated = end->truncated;
        s->frame_error = end->frame_error;
    }
}

static wpd_output_cbs stream_cbs(stream_out *s)
{
    return (wpd_output_cbs){.ready = on_ready, .data = on_data, .done = on_stream_done, .arg = s};
}

static void stream_free(stream_out *s)
{
    wpd_buf_free(&s->out);
    wpd_buf_free(&s->err);
    out_free(&s->o);
}

static void await_met(stream_out *s, const char *what)
{
    ck_assert_msg(run_until(&s->met, CALL_MS), "%s: stdout \"%s\", stderr \"%s\" so far", what,
                  wpd_buf_cstr(&s->out), wpd_buf_cstr(&s->err));
}

static void await_ready(stream_out *s, const char *what)
{
    ck_assert_msg(run_until(&s->is_ready, CALL_MS) || s->o.done, "%s: not ready", what);
    ck_assert_msg(!s->o.failed, "%s: %s", what, s->o.err.message);
}

static void logs(const char *name, const wpd_logs_opts *opts, stream_out *s)
{
    memset(s, 0, sizeof *s);
    wpd_output_cbs cbs = stream_cbs(s);
    wpd_ctr_logs(E, name, opts, &cbs);
    await(&s->o, "container logs");
    expect_ok(&s->o, "container logs");
}

/* ---- containers ----------------------------------------------------------- */

START_TEST(create_errors)
{
    char *name = nm("dup");
    char *body = ctr_body(NULL, "true", 0, "dup");
    free(create_ctr(name, body));
    out o = {0};
    wpd_ctr_create(E, name, body, on_created, &o);
    await(&o, "container create (duplicate name)");
    ck_assert_msg(o.failed, "a second container named %s", name);
    ck_assert_int_eq(o.err.kind, WPD_ERR_ENGINE);
    if (podman()) {
        /* Podman 4.3 answers a name conflict with 500, not Docker's 409 */
        ck_assert_msg(o.err.status == 500 || o.err.status == 409, "status %d: %s", o.err.status,
                      o.err.message);
        ck_assert_contains(o.err.message, "already in use");
    } else {
        expect_engine_error(&o, 409, "container create (duplicate name)");
        ck_assert_contains(o.err.message, "already in use");
    }
    out_free(&o);
    char *noimg_name = nm("noimg");
    char *missing = wpd_xasprintf("localhost/%s/no-such-image:latest", RUN);
    char *noimg = ctr_body(missing, "true", 0, "noimg");
    wpd_ctr_create(E, noimg_name, noimg, on_created, &o);
    await(&o, "container create (missing image)");
    expect_engine_error(&o, 404, "container create (missing image)");
    ck_assert_msg(strcasestr(o.err.message, "no such image") != NULL, "%s", o.err.message);
    out_free(&o);
    remove_ctr(name, WPD_CHANGE_DONE);
    free(noimg);
    free(missing);
    free(noimg_name);
    free(body);
    free(name);
}
END_TEST

typedef struct ctr_list_out {
    out o;
    size_t n;
    char names[8][160];
    char state[8][32];
} ctr_list_out;

static void on_ctr_list(void *arg, const wpd_ctr_summary *v, size_t n, const wpd_error *err)
{
    ctr_list_out *l = arg;
    got(&l->o, err);
    l->n = n;
    for (size_t i = 0; i < n && i < 8; i++) {
        snprintf(l->names[i], sizeof l->names[i], "%s", v[i].name);
        snprintf(l->state[i], sizeof l->state[i], "%s", v[i].state);
    }
}

static void list_ctrs(const char *kind, ctr_list_out *l)
{
    memset(l, 0, sizeof *l);
    char *run = wpd_xasprintf("wp_apitest_run=%s", RUN);
    char *k = wpd_xasprintf("wp_apitest_kind=%s", kind);
    /* two label filters: both must hold */
    wpd_pair f[] = {{"label", run}, {"label", k}};
    wpd_ctr_list(E, f, 2, on_ctr_list, l);
    await(&l->o, "container list");
    expect_ok(&l->o, "container list");
    free(k);
    free(run);
}

/* The lifecycle of one container: attach before start, start (twice),
 * inspect while running with its published port, list, logs (follow and
 * not, tail, one stream), a TERM the script traps to exit 3, wait
 * (next-exit armed before start, not-running after the end), stop and
 * kill of the stopped container, remove (twice), and every call on the
 * removed container. */
START_TEST(lifecycle)
{
    char *name = nm("life");
    char *body = ctr_body(NULL,
                          "trap 'echo out2; exit 3' TERM; echo out1; echo err1 >&2; "
                          "while true; do sleep 0.1; done",
                          C_PORT, "life");
    char *id = create_ctr(name, body);

    info_out info;
    inspect_ctr(name, &info);
    expect_ok(&info.o, "inspect (created)");
    ck_assert_str_eq(info.status, "created");
    ck_assert(!info.running);

    /* the attach is in place before the start: its output is complete */
    stream_out att = {.want_out = "out1\n", .want_err = "err1\n"};
    wpd_output_cbs cbs = stream_cbs(&att);
    wpd_ctr_attach(E, name, false, &cbs);
    await_ready(&att, "attach");
    ck_assert_msg(att.ready == 1, "the attach was not confirmed (ready %d)", att.ready);
    out waited = {0};
    wpd_ctr_wait(E, name, WPD_WAIT_NEXT_EXIT, on_waited, &waited);

    start_ctr(name);
    out o = {0};
    wpd_ctr_start(E, name, on_change, &o);
    await(&o, "second start");
    expect_change(&o, WPD_CHANGE_ALREADY, "second start");
    out_free(&o);
    await_met(&att, "attach");
    /* stdout and stderr arrive apart */
    ck_assert_str_eq(wpd_buf_cstr(&att.out), "out1\n");
    ck_assert_str_eq(wpd_buf_cstr(&att.err), "err1\n");

    inspect_ctr(name, &info);
    expect_ok(&info.o, "inspect (running)");
    ck_assert_str_eq(info.id, id);
    ck_assert_str_eq(info.name, name);
    ck_assert_str_eq(info.status, "running");
    ck_assert(info.running && !info.tty);
    ck_assert_int_gt(info.pid, 0);
    ck_assert_str_eq(info.kind, "life");
    ck_assert_str_eq(info.image, tu_test_image());
    ck_assert_msg(info.host_port > 0, "no host port for 8080/tcp: %s", info.ports);
    ck_assert_contains(info.ports, "8080/tcp=127.0.0.1:");

    ctr_list_out l;
    list_ctrs("life", &l);
    ck_assert_uint_eq(l.n, 1);
    ck_assert_str_eq(l.names[0], name);
    ck_assert_str_eq(l.state[0], "running");
    list_ctrs("nobody", &l);
    ck_assert_uint_eq(l.n, 0);

    /* logs while it runs: one read now, one followed to the end */
    stream_out now;
    wpd_logs_opts lo = {0};
    logs(name, &lo, &now);
    ck_assert_str_eq(wpd_buf_cstr(&now.out), "out1\n");
    ck_assert_str_eq(wpd_buf_cstr(&now.err), "err1\n");
    stream_free(&now);
    stream_out follow = {0};
    wpd_output_cbs fcbs = stream_cbs(&follow);
    wpd_logs_opts fo = {.follow = true};
    wpd_ctr_logs(E, name, &fo, &fcbs);
    settle(200);
    ck_assert_msg(!follow.o.done, "a followed log ended while the container runs");

    /* the TERM the script traps: it prints out2 and exits 3 */
    wpd_ctr_kill(E, name, "TERM", on_change, &o);
    await(&o, "kill TERM");
    expect_change(&o, WPD_CHANGE_DONE, "kill TERM");
    out_free(&o);
    await(&waited, "wait next-exit");
    expect_ok(&waited, "wait next-exit");
    ck_assert_int_eq(waited.n, 3);
    ck_assert_str_eq(waited.msg, "");
    out_free(&waited);
    await(&att.o, "attach end");
    expect_ok(&att.o, "attach end");
    ck_assert(!att.truncated && !att.frame_error);
    ck_assert_str_eq(wpd_buf_cstr(&att.out), "out1\nout2\n");
    ck_assert_str_eq(wpd_buf_cstr(&att.err), "err1\n");
    await(&follow.o, "followed logs end");
    expect_ok(&follow.o, "followed logs");
    ck_assert_str_eq(wpd_buf_cstr(&follow.out), "out1\nout2\n");
    ck_assert_str_eq(wpd_buf_cstr(&follow.err), "err1\n");
    stream_free(&follow);
    stream_free(&att);

    ck_assert_int_eq(wait_ctr(name, WPD_WAIT_NOT_RUNNING), 3);
    inspect_ctr(name, &info);
    expect_ok(&info.o, "inspect (exited)");
    ck_assert_str_eq(info.status, "exited");
    ck_assert(!info.running);
    ck_assert_int_eq(info.exit_code, 3);

    /* logs after the end: all, the last line, one stream */
    logs(name, &lo, &now);
    ck_assert_str_eq(wpd_buf_cstr(&now.out), "out1\nout2\n");
    ck_assert_str_eq(wpd_buf_cstr(&now.err), "err1\n");
    stream_free(&now);
    wpd_logs_opts tail = {.tail = 1};
    logs(name, &tail, &now);
    ck_assert_str_eq(wpd_buf_cstr(&now.out), "out2\n");
    ck_assert_str_eq(wpd_buf_cstr(&now.err), "");
    stream_free(&now);
    wpd_logs_opts only_err = {.no_stdout = true};
    logs(name, &only_err, &now);
    ck_assert_str_eq(wpd_buf_cstr(&now.out), "");
    ck_assert_str_eq(wpd_buf_cstr(&now.err), "err1\n");
    stream_free(&now);
    logs(name, &fo, &now); /* follow on a stopped container: the whole log, then the end */
    ck_assert_str_eq(wpd_buf_cstr(&now.out), "out1\nout2\n");
    stream_free(&now);

    /* nothing to do: stop and kill of a stopped container */
    wpd_ctr_stop(E, name, 1, on_change, &o);
    await(&o, "stop (stopped)");
    expect_change(&o, WPD_CHANGE_ALREADY, "stop (stopped)");
    out_free(&o);
    wpd_ctr_kill(E, name, NULL, on_change, &o);
    await(&o, "kill (stopped)");
    expect_change(&o, WPD_CHANGE_ALREADY, "kill (stopped)");
    out_free(&o);

    remove_ctr(name, WPD_CHANGE_DONE);
    remove_ctr(name, WPD_CHANGE_NOT_FOUND);
    inspect_ctr(name, &info);
    expect_engine_error(&info.o, 404, "inspect (removed)");
    wpd_ctr_start(E, name, on_change, &o);
    await(&o, "start (removed)");
    expect_change(&o, WPD_CHANGE_NOT_FOUND, "start (removed)");
    out_free(&o);
    wpd_ctr_stop(E, name, -1, on_change, &o);
    await(&o, "stop (removed)");
    expect_change(&o, WPD_CHANGE_NOT_FOUND, "stop (removed)");
    out_free(&o);
    wpd_ctr_kill(E, name, "9", on_change, &o);
    await(&o, "kill (removed)");
    expect_change(&o, WPD_CHANGE_NOT_FOUND, "kill (removed)");
    out_free(&o);
    wpd_ctr_wait(E, name, WPD_WAIT_NOT_RUNNING, on_waited, &o);
    await(&o, "wait (removed)");
    expect_engine_error(&o, 404, "wait (removed)");
    out_free(&o);
    memset(&now, 0, sizeof now);
    wpd_output_cbs ncbs = stream_cbs(&now);
    wpd_ctr_logs(E, name, &lo, &ncbs);
    await(&now.o, "logs (removed)");
    expect_engine_error(&now.o, 404, "logs (removed)");
    ck_assert_int_eq(now.ready, 0);
    stream_free(&now);
    list_ctrs("life", &l);
    ck_assert_uint_eq(l.n, 0);
    free(id);
    free(body);
    free(name);
}
END_TEST

/* A TTY container: one raw stream, all of it stdout. */
START_TEST(tty_attach)
{
    char *name = nm("tty");
    char *body = ctr_body(NULL, "sleep 0.5; echo to-out; echo to-err >&2", C_TTY, "tty");
    free(create_ctr(name, body));
    stream_out att = {.want_out = "to-err"};
    wpd_output_cbs cbs = stream_cbs(&att);
    wpd_ctr_attach(E, name, true, &cbs);
    await_ready(&att, "tty attach");
    ck_assert_int_eq(att.ready, 1);
    start_ctr(name);
    await(&att.o, "tty attach");
    expect_ok(&att.o, "tty attach");
    ck_assert_contains(wpd_buf_cstr(&att.out), "to-out\r\n");
    ck_assert_contains(wpd_buf_cstr(&att.out), "to-err\r\n");
    ck_assert_str_eq(wpd_buf_cstr(&att.err), "");
    ck_assert_int_eq(att.other_stream, 0);
    ck_assert_int_eq(wait_ctr(name, WPD_WAIT_NOT_RUNNING), 0);
    info_out info;
    inspect_ctr(name, &info);
    ck_assert(info.tty);
    stream_free(&att);
    remove_ctr(name, WPD_CHANGE_DONE);
    free(body);
    free(name);
}
END_TEST

/* ---- exec ----------------------------------------------------------------- */

typedef struct exec_info_out {
    out o;
    bool running, has_exit_code, tty;
    int64_t exit_code, pid;
    char container[80];
} exec_info_out;

static void on_exec_info(void *arg, const wpd_exec_info *i, const wpd_error *err)
{
    exec_info_out *r = arg;
    got(&r->o, err);
    if (!i)
        return;
    r->running = i->running;
    r->has_exit_code = i->has_exit_code;
    r->tty = i->tty;
    r->exit_code = i->exit_code;
    r->pid = i->pid;
    snprintf(r->container, sizeof r->container, "%s", i->container_id);
}

static void exec_inspect(const char *id, exec_info_out *r)
{
    memset(r, 0, sizeof *r);
    wpd_exec_inspect(E, id, on_exec_info, r);
    await(&r->o, "exec inspect");
}

static char *exec_create(const char *ctr, const wpd_exec_spec *spec)
{
    out o = {0};
    wpd_exec_create(E, ctr, spec, on_str, &o);
    await(&o, "exec create");
    expect_ok(&o, "exec create");
    char *id = o.s;
    o.s = NULL;
    return id;
}

START_TEST(exec)
{
    char *name = nm("exec");
    char *body = ctr_body(NULL, "while true; do sleep 0.1; done", 0, "exec");
    char *ctr_id = create_ctr(name, body);
    start_ctr(name);

    const char *cmd[] = {"sh", "-c", "echo \"$A:$(pwd):$(id -u)\"; echo err-line >&2; exit 3"};
    const char *env[] = {"A=value with spaces"};
    wpd_exec_spec spec = {.cmd = cmd,
                          .n_cmd = 3,
                          .env = env,
                          .n_env = 1,
                          .user = "1000",
                          .working_dir = "/tmp",
                          .attach_stdout = true,
                          .attach_stderr = true};
    char *id = exec_create(name, &spec);
    exec_info_out ei;
    exec_inspect(id, &ei);
    expect_ok(&ei.o, "exec inspect (created)");
    ck_assert(!ei.running);
    ck_assert_str_eq(ei.container, ctr_id);
    /* Docker has no exit code yet; Podman says 0 */
    ck_assert(podman() ? ei.has_exit_code && ei.exit_code == 0 : !ei.has_exit_code);

    stream_out so = {0};
    wpd_output_cbs cbs = stream_cbs(&so);
    wpd_exec_start(E, id, false, &cbs);
    await(&so.o, "exec start");
    expect_ok(&so.o, "exec start");
    ck_assert_int_eq(so.ready, 1);
    ck_assert_str_eq(wpd_buf_cstr(&so.out), "value with spaces:/tmp:1000\n");
    ck_assert_str_eq(wpd_buf_cstr(&so.err), "err-line\n");
    stream_free(&so);
    exec_inspect(id, &ei);
    expect_ok(&ei.o, "exec inspect (ended)");
    ck_assert(!ei.running && ei.has_exit_code);
    ck_assert_int_eq(ei.exit_code, 3);

    /* an exec runs once: Podman refuses; Docker answers 200 and says so on
     * stdout */
    memset(&so, 0, sizeof so);
    cbs = stream_cbs(&so);
    wpd_exec_start(E, id, false, &cbs);
    await(&so.o, "exec start again");
    if (podman()) {
        expect_engine_error(&so.o, 500, "exec start again");
    } else {
        expect_ok(&so.o, "exec start again");
        ck_assert_contains(wpd_buf_cstr(&so.out), "has already run");
    }
    stream_free(&so);
    free(id);

    /* with a TTY: one raw stream */
    const char *tcmd[] = {"sh", "-c", "echo tty-out; echo tty-err >&2"};
    wpd_exec_spec tspec = {
        .cmd = tcmd, .n_cmd = 3, .attach_stdout = true, .attach_stderr = true, .tty = true};
    id = exec_create(name, &tspec);
    memset(&so, 0, sizeof so);
    cbs = stream_cbs(&so);
    wpd_exec_start(E, id, true, &cbs);
    await(&so.o, "exec start (tty)");
    expect_ok(&so.o, "exec start (tty)");
    ck_assert_contains(wpd_buf_cstr(&so.out), "tty-out\r\n");
    ck_assert_contains(wpd_buf_cstr(&so.out), "tty-err\r\n");
    ck_assert_str_eq(wpd_buf_cstr(&so.err), "");
    stream_free(&so);
    exec_inspect(id, &ei);
    expect_ok(&ei.o, "exec inspect (tty)");
    ck_assert(ei.tty);
    ck_assert_int_eq(ei.exit_code, 0);
    free(id);

    /* what fails */
    out o = {0};
    wpd_exec_spec empty = {0};
    wpd_exec_create(E, name, &empty, on_str, &o);
    await(&o, "exec create (no command)");
    ck_assert_msg(o.failed && o.err.kind == WPD_ERR_INPUT, "%s", o.err.message);
    out_free(&o);
    char *missing = nm("exec_missing");
    wpd_exec_create(E, missing, &spec, on_str, &o);
    await(&o, "exec create (missing container)");
    expect_engine_error(&o, 404, "exec create (missing container)");
    out_free(&o);
    exec_inspect("0123456789abcdef0123456789abcdef", &ei);
    expect_engine_error(&ei.o, 404, "exec inspect (missing)");
    wpd_ctr_kill(E, name, NULL, on_change, &o);
    await(&o, "kill");
    expect_change(&o, WPD_CHANGE_DONE, "kill");
    out_free(&o);
    wait_ctr(name, WPD_WAIT_NOT_RUNNING);
    wpd_exec_create(E, name, &spec, on_str, &o);
    await(&o, "exec create (stopped container)");
    ck_assert_msg(o.failed, "an exec in a stopped container");
    ck_assert_msg(wpd_dialect_exec_not_running(&o.err), "not recognised: %d %s", o.err.status,
                  o.err.message);
    out_free(&o);

    remove_ctr(name, WPD_CHANGE_DONE);
    free(missing);
    free(ctr_id);
    free(body);
    free(name);
}
END_TEST

/* ---- archive -------------------------------------------------------------- */

typedef struct stat_out {
    out o;
    int calls_before_data; /* stat callbacks before the first data */
    int stats;
    size_t data_at_stat;
    char name[128], link[256];
    int64_t size;
    unsigned perm;
    bool is_dir, is_symlink;
    wpd_buf tar;
    bool abort_data;
} stat_out;

static void copy_stat(stat_out *r, const wpd_path_stat *st)
{
    snprintf(r->name, sizeof r->name, "%s", st->name);
    snprintf(r->link, sizeof r->link, "%s", st->link_target);
    r->size = st->size;
    r->perm = st->perm;
    r->is_dir = st->is_dir;
    r->is_symlink = st->is_symlink;
}

static void on_stat(void *arg, const wpd_path_stat *st, const wpd_error *err)
{
    stat_out *r = arg;
    got(&r->o, err);
    if (st)
        copy_stat(r, st);
}

static void on_get_stat(void *arg, const wpd_path_stat *st)
{
    stat_out *r = arg;
    r->stats++;
    r->data_at_stat = r->tar.len;
    copy_stat(r, st);
}

static int on_get_data(void *arg, const char *data, size_t len)
{
    stat_out *r = arg;
    wpd_buf_append(&r->tar, data, len);
    return r->abort_data ? 1 : 0;
}

static void on_get_done(void *arg, const wpd_error *err)
{
    got(&((stat_out *)arg)->o, err);
}

static void archive_get(const char *ctr, const char *path, stat_out *r, bool abort)
{
    memset(r, 0, sizeof *r);
    r->abort_data = abort;
    wpd_archive_get_cbs cbs = {
        .stat = on_get_stat, .data = on_get_data, .done = on_get_done, .arg = r};
    wpd_archive_get(E, ctr, path, &cbs);
    await(&r->o, "archive get");
}

static void archive_put(const char *ctr, const char *dir, const void *tar, size_t len, out *o)
{
    memset(o, 0, sizeof *o);
    wpd_archive_put(E, ctr, dir, tar, len, on_done, o);
    await(o, "archive put");
}

START_TEST(archive)
{
    char *name = nm("arch");
    char *body = ctr_body(NULL, "while true; do sleep 0.1; done", 0, "archive");
    free(create_ctr(name, body));
    /* every byte value, and enough to arrive in several pieces */
    size_t len = 300000;
    unsigned char *data = wpd_xmalloc(len);
    for (size_t i = 0; i < len; i++)
        data[i] = (unsigned char)((i * 131 + (i >> 9)) & 0xff);
    wpd_buf tar = WPD_BUF_INIT;
    wpd_tar_file f = {.name = "apitest.bin",
                      .mode = 0640,
                      .mtime = (int64_t)time(NULL),
                      .data = data,
                      .len = len};
    wpd_error err = {0};
    ck_assert_int_eq(wpd_tar_one_file(&f, &tar, &err), 0);

    /* into a created container, then a running one */
    out o;
    archive_put(name, "/tmp", tar.data, tar.len, &o);
    expect_ok(&o, "archive put (created)");
    start_ctr(name);
    wpd_buf small = WPD_BUF_INIT;
    wpd_tar_file g = {.name = "sub/small.txt", .mode = 0600, .data = "small\n", .len = 6};
    ck_assert_int_eq(wpd_tar_one_file(&g, &small, &err), 0);
    archive_put(name, "/tmp", small.data, small.len, &o);
    expect_ok(&o, "archive put (running)");

    stat_out st;
    memset(&st, 0, sizeof st);
    wpd_archive_stat(E, name, "/tmp/apitest.bin", on_stat, &st);
    await(&st.o, "archive stat");
    expect_ok(&st.o, "archive stat");
    ck_assert_str_eq(st.name, "apitest.bin");
    ck_assert_int_eq(st.size, (int64_t)len);
    ck_assert_uint_eq(st.perm, 0640);
    ck_assert(!st.is_dir && !st.is_symlink);

    /* get it back: the stat first, then the tar, byte for byte */
    archive_get(name, "/tmp/apitest.bin", &st, false);
    expect_ok(&st.o, "archive get");
    ck_assert_int_eq(st.stats, 1);
    ck_assert_uint_eq(st.data_at_stat, 0);
    ck_assert_str_eq(st.name, "apitest.bin");
    ck_assert_int_eq(st.size, (int64_t)len);
    wpd_arena *a = wpd_arena_new();
    size_t off = 0;
    wpd_tar_entry e;
    ck_assert_msg(wpd_tar_next(st.tar.data, st.tar.len, &off, a, &e, &err) == 1, "%s", err.message);
    ck_assert_str_eq(e.name, "apitest.bin");
    ck_assert_int_eq(e.type, '0');
    ck_assert_uint_eq(e.mode, 0640);
    ck_assert_int_eq(e.size, (int64_t)len);
    ck_assert_msg(memcmp(e.data, data, len) == 0, "the copy differs from the original");
    ck_assert_int_eq(wpd_tar_next(st.tar.data, st.tar.len, &off, a, &e, &err), 0);
    wpd_buf_free(&st.tar);
    /* the directory made on the way */
    archive_get(name, "/tmp/sub", &st, false);
    expect_ok(&st.o, "archive get (directory)");
    ck_assert(st.is_dir);
    ck_assert_str_eq(st.name, "sub");
    bool found = false;
    off = 0;
    while (!found && wpd_tar_next(st.tar.data, st.tar.len, &off, a, &e, &err) == 1)
        found = strcmp(e.name, "sub/small.txt") == 0 && e.size == 6 &&
                memcmp(e.data, "small\n", 6) == 0 && e.mode == 0600;
    ck_assert_msg(found, "sub/small.txt is not in the directory's archive");
    wpd_buf_free(&st.tar);
    /* a symlink's stat */
    memset(&st, 0, sizeof st);
    wpd_archive_stat(E, name, "/bin/sh", on_stat, &st);
    await(&st.o, "archive stat (symlink)");
    expect_ok(&st.o, "archive stat (symlink)");
    ck_assert(st.is_symlink);
    ck_assert_contains(st.link, "busybox");
    /* the data callback aborts: canceled */
    archive_get(name, "/tmp/apitest.bin", &st, true);
    ck_assert_msg(st.o.failed && st.o.err.kind == WPD_ERR_CANCELED, "%s", st.o.err.message);
    ck_assert_int_eq(st.stats, 1);
    wpd_buf_free(&st.tar);

    /* what fails */
    archive_get(name, "/nonexistent/file", &st, false);
    expect_engine_error(&st.o, 404, "archive get (missing path)");
    ck_assert_int_eq(st.stats, 0);
    ck_assert_uint_eq(st.tar.len, 0);
    wpd_buf_free(&st.tar);
    memset(&st, 0, sizeof st);
    wpd_archive_stat(E, name, "/nonexistent/file", on_stat, &st);
    await(&st.o, "archive stat (missing path)");
    expect_engine_error(&st.o, 404, "archive stat (missing path)");
    char *missing = nm("arch_missing");
    archive_put(missing, "/tmp", tar.data, tar.len, &o);
    expect_engine_error(&o, 404, "archive put (missing container)");
    archive_get(missing, "/tmp", &st, false);
    expect_engine_error(&st.o, 404, "archive get (missing container)");
    wpd_buf_free(&st.tar);
    archive_put(name, "/tmp", "not a tar archive at all", 24, &o);
    ck_assert_msg(o.failed && o.err.kind == WPD_ERR_ENGINE && o.err.status >= 400,
                  "a garbage archive: %s", o.err.message);
    archive_put(name, "/tmp", "", 0, &o);
    ck_assert_msg(o.failed && o.err.kind == WPD_ERR_INPUT, "an empty archive: %s", o.err.message);

    wpd_arena_free(a);
    remove_ctr(name, WPD_CHANGE_DONE);
    free(missing);
    wpd_buf_free(&small);
    wpd_buf_free(&tar);
    free(data);
    free(body);
    free(name);
}
END_TEST

/* ---- events --------------------------------------------------------------- */

typedef struct ev_out {
    out o;
    bool ready;
    wpd_buf actions; /* "create,start,die,destroy," */
    char exit_code[16];
    char name[160]; /* attribute "name" of the first event */
    char actor[80];
    bool bad_time;
    const char *stop_at; /* cancel the watch on this action */
    wpd_call *call;
    int after_stop; /* events delivered after the cancel */
    bool stopped;
} ev_out;

static void on_ev_ready(void *arg)
{
    ((ev_out *)arg)->ready = true;
}

static void on_event(void *arg, const wpd_engine_event *ev)
{
    ev_out *r = arg;
    if (r->stopped) {
        r->after_stop++;
        return;
    }
    wpd_buf_printf(&r->actions, "%s,", ev->action);
    if (strcmp(ev->action, "die") == 0) {
        const char *c = wpd_engine_event_attr(ev, "exitCode");
        snprintf(r->exit_code, sizeof r->exit_code, "%s", c ? c : "?");
    }
    if (!r->name[0]) {
        const char *n = wpd_engine_event_attr(ev, "name");
        snprintf(r->name, sizeof r->name, "%s", n ? n : "");
        snprintf(r->actor, sizeof r->actor, "%s", ev->actor_id);
    }
    long long now = tu_now_ms() / 1000;
    if (ev->time < now - 600 || ev->time > now + 600 || ev->time_nano / 1000000000 != ev->time)
        r->bad_time = true;
    if (r->stop_at && strcmp(ev->action, r->stop_at) == 0 && r->call) {
        r->stopped = true;
        wpd_call_cancel(r->call);
    }
}

static void on_ev_done(void *arg, const wpd_error *err)
{
    got(&((ev_out *)arg)->o, err);
}

static wpd_call *watch(ev_out *r, const wpd_pair *f, size_t n, int64_t since, int64_t until)
{
    wpd_events_cbs cbs = {.ready = on_ev_ready, .event = on_event, .done = on_ev_done, .arg = r};
    r->call = wpd_events_watch(E, f, n, since, until, &cbs);
    return r->call;
}

/* Whether the actions in list appear in this order in got (others may be
 * between them: Podman adds init and cleanup). */
static bool in_order(const char *got_list, const char *const *want, size_t n)
{
    const char *p = got_list;
    for (size_t i = 0; i < n; i++) {
        char *needle = wpd_xasprintf("%s,", want[i]);
        const char *hit = p;
        /* a whole item: at the start or after a comma */
        while ((hit = strstr(hit, needle)) && hit != got_list && hit[-1] != ',')
            hit++;
        free(needle);
        if (!hit)
            return false;
        p = hit + strlen(want[i]) + 1;
    }
    return true;
}

START_TEST(events)
{
    char *name = nm("events");
    char *label = wpd_xasprintf("wp_apitest_kind=events-%s", RUN);
    wpd_pair f[] = {{"type", "container"}, {"label", label}};
    /* since: a second back, in case the engine subscribes just after it
     * answered; the label is this test's alone */
    int64_t since = (int64_t)time(NULL) - 1;
    ev_out all = {.stop_at = "destroy"};
    watch(&all, f, 2, since, 0);
    /* the same with an event filter: Podman knows die and destroy by
     * other names (died, remove) */
    wpd_pair fe[] = {
        {"type", "container"}, {"label", label}, {"event", "die"}, {"event", "destroy"}};
    ev_out some = {.stop_at = "destroy"};
    watch(&some, fe, 4, since, 0);
    ck_assert_msg(run_until(&all.ready, CALL_MS) && run_until(&some.ready, CALL_MS),
                  "the event streams did not start");

    char *kind = wpd_xasprintf("events-%s", RUN);
    char *body = ctr_body(NULL, "exit 4", 0, kind);
    char *id = create_ctr(name, body);
    start_ctr(name);
    ck_assert_int_eq(wait_ctr(name, WPD_WAIT_NOT_RUNNING), 4);
    remove_ctr(name, WPD_CHANGE_DONE);

    await(&all.o, "events (all)");
    ck_assert_msg(all.o.failed && all.o.err.kind == WPD_ERR_CANCELED, "the watch ended with %s",
                  all.o.failed ? all.o.err.message : "success");
    const char *want[] = {"create", "start", "die", "destroy"};
    ck_assert_msg(in_order(wpd_buf_cstr(&all.actions), want, 4), "actions: %s",
                  wpd_buf_cstr(&all.actions));
    ck_assert_str_eq(all.exit_code, "4");
    ck_assert_str_eq(all.name, name);
    ck_assert_str_eq(all.actor, id);
    ck_assert(!all.bad_time);
    ck_assert_int_eq(all.after_stop, 0);
    await(&some.o, "events (die, destroy)");
    ck_assert_msg(some.o.failed && some.o.err.kind == WPD_ERR_CANCELED, "%s", some.o.err.message);
    ck_assert_str_eq(wpd_buf_cstr(&some.actions), "die,destroy,");
    ck_assert_str_eq(some.exit_code, "4");
    settle(100);
    ck_assert_int_eq(all.o.calls, 1);
    ck_assert_int_eq(some.o.calls, 1);

    /* until: the engine ends the stream itself, a success (with since:
     * without it Docker replays the events it keeps); nothing matches */
    int64_t t0 = tu_now_ms();
    ev_out until = {0};
    char *nothing = wpd_xasprintf("wp_apitest_kind=nothing-%s", RUN);
    wpd_pair fn[] = {{"type", "container"}, {"label", nothing}};
    watch(&until, fn, 2, (int64_t)time(NULL), (int64_t)time(NULL) + 2);
    await(&until.o, "events until");
    expect_ok(&until.o, "events until");
    ck_assert_msg(tu_now_ms() - t0 >= 900, "ended after %lld ms", tu_now_ms() - t0);
    ck_assert_str_eq(wpd_buf_cstr(&until.actions), "");

    free(nothing);
    wpd_buf_free(&until.actions);
    wpd_buf_free(&some.actions);
    wpd_buf_free(&all.actions);
    free(id);
    free(body);
    free(kind);
    free(label);
    free(name);
}
END_TEST

/* ---- cancellation --------------------------------------------------------- */

static void cancel_cb(void *arg)
{
    wpd_call_cancel(arg);
}

static void expect_canceled_once(out *o, const char *what)
{
    await(o, what);
    ck_assert_msg(o->failed && o->err.kind == WPD_ERR_CANCELED, "%s: %s", what,
                  o->failed ? o->err.message : "succeeded");
    settle(100);
    ck_assert_msg(o->calls == 1, "%s: callback ran %d times", what, o->calls);
}

START_TEST(cancel)
{
    char *name = nm("cancel");
    char *body = ctr_body(NULL, "while true; do sleep 0.1; done", 0, "cancel");
    free(create_ctr(name, body));
    start_ctr(name);

    /* a wait that would last as long as the container: canceled later */
    out w = {0};
    wpd_call *c = wpd_ctr_wait(E, name, WPD_WAIT_NOT_RUNNING, on_waited, &w);
    wpd_timer *t = wpd_timer_new(R, cancel_cb, c);
    wpd_timer_start(t, 300);
    expect_canceled_once(&w, "canceled wait");
    wpd_timer_free(t);
    out_free(&w);

    /* right away, and twice: still once */
    c = wpd_ctr_wait(E, name, WPD_WAIT_NEXT_EXIT, on_waited, &w);
    wpd_call_cancel(c);
    wpd_call_cancel(c);
    expect_canceled_once(&w, "wait canceled at once");
    out_free(&w);

    /* an event stream, from a timer */
    ev_out ev = {0};
    wpd_pair f[] = {{"type", "container"}, {"label", "wp_apitest_kind=nothing-ever"}};
    c = watch(&ev, f, 2, 0, 0);
    ck_assert(run_until(&ev.ready, CALL_MS));
    t = wpd_timer_new(R, cancel_cb, c);
    wpd_timer_start(t, 200);
    expect_canceled_once(&ev.o, "canceled event stream");
    wpd_timer_free(t);
    wpd_buf_free(&ev.actions);

    /* a followed log of a container that prints nothing (Podman sends no
     * headers before the first byte: the stream may not be ready yet) */
    stream_out so = {0};
    wpd_output_cbs cbs = stream_cbs(&so);
    wpd_logs_opts fo = {.follow = true};
    c = wpd_ctr_logs(E, name, &fo, &cbs);
    settle(300);
    ck_assert_msg(!so.o.done, "a followed log ended: %s", so.o.err.message);
    wpd_call_cancel(c);
    expect_canceled_once(&so.o, "canceled followed logs");
    stream_free(&so);

    /* a call that fails before sending (an exec without a command) */
    out e = {0};
    wpd_exec_spec empty = {0};
    c = wpd_exec_create(E, name, &empty, on_str, &e);
    wpd_call_cancel(c);
    expect_canceled_once(&e, "canceled early failure");
    out_free(&e);
    /* and NULL is ignored */
    wpd_call_cancel(NULL);

    /* a cancel after the completion changes nothing */
    out s = {0};
    c = wpd_ctr_start(E, name, on_change, &s);
    await(&s, "start (running)");
    expect_change(&s, WPD_CHANGE_ALREADY, "start (running)");
    settle(50);
    ck_assert_int_eq(s.calls, 1);

    remove_ctr(name, WPD_CHANGE_DONE);
    free(body);
    free(name);
}
END_TEST

int main(void)
{
    snprintf(RUN, sizeof RUN, "wp_apitest_%ld", (long)getpid());
    Suite *s = suite_create("api_calls");
    struct {
        const char *name;
        const TTest *tests[4];
    } cases[] = {
        {"resources", {volumes, networks, images, NULL}},
        {"containers", {create_errors, lifecycle, tty_attach, NULL}},
        {"exec", {exec, NULL}},
        {"archive", {archive, NULL}},
        {"events", {events, cancel, NULL}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
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
