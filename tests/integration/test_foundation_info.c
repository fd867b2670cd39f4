/* test_foundation_info.c - `wpdock info` against a real engine: text and
 * JSON, the -H option and a pinned API version, Podman, and unreachable
 * and malformed endpoints. Docker at $WPDOCK_DOCKER_HOST (default
 * unix:///var/run/docker.sock) must answer, or the tests fail; the Podman
 * service at $WPDOCK_PODMAN_HOST is tested too when that is set. */
#define _GNU_SOURCE
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/json.h"
#include "testutil.h"
#include "foundation_fixtures.h"

/* ---- running the CLI ---- */

/* Environment for one CLI run: the engine to use and nothing else. */
static void cli_env(const char *host)
{
    unsetenv("WOODPECKER_BACKEND_DOCKER_HOST");
    unsetenv("WOODPECKER_BACKEND_DOCKER_API_VERSION");
    unsetenv("DOCKER_API_VERSION");
    unsetenv("WPDOCK_PLUGIN_PATH");
    if (host)
        setenv("DOCKER_HOST", host, 1);
    else
        unsetenv("DOCKER_HOST");
}

/* Run `wpdock ARGS`; returns the exit status, *out = stdout, *err = stderr. */
static int run_cli(const char *args, char **out, char **err)
{
    char errfile[] = "/tmp/wpdock-foundation-err-XXXXXX";
    int fd = mkstemp(errfile);
    ck_assert_int_ge(fd, 0);
    close(fd);
    char *cmd = wpd_xasprintf("'%s' %s 2>'%s'", WPDOCK_CLI, args, errfile);
    int rc = tu_run(cmd, 0, out);
    free(cmd);
    char *e = tu_read_file(errfile, NULL);
    unlink(errfile);
    ck_assert_ptr_nonnull(e);
    /* a sanitizer report is always a failure */
    ck_assert_msg(!strstr(e, "Sanitizer"), "wpdock %s: %s", args, e);
    if (err)
        *err = e;
    else
        free(e);
    return rc;
}

static void check_info_text(const char *host, const char *kind)
{
    struct engine_facts f;
    engine_facts(host, &f);
    char tdir[4096], plugin_file[4200], platform[128], line[4400];
    transports_dir(tdir, sizeof tdir);
    snprintf(plugin_file, sizeof plugin_file, "%s/wpdock-unix.so", tdir);
    local_platform(platform, sizeof platform);

    cli_env(host);
    char *out, *err;
    int rc = run_cli("info", &out, &err);
    ck_assert_msg(rc == 0, "wpdock info exited %d: %s", rc, err);
    snprintf(line, sizeof line, "endpoint:     %s\n", host);
    ck_assert_contains(out, line);
    ck_assert_contains(out, "unix");
    snprintf(line, sizeof line, "transport:    unix 1.0.0 (%s)\n", plugin_file);
    ck_assert_contains(out, line);
    snprintf(line, sizeof line, "engine:       %s %s", kind, f.version);
    ck_assert_contains(out, line);
    snprintf(line, sizeof line, "api version:  %s (negotiated: engine up to %s, wpdock up to %s)",
             expected_api(&f), f.api, WPD_API_VERSION_MAX);
    ck_assert_contains(out, line);
    snprintf(line, sizeof line, "platform:     %s\n", platform);
    ck_assert_contains(out, line);
    if (f.libpod[0]) {
        snprintf(line, sizeof line, "(libpod API %s)", f.libpod);
        ck_assert_contains(out, line);
    } else {
        ck_assert_ptr_null(strstr(out, "libpod"));
    }
    ck_assert_str_eq(err, "");
    free(out);
    free(err);
}

static void check_info_json(const char *host, const char *kind)
{
    struct engine_facts f;
    engine_facts(host, &f);
    char tdir[4096], plugin_file[4200], platform[128];
    transports_dir(tdir, sizeof tdir);
    snprintf(plugin_file, sizeof plugin_file, "%s/wpdock-unix.so", tdir);
    local_platform(platform, sizeof platform);

    cli_env(host);
    char *out, *err;
    int rc = run_cli("info --format json", &out, &err);
    ck_assert_msg(rc == 0, "wpdock info exited %d: %s", rc, err);
    wpd_json j;
    wpd_error perr;
    ck_assert_msg(wpd_json_parse(&j, out, strlen(out), &perr) == 0, "%s: %s", perr.message, out);
    struct {
        const char *key, *want;
    } fields[] = {
        {"endpoint", host},
        {"transport", "unix"},
        {"transport_version", "1.0.0"},
        {"transport_file", plugin_file},
        {"engine", kind},
        {"engine_version", f.version},
        {"engine_api_version", f.api},
        {"api_version", expected_api(&f)},
        {"libpod_api_version", f.libpod},
        {"platform", platform},
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        char *v = wpd_json_get_str(&j, 0, fields[i].key);
        ck_assert_msg(v != NULL, "no \"%s\" in %s", fields[i].key, out);
        ck_assert_msg(strcmp(v, fields[i].want) == 0, "%s: \"%s\", want \"%s\"", fields[i].key, v,
                      fields[i].want);
        free(v);
    }
    bool pinned = true;
    ck_assert_int_eq(wpd_json_get_bool(&j, 0, "api_pinned", &pinned), 0);
    ck_assert(!pinned);
    wpd_json_free(&j);
    ck_assert_str_eq(err, "");
    free(out);
    free(err);
}

