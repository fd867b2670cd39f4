/* test_alloc_failure_engine.c - allocation-failure torture of the Engine
 * API answer parsers, run the way the engine layer runs them (under
 * wpd_parse_guarded, the JSON tokens and every string in the call's arena):
 * with each allocation failing in turn, every parse ends in WPD_ERR_NOMEM,
 * and LeakSanitizer (the sanitizer build) checks that nothing is lost. The
 * answers are the engines' own, recorded in tests/data/api. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "engine/archive.h"
#include "engine/containers.h"
#include "engine/events.h"
#include "engine/exec.h"
#include "engine/images.h"
#include "engine/networks.h"
#include "engine/parse.h"
#include "engine/volumes.h"
#include "util/buf.h"
#include "alloc_failure_fixtures.h"
#include "testutil.h"

typedef enum which {
    CTR_INFO,
    CTR_LIST,
    CTR_WAIT,
    NET_LIST,
    VOL_LIST,
    EXEC_INFO,
    IMAGE_INFO,
    EVENT,
    PULL_LINE,
    PATH_STAT
} which;

typedef struct answer {
    which kind;
    const char *text;
    size_t len;
} answer;

static int parse_one(void *arg, wpd_arena *a, wpd_error *err)
{
    const answer *an = arg;
    union {
        wpd_ctr_info info;
        wpd_ctr_waited waited;
        wpd_exec_info exec;
        wpd_image_info image;
        wpd_engine_event ev;
        wpd_pull_progress pull;
        wpd_path_stat stat;
    } u;
    wpd_ctr_summary *cs;
    wpd_net_summary *ns;
    wpd_vol_summary *vs;
    size_t n;
    char *pull_error = NULL;
    int rc = -1;
    switch (an->kind) {
    case CTR_INFO: rc = wpd_ctr_info_parse(an->text, an->len, a, &u.info, err); break;
    case CTR_LIST: rc = wpd_ctr_list_parse(an->text, an->len, a, &cs, &n, err); break;
    case CTR_WAIT: rc = wpd_ctr_wait_parse(an->text, an->len, a, &u.waited, err); break;
    case NET_LIST: rc = wpd_net_list_parse(an->text, an->len, a, &ns, &n, err); break;
    case VOL_LIST: rc = wpd_vol_list_parse(an->text, an->len, a, &vs, &n, err); break;
    case EXEC_INFO: rc = wpd_exec_info_parse(an->text, an->len, a, &u.exec, err); break;
    case IMAGE_INFO: rc = wpd_image_info_parse(an->text, an->len, a, &u.image, err); break;
    case EVENT: rc = wpd_engine_event_parse(an->text, an->len, a, &u.ev, err) > 0 ? 0 : -1; break;
    case PULL_LINE:
        rc = wpd_pull_line_parse(an->text, an->len, a, &u.pull, &pull_error) == 1 ? 0 : -1;
        free(pull_error);
        break;
    case PATH_STAT: rc = wpd_path_stat_parse(an->text, an->len, a, &u.stat, err); break;
    }
    return rc;
}

static int guarded(const void *arg, wpd_error *err)
{
    const answer *an = arg;
    wpd_arena *a;
    int rc = wpd_parse_guarded(parse_one, (void *)an, &a, err);
    wpd_arena_free(a);
    return rc;
}

static void torture_file(const char *what, which kind, const char *file, int line_no)
{
    char *path = wpd_xasprintf("%s/api/%s", TEST_DATA_DIR, file);
    size_t len;
    char *text = tu_read_file(path, &len);
    ck_assert_msg(text != NULL, "cannot read %s", path);
    const char *start = text;
    for (int k = 0; k < line_no; k++) { /* the line_no-th line (0: the whole file) */
        const char *nl = strchr(start, '\n');
        ck_assert_ptr_nonnull(nl);
        start = nl + 1;
    }
    if (line_no > 0 || kind == PATH_STAT) {
        const char *sp = kind == PATH_STAT ? strchr(start, ' ') : NULL;
        if (sp)
            start = sp + 1;
        len = strcspn(start, "\n");
    }
    answer an = {kind, start, len};
    torture(what, guarded, &an, true);
    free(text);
    free(path);
}

START_TEST(container_answers)
{
    torture_file("container inspect", CTR_INFO, "docker-inspect-running.json", 0);
    torture_file("exited container inspect", CTR_INFO, "docker-inspect-exited.json", 0);
    torture_file("container list", CTR_LIST, "docker-ps.json", 0);
    static const char waited[] = "{\"StatusCode\":3,\"Error\":{\"Message\":\"boom\"}}";
    answer w = {CTR_WAIT, waited, sizeof waited - 1};
    torture("container wait", guarded, &w, true);
}
END_TEST

START_TEST(other_answers)
{
    torture_file("network list", NET_LIST, "docker-networks.json", 0);
    torture_file("volume list", VOL_LIST, "docker-volumes.json", 0);
    torture_file("exec inspect", EXEC_INFO, "docker-exec-running.json", 0);
    torture_file("image inspect", IMAGE_INFO, "docker-image.json", 0);
    torture_file("path stat", PATH_STAT, "docker-archive-stat.txt", 0);
}
END_TEST

START_TEST(stream_lines)
{
    torture_file("event", EVENT, "docker-events.jsonl", 1);
    torture_file("pull progress", PULL_LINE, "docker-pull-ok.jsonl", 1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("alloc_failure_engine");
    TCase *tc = tcase_create("answers");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, container_answers);
    tcase_add_test(tc, other_answers);
    tcase_add_test(tc, stream_lines);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0;
}
