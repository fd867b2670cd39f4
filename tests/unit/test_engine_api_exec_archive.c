/* test_engine_api_exec_archive.c - exec and archive in the Engine API
 * layer, without an engine: exec create/start bodies, the exec create and
 * inspect answers of Docker 20.10 and Podman 4.3 (tests/data/api/), the
 * exec on a stopped container, archive path stats (the X-Docker-Container-
 * Path-Stat header of both engines) and the tar builder and reader of
 * archive.h (engines' tars, GNU and pax long names, malformed tars). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/archive.h"
#include "engine/dialect.h"
#include "engine/exec.h"
#include "util/base64.h"
#include "engine_api_fixtures.h"

/* ---- exec ---------------------------------------------------------------- */

START_TEST(exec_bodies)
{
    wpd_buf b = WPD_BUF_INIT;
    const char *cmd[] = {"sh", "-c", "echo \"$A\"; exit 3"};
    const char *env[] = {"A=b c", "EMPTY="};
    wpd_exec_spec s = {.cmd = cmd,
                       .n_cmd = 3,
                       .env = env,
                       .n_env = 2,
                       .user = "1000:1000",
                       .working_dir = "/tmp",
                       .attach_stdout = true,
                       .attach_stderr = true};
    wpd_exec_create_body(&s, &b);
    ck_assert_str_eq(
        wpd_buf_cstr(&b),
        "{\"AttachStdin\":false,\"AttachStdout\":true,\"AttachStderr\":true,"
        "\"Tty\":false,\"Cmd\":[\"sh\",\"-c\",\"echo \\\"$A\\\"; exit 3\"],"
        "\"Env\":[\"A=b c\",\"EMPTY=\"],\"User\":\"1000:1000\",\"WorkingDir\":\"/tmp\"}");
    wpd_buf_reset(&b);
    /* the container's user and directory, a TTY, privileged */
    wpd_exec_spec t = {.cmd = cmd, .n_cmd = 1, .user = "", .tty = true, .privileged = true};
    wpd_exec_create_body(&t, &b);
    ck_assert_str_eq(wpd_buf_cstr(&b),
                     "{\"AttachStdin\":false,\"AttachStdout\":false,\"AttachStderr\":false,"
                     "\"Tty\":true,\"Cmd\":[\"sh\"],\"Privileged\":true}");
    wpd_buf_reset(&b);
    wpd_exec_start_body(false, &b);
    ck_assert_str_eq(wpd_buf_cstr(&b), "{\"Detach\":false,\"Tty\":false}");
    wpd_buf_reset(&b);
    wpd_exec_start_body(true, &b);
    ck_assert_str_eq(wpd_buf_cstr(&b), "{\"Detach\":false,\"Tty\":true}");
    wpd_buf_free(&b);
}
END_TEST

START_TEST(exec_create_answers)
{
    const char *files[] = {"docker-exec-create.json", "podman-exec-create.json"};
    const char *ids[] = {"cfe381b0f2b7fba593b42601b90c0578585202057ee6cb350aef19b08aefe904",
                         "11b3b5b92c9609c4a6c804022876c364aec9d97ab2e2777f08a8f97d5a605f5a"};
    wpd_arena *a = wpd_arena_new();
    for (int k = 0; k < 2; k++) {
        size_t len;
        char *body = data_file(files[k], &len);
        const char *id;
        wpd_error err = {0};
        ck_assert_msg(wpd_exec_create_parse(body, len, a, &id, &err) == 0, "%s", err.message);
        ck_assert_str_eq(id, ids[k]);
        free(body);
    }
    /* an exec has no other name: an answer without an id is an error */
    const char *bad[] = {"", "{}", "{\"Id\":\"\"}", "{\"Id\":3}", "[\"x\"]", "{\"Id\":\"x\""};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        const char *id;
        wpd_error err = {0};
        ck_assert_msg(wpd_exec_create_parse(bad[k], strlen(bad[k]), a, &id, &err) == -1, "took %s",
                      bad[k]);
        protocol_error(&err, bad[k]);
        ck_assert_str_eq(id, "");
    }
    wpd_arena_free(a);
}
END_TEST