START_TEST(info_docker_text)
{
    check_info_text(docker_host(), "docker");
}
END_TEST

START_TEST(info_docker_json)
{
    check_info_json(docker_host(), "docker");
}
END_TEST

START_TEST(info_host_option_and_pinned_version)
{
    /* -H wins over DOCKER_HOST; DOCKER_API_VERSION pins the version */
    cli_env("unix:///tmp/not-this-one.sock");
    setenv("DOCKER_API_VERSION", "1.40", 1);
    char *args = wpd_xasprintf("info -H '%s'", docker_host());
    char *out, *err;
    int rc = run_cli(args, &out, &err);
    ck_assert_msg(rc == 0, "exit %d: %s", rc, err);
    ck_assert_contains(out, "api version:  1.40 (pinned");
    free(out);
    free(err);
    free(args);

    args = wpd_xasprintf("info --format json --host '%s'", docker_host());
    rc = run_cli(args, &out, &err);
    ck_assert_msg(rc == 0, "exit %d: %s", rc, err);
    ck_assert_contains(out, "\"api_version\":\"1.40\"");
    ck_assert_contains(out, "\"api_pinned\":true");
    free(out);
    free(err);
    free(args);
}
END_TEST

START_TEST(info_podman)
{
    const char *host = podman_host();
    if (!host)
        return; /* WPDOCK_PODMAN_HOST not set: this machine runs Docker only */
    check_info_text(host, "podman");
    check_info_json(host, "podman");
}
END_TEST

START_TEST(info_missing_socket)
{
    const char *path = "/tmp/definitely-missing.sock";
    ck_assert_msg(access(path, F_OK) != 0, "%s exists; remove it", path);
    cli_env("unix:///tmp/definitely-missing.sock");
    char *out, *err;
    int rc = run_cli("info", &out, &err);
    ck_assert_int_eq(rc, 3);
    ck_assert_contains(err, path);
    ck_assert_contains(err, "does not exist");
    ck_assert_str_eq(out, "");
    free(out);
    free(err);

    /* the same through -H, with JSON output requested */
    cli_env(NULL);
    rc = run_cli("info --format json -H unix:///tmp/definitely-missing.sock", &out, &err);
    ck_assert_int_eq(rc, 3);
    ck_assert_contains(err, path);
    ck_assert_str_eq(out, "");
    free(out);
    free(err);
}
END_TEST

START_TEST(info_refused_connection)
{
    /* a socket file nobody listens on */
    char dir[] = "/tmp/wpdock-refused-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    snprintf(sun.sun_path, sizeof sun.sun_path, "%s/dead.sock", dir);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof sun), 0);
    close(fd);
    char host[256];
    snprintf(host, sizeof host, "unix://%s", sun.sun_path);
    cli_env(host);
    char *out, *err;
    int rc = run_cli("info", &out, &err);
    ck_assert_int_eq(rc, 3);
    ck_assert_contains(err, host);
    ck_assert_contains(err, "is the engine running");
    free(out);
    free(err);
    unlink(sun.sun_path);
    rmdir(dir);
}
END_TEST

START_TEST(info_bad_endpoints)
{
    char *out, *err;
    cli_env("garbage");
    int rc = run_cli("info", &out, &err);
    ck_assert_int_eq(rc, 2);
    ck_assert_contains(err, "\"garbage\"");
    ck_assert_str_eq(out, "");
    free(out);
    free(err);

    /* a scheme no plugin serves */
    cli_env("ftp:///x");
    rc = run_cli("info", &out, &err);
    ck_assert_int_eq(rc, 2);
    ck_assert_contains(err, "no transport plugin serves \"ftp://\"; served: ");
    ck_assert_contains(err, "unix://");
    ck_assert_contains(err, "wpdock plugins");
    free(out);
    free(err);

    /* a scheme served by a plugin, with a URI that plugin refuses */
    cli_env("unix://");
    rc = run_cli("info", &out, &err);
    ck_assert_int_eq(rc, 2);
    ck_assert_contains(err, "must be absolute");
    free(out);
    free(err);

    cli_env(docker_host());
    rc = run_cli("info --format yaml", &out, &err);
    ck_assert_int_eq(rc, 2);
    ck_assert_contains(err, "yaml");
    free(out);
    free(err);

    rc = run_cli("info extra", &out, &err);
    ck_assert_int_eq(rc, 2);
    free(out);
    free(err);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("foundation_info");
    TCase *ti = tcase_create("info");
    tcase_set_timeout(ti, 300);
    tcase_add_test(ti, info_docker_text);
    tcase_add_test(ti, info_docker_json);
    tcase_add_test(ti, info_host_option_and_pinned_version);
    tcase_add_test(ti, info_podman);
    tcase_add_test(ti, info_missing_socket);
    tcase_add_test(ti, info_refused_connection);
    tcase_add_test(ti, info_bad_endpoints);
    suite_add_tcase(s, ti);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0;
}
