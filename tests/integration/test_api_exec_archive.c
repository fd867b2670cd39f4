/* test_api_exec_archive.c - exec and archive calls of the typed Engine API
 * layer against the real engine under test (see api_fixtures.h; scripts/test
 * runs it on Docker, Podman and Docker over TLS): exec create, start (with
 * and without a TTY, and a second time) and inspect, the execs that fail,
 * archive put into a created and a running container, stat, get back byte
 * for byte, an aborted get, and the archive calls that fail. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/archive.h"
#include "engine/exec.h"
#include "testutil.h"
#include "api_fixtures.h"
#include "api_ctr_fixtures.h"

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

int main(void)
{
    const api_case cases[] = {
        {"exec", {exec, NULL}},
        {"archive", {archive, NULL}},
    };
    return api_run("api_exec_archive", cases, sizeof cases / sizeof *cases);
}
