/* test_hostile_input.c - the table of hostile inputs: bad workflow files,
 * flags and environment values. Each must end `wpdock exec` with exit 2
 * and exactly one message line naming the file and JSON path (or the flag
 * or variable), within a time and memory bound, with no byte a terminal
 * would act on in its output, and without a single request to the engine
 * (a recording proxy sits in front of the engine's socket; a control run
 * through it proves that it records). Needs the Docker engine of
 * scripts/engines-up on a unix socket. */
#define _GNU_SOURCE
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hostile_fixtures.h"
#include "util/buf.h"
#include "testutil.h"

#define STEP(extra)                                                                                \
    "{\"pipeline\":[{\"steps\":[{\"name\":\"s\",\"image\":\"busybox\",\"on_success\":true" extra   \
    "}]}]}"

enum special {
    PLAIN,
    BIG_FILE,     /* a 40 MiB regular file */
    DEV_ZERO,     /* the file is /dev/zero */
    STDIN_ZERO,   /* "-" with /dev/zero on stdin */
    DEEP,         /* 100,000 nested arrays */
    MANY_VALUES,  /* 1.1 million values */
    ODD_NAME,     /* a file name with a newline and escape sequences */
    REPEAT_FLAGS, /* 40 --limit-mem flags, the last one bad */
};

typedef struct hcase {
    const char *file; /* the workflow (NULL: a valid one) */
    const char *args[4];
    const char *env[2];
    const char *want[3]; /* parts of the message, besides the file name */
    enum special special;
} hcase;