static void exec_info(const char *file, wpd_arena *a, wpd_exec_info *info)
{
    size_t len;
    char *body = data_file(file, &len);
    wpd_error err = {0};
    ck_assert_msg(wpd_exec_info_parse(body, len, a, info, &err) == 0, "%s: %s", file, err.message);
    free(body);
}

START_TEST(exec_inspect_answers)
{
    wpd_arena *a = wpd_arena_new();
    wpd_exec_info i;
    /* Docker: no exit code before the end ("ExitCode":null), the pid kept */
    exec_info("docker-exec-created.json", a, &i);
    ck_assert_str_eq(i.id, "cfe381b0f2b7fba593b42601b90c0578585202057ee6cb350aef19b08aefe904");
    ck_assert_str_eq(i.container_id,
                     "81ce2941a69382a323e16eb038fcdd84e4993242b931b52818857189fc107a86");
    ck_assert(!i.running && !i.has_exit_code && !i.tty);
    ck_assert_int_eq(i.exit_code, 0);
    ck_assert_int_eq(i.pid, 0);
    exec_info("docker-exec-running.json", a, &i);
    ck_assert(i.running && !i.has_exit_code);
    ck_assert_int_eq(i.pid, 23729);
    exec_info("docker-exec-exited.json", a, &i);
    ck_assert(!i.running && i.has_exit_code);
    ck_assert_int_eq(i.exit_code, 3);
    ck_assert_int_eq(i.pid, 23729);
    /* Podman: 0 before the end, the pid cleared after it */
    exec_info("podman-exec-created.json", a, &i);
    ck_assert_str_eq(i.id, "11b3b5b92c9609c4a6c804022876c364aec9d97ab2e2777f08a8f97d5a605f5a");
    ck_assert(!i.running && i.has_exit_code);
    ck_assert_int_eq(i.exit_code, 0);
    exec_info("podman-exec-running.json", a, &i);
    ck_assert(i.running);
    ck_assert_int_eq(i.pid, 24292);
    exec_info("podman-exec-exited.json", a, &i);
    ck_assert(!i.running && i.has_exit_code);
    ck_assert_int_eq(i.exit_code, 3);
    ck_assert_int_eq(i.pid, 0);
    /* a TTY exec */
    const char *tty = "{\"ID\":\"e\",\"Running\":false,\"ExitCode\":0,\"ProcessConfig\":{\"tty\":"
                      "true}}";
    wpd_error err = {0};
    ck_assert_int_eq(wpd_exec_info_parse(tty, strlen(tty), a, &i, &err), 0);
    ck_assert(i.tty && i.has_exit_code);
    const char *bad[] = {"", "[]", "{\"ID\"", "null"};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        ck_assert_int_eq(wpd_exec_info_parse(bad[k], strlen(bad[k]), a, &i, &err), -1);
        protocol_error(&err, bad[k]);
    }
    wpd_arena_free(a);
}
END_TEST

START_TEST(exec_not_running)
{
    const char *engines[] = {"docker", "podman"};
    const long statuses[] = {409, 500};
    for (int k = 0; k < 2; k++) {
        wpd_error err;
        ck_assert_int_eq(recorded_error(engines[k], "exec_exited", &err), statuses[k]);
        ck_assert_msg(wpd_dialect_exec_not_running(&err), "%s: %s", engines[k], err.message);
        /* a missing container is no stopped one */
        recorded_error(engines[k], "start_missing", &err);
        ck_assert(!wpd_dialect_exec_not_running(&err));
        /* nor is a kill refused by Podman, or a name conflict */
        recorded_error(engines[k], "create_duplicate", &err);
        ck_assert(!wpd_dialect_exec_not_running(&err));
    }
    wpd_error err;
    recorded_error("podman", "kill_exited", &err);
    ck_assert_msg(!wpd_dialect_exec_not_running(&err), "%s", err.message);
    ck_assert(!wpd_dialect_exec_not_running(NULL));
    wpd_error_set(&err, WPD_ERR_CONNECT, 0, "is not running");
    ck_assert(!wpd_dialect_exec_not_running(&err));
}
END_TEST

/* ---- archive stat --------------------------------------------------------- */

