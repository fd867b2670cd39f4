/* test_convert_config.c - unit tests for the container create body of
 * core/convert.c as a whole: the container config cases (7.4, 2.3.2/2.3.3),
 * a user entrypoint, the example body of the `build` step (2.3.5) and JSON
 * escaping. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "woodpecker/convert.h"
#include "util/json.h"
#include "woodpecker/script.h"
#include "woodpecker/settings.h"
#include "convert_fixtures.h"

static const char *const script_entry[] = {"/bin/sh", "-c",
                                           "echo $CI_SCRIPT | base64 -d | /bin/sh -e"};

#define SCRIPT_HEADER_B64                                                                          \
    "CmlmIFsgLW4gIiRDSV9ORVRSQ19NQUNISU5FIiBdOyB0aGVuCmNhdCA8PEVPRiA+ICRIT01FLy5uZXRyYwptYWNoaW5l" \
    "ICRDSV9ORVRSQ19NQUNISU5FCmxvZ2luICRDSV9ORVRSQ19VU0VSTkFNRQpwYXNzd29yZCAkQ0lfTkVUUkNfUEFTU1dP" \
    "UkQKRU9GCmNobW9kIDA2MDAgJEhPTUUvLm5ldHJjCmZpCnVuc2V0IENJX05FVFJDX1VTRVJOQU1FCnVuc2V0IENJX05F" \
    "VFJDX1BBU1NXT1JECnVuc2V0IENJX1NDUklQVApta2RpciAtcCAi"

static const char *const ci_script_a =
    "CI_SCRIPT=" SCRIPT_HEADER_B64 "IgpjZCAiIgoKZWNobyArICdnbyB0ZXN0JwpnbyB0ZXN0Cg==";
static const char *const ci_script_b =
    "CI_SCRIPT=" SCRIPT_HEADER_B64 "L3NyYy9hYmMiCmNkICIvc3JjL2FiYyIKCmVjaG8gKyAnZ28gdGVzdCcKZ28gdG"
    "VzdAoKZWNobyArICdnbyB2ZXQgLi8uLi4nCmdvIHZldCAuLy4uLgo=";

/* ---- 7.4 container config --------------------------------------------- */

START_TEST(config_case_a)
{
    wpd_step s;
    step_init(&s, "test", "09238932");
    s.commands = SL("go test");
    body b;
    body_make(&b, &s, NULL, 0, NULL);
    assert_key_bool(&b.j, 0, "AttachStdout", true);
    assert_key_bool(&b.j, 0, "AttachStderr", true);
    assert_key_strarr(&b.j, 0, "Entrypoint", script_entry, 3);
    int l = wpd_json_get(&b.j, 0, "Labels");
    ck_assert_int_eq(b.j.toks[l].size, 2);
    assert_key_str(&b.j, l, "wp_step", "test");
    assert_key_str(&b.j, l, "wp_uuid", "09238932");
    assert_absent(&b.j, 0, "WorkingDir");
    assert_absent(&b.j, 0, "Image");
    assert_absent(&b.j, 0, "Volumes");
    assert_absent(&b.j, 0, "Cmd");
    assert_absent(&b.j, 0, "User");
    assert_absent(&b.j, 0, "Tty");
    const char *env[] = {ci_script_a, "SHELL=/bin/sh"};
    assert_key_strarr(&b.j, 0, "Env", env, 2);
    body_free(&b);
}
END_TEST

START_TEST(config_case_b)
{
    wpd_step s;
    step_init(&s, "b", "uuid-b");
    s.image = "golang:1.2.3";
    s.working_dir = "/src/abc";
    s.workspace_base = "/src";
    s.commands = SL("go test", "go vet ./...");
    s.volumes = SL("/cache:/cache");
    s.privileged = 1;
    s.network_mode = "bridge";
    s.dns = SL("8.8.8.8");
    s.dns_search = SL("local");
    wpd_hostalias hosts[] = {{"h", "1.2.3.4"}};
    s.extra_hosts = hosts;
    s.n_extra_hosts = 1;
    s.tmpfs = SL("/tmp");
    s.devices = SL("/dev/fuse:/dev/fuse");
    wpd_kv env[] = {{"TAGS", "sqlite"}};
    body b;
    body_make(&b, &s, env, 1, NULL);
    assert_key_str(&b.j, 0, "Image", "golang:1.2.3");
    assert_key_str(&b.j, 0, "WorkingDir", "/src");
    const char *vols[] = {"/cache"};
    assert_key_set(&b.j, 0, "Volumes", vols, 1);
    const char *want_env[] = {ci_script_b, "SHELL=/bin/sh", "TAGS=sqlite"};
    assert_key_strarr(&b.j, 0, "Env", want_env, 3);
    assert_key_strarr(&b.j, 0, "Entrypoint", script_entry, 3);
    assert_absent(&b.j, 0, "Cmd");
    body_free(&b);
}
END_TEST