static const hcase cases[] = {
    /* NUL inside strings */
    {STEP(",\"environment\":{\"A\":\"x\\u0000y\"}"), {0}, {0}, {"environment.A", "NUL"}, PLAIN},
    {STEP(",\"commands\":[\"echo a\\u0000rm -rf /\"]"), {0}, {0}, {"commands[0]", "NUL"}, PLAIN},
    {STEP(",\"uuid\":\"abc\\u0000def\""), {0}, {0}, {"steps[0].uuid", "NUL"}, PLAIN},
    {STEP(",\"environment\":{\"K\\u0000EY\":\"v\"}"), {0}, {0}, {"environment", "NUL"}, PLAIN},
    {"{\"pipeline\":[{\"steps\":[{\"name\":\"s\",\"image\":\"bu\\u0000sybox\"}]}]}",
     {0},
     {0},
     {"steps[0].image", "NUL"},
     PLAIN},
    {STEP(",\"backend_options\":{\"docker\":{\"user\":\"root\\u0000x\"}}"),
     {0},
     {0},
     {"backend_options.docker.user", "NUL"},
     PLAIN},
    /* size, depth and count limits */
    {NULL, {0}, {0}, {"larger than 32 MiB"}, BIG_FILE},
    {NULL, {0}, {0}, {"/dev/zero", "larger than 32 MiB"}, DEV_ZERO},
    {NULL, {0}, {0}, {"-: larger than 32 MiB"}, STDIN_ZERO},
    {NULL, {0}, {0}, {"nested deeper than 128 levels"}, DEEP},
    {NULL, {0}, {0}, {"more than 1048576 values"}, MANY_VALUES},
    /* syntax */
    {"{\"pipeline\":[],}", {0}, {0}, {"line 1, column 15", "unexpected character ','"}, PLAIN},
    {"{\"pipeline\":\"a\tb\"}", {0}, {0}, {"control character 0x09"}, PLAIN},
    {"{\"pipeline\":\"\\x41\"}", {0}, {0}, {"invalid escape"}, PLAIN},
    {"[]", {0}, {0}, {"expected a JSON object at the top level"}, PLAIN},
    {"", {0}, {0}, {"empty document"}, PLAIN},
    /* terminal escape sequences in names and keys reach the message */
    {"{\"pipeline\":[{\"steps\":[{\"name\":\"x\\u001b[2J\\n=== w: success\",\"image\":\"i\"},"
     "{\"name\":\"x\\u001b[2J\\n=== w: success\",\"image\":\"i\"}]}]}",
     {0},
     {0},
     {"duplicate step name", "x\\x1b[2J\\n=== w: success"},
     PLAIN},
    {STEP(",\"environment\":{\"\\u001b]0;owned\\u0007\":1}"),
     {0},
     {0},
     {"environment.\\x1b]0;owned\\x07", "expected a string"},
     PLAIN},
    {NULL, {0}, {0}, {"bad\\n\\x1b[31mname\\u202e.json", "expected a list"}, ODD_NAME},
    {STEP(",\"uuid\":\"\\u009b2J\""), {0}, {0}, {"steps[0].uuid", "invalid byte 0xc2"}, PLAIN},
    /* names that would reach engine API paths */
    {"{\"network\":\"../volumes/x\",\"pipeline\":[]}",
     {0},
     {0},
     {"network", "../volumes/x"},
     PLAIN},
    {"{\"volume\":\"a/b\",\"pipeline\":[]}", {0}, {0}, {"volume", "invalid volume name"}, PLAIN},
    {STEP(",\"networks\":[{\"name\":\"n/../../containers/x\"}]"),
     {0},
     {0},
     {"networks[0].name", "invalid network name"},
     PLAIN},
    {STEP(",\"networks\":[{\"aliases\":[\"a\"]}]"), {0}, {0}, {"networks[0].name", "empty"}, PLAIN},
    {"{\"network\":"
     "\"nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"
     "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"
     "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"
     "nnnnnn\",\"pipeline\":[]}",
     {0},
     {0},
     {"network", "longer than 255 bytes"},
     PLAIN},
    {STEP(",\"uuid\":\"../x\""), {0}, {0}, {"steps[0].uuid", "invalid character '/'"}, PLAIN},
    /* keys this backend does not use, decoded as strictly as Go does */
    {STEP(",\"ports\":[{\"number\":-1}]"),
     {0},
     {0},
     {"ports[0].number", "-1 is not a port"},
     PLAIN},
    {STEP(",\"ports\":[{\"number\":65536}]"), {0}, {0}, {"ports[0].number", "65536"}, PLAIN},
    {STEP(",\"ports\":[{\"number\":99999999999999999999}]"),
     {0},
     {0},
     {"ports[0].number", "64 bits"},
     PLAIN},
    {STEP(",\"ports\":\"weird\""), {0}, {0}, {"ports", "expected a list"}, PLAIN},
    {STEP(",\"ports\":[{\"protocol\":5}]"), {0}, {0}, {"ports[0].protocol", "a string"}, PLAIN},
    {STEP(",\"secret_mapping\":5"), {0}, {0}, {"secret_mapping", "object of strings"}, PLAIN},
    {STEP(",\"secret_mapping\":{\"T\":1}"), {0}, {0}, {"secret_mapping.T", "a string"}, PLAIN},
    {STEP(",\"workflow_labels\":[1]"), {0}, {0}, {"workflow_labels", "object of strings"}, PLAIN},
    {STEP(",\"workflow_labels\":{\"l\":true}"), {0}, {0}, {"workflow_labels.l", "boolean"}, PLAIN},
    /* checks after decoding */
    {"{\"pipeline\":[{\"steps\":[{\"name\":\"a\",\"image\":\"i\"},{\"name\":\"a\",\"image\":\"i\"}"
     "]}]}",
     {0},
     {0},
     {"steps[1].name", "duplicate step name \"a\""},
     PLAIN},
    {"{\"pipeline\":[{\"steps\":[{\"name\":\"a\",\"image\":\"\"}]}]}",
     {0},
     {0},
     {"steps[0].image", "must not be empty"},
     PLAIN},
    {STEP(",\"dns\":[\"8.8.8.8\",\"localhost\"]"), {0}, {0}, {"dns[1]", "not an IP"}, PLAIN},
    {STEP(",\"org_id\":1.5"), {0}, {0}, {"org_id", "whole number"}, PLAIN},
    /* flags */
    {NULL, {"--limit-mem", "-1"}, {0}, {"--limit-mem", "negative"}, PLAIN},
    {NULL, {"--limit-mem", "1000"}, {0}, {"--limit-mem", "6 MiB"}, PLAIN},
    {NULL, {"--limit-mem-swap", "10000000"}, {0}, {"--limit-mem-swap", "needs --limit-mem"}, PLAIN},
    {NULL,
     {"--limit-mem", "20000000", "--limit-mem-swap", "10000000"},
     {0},
     {"--limit-mem-swap (10000000)", "less than --limit-mem"},
     PLAIN},
    {NULL, {"--limit-cpu-quota", "999"}, {0}, {"--limit-cpu-quota", "1000"}, PLAIN},
    {NULL, {"--limit-cpu-set", "3-1"}, {0}, {"--limit-cpu-set", "\"3-1\""}, PLAIN},
    {NULL, {"--limit-shm-size", "-1"}, {0}, {"--limit-shm-size", "negative"}, PLAIN},
    {NULL, {"--stop-timeout", "-1"}, {0}, {"--stop-timeout", "\"-1\""}, PLAIN},
    {NULL, {"--network", "../x"}, {0}, {"--network", "invalid network name"}, PLAIN},
    {NULL, {"--ipv6", "maybe"}, {0}, {"--ipv6", "boolean"}, PLAIN},
    {NULL, {"-H", ""}, {0}, {"-H/--host", "empty"}, PLAIN},
    {NULL, {"-H", "unix://"}, {0}, {"unix://", "absolute"}, PLAIN},
    {NULL, {"-H", "ftp:///x"}, {0}, {"ftp://", "served: "}, PLAIN},
    {NULL, {"-H", "vendor://host:99"}, {0}, {"vendor://", "served: "}, PLAIN},
    {NULL, {"-H", "tcp://h:99999"}, {0}, {"tcp://h:99999", "invalid port"}, PLAIN},
    {NULL, {"--log-format", "yaml"}, {0}, {"--log-format", "yaml"}, PLAIN},
    {NULL, {0}, {0}, {"--limit-mem", "-7"}, REPEAT_FLAGS},
    /* environment */
    {NULL, {0}, {"WOODPECKER_BACKEND_DOCKER_LIMIT_MEM=-1"}, {"_LIMIT_MEM", "negative"}, PLAIN},
    {NULL, {0}, {"WOODPECKER_LIMIT_CPU_QUOTA=abc"}, {"WOODPECKER_LIMIT_CPU_QUOTA", "abc"}, PLAIN},
    {NULL, {0}, {"WOODPECKER_BACKEND_DOCKER_LIMIT_CPU_SET=x"}, {"_LIMIT_CPU_SET", "\"x\""}, PLAIN},
    {NULL, {0}, {"WOODPECKER_BACKEND_DOCKER_NETWORK=a/b"}, {"_DOCKER_NETWORK", "a/b"}, PLAIN},
    {NULL, {0}, {"WOODPECKER_BACKEND_DOCKER_STOP_TIMEOUT=-3"}, {"_STOP_TIMEOUT", "-3"}, PLAIN},
    {NULL, {0}, {"WOODPECKER_BACKEND_DOCKER_ENABLE_IPV6=2"}, {"_ENABLE_IPV6", "boolean"}, PLAIN},
    {NULL, {0}, {"WPDOCK_CREDENTIAL_HELPER_TIMEOUT=abc"}, {"_HELPER_TIMEOUT", "abc"}, PLAIN},
    {NULL, {0}, {"WPDOCK_RECONCILE_LOGS=maybe"}, {"WPDOCK_RECONCILE_LOGS", "maybe"}, PLAIN},
    {NULL, {0}, {"WPDOCK_ENGINES=a=unix:///x,a=unix:///y"}, {"WPDOCK_ENGINES", "twice"}, PLAIN},
    {NULL, {0}, {"DOCKER_API_VERSION=abc"}, {"DOCKER_API_VERSION", "1.41"}, PLAIN},
    {NULL, {0}, {"WOODPECKER_BACKEND_DOCKER_HOST=unix://"}, {"unix://", "absolute"}, PLAIN},
    {NULL, {0}, {"WOODPECKER_BACKEND_DOCKER_HOST=h:1"}, {"\"h:1\"", "not an endpoint URI"}, PLAIN},
};
#define N_CASES (sizeof cases / sizeof cases[0])