/* The recorded stat header of path on an engine. */
static char *recorded_stat(const char *engine, const char *path)
{
    char file[64];
    snprintf(file, sizeof file, "%s-archive-stat.txt", engine);
    char *all = data_file(file, NULL);
    char *found = NULL;
    size_t pl = strlen(path);
    for (char *line = strtok(all, "\n"); line && !found; line = strtok(NULL, "\n"))
        if (strncmp(line, path, pl) == 0 && line[pl] == ' ')
            found = wpd_xstrdup(line + pl + 1);
    free(all);
    ck_assert_msg(found != NULL, "%s has no stat of %s", file, path);
    return found;
}

static void stat_of(const char *engine, const char *path, wpd_arena *a, wpd_path_stat *st)
{
    char *v = recorded_stat(engine, path);
    wpd_error err = {0};
    ck_assert_msg(wpd_path_stat_parse(v, strlen(v), a, st, &err) == 0, "%s %s: %s", engine, path,
                  err.message);
    free(v);
}

START_TEST(path_stats)
{
    wpd_arena *a = wpd_arena_new();
    wpd_path_stat st;
    stat_of("docker", "/etc/hostname", a, &st);
    ck_assert_str_eq(st.name, "hostname");
    ck_assert_int_eq(st.size, 13);
    ck_assert_uint_eq(st.mode, 0644);
    ck_assert_uint_eq(st.perm, 0644);
    ck_assert(!st.is_dir && !st.is_symlink);
    ck_assert_str_eq(st.mtime, "2026-12-02T00:49:53.891500322Z");
    ck_assert_str_eq(st.link_target, "");
    /* a directory: Go's ModeDir | ModeSticky | 0777 */
    stat_of("docker", "/tmp", a, &st);
    ck_assert_str_eq(st.name, "tmp");
    ck_assert_uint_eq(st.mode, 2148532735u);
    ck_assert_uint_eq(st.perm, 0777);
    ck_assert(st.is_dir && !st.is_symlink);
    stat_of("docker", "/bin/sh", a, &st);
    ck_assert_str_eq(st.name, "sh");
    ck_assert(st.is_symlink && !st.is_dir);
    ck_assert_str_eq(st.link_target, "/bin/busybox");
    /* Podman: "isDir", and linkTarget is the resolved path of every file */
    stat_of("podman", "/etc/hostname", a, &st);
    ck_assert_str_eq(st.name, "hostname");
    ck_assert_int_eq(st.size, 12);
    ck_assert(!st.is_dir && !st.is_symlink);
    ck_assert_str_eq(st.link_target, "/etc/hostname");
    stat_of("podman", "/tmp", a, &st);
    ck_assert(st.is_dir);
    ck_assert_str_eq(st.link_target, "/tmp");
    stat_of("podman", "/bin/sh", a, &st);
    ck_assert_str_eq(st.name, "busybox"); /* the link's target, unlike Docker */
    ck_assert(st.is_symlink);
    /* "isDir" alone makes a directory */
    const char *dir = "{\"name\":\"d\",\"mode\":493,\"isDir\":true}";
    char *v = wpd_base64_encode(dir, strlen(dir));
    wpd_error err = {0};
    ck_assert_int_eq(wpd_path_stat_parse(v, strlen(v), a, &st, &err), 0);
    ck_assert(st.is_dir);
    ck_assert_uint_eq(st.perm, 0755);
    free(v);
    /* surrounding blanks of a header value are ignored */
    char *raw = recorded_stat("docker", "/tmp");
    char *padded = wpd_xasprintf("  %s \t", raw);
    ck_assert_int_eq(wpd_path_stat_parse(padded, strlen(padded), a, &st, &err), 0);
    ck_assert(st.is_dir);
    free(padded);
    free(raw);
    wpd_arena_free(a);
}
END_TEST

START_TEST(path_stats_malformed)
{
    wpd_arena *a = wpd_arena_new();
    wpd_path_stat st;
    char *not_json = wpd_base64_encode("name=x", 6);
    char *array = wpd_base64_encode("[1]", 3);
    char *cut = wpd_base64_encode("{\"name\":\"x\"", 11);
    const char *bad[] = {"", "   ", "!!!!", "eyJuYW1lIjo", not_json, array, cut};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        wpd_error err = {0};
        ck_assert_msg(wpd_path_stat_parse(bad[k], strlen(bad[k]), a, &st, &err) == -1, "took %s",
                      bad[k]);
        protocol_error(&err, bad[k]);
        ck_assert_str_eq(st.name, "");
    }
    free(not_json);
    free(array);
    free(cut);
    wpd_arena_free(a);
}
END_TEST

