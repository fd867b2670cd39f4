/* test_exec_container_config.c - what the engine really holds for the
 * steps that `wpdock exec` runs: labels, environment, user, binds, working
 * directory and tmpfs mounts, inspected while the step is held, and what
 * the step reports from inside. Engine selection as in testutil.h; an
 * unreachable engine fails the tests. */
#define _GNU_SOURCE
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/json.h"
#include "util/jsonw.h"
#include "testutil.h"
#include "exec_container_fixtures.h"

/* ------------------------------------------------------------------ tests */

START_TEST(test_labels)
{
    held h;
    held_init(&h);
    tu_wf *b = tu_wf_new();
    tu_wf_step(b, "labelled", 0, (const char *const[]){"echo ready", HOLD_CMD, NULL});
    bind_ctl(tu_wf_json(b), h.ctl, NULL);
    h.path = tu_wf_save(b);
    hold(&h, "labelled", NULL);
    const char *uuid = tu_exec_step_started(&h.x, "labelled")->uuid;
    char *name = wpd_xasprintf("/wp_%s", uuid);
    assert_jstr(&h, "Name", name);
    free(name);
    assert_jstr(&h, "Config.Labels.wp_uuid", uuid);
    assert_jstr(&h, "Config.Labels.wp_step", "labelled");
    assert_jstr(&h, "Config.Image", tu_test_image());
    bool running = false;
    wpd_json_get_bool(&h.j, 0, "State.Running", &running);
    ck_assert(running);
    assert_success(&h, release(&h), "labelled");
    held_free(&h);
}
END_TEST

START_TEST(test_environment)
{
    held h;
    held_init(&h);
    tu_wf *b = tu_wf_new();
    tu_wf_step(b, "envy", 0, (const char *const[]){"env | sort", "echo ready", HOLD_CMD, NULL});
    tu_wf_env(b, (const char *const[]){"USER_VAR", "hello world", "TRICKY", "a\"b$c d='e'", NULL});
    bind_ctl(tu_wf_json(b), h.ctl, NULL);
    h.path = tu_wf_save(b);
    hold(&h, "envy", NULL);
    const tu_event *started = tu_exec_step_started(&h.x, "envy");
    char step_started[32];
    snprintf(step_started, sizeof step_started, "%lld", started->started);

    /* what the engine holds */
    static const char *const want[][2] = {
        {"USER_VAR", "hello world"},       {"TRICKY", "a\"b$c d='e'"},
        {"CI_PIPELINE_STATUS", "success"}, {"CI_STEP_NAME", "envy"},
        {"CI_STEP_TYPE", "commands"},      {"SHELL", "/bin/sh"}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        char *v = jarr_env(&h, "Config.Env", want[i][0]);
        ck_assert_msg(v != NULL, "Config.Env has no %s", want[i][0]);
        ck_assert_str_eq(v, want[i][1]);
        free(v);
    }
    char *v = jarr_env(&h, "Config.Env", "CI_STEP_STARTED");
    ck_assert_msg(v != NULL, "Config.Env has no CI_STEP_STARTED");
    ck_assert_str_eq(v, step_started);
    free(v);
    v = jarr_env(&h, "Config.Env", "CI_PIPELINE_STARTED");
    ck_assert_msg(v != NULL, "Config.Env has no CI_PIPELINE_STARTED");
    long long pipeline_started = atoll(v);
    free(v);
    ck_assert_msg(pipeline_started >= h.x.t_spawn_ms / 1000 - 1 &&
                      pipeline_started <= started->started,
                  "CI_PIPELINE_STARTED %lld is not the run's start", pipeline_started);
    v = jarr_env(&h, "Config.Env", "CI_SCRIPT");
    ck_assert_msg(v && *v, "Config.Env has no CI_SCRIPT");
    free(v);
    assert_success(&h, release(&h), "envy");

    /* what the step saw */
    assert_line(&h, "envy", "USER_VAR=hello world");
    assert_line(&h, "envy", "TRICKY=a\"b$c d='e'");
    assert_line(&h, "envy", "CI_PIPELINE_STATUS=success");
    assert_line(&h, "envy", "CI_STEP_NAME=envy");
    assert_line(&h, "envy", "CI_STEP_TYPE=commands");
    char *line = wpd_xasprintf("CI_STEP_STARTED=%s", step_started);
    assert_line(&h, "envy", line);
    free(line);
    line = wpd_xasprintf("CI_PIPELINE_STARTED=%lld", pipeline_started);
    assert_line(&h, "envy", line);
    free(line);
    /* the script removes CI_SCRIPT before the commands run (spec 3.1) */
    ck_assert_ptr_null(line_starting(&h, "envy", "CI_SCRIPT="));
    held_free(&h);
}
END_TEST