static char *dir;
static proxy px;

static void setup(void)
{
    dir = tu_mkdtemp();
    const char *host = tu_engine_host();
    ck_assert_msg(strncmp(host, "unix://", 7) == 0,
                  "the engine under test must be on a unix socket");
    proxy_start(&px, dir, host + 7);
}

static void teardown(void)
{
    proxy_stop(&px);
    tu_rm_rf(dir);
    free(dir);
}

/* The environment of a run: the proxy as DOCKER_HOST, the sanitizer
 * options, the test image, plus `extra`. */
static void make_env(const char **env, char bufs[][512], const char *const *extra)
{
    size_t n = 0, b = 0;
    static const char *const keep[] = {"PATH", "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS",
                                       "WPDOCK_PLUGIN_PATH"};
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
        const char *v = getenv(keep[i]);
        if (v) {
            snprintf(bufs[b], 512, "%s=%s", keep[i], v);
            env[n++] = bufs[b++];
        }
    }
    snprintf(bufs[b], 512, "DOCKER_HOST=unix://%s", px.sock);
    env[n++] = bufs[b++];
    for (size_t i = 0; extra && i < 2 && extra[i]; i++)
        env[n++] = extra[i];
    env[n] = NULL;
}

/* The workflow file of case i: its path (malloc'd). */
static char *case_file(size_t i, const hcase *c)
{
    char *path = wpd_xasprintf("%s/case-%zu.json", dir, i);
    if (c->special == ODD_NAME) {
        free(path);
        path = wpd_xasprintf("%s/bad\n\033[31mname\xe2\x80\xae.json", dir);
        tu_write_file(path, "{\"pipeline\":{}}", 15);
    } else if (c->special == BIG_FILE) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ck_assert_int_eq(ftruncate(fd, 40 << 20), 0);
        close(fd);
    } else if (c->special == DEV_ZERO) {
        free(path);
        path = strdup("/dev/zero");
    } else if (c->special == STDIN_ZERO) {
        free(path);
        path = strdup("-");
    } else if (c->special == DEEP || c->special == MANY_VALUES) {
        FILE *f = fopen(path, "w");
        if (c->special == DEEP)
            for (int k = 0; k < 100000; k++)
                fputc('[', f);
        else {
            fputc('[', f);
            for (int k = 0; k < 1100000; k++)
                fputs(k ? ",0" : "0", f);
            fputc(']', f);
        }
        fclose(f);
    } else {
        const char *text = c->file ? c->file : STEP(",\"commands\":[\"true\"]");
        tu_write_file(path, text, strlen(text));
    }
    return path;
}