/* ---- tar ------------------------------------------------------------------ */

static int next_ok(const char *tar, size_t len, size_t *off, wpd_arena *a, wpd_tar_entry *e)
{
    wpd_error err = {0};
    int rc = wpd_tar_next(tar, len, off, a, e, &err);
    ck_assert_msg(rc >= 0, "tar_next at %zu: %s", *off, err.message);
    return rc;
}

START_TEST(tar_build_exact)
{
    wpd_buf b = WPD_BUF_INIT;
    wpd_tar_file f = {.name = "hello.txt",
                      .mode = 0640,
                      .uid = 1000,
                      .gid = 100,
                      .mtime = 1700000000,
                      .data = "hello archive",
                      .len = 13};
    wpd_error err = {0};
    ck_assert_int_eq(wpd_tar_one_file(&f, &b, &err), 0);
    ck_assert_uint_eq(b.len, 512 + 512 + 1024);
    const unsigned char *h = (const unsigned char *)b.data;
    ck_assert_str_eq((const char *)h, "hello.txt");
    ck_assert_str_eq((const char *)h + 100, "0000640");
    ck_assert_str_eq((const char *)h + 108, "0001750");
    ck_assert_str_eq((const char *)h + 116, "0000144");
    ck_assert_str_eq((const char *)h + 124, "00000000015");
    ck_assert_str_eq((const char *)h + 136, "14524770400");
    ck_assert_int_eq(h[156], '0');
    ck_assert_str_eq((const char *)h + 257, "ustar");
    ck_assert_int_eq(h[263], '0');
    ck_assert_int_eq(h[264], '0');
    /* checksum: six octal digits, NUL, space; over the header with the
     * field read as spaces */
    unsigned sum = 0;
    for (int i = 0; i < 512; i++)
        sum += (i >= 148 && i < 156) ? ' ' : h[i];
    char want[8];
    snprintf(want, sizeof want, "%06o", sum);
    ck_assert_int_eq(memcmp(h + 148, want, 6), 0);
    ck_assert_int_eq(h[154], '\0');
    ck_assert_int_eq(h[155], ' ');
    ck_assert_int_eq(memcmp(b.data + 512, "hello archive", 13), 0);
    for (size_t i = 512 + 13; i < b.len; i++)
        ck_assert_int_eq(b.data[i], 0);
    /* and it reads back */
    wpd_arena *a = wpd_arena_new();
    size_t off = 0;
    wpd_tar_entry e;
    ck_assert_int_eq(next_ok(b.data, b.len, &off, a, &e), 1);
    ck_assert_str_eq(e.name, "hello.txt");
    ck_assert_int_eq(e.type, '0');
    ck_assert_uint_eq(e.mode, 0640);
    ck_assert_uint_eq(e.uid, 1000);
    ck_assert_uint_eq(e.gid, 100);
    ck_assert_int_eq(e.mtime, 1700000000);
    ck_assert_int_eq(e.size, 13);
    ck_assert_int_eq(memcmp(e.data, "hello archive", 13), 0);
    ck_assert_str_eq(e.link_name, "");
    ck_assert_uint_eq(off, 1024);
    ck_assert_int_eq(next_ok(b.data, b.len, &off, a, &e), 0);
    wpd_arena_free(a);
    wpd_buf_free(&b);
}
END_TEST