START_TEST(config_case_c)
{
    wpd_step s;
    step_init(&s, "c", "uuid-c-123");
    s.commands = SL("echo $SHELL");
    wpd_kv env[] = {{"SHELL", "/bin/zsh"}};
    body b;
    body_make(&b, &s, env, 1, NULL);
    assert_key_strarr(&b.j, 0, "Entrypoint", script_entry, 3);
    assert_absent(&b.j, 0, "Cmd");
    int e = wpd_json_get(&b.j, 0, "Env");
    ck_assert_int_eq(b.j.toks[e].size, 2);
    assert_str_at(&b.j, wpd_json_at(&b.j, e, 1), "SHELL=/bin/sh");
    assert_key_str(&b.j, wpd_json_get(&b.j, 0, "Labels"), "wp_uuid", "uuid-c-123");
    ck_assert_ptr_null(strstr(b.text, "/bin/zsh"));
    body_free(&b);
}
END_TEST

START_TEST(config_case_d)
{
    wpd_step s;
    step_init(&s, "plugin", "uuid-d");
    s.type = "plugin";
    s.image = "docker.io/woodpeckerci/plugin-webhook:1.0.0";
    s.working_dir = "/woodpecker/src/x";
    s.workspace_base = "/woodpecker";
    body b;
    body_make(&b, &s, NULL, 0, NULL);
    assert_absent(&b.j, 0, "Entrypoint");
    assert_absent(&b.j, 0, "Cmd");
    assert_absent(&b.j, 0, "Env");
    /* Plugins work in working_dir, not the workspace base. */
    assert_key_str(&b.j, 0, "WorkingDir", "/woodpecker/src/x");
    body_free(&b);
}
END_TEST

START_TEST(user_entrypoint_replaces_script_entrypoint)
{
    wpd_step s;
    step_init(&s, "e", "uuid-e");
    s.commands = SL("echo hi");
    s.entrypoint = SL("/bin/bash", "-c", "echo $CI_SCRIPT | base64 -d | /bin/bash -e");
    s.user = "1000:1000";
    body b;
    body_make(&b, &s, NULL, 0, NULL);
    const char *want[] = {"/bin/bash", "-c", "echo $CI_SCRIPT | base64 -d | /bin/bash -e"};
    assert_key_strarr(&b.j, 0, "Entrypoint", want, 3);
    assert_key_str(&b.j, 0, "User", "1000:1000");
    int e = wpd_json_get(&b.j, 0, "Env");
    ck_assert_int_eq(b.j.toks[e].size, 2); /* CI_SCRIPT and SHELL still set */
    body_free(&b);

    /* Entrypoint without commands is used as is. */
    step_init(&s, "e", "uuid-e");
    s.entrypoint = SL("/entry");
    body_make(&b, &s, NULL, 0, NULL);
    const char *want2[] = {"/entry"};
    assert_key_strarr(&b.j, 0, "Entrypoint", want2, 1);
    assert_absent(&b.j, 0, "Env");
    body_free(&b);
}
END_TEST

/* ---- 2.3.5 example body for the `build` step -------------------------- */

