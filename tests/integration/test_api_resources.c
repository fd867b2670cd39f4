/* test_api_resources.c - the volume, network and image calls of the typed
 * Engine API layer against the real engine under test (see api_fixtures.h;
 * scripts/test runs it on Docker, Podman and Docker over TLS): create,
 * list with label filters and remove (twice) of a volume and a network, a
 * container joining the network under aliases, image inspect, and pulls
 * from the test registry with refused and with good credentials. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/images.h"
#include "engine/networks.h"
#include "engine/volumes.h"
#include "testutil.h"
#include "api_fixtures.h"
#include "api_ctr_fixtures.h"

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
        fprintf(stderr, "test_api_resources: no registry for %s; pulling the offline image only\n",
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

int main(void)
{
    const api_case cases[] = {
        {"resources", {volumes, networks, images, NULL}},
    };
    return api_run("api_resources", cases, sizeof cases / sizeof *cases);
}