START_TEST(tar_build_sizes_and_names)
{
    wpd_arena *a = wpd_arena_new();
    wpd_error err = {0};
    /* empty contents, exactly one block, one byte over */
    const size_t sizes[] = {0, 512, 513, 100000};
    for (size_t k = 0; k < 4; k++) {
        char *data = wpd_xmalloc(sizes[k] + 1);
        for (size_t i = 0; i < sizes[k]; i++)
            data[i] = (char)(i * 7 + k);
        wpd_buf b = WPD_BUF_INIT;
        wpd_tar_file f = {.name = "d/f.bin", .mode = 0755, .data = data, .len = sizes[k]};
        ck_assert_int_eq(wpd_tar_one_file(&f, &b, &err), 0);
        ck_assert_uint_eq(b.len, 512 + (sizes[k] + 511) / 512 * 512 + 1024);
        size_t off = 0;
        wpd_tar_entry e;
        ck_assert_int_eq(next_ok(b.data, b.len, &off, a, &e), 1);
        ck_assert_str_eq(e.name, "d/f.bin");
        ck_assert_int_eq(e.size, (int64_t)sizes[k]);
        ck_assert_int_eq(memcmp(e.data, data, sizes[k]), 0);
        ck_assert_uint_eq(e.mode, 0755);
        ck_assert_int_eq(next_ok(b.data, b.len, &off, a, &e), 0);
        wpd_buf_free(&b);
        free(data);
    }
    /* a name over 100 bytes goes to the prefix field at a '/' */
    char name[256];
    memset(name, 'p', 120);
    name[120] = '/';
    memset(name + 121, 'n', 90);
    name[211] = '\0';
    wpd_buf b = WPD_BUF_INIT;
    wpd_tar_file f = {.name = name, .mode = 0644, .data = "x", .len = 1};
    ck_assert_int_eq(wpd_tar_one_file(&f, &b, &err), 0);
    ck_assert_uint_eq(strnlen(b.data, 100), 90);
    ck_assert_uint_eq(strnlen(b.data + 345, 155), 120);
    size_t off = 0;
    wpd_tar_entry e;
    ck_assert_int_eq(next_ok(b.data, b.len, &off, a, &e), 1);
    ck_assert_str_eq(e.name, name);
    wpd_buf_free(&b);
    /* names that do not fit, an empty name: refused, nothing written */
    char flat[160];
    memset(flat, 'z', 150);
    flat[150] = '\0';
    char deep[300];
    memset(deep, 'q', 299);
    deep[100] = '/';
    deep[299] = '\0';
    const char *refused[] = {"", flat, deep};
    for (size_t k = 0; k < 3; k++) {
        wpd_buf r = WPD_BUF_INIT;
        wpd_tar_file g = {.name = refused[k], .data = "x", .len = 1};
        ck_assert_int_eq(wpd_tar_one_file(&g, &r, &err), -1);
        ck_assert_int_eq(err.kind, WPD_ERR_INPUT);
        ck_assert_uint_eq(r.len, 0);
        wpd_buf_free(&r);
    }
    wpd_tar_file nul = {.name = NULL};
    ck_assert_int_eq(wpd_tar_one_file(&nul, &b, &err), -1);
    wpd_arena_free(a);
}
END_TEST

START_TEST(tar_read_engines)
{
    /* what Docker and Podman answered to GET archive?path=/tmp/hello.txt */
    const char *files[] = {"docker-archive-hello.tar", "podman-archive-hello.tar"};
    for (int k = 0; k < 2; k++) {
        size_t len;
        char *tar = data_file(files[k], &len);
        wpd_arena *a = wpd_arena_new();
        size_t off = 0;
        wpd_tar_entry e;
        ck_assert_int_eq(next_ok(tar, len, &off, a, &e), 1);
        ck_assert_str_eq(e.name, "hello.txt");
        ck_assert_int_eq(e.type, '0');
        ck_assert_uint_eq(e.mode, 0640);
        ck_assert_int_eq(e.size, 13);
        ck_assert_int_eq(memcmp(e.data, "hello archive", 13), 0);
        ck_assert_int_eq(next_ok(tar, len, &off, a, &e), 0);
        wpd_arena_free(a);
        free(tar);
    }
}
END_TEST

