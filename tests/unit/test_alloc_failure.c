/* test_alloc_failure.c - allocation-failure torture of the parsers of
 * foreign bytes (JSON, workflow files, the masking line splitter, the
 * Docker config file's credentials; the stdcopy demultiplexer allocates
 * nothing): each operation runs once to count its allocations, then
 * again for every N with the N-th allocation failing. Every such run must
 * end in a WPD_ERR_NOMEM error - never a crash - and give back everything
 * it allocated (LeakSanitizer checks that in the sanitizer build, which
 * is the one the test command runs). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/credentials.h"
#include "util/buf.h"
#include "util/json.h"
#include "woodpecker/config.h"
#include "woodpecker/lines.h"
#include "alloc_failure_fixtures.h"
#include "testutil.h"

/* ---- the operations ------------------------------------------------------ */

typedef struct doc {
    const char *text;
    size_t len;
} doc;

static int json_op(const void *arg, wpd_error *err)
{
    const doc *d = arg;
    wpd_json j;
    int rc = wpd_json_parse(&j, d->text, d->len, err);
    wpd_json_free(&j);
    return rc;
}

static int workflow_op(const void *arg, wpd_error *err)
{
    const doc *d = arg;
    wpd_workflow *wf = wpd_workflow_parse("w.json", d->text, d->len, err);
    if (!wf)
        return -1;
    wpd_workflow_free(wf);
    return 0;
}

static int load_op(const void *arg, wpd_error *err)
{
    wpd_workflow *wf = wpd_workflow_load(arg, err);
    if (!wf)
        return -1;
    wpd_workflow_free(wf);
    return 0;
}

static void count_line(void *arg, const char *line, size_t len)
{
    (void)line;
    *(size_t *)arg += len;
}

/* Secrets' masks, then a log fed in pieces through the masking splitter. */
static int lines_op(const void *arg, wpd_error *err)
{
    (void)arg;
    static const char *const secrets[] = {"hunter2-secret", "  multi\nline-value  ", "tok", "x9Yz"};
    wpd_masker *m = wpd_masker_new(secrets, 4);
    if (!m)
        return wpd_error_set(err, WPD_ERR_NOMEM, 0, "out of memory building masks");
    wpd_lines l;
    size_t seen = 0;
    wpd_lines_init(&l, 64, m, count_line, &seen);
    static const char log[] = "start hunter2-secret x9Yz\nline-value and a very long line that "
                              "is cut into pieces of sixty-four bytes each, with hunter2-sec"
                              "ret across a piece\nmulti\n";
    int rc = 0;
    for (size_t at = 0; at < sizeof log - 1 && rc == 0; at += 7) {
        size_t k = sizeof log - 1 - at < 7 ? sizeof log - 1 - at : 7;
        rc = wpd_lines_feed(&l, log + at, k);
    }
    if (rc == 0)
        rc = wpd_lines_finish(&l);
    wpd_lines_free(&l);
    wpd_masker_free(m);
    if (rc != 0)
        return wpd_error_set(err, WPD_ERR_NOMEM, 0, "out of memory masking the log");
    return seen > 0 ? 0 : wpd_error_set(err, WPD_ERR_INTERNAL, 0, "no lines");
}

typedef struct cred_case {
    const char *file;
    const char *host;
} cred_case;

/* The Docker config file's choice of credentials for a registry. */
static int cred_op(const void *arg, wpd_error *err)
{
    const cred_case *c = arg;
    size_t len;
    char *json = tu_read_file(c->file, &len);
    ck_assert_ptr_nonnull(json);
    wpd_cred_source src;
    int rc = wpd_cred_select(c->file, json, len, c->host, &src, err);
    free(json);
    if (rc == 0 && src.kind == WPD_CRED_NONE)
        rc = wpd_error_set(err, WPD_ERR_INTERNAL, 0, "nothing selected for %s", c->host);
    wpd_cred_source_free(&src);
    return rc;
}

static doc read_doc(const char *path)
{
    doc d;
    d.text = tu_read_file(path, &d.len);
    ck_assert_msg(d.text != NULL, "cannot read %s", path);
    return d;
}

/* ---- tests ------------------------------------------------------------------ */

START_TEST(json_documents)
{
    doc d = read_doc(TEST_DATA_DIR "/api/docker-inspect-running.json");
    torture("engine answer", json_op, &d, true);
    free((char *)d.text);
    /* deep enough to grow the reader's stack of open containers */
    char deep[200];
    memset(deep, '[', 50);
    memset(deep + 50, ']', 50);
    doc n = {deep, 100};
    torture("nested arrays", json_op, &n, true);
    doc bad = {"{\"a\":[1,2,}", 11};
    torture("invalid document", json_op, &bad, false);
}
END_TEST

START_TEST(workflow_documents)
{
    doc d = read_doc(TEST_DATA_DIR "/spec-example.json");
    torture("spec example", workflow_op, &d, true);
    free((char *)d.text);
    /* hand-written: generated network, volume, workspace mounts, warnings */
    static const char hand[] =
        "{\"pipeline\":[{\"steps\":[{\"name\":\"a\",\"image\":\"i\",\"commands\":[\"x\"],"
        "\"on_success\":true,\"environment\":{\"A\":\"1\",\"B\":\"\\u00e9\"},\"ports\":[{"
        "\"number\":80}],\"secret_mapping\":{\"S\":\"v\"}},{\"name\":\"never\",\"image\":\"i\"}]},"
        "{\"steps\":[{\"name\":\"b\",\"image\":\"i\",\"on_failure\":true,\"networks\":[{\"name\":"
        "\"n\",\"aliases\":[\"x\",\"y\"]}]}]}],\"secrets\":[{\"name\":\"s\",\"value\":\"v\"}]}";
    doc h = {hand, sizeof hand - 1};
    torture("hand-written workflow", workflow_op, &h, true);
    static const char dup[] = "{\"pipeline\":[{\"steps\":[{\"name\":\"a\",\"image\":\"i\"},"
                              "{\"name\":\"a\",\"image\":\"i\"}]}]}";
    doc e = {dup, sizeof dup - 1};
    torture("invalid workflow", workflow_op, &e, false);
}
END_TEST

START_TEST(workflow_file)
{
    torture("workflow file", load_op, TEST_DATA_DIR "/spec-example.json", true);
}
END_TEST

START_TEST(credentials_file)
{
    static const cred_case cases[] = {
        {TEST_DATA_DIR "/cred-auths/config.json", "registry.example.com"},
        {TEST_DATA_DIR "/cred-auths/config.json", "fields.example.com"},
        {TEST_DATA_DIR "/cred-auths/config.json", "token.example.com"},
        {TEST_DATA_DIR "/cred-auths/config.json", "docker.io"},
        {TEST_DATA_DIR "/cred-helpers/config.json", "helper.example.com"},
        {TEST_DATA_DIR "/cred-helpers/config.json", "other.example.com"},
        {TEST_DATA_DIR "/cred-store/config.json", "store.example.com"},
        {TEST_DATA_DIR "/cred-token/config.json", "docker.io"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        torture(cases[i].host, cred_op, &cases[i], true);
}
END_TEST

START_TEST(masked_lines)
{
    torture("masked log lines", lines_op, NULL, true);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("alloc_failure");
    TCase *tc = tcase_create("parsers");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, json_documents);
    tcase_add_test(tc, workflow_documents);
    tcase_add_test(tc, workflow_file);
    tcase_add_test(tc, masked_lines);
    tcase_add_test(tc, credentials_file);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0;
}