/* backend_options.docker.user, as a string and as a number (decoded
 * weakly, spec 2.3.1); without it the image's user (root). */
static void user_option(struct wpd_jsonw *w, const char *s, long n)
{
    wpd_jw_key(w, "backend_options");
    wpd_jw_obj_begin(w);
    wpd_jw_key(w, "docker");
    wpd_jw_obj_begin(w);
    if (s)
        wpd_jw_kstr(w, "user", s);
    else
        wpd_jw_kint(w, "user", n);
    wpd_jw_obj_end(w);
    wpd_jw_obj_end(w);
}

START_TEST(test_user)
{
    held h;
    held_init(&h);
    tu_wf *b = tu_wf_new();
    tu_wf_step(b, "as-1000", 0, (const char *const[]){"id -u", "echo ready", HOLD_CMD, NULL});
    bind_ctl(tu_wf_json(b), h.ctl, NULL);
    user_option(tu_wf_json(b), "1000", 0);
    tu_wf_step(b, "as-number", 0, (const char *const[]){"id -u", NULL});
    user_option(tu_wf_json(b), NULL, 1000);
    tu_wf_step(b, "as-default", 0, (const char *const[]){"id -u", NULL});
    h.path = tu_wf_save(b);
    hold(&h, "as-1000", NULL);
    assert_jstr(&h, "Config.User", "1000");
    int rc = release(&h);
    assert_success(&h, rc, "as-1000");
    assert_success(&h, rc, "as-number");
    assert_success(&h, rc, "as-default");
    assert_line(&h, "as-1000", "1000");
    assert_line(&h, "as-number", "1000");
    assert_line(&h, "as-default", "0");
    held_free(&h);
}
END_TEST

START_TEST(test_binds)
{
    held h;
    held_init(&h);
    char *in = tu_mkdtemp();
    char *f = wpd_xasprintf("%s/hello.txt", in);
    tu_write_file(f, "content from the host\n", 22);
    free(f);
    char *ro = wpd_xasprintf("%s:/mnt/in:ro", in);
    tu_wf *b = tu_wf_new();
    tu_wf_step(b, "binder", 0,
               (const char *const[]){"cat /mnt/in/hello.txt",
                                     "touch /mnt/in/new 2>/dev/null && echo writable || echo "
                                     "read-only",
                                     "echo written by the step > /ctl/result.txt", "echo ready",
                                     HOLD_CMD, NULL});
    bind_ctl(tu_wf_json(b), h.ctl, (const char *const[]){ro, NULL});
    h.path = tu_wf_save(b);
    hold(&h, "binder", NULL);
    ck_assert_msg(has_bind(&h, in, "/mnt/in", "ro"), "HostConfig.Binds lacks %s", ro);
    ck_assert_msg(has_bind(&h, h.ctl, "/ctl", NULL), "HostConfig.Binds lacks %s:/ctl", h.ctl);
    /* the mount as the engine set it up */
    bool found = false;
    int mounts = wpd_json_path(&h.j, 0, "Mounts");
    for (int i = 0;; i++) {
        int m = wpd_json_at(&h.j, mounts, i);
        if (m < 0)
            break;
        char *dst = wpd_json_get_str(&h.j, m, "Destination");
        if (dst && strcmp(dst, "/mnt/in") == 0) {
            char *src = wpd_json_get_str(&h.j, m, "Source");
            bool rw = true;
            wpd_json_get_bool(&h.j, m, "RW", &rw);
            ck_assert_str_eq(src, in);
            ck_assert_msg(!rw, "/mnt/in is writable");
            free(src);
            found = true;
        }
        free(dst);
    }
    ck_assert_msg(found, "no mount at /mnt/in");
    assert_success(&h, release(&h), "binder");
    assert_line(&h, "binder", "content from the host");
    assert_line(&h, "binder", "read-only");
    f = wpd_xasprintf("%s/result.txt", h.ctl);
    char *got = tu_read_file(f, NULL);
    ck_assert_msg(got != NULL, "the step's file is not on the host");
    ck_assert_str_eq(got, "written by the step\n");
    free(got);
    free(f);
    tu_rm_rf(in);
    free(in);
    free(ro);
    held_free(&h);
}
END_TEST