START_TEST(tar_read_long_names)
{
    const char *longname = "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd/"
                           "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee/"
                           "ffffffffffffffffffffffffffffff.txt";
    /* GNU tar --format=gnu: an 'L' entry, a symlink, a directory */
    size_t len;
    char *tar = data_file("gnu-long.tar", &len);
    wpd_arena *a = wpd_arena_new();
    size_t off = 0;
    wpd_tar_entry e;
    ck_assert_int_eq(next_ok(tar, len, &off, a, &e), 1);
    ck_assert_str_eq(e.name, longname);
    ck_assert_int_eq(e.size, 19);
    ck_assert_int_eq(memcmp(e.data, "long name contents\n", 19), 0);
    ck_assert_int_eq(e.mtime, 1700000000);
    ck_assert_int_eq(next_ok(tar, len, &off, a, &e), 1);
    ck_assert_str_eq(e.name, "link");
    ck_assert_int_eq(e.type, '2');
    ck_assert_str_eq(e.link_name, "target.txt");
    ck_assert_int_eq(next_ok(tar, len, &off, a, &e), 1);
    ck_assert_str_eq(e.name, "sub/");
    ck_assert_int_eq(e.type, '5');
    ck_assert_int_eq(next_ok(tar, len, &off, a, &e), 1);
    ck_assert_str_eq(e.name, "sub/x");
    ck_assert_int_eq(e.size, 1);
    ck_assert_int_eq(next_ok(tar, len, &off, a, &e), 0);
    free(tar);
    /* --format=pax: an 'x' header with path= */
    tar = data_file("pax-long.tar", &len);
    off = 0;
    ck_assert_int_eq(next_ok(tar, len, &off, a, &e), 1);
    ck_assert_str_eq(e.name, longname);
    ck_assert_int_eq(e.size, 19);
    ck_assert_int_eq(memcmp(e.data, "long name contents\n", 19), 0);
    ck_assert_int_eq(next_ok(tar, len, &off, a, &e), 0);
    free(tar);
    wpd_arena_free(a);
}
END_TEST

START_TEST(tar_read_malformed)
{
    wpd_buf b = WPD_BUF_INIT;
    wpd_tar_file f = {.name = "a", .mode = 0644, .data = "0123456789", .len = 10};
    wpd_error err = {0};
    ck_assert_int_eq(wpd_tar_one_file(&f, &b, &err), 0);
    wpd_arena *a = wpd_arena_new();
    wpd_tar_entry e;
    size_t off;
    /* nothing at all, or only the end blocks: the end */
    off = 0;
    ck_assert_int_eq(wpd_tar_next(b.data, 0, &off, a, &e, &err), 0);
    off = 0;
    ck_assert_int_eq(wpd_tar_next(b.data + 1024, 1024, &off, a, &e, &err), 0);
    /* a header cut short */
    off = 0;
    ck_assert_int_eq(wpd_tar_next(b.data, 300, &off, a, &e, &err), -1);
    protocol_error(&err, "short header");
    /* data cut short */
    off = 0;
    ck_assert_int_eq(wpd_tar_next(b.data, 515, &off, a, &e, &err), -1);
    protocol_error(&err, "short data");
    ck_assert_contains(err.message, "cut short");
    /* a flipped byte breaks the checksum */
    char *copy = wpd_xmalloc(b.len);
    memcpy(copy, b.data, b.len);
    copy[0] = 'b';
    off = 0;
    ck_assert_int_eq(wpd_tar_next(copy, b.len, &off, a, &e, &err), -1);
    protocol_error(&err, "checksum");
    ck_assert_contains(err.message, "checksum");
    /* a size field that is not octal (checksum fixed up) */
    memcpy(copy, b.data, b.len);
    memcpy(copy + 124, "0000000001x", 11);
    unsigned sum = 0;
    for (int i = 0; i < 512; i++)
        sum += (i >= 148 && i < 156) ? ' ' : (unsigned char)copy[i];
    snprintf(copy + 148, 8, "%06o", sum);
    off = 0;
    ck_assert_int_eq(wpd_tar_next(copy, b.len, &off, a, &e, &err), -1);
    protocol_error(&err, "bad size");
    /* not a tar at all */
    memset(copy, 'x', b.len);
    off = 0;
    ck_assert_int_eq(wpd_tar_next(copy, b.len, &off, a, &e, &err), -1);
    protocol_error(&err, "garbage");
    free(copy);
    wpd_arena_free(a);
    wpd_buf_free(&b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("engine_api_exec_archive");
    TCase *tc = tcase_create("exec");
    tcase_add_test(tc, exec_bodies);
    tcase_add_test(tc, exec_create_answers);
    tcase_add_test(tc, exec_inspect_answers);
    tcase_add_test(tc, exec_not_running);
    suite_add_tcase(s, tc);
    tc = tcase_create("archive");
    tcase_add_test(tc, path_stats);
    tcase_add_test(tc, path_stats_malformed);
    tcase_add_test(tc, tar_build_exact);
    tcase_add_test(tc, tar_build_sizes_and_names);
    tcase_add_test(tc, tar_read_engines);
    tcase_add_test(tc, tar_read_long_names);
    tcase_add_test(tc, tar_read_malformed);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0;
}