START_TEST(hostile_table)
{
    size_t failures = 0;
    for (size_t i = 0; i < N_CASES; i++) {
        const hcase *c = &cases[i];
        char *path = case_file(i, c);
        const char *argv[96];
        size_t n = 0;
        argv[n++] = WPDOCK_CLI;
        argv[n++] = "exec";
        for (size_t k = 0; k < 4 && c->args[k]; k++)
            argv[n++] = c->args[k];
        if (c->special == REPEAT_FLAGS) {
            for (int k = 0; k < 39; k++) {
                argv[n++] = "--limit-mem";
                argv[n++] = "7000000";
            }
            argv[n++] = "--limit-mem";
            argv[n++] = "-7";
        }
        argv[n++] = path;
        argv[n] = NULL;
        const char *env[16];
        char bufs[8][512];
        make_env(env, bufs, c->env);
        tu_write_file(px.log, "", 0); /* this case's requests only */
        hostile_run hr;
        hostile_exec(&hr, dir, argv, env, c->special == STDIN_ZERO ? "/dev/zero" : NULL, 20000);
        char *reqs = proxy_requests(&px);

        /* the checks, all reported at once for this case */
        char why[1024] = "";
        size_t wl = 0;
#define FAIL_IF(cond, ...)                                                                         \
    do {                                                                                           \
        if (cond)                                                                                  \
            wl += (size_t)snprintf(why + wl, wl < sizeof why ? sizeof why - wl : 0, __VA_ARGS__);  \
    } while (0)
        FAIL_IF(hr.status != 2, " exit status %d (want 2);", hr.status);
        FAIL_IF(strncmp(hr.err, "wpdock: ", 8) != 0, " message does not start with \"wpdock: \";");
        FAIL_IF(tu_count(hr.err, "\n") != 1, " %zu lines on stderr (want 1);",
                tu_count(hr.err, "\n"));
        FAIL_IF(*hr.out, " output on stdout;");
        FAIL_IF(first_control(hr.err) >= 0, " control byte at %ld of the message;",
                first_control(hr.err));
        const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
        FAIL_IF(c->special != ODD_NAME && !c->args[0] && !c->env[0] && c->special != REPEAT_FLAGS &&
                    !strstr(hr.err, base),
                " message does not name the file %s;", base);
        for (size_t k = 0; k < 3 && c->want[k]; k++)
            FAIL_IF(!strstr(hr.err, c->want[k]), " message lacks \"%s\";", c->want[k]);
        FAIL_IF(hr.ms > 10000, " took %lld ms;", hr.ms);
        /* a few MiB of its own, plus the sanitizers' shadow memory */
        FAIL_IF(hr.maxrss > 160 * 1024, " peak memory %ld KiB;", hr.maxrss);
        FAIL_IF(*reqs, " requests reached the engine: %s;", reqs);
#undef FAIL_IF
        if (wl) {
            failures++;
            fprintf(stderr, "case %zu (%s): %s\n  stderr: %s", i, base, why, hr.err);
        }
        hostile_run_free(&hr);
        free(reqs);
        if (c->special != DEV_ZERO && c->special != STDIN_ZERO)
            unlink(path);
        free(path);
    }
    ck_assert_msg(failures == 0, "%zu of %zu hostile inputs were not refused cleanly", failures,
                  N_CASES);
    ck_assert_uint_ge(N_CASES, 40);
}
END_TEST