START_TEST(build_example_body)
{
    wpd_step s;
    step_init(&s, "build", "01J9ZQ8X5D7B2C3D4E5F6G7H8N");
    s.type = "commands";
    s.image = "registry.example.com/ci/golang:1.23";
    s.pull = 1;
    s.working_dir = "/woodpecker/src/github.com/octocat/hello-world";
    s.workspace_base = "/woodpecker";
    s.commands = SL("go build ./...", "echo \"tests: $CI_PIPELINE_NUMBER\"", "go test ./...");
    wpd_hostalias hosts[] = {{"registry.local", "10.0.0.5"}};
    s.extra_hosts = hosts;
    s.n_extra_hosts = 1;
    s.volumes =
        SL("wp_01j9zq8x4k3m5n6p7q8r9s0t1v_42_default:/woodpecker", "/var/cache/go-mod:/go/pkg/mod");
    s.tmpfs = SL("/tmp");
    s.dns = SL("1.1.1.1");
    s.user = "1000:1000";
    wpd_kv env[] = {{"CI_REPO", "octocat/hello-world"},
                    {"CI_PIPELINE_NUMBER", "42"},
                    {"CI_WORKSPACE", "/woodpecker/src/github.com/octocat/hello-world"},
                    {"CGO_ENABLED", "0"},
                    {"GOFLAGS", "-mod=readonly"},
                    {"API_URL", "http://mock-api:8080"}};
    wpd_settings st;
    settings_init(&st);
    st.volumes = SL("/etc/ssl/certs:/etc/ssl/certs:ro");

    body b;
    body_make(&b, &s, env, NELEM(env), &st);
    assert_key_str(&b.j, 0, "Image", "registry.example.com/ci/golang:1.23");
    int l = wpd_json_get(&b.j, 0, "Labels");
    assert_key_str(&b.j, l, "wp_uuid", "01J9ZQ8X5D7B2C3D4E5F6G7H8N");
    assert_key_str(&b.j, l, "wp_step", "build");
    assert_key_str(&b.j, 0, "User", "1000:1000");
    assert_key_bool(&b.j, 0, "AttachStdout", true);
    assert_key_bool(&b.j, 0, "AttachStderr", true);
    assert_key_strarr(&b.j, 0, "Entrypoint", script_entry, 3);
    const char *vols[] = {"/woodpecker", "/go/pkg/mod"};
    assert_key_set(&b.j, 0, "Volumes", vols, 2);
    assert_key_str(&b.j, 0, "WorkingDir", "/woodpecker");

    /* Env: sorted, with CI_SCRIPT for the step's script and SHELL. */
    char *ci = wpd_script_ci_script((const char *const *)s.commands.v, s.commands.n, s.working_dir);
    char *ci_kv = wpd_xasprintf("CI_SCRIPT=%s", ci);
    const char *want_env[] = {"API_URL=http://mock-api:8080",
                              "CGO_ENABLED=0",
                              "CI_PIPELINE_NUMBER=42",
                              "CI_REPO=octocat/hello-world",
                              ci_kv,
                              "CI_WORKSPACE=/woodpecker/src/github.com/octocat/hello-world",
                              "GOFLAGS=-mod=readonly",
                              "SHELL=/bin/sh"};
    assert_key_strarr(&b.j, 0, "Env", want_env, NELEM(want_env));
    ck_assert(strncmp(ci, "CmlmIFsgLW4g", 12) == 0);
    free(ci_kv);
    free(ci);

    const char *binds[] = {"wp_01j9zq8x4k3m5n6p7q8r9s0t1v_42_default:/woodpecker",
                           "/var/cache/go-mod:/go/pkg/mod", "/etc/ssl/certs:/etc/ssl/certs:ro"};
    assert_key_strarr(&b.j, b.hc, "Binds", binds, 3);
    assert_key_bool(&b.j, b.hc, "Privileged", false);
    const char *dns[] = {"1.1.1.1"};
    assert_key_strarr(&b.j, b.hc, "Dns", dns, 1);
    const char *eh[] = {"registry.local:10.0.0.5"};
    assert_key_strarr(&b.j, b.hc, "ExtraHosts", eh, 1);
    int t = wpd_json_get(&b.j, b.hc, "Tmpfs");
    ck_assert_int_eq(b.j.toks[t].size, 1);
    assert_key_str(&b.j, t, "/tmp", "");
    assert_key_str(&b.j, wpd_json_get(&b.j, b.hc, "LogConfig"), "Type", "json-file");
    assert_key_int(&b.j, b.hc, "Memory", 0);
    assert_key_int(&b.j, b.hc, "MemorySwap", 0);
    assert_key_int(&b.j, b.hc, "CpuQuota", 0);
    assert_key_int(&b.j, b.hc, "CpuShares", 0);
    assert_key_str(&b.j, b.hc, "CpusetCpus", "");
    assert_key_int(&b.j, b.hc, "ShmSize", 0);
    assert_absent(&b.j, b.hc, "NetworkMode");
    assert_absent(&b.j, b.hc, "SecurityOpt");
    assert_absent(&b.j, b.hc, "Devices");
    assert_absent(&b.j, 0, "Cmd");
    assert_absent(&b.j, 0, "NetworkingConfig");
    body_free(&b);
}
END_TEST

START_TEST(json_escaping_in_body)
{
    wpd_step s;
    step_init(&s, "we\"ird\\name", "u7");
    wpd_kv env[] = {{"MULTI", "line1\nline2\t\"q\""}};
    body b;
    body_make(&b, &s, env, 1, NULL);
    assert_key_str(&b.j, wpd_json_get(&b.j, 0, "Labels"), "wp_step", "we\"ird\\name");
    const char *w[] = {"MULTI=line1\nline2\t\"q\""};
    assert_key_strarr(&b.j, 0, "Env", w, 1);
    body_free(&b);
}
END_TEST

static Suite *convert_config_suite(void)
{
    Suite *s = suite_create("convert_config");
    TCase *tc = tcase_create("bodies");
    tcase_add_test(tc, config_case_a);
    tcase_add_test(tc, config_case_b);
    tcase_add_test(tc, config_case_c);
    tcase_add_test(tc, config_case_d);
    tcase_add_test(tc, user_entrypoint_replaces_script_entrypoint);
    tcase_add_test(tc, build_example_body);
    tcase_add_test(tc, json_escaping_in_body);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(convert_config_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0;
}