START_TEST(test_workdir)
{
    held h;
    held_init(&h);
    tu_wf *b = tu_wf_new();
    tu_wf_step(b, "in-subdir", 0, (const char *const[]){"pwd", "echo ready", HOLD_CMD, NULL});
    wpd_jw_kstr(tu_wf_json(b), "workspace_base", "/ws-base");
    wpd_jw_kstr(tu_wf_json(b), "working_dir", "/ws-base/sub/dir");
    bind_ctl(tu_wf_json(b), h.ctl, NULL);
    tu_wf_stage(b);
    /* no workspace_base/working_dir: the defaults of a hand-written
     * workflow, /woodpecker with the workflow volume; the directory made
     * in the first step is in that volume */
    tu_wf_step(b, "defaults", 0, (const char *const[]){"pwd", NULL});
    tu_wf_step(b, "shared", 0, (const char *const[]){"ls /ws-base", NULL});
    wpd_jw_kstr(tu_wf_json(b), "workspace_base", "/ws-base");
    h.path = tu_wf_save(b);
    hold(&h, "in-subdir", NULL);
    /* the container starts in workspace_base; the script changes into
     * working_dir (spec 3.3) */
    assert_jstr(&h, "Config.WorkingDir", "/ws-base");
    bool vol = false;
    int mounts = wpd_json_path(&h.j, 0, "Mounts");
    for (int i = 0;; i++) {
        int m = wpd_json_at(&h.j, mounts, i);
        if (m < 0)
            break;
        char *dst = wpd_json_get_str(&h.j, m, "Destination");
        char *type = wpd_json_get_str(&h.j, m, "Type");
        char *name = wpd_json_get_str(&h.j, m, "Name");
        if (dst && strcmp(dst, "/ws-base") == 0) {
            ck_assert_msg(type && strcmp(type, "volume") == 0, "/ws-base is a %s mount",
                          type ? type : "?");
            ck_assert_msg(name && strncmp(name, "wp_", 3) == 0, "/ws-base holds volume %s",
                          name ? name : "?");
            vol = true;
        }
        free(dst);
        free(type);
        free(name);
    }
    ck_assert_msg(vol, "no workflow volume at /ws-base");
    int rc = release(&h);
    assert_success(&h, rc, "in-subdir");
    assert_success(&h, rc, "defaults");
    assert_success(&h, rc, "shared");
    assert_line(&h, "in-subdir", "/ws-base/sub/dir");
    assert_line(&h, "defaults", "/woodpecker");
    assert_line(&h, "shared", "sub");
    held_free(&h);
}
END_TEST

START_TEST(test_tmpfs)
{
    held h;
    held_init(&h);
    tu_wf *b = tu_wf_new();
    tu_wf_step(b, "tmp", 0,
               (const char *const[]){"grep ' /scratch ' /proc/mounts",
                                     "grep ' /sized ' /proc/mounts", "echo ready", HOLD_CMD, NULL});
    struct wpd_jsonw *w = tu_wf_json(b);
    wpd_jw_key(w, "tmpfs");
    wpd_jw_arr_begin(w);
    wpd_jw_str(w, "/scratch");
    wpd_jw_str(w, "/sized:size=1m");
    wpd_jw_arr_end(w);
    bind_ctl(w, h.ctl, NULL);
    h.path = tu_wf_save(b);
    hold(&h, "tmp", NULL);
    if (tu_engine_is_podman()) {
        /* Podman lists its default options too */
        char *o = jstr(&h, "HostConfig.Tmpfs./scratch");
        free(o);
        o = jstr(&h, "HostConfig.Tmpfs./sized");
        ck_assert_contains(o, "size=1m");
        free(o);
    } else {
        assert_jstr(&h, "HostConfig.Tmpfs./scratch", "");
        assert_jstr(&h, "HostConfig.Tmpfs./sized", "size=1m");
    }
    assert_success(&h, release(&h), "tmp");
    const char *l = line_starting(&h, "tmp", "tmpfs /scratch tmpfs ");
    ck_assert_msg(l != NULL, "/proc/mounts shows no tmpfs at /scratch:\n%.3000s", h.x.proc.out);
    l = line_starting(&h, "tmp", "tmpfs /sized tmpfs ");
    ck_assert_msg(l != NULL, "/proc/mounts shows no tmpfs at /sized");
    ck_assert_contains(l, "size=1024k");
    held_free(&h);
}
END_TEST

static Suite *exec_container_config_suite(void)
{
    Suite *s = suite_create("exec-container-config");
    TCase *tc = tcase_create("container");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_labels);
    tcase_add_test(tc, test_environment);
    tcase_add_test(tc, test_user);
    tcase_add_test(tc, test_binds);
    tcase_add_test(tc, test_workdir);
    tcase_add_test(tc, test_tmpfs);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(exec_container_config_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0;
}