/* The proxy records: a valid workflow through it makes requests. */
START_TEST(proxy_records_a_real_run)
{
    char *wf = wpd_xasprintf("{\"pipeline\":[{\"steps\":[{\"name\":\"ok\",\"image\":\"%s\","
                             "\"commands\":[\"echo fine\"],\"on_success\":true}]}]}",
                             tu_test_image());
    char *path = wpd_xasprintf("%s/ok.json", dir);
    tu_write_file(path, wf, strlen(wf));
    const char *argv[] = {WPDOCK_CLI, "exec", path, NULL};
    const char *env[16];
    char bufs[8][512];
    make_env(env, bufs, NULL);
    hostile_run hr;
    hostile_exec(&hr, dir, argv, env, NULL, 120000);
    char *reqs = proxy_requests(&px);
    ck_assert_msg(hr.status == 0, "exit %d: %s", hr.status, hr.err);
    ck_assert_msg(strstr(hr.out, "[ok] fine"), "%s", hr.out);
    ck_assert_msg(strstr(reqs, "GET /_ping") || strstr(reqs, "HEAD /_ping"), "%s", reqs);
    ck_assert_msg(strstr(reqs, "POST /"), "%s", reqs);
    ck_assert_msg(strstr(reqs, "DELETE /"), "%s", reqs);
    hostile_run_free(&hr);
    free(reqs);
    free(path);
    free(wf);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hostile_input");
    TCase *tc = tcase_create("table");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, proxy_records_a_real_run);
    tcase_add_test(tc, hostile_table);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0;
}
