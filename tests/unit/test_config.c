/* test_config.c - unit tests for the workflow parser (core/config.c): the
 * complete example of spec 1.6, defaults, Go-like decoding, warnings and
 * the exact error messages for invalid documents. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "woodpecker/config.h"

#define SPEC_EXAMPLE TEST_DATA_DIR "/spec-example.json"
#define SHARED_NET "wp_01j9zq8x4k3m5n6p7q8r9s0t1v_42_default"
#define CROCKFORD "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

static wpd_workflow *parse_ok(const char *json)
{
    wpd_error err;
    wpd_error_clear(&err);
    wpd_workflow *wf = wpd_workflow_parse("hello.json", json, strlen(json), &err);
    ck_assert_msg(wf != NULL, "parse failed: %s", err.message);
    return wf;
}

/* Parse expecting failure with exactly `message`. */
static void parse_err(const char *json, const char *message)
{
    wpd_error err;
    wpd_error_clear(&err);
    wpd_workflow *wf = wpd_workflow_parse("hello.json", json, strlen(json), &err);
    ck_assert_msg(wf == NULL, "parse of <%s> should have failed", json);
    ck_assert_int_eq(err.kind, WPD_ERR_INPUT);
    ck_assert_str_eq(err.message, message);
}

/* A one-step workflow whose step carries `fields` in addition to a name
 * and an image. */
static char *one_step(const char *fields)
{
    char *s = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&s, &n);
    fprintf(f, "{\"pipeline\":[{\"steps\":[{\"name\":\"a\",\"image\":\"alpine\",%s}]}]}", fields);
    fclose(f);
    return s;
}

static void step_err(const char *fields, const char *message)
{
    char *json = one_step(fields);
    parse_err(json, message);
    free(json);
}

static const char *env_get(const wpd_step *st, const char *key)
{
    for (size_t k = 0; k < st->environment.n; k++)
        if (strcmp(st->environment.v[k].key, key) == 0)
            return st->environment.v[k].value;
    return NULL;
}

static void assert_ulid(const char *id, int lower)
{
    ck_assert_uint_eq(strlen(id), 26);
    for (const char *p = id; *p; p++) {
        char c = *p;
        if (lower && c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        ck_assert_msg(strchr(CROCKFORD, c) != NULL, "bad ULID character in %s", id);
        if (lower)
            ck_assert_msg(!(*p >= 'A' && *p <= 'Z'), "upper case in %s", id);
    }
}

START_TEST(spec_example)
{
    wpd_error err;
    wpd_workflow *wf = wpd_workflow_load(SPEC_EXAMPLE, &err);
    ck_assert_msg(wf != NULL, "%s", err.message);
    ck_assert_str_eq(wf->label, SPEC_EXAMPLE);
    ck_assert_uint_eq(wf->n_stages, 4);
    ck_assert_uint_eq(wf->stages[0].n_steps, 1);
    ck_assert_uint_eq(wf->stages[1].n_steps, 1);
    ck_assert_uint_eq(wf->stages[2].n_steps, 2);
    ck_assert_uint_eq(wf->stages[3].n_steps, 1);
    ck_assert_str_eq(wf->network, SHARED_NET);
    ck_assert_str_eq(wf->volume, SHARED_NET);
    assert_ulid(wf->id, 1);
    ck_assert_uint_eq(wf->secrets.n, 1);
    ck_assert_str_eq(wf->secrets.v[0], "tok-9f8e7d6c5b4a");
    ck_assert_uint_eq(wf->warnings.n, 0);

    const wpd_step *clone = &wf->stages[0].steps[0];
    ck_assert_str_eq(clone->name, "clone");
    ck_assert_str_eq(clone->uuid, "01J9ZQ8X5A7B2C3D4E5F6G7H8J");
    ck_assert_str_eq(clone->type, "clone");
    ck_assert_str_eq(clone->image, "docker.io/woodpeckerci/plugin-git:2.10.0");
    ck_assert_str_eq(clone->working_dir, "/woodpecker/src/github.com/octocat/hello-world");
    ck_assert_str_eq(clone->workspace_base, "/woodpecker");
    ck_assert_uint_eq(clone->environment.n, 11);
    ck_assert_str_eq(clone->environment.v[0].key, "CI");
    ck_assert_str_eq(clone->environment.v[0].value, "woodpecker");
    ck_assert_str_eq(clone->environment.v[10].key, "PLUGIN_DEPTH");
    ck_assert_str_eq(clone->environment.v[10].value, "0");
    ck_assert_str_eq(env_get(clone, "CI_NETRC_PASSWORD"), "ghs_Z3x9exampleTokenValue");
    ck_assert_str_eq(env_get(clone, "CI_COMMIT_SHA"), "8826c98181353075bbeee8f99b400496488e3523");
    ck_assert_uint_eq(clone->volumes.n, 1);
    ck_assert_str_eq(clone->volumes.v[0], SHARED_NET ":/woodpecker");
    ck_assert_uint_eq(clone->n_networks, 1);
    ck_assert_str_eq(clone->networks[0].name, SHARED_NET);
    ck_assert_uint_eq(clone->networks[0].aliases.n, 1);
    ck_assert_str_eq(clone->networks[0].aliases.v[0], "clone");
    ck_assert_int_eq(clone->on_success, 1);
    ck_assert_int_eq(clone->on_failure, 0);
    ck_assert_int_eq(clone->pull, 0);
    ck_assert_int_eq(clone->detach, 0);
    ck_assert_str_eq(clone->failure, "fail");
    ck_assert_str_eq(clone->auth_username, "");
    ck_assert_str_eq(clone->auth_password, "");
    ck_assert_str_eq(clone->user, "");
    ck_assert_str_eq(clone->network_mode, "");
    ck_assert_uint_eq(clone->commands.n, 0);
    ck_assert_uint_eq(clone->n_extra_hosts, 0);

    const wpd_step *db = &wf->stages[1].steps[0];
    ck_assert_str_eq(db->name, "database");
    ck_assert_str_eq(db->type, "service");
    ck_assert_str_eq(db->image, "postgres:16");
    ck_assert_int_eq(db->detach, 1);
    ck_assert_str_eq(env_get(db, "POSTGRES_USER"), "app");
    ck_assert_uint_eq(db->environment.n, 5);
    ck_assert_uint_eq(db->n_networks, 2);
    ck_assert_str_eq(db->networks[0].aliases.v[0], "database");
    ck_assert_str_eq(db->networks[1].name, "ci-shared");
    ck_assert_uint_eq(db->networks[1].aliases.n, 0); /* "aliases": null */

    const wpd_step *mock = &wf->stages[2].steps[0];
    ck_assert_str_eq(mock->name, "mock-api");
    ck_assert_int_eq(mock->detach, 1);
    ck_assert_uint_eq(mock->commands.n, 1);
    ck_assert_str_eq(mock->commands.v[0], "python3 -m http.server 8080");
    ck_assert_str_eq(mock->working_dir, "/woodpecker/src/github.com/octocat/hello-world/testdata");

    const wpd_step *build = &wf->stages[2].steps[1];
    ck_assert_str_eq(build->name, "build");
    ck_assert_str_eq(build->uuid, "01J9ZQ8X5D7B2C3D4E5F6G7H8N");
    ck_assert_str_eq(build->image, "registry.example.com/ci/golang:1.23");
    ck_assert_int_eq(build->pull, 1);
    ck_assert_int_eq(build->detach, 0);
    ck_assert_str_eq(env_get(build, "GOFLAGS"), "-mod=readonly");
    ck_assert_str_eq(env_get(build, "API_URL"), "http://mock-api:8080");
    ck_assert_uint_eq(build->commands.n, 3);
    ck_assert_str_eq(build->commands.v[0], "go build ./...");
    ck_assert_str_eq(build->commands.v[1], "echo \"tests: $CI_PIPELINE_NUMBER\"");
    ck_assert_str_eq(build->commands.v[2], "go test ./...");
    ck_assert_uint_eq(build->n_extra_hosts, 1);
    ck_assert_str_eq(build->extra_hosts[0].name, "registry.local");
    ck_assert_str_eq(build->extra_hosts[0].ip, "10.0.0.5");
    ck_assert_uint_eq(build->volumes.n, 2);
    ck_assert_str_eq(build->volumes.v[1], "/var/cache/go-mod:/go/pkg/mod");
    ck_assert_uint_eq(build->tmpfs.n, 1);
    ck_assert_str_eq(build->tmpfs.v[0], "/tmp");
    ck_assert_uint_eq(build->dns.n, 1);
    ck_assert_str_eq(build->dns.v[0], "1.1.1.1");
    ck_assert_uint_eq(build->dns_search.n, 0);
    ck_assert_str_eq(build->auth_username, "ci-bot");
    ck_assert_str_eq(build->auth_password, "pa?ss");
    ck_assert_str_eq(build->user, "1000:1000");
    ck_assert_str_eq(build->failure, "fail");

    const wpd_step *notify = &wf->stages[3].steps[0];
    ck_assert_str_eq(notify->name, "notify-failure");
    ck_assert_str_eq(notify->type, "plugin");
    ck_assert_int_eq(notify->on_success, 0);
    ck_assert_int_eq(notify->on_failure, 1);
    ck_assert_str_eq(notify->failure, "ignore");
    ck_assert_str_eq(env_get(notify, "CI_COMMIT_PULL_REQUEST"), "");
    ck_assert_str_eq(env_get(notify, "PLUGIN_TOKEN"), "tok-9f8e7d6c5b4a");
    wpd_workflow_free(wf);
}
END_TEST

START_TEST(type_errors)
{
    parse_err("{\"pipeline\":[{\"steps\":[]},{\"steps\":[{\"name\":\"a\",\"image\":\"i\","
              "\"volumes\":[\"x\",\"y\",3]}]}]}",
              "hello.json: pipeline[1].steps[0].volumes[2]: expected a string");
    parse_err("[]", "hello.json: expected a JSON object at the top level");
    parse_err("\"x\"", "hello.json: expected a JSON object at the top level");
    parse_err("null", "hello.json: expected a JSON object at the top level");
    parse_err("{\"pipeline\":{}}", "hello.json: pipeline: expected a list");
    parse_err("{\"pipeline\":[3]}", "hello.json: pipeline[0]: expected an object");
    parse_err("{\"pipeline\":[{\"steps\":{}}]}", "hello.json: pipeline[0].steps: expected a list");
    parse_err("{\"pipeline\":[{\"steps\":[\"a\"]}]}",
              "hello.json: pipeline[0].steps[0]: expected an object");
    parse_err("{\"network\":1}", "hello.json: network: expected a string");
    parse_err("{\"volume\":[]}", "hello.json: volume: expected a string");
    parse_err("{\"secrets\":{}}", "hello.json: secrets: expected a list");
    parse_err("{\"secrets\":[{\"name\":\"n\",\"value\":1}]}",
              "hello.json: secrets[0].value: expected a string");
    parse_err("{\"secrets\":[true]}", "hello.json: secrets[0]: expected an object");

    step_err("\"name\":5", "hello.json: pipeline[0].steps[0].name: expected a string");
    step_err("\"pull\":\"yes\"", "hello.json: pipeline[0].steps[0].pull: expected a boolean");
    step_err("\"on_success\":1", "hello.json: pipeline[0].steps[0].on_success: expected a boolean");
    step_err("\"org_id\":\"7\"", "hello.json: pipeline[0].steps[0].org_id: expected a number");
    step_err("\"org_id\":1.5", "hello.json: pipeline[0].steps[0].org_id: expected a whole number "
                               "that fits in 64 bits");
    step_err("\"environment\":[]",
             "hello.json: pipeline[0].steps[0].environment: expected an object");
    step_err("\"environment\":{\"OK\":\"v\",\"A_B\":1}",
             "hello.json: pipeline[0].steps[0].environment.A_B: expected a string");
    step_err("\"commands\":\"echo\"", "hello.json: pipeline[0].steps[0].commands: expected a list");
    step_err("\"commands\":[\"a\",{}]",
             "hello.json: pipeline[0].steps[0].commands[1]: expected a string");
    step_err("\"networks\":[{\"name\":\"n\",\"aliases\":\"x\"}]",
             "hello.json: pipeline[0].steps[0].networks[0].aliases: expected a list");
    step_err("\"networks\":[{\"name\":\"n\",\"aliases\":null},{\"name\":false}]",
             "hello.json: pipeline[0].steps[0].networks[1].name: expected a string");
    step_err("\"networks\":{}", "hello.json: pipeline[0].steps[0].networks: expected a list");
    step_err("\"extra_hosts\":[{\"name\":\"h\",\"ip\":5}]",
             "hello.json: pipeline[0].steps[0].extra_hosts[0].ip: expected a string");
    step_err("\"extra_hosts\":[\"h:1.2.3.4\"]",
             "hello.json: pipeline[0].steps[0].extra_hosts[0]: expected an object");
    step_err("\"auth_config\":{\"username\":true}",
             "hello.json: pipeline[0].steps[0].auth_config.username: expected a string");
    step_err("\"auth_config\":\"x\"",
             "hello.json: pipeline[0].steps[0].auth_config: expected an object");
    step_err("\"backend_options\":\"x\"",
             "hello.json: pipeline[0].steps[0].backend_options: expected an object");
    step_err("\"dns_search\":[1]", "hello.json: pipeline[0].steps[0].dns_search[0]: expected a "
                                   "string");
}
END_TEST

START_TEST(syntax_errors)
{
    parse_err("{\n  \"pipeline\": [}\n",
              "hello.json: invalid JSON at line 2, column 16: unexpected character '}'");
    parse_err("{\"a\"}", "hello.json: invalid JSON at line 1, column 5: expected ':' after object "
                         "key");
    parse_err("", "hello.json: invalid JSON at line 1, column 1: unexpected end of input (empty "
                  "document)");
    parse_err("{\"pipeline\":[thanx]}",
              "hello.json: invalid JSON at line 1, column 14: invalid literal 'thanx' (expected "
              "true, false or null)");
}
END_TEST

START_TEST(validation_errors)
{
    parse_err(
        "{\"pipeline\":[{\"steps\":[{\"name\":\"a\",\"image\":\"i\"},{\"name\":\"b\",\"image\":"
        "\"i\"},{\"image\":\"i\"}]}]}",
        "hello.json: pipeline[0].steps[2].name: must not be empty");
    step_err("\"image\":\"\"", "hello.json: pipeline[0].steps[0].image: must not be empty");
    parse_err("{\"pipeline\":[{\"steps\":[{\"name\":\"a\",\"image\":\"i\"}]},{\"steps\":[{\"name\":"
              "\"a\",\"image\":\"j\"}]}]}",
              "hello.json: pipeline[1].steps[0].name: duplicate step name \"a\" (also used by "
              "pipeline[0].steps[0])");
    parse_err(
        "{\"pipeline\":[{\"steps\":[{\"name\":\"a\",\"image\":\"i\",\"uuid\":\"U1\"},{\"name\":"
        "\"b\",\"image\":\"i\",\"uuid\":\"U1\"}]}]}",
        "hello.json: pipeline[0].steps[1].uuid: duplicate uuid \"U1\" (also used by "
        "pipeline[0].steps[0])");
    step_err("\"uuid\":\"ab/cd\"",
             "hello.json: pipeline[0].steps[0].uuid: invalid character '/' in \"ab/cd\" (allowed: "
             "letters, digits, '_', '.', '-'; it becomes the container name wp_<uuid>)");
    step_err("\"dns\":[\"1.1.1.1\",\"x\"]",
             "hello.json: pipeline[0].steps[0].dns[1]: could not parse DNS address [x]: not an IP "
             "address");
    step_err("\"dns\":[\"1.2.3.04\"]", "hello.json: pipeline[0].steps[0].dns[0]: could not parse "
                                       "DNS address [1.2.3.04]: not an IP address");
    step_err("\"dns\":[\"\"]", "hello.json: pipeline[0].steps[0].dns[0]: could not parse DNS "
                               "address []: not an IP address");

    /* IP literals of both families are fine */
    char *json = one_step("\"on_success\":true,\"dns\":[\"8.8.8.8\",\"2001:4860:4860::8888\","
                          "\"::1\",\"fe80::1%eth0\"],\"uuid\":\"a_b.c-D\"");
    wpd_workflow *wf = parse_ok(json);
    ck_assert_uint_eq(wf->stages[0].steps[0].dns.n, 4);
    ck_assert_str_eq(wf->stages[0].steps[0].uuid, "a_b.c-D");
    wpd_workflow_free(wf);
    free(json);
}
END_TEST

START_TEST(defaults_and_ids)
{
    const char *json = "{\"pipeline\":[{\"steps\":[{\"name\":\"a\",\"image\":\"alpine\","
                       "\"on_success\":true}]}]}";
    wpd_workflow *wf = parse_ok(json);
    ck_assert_str_eq(wf->label, "hello.json");
    assert_ulid(wf->id, 1);
    char want[64];
    snprintf(want, sizeof want, "wp_%s_default", wf->id);
    ck_assert_str_eq(wf->network, want);
    ck_assert_str_eq(wf->volume, want);
    ck_assert_uint_eq(wf->secrets.n, 0);
    ck_assert_uint_eq(wf->warnings.n, 0);
    const wpd_step *st = &wf->stages[0].steps[0];
    assert_ulid(st->uuid, 0);
    ck_assert_uint_eq(st->environment.n, 0);
    ck_assert_str_eq(st->failure, "fail");
    ck_assert_str_eq(st->type, "");
    /* hand-written defaults: the generated volume at the workspace, the
     * generated network with the step name as alias */
    ck_assert_str_eq(st->working_dir, "");
    ck_assert_str_eq(st->workspace_base, "/woodpecker");
    ck_assert_uint_eq(st->volumes.n, 1);
    snprintf(want, sizeof want, "wp_%s_default:/woodpecker", wf->id);
    ck_assert_str_eq(st->volumes.v[0], want);
    ck_assert_uint_eq(st->n_networks, 1);
    ck_assert_str_eq(st->networks[0].name, wf->network);
    ck_assert_uint_eq(st->networks[0].aliases.n, 1);
    ck_assert_str_eq(st->networks[0].aliases.v[0], "a");
    ck_assert_str_eq(st->user, "");
    ck_assert_str_eq(st->auth_username, "");
    ck_assert_str_eq(st->network_mode, "");
    ck_assert_int_eq(st->org_id, 0);

    /* every parse gets its own workflow id and step uuids */
    wpd_workflow *wf2 = parse_ok(json);
    ck_assert_str_ne(wf->id, wf2->id);
    ck_assert_str_ne(wf->stages[0].steps[0].uuid, wf2->stages[0].steps[0].uuid);
    wpd_workflow_free(wf2);
    wpd_workflow_free(wf);

    /* explicit empty network/volume are generated too; failure kept */
    wf = parse_ok("{\"network\":\"\",\"volume\":null,\"pipeline\":null,\"secrets\":null}");
    ck_assert_uint_eq(wf->n_stages, 0);
    snprintf(want, sizeof want, "wp_%s_default", wf->id);
    ck_assert_str_eq(wf->network, want);
    ck_assert_str_eq(wf->volume, want);
    wpd_workflow_free(wf);

    wf = parse_ok("{}");
    ck_assert_uint_eq(wf->n_stages, 0);
    wpd_workflow_free(wf);
}
END_TEST

START_TEST(never_runs_warning)
{
    wpd_workflow *wf =
        parse_ok("{\"pipeline\":[{\"steps\":[{\"name\":\"a\",\"image\":\"i\",\"on_success\":true},"
                 "{\"name\":\"name\",\"image\":\"i\",\"failure\":\"ignore\"},"
                 "{\"name\":\"c\",\"image\":\"i\",\"on_failure\":true,\"on_success\":false}]}]}");
    ck_assert_uint_eq(wf->warnings.n, 1);
    ck_assert_str_eq(wf->warnings.v[0], "hello.json: pipeline[0].steps[1] (\"name\"): neither "
                                        "on_success nor on_failure is set, so this step can never "
                                        "run");
    ck_assert_str_eq(wf->stages[0].steps[1].failure, "ignore");
    wpd_workflow_free(wf);

    /* many warnings grow the list */
    char *s = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&s, &n);
    fputs("{\"pipeline\":[{\"steps\":[", f);
    for (int k = 0; k < 20; k++)
        fprintf(f, "%s{\"name\":\"s%d\",\"image\":\"i\"}", k ? "," : "", k);
    fputs("]}]}", f);
    fclose(f);
    wf = parse_ok(s);
    ck_assert_uint_eq(wf->warnings.n, 20);
    ck_assert_ptr_nonnull(strstr(wf->warnings.v[19], "steps[19] (\"s19\")"));
    wpd_workflow_free(wf);
    free(s);
}
END_TEST

START_TEST(case_insensitive_and_unknown_keys)
{
    wpd_workflow *wf = parse_ok(
        "{\"Pipeline\":[{\"STEPS\":[{\"Name\":\"a\",\"IMAGE\":\"x\",\"On_Success\":true,"
        "\"Environment\":{\"k\":\"v\"},\"Auth_Config\":{\"UserName\":\"u\",\"PASSWORD\":\"p\"},"
        "\"Networks\":[{\"NAME\":\"n\",\"Aliases\":[\"al\"]}],\"Extra_Hosts\":[{\"Name\":\"h\","
        "\"IP\":\"1.2.3.4\"}],\"zzz\":{\"x\":[1]},\"ports\":[{\"Number\":5432,\"x\":1}],"
        "\"secret_mapping\":{\"A\":\"b\",\"N\":null},\"workflow_labels\":null,\"unknown\":null}],"
        "\"other\":1}],\"NETWORK\":\"net\","
        "\"Volume\":\"vol\",\"Secrets\":[{\"Name\":\"s\",\"VALUE\":\"sv\"},{\"name\":\"e\","
        "\"value\":\"\"},null],\"foo\":{\"bar\":[true]}}");
    ck_assert_str_eq(wf->network, "net");
    ck_assert_str_eq(wf->volume, "vol");
    ck_assert_uint_eq(wf->secrets.n, 1);
    ck_assert_str_eq(wf->secrets.v[0], "sv");
    const wpd_step *st = &wf->stages[0].steps[0];
    ck_assert_str_eq(st->name, "a");
    ck_assert_str_eq(st->image, "x");
    ck_assert_int_eq(st->on_success, 1);
    ck_assert_str_eq(env_get(st, "k"), "v");
    ck_assert_str_eq(st->auth_username, "u");
    ck_assert_str_eq(st->auth_password, "p");
    ck_assert_str_eq(st->networks[0].name, "n");
    ck_assert_str_eq(st->networks[0].aliases.v[0], "al");
    ck_assert_str_eq(st->extra_hosts[0].ip, "1.2.3.4");
    wpd_workflow_free(wf);
}
END_TEST

START_TEST(backend_options_user)
{
    char *json = one_step("\"on_success\":true,\"backend_options\":{\"docker\":\"invalid\"}");
    wpd_workflow *wf = parse_ok(json);
    ck_assert_str_eq(wf->stages[0].steps[0].user, "");
    ck_assert_uint_eq(wf->warnings.n, 1);
    ck_assert_str_eq(wf->warnings.v[0],
                     "hello.json: pipeline[0].steps[0].backend_options.docker: expected an "
                     "object, got a string; ignoring it (the step runs without a user)");
    wpd_workflow_free(wf);
    free(json);

    static const struct {
        const char *opts, *user;
        size_t warnings;
    } cases[] = {
        {"{\"docker\":{\"user\":1000}}", "1000", 0},
        {"{\"docker\":{\"user\":\"1000:1000\"}}", "1000:1000", 0},
        {"{\"docker\":{\"User\":\"root\"}}", "root", 0},
        {"{\"docker\":{\"USER\":\"x\",\"user\":\"y\"}}", "y", 0},
        {"{\"docker\":{\"user\":\"y\",\"USER\":\"x\"}}", "y", 0},
        {"{\"docker\":{\"user\":true}}", "1", 0},
        {"{\"docker\":{\"user\":false}}", "0", 0},
        {"{\"docker\":{\"user\":null}}", "", 0},
        {"{\"docker\":{\"user\":[\"a\"]}}", "", 1},
        {"{\"docker\":{\"other\":1}}", "", 0},
        {"{\"docker\":null}", "", 0},
        {"{\"Docker\":{\"user\":\"x\"}}", "", 0}, /* the map key is exact */
        {"{\"kubernetes\":{\"user\":\"x\"}}", "", 0},
        {"{\"docker\":[]}", "", 1},
        {"{\"docker\":{\"user\":\"a \\u0026 b\"}}", "a & b", 0},
        {"null", "", 0},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char fields[256];
        snprintf(fields, sizeof fields, "\"on_success\":true,\"backend_options\":%s",
                 cases[k].opts);
        json = one_step(fields);
        wf = parse_ok(json);
        ck_assert_msg(strcmp(wf->stages[0].steps[0].user, cases[k].user) == 0,
                      "%s: user <%s>, want <%s>", cases[k].opts, wf->stages[0].steps[0].user,
                      cases[k].user);
        ck_assert_msg(wf->warnings.n == cases[k].warnings, "%s: %zu warnings", cases[k].opts,
                      wf->warnings.n);
        wpd_workflow_free(wf);
        free(json);
    }
}
END_TEST

START_TEST(handwritten_defaults)
{
    /* no volume/network: commands steps work in the workspace; explicit
     * volumes follow the generated one; network_mode gets no network */
    wpd_workflow *wf =
        parse_ok("{\"pipeline\":[{\"steps\":[{\"name\":\"a\",\"image\":\"i\",\"on_success\":true,"
                 "\"commands\":[\"ls\"],\"volumes\":[\"/h:/c\"]},{\"name\":\"b\",\"image\":\"i\","
                 "\"on_success\":true,\"network_mode\":\"host\",\"workspace_base\":\"/ws\"}]}]}");
    const wpd_step *a = &wf->stages[0].steps[0], *b = &wf->stages[0].steps[1];
    ck_assert_str_eq(a->working_dir, "/woodpecker");
    ck_assert_uint_eq(a->volumes.n, 2);
    ck_assert_str_eq(a->volumes.v[1], "/h:/c");
    ck_assert_uint_eq(b->n_networks, 0);
    char want[64];
    snprintf(want, sizeof want, "%s:/ws", wf->volume);
    ck_assert_str_eq(b->volumes.v[0], want);
    wpd_workflow_free(wf);

    /* a document naming both (as Woodpecker's payloads do) is left alone */
    wf = parse_ok("{\"network\":\"n\",\"volume\":\"v\",\"pipeline\":[{\"steps\":[{\"name\":"
                  "\"a\",\"image\":\"i\",\"on_success\":true,\"commands\":[\"ls\"]}]}]}");
    a = &wf->stages[0].steps[0];
    ck_assert_str_eq(a->working_dir, "");
    ck_assert_str_eq(a->workspace_base, "");
    ck_assert_uint_eq(a->volumes.n, 0);
    ck_assert_uint_eq(a->n_networks, 0);
    wpd_workflow_free(wf);
}
END_TEST

START_TEST(unescape_and_nulls)
{
    char *json =
        one_step("\"on_success\":true,\"commands\":[\"a \\u0026\\u0026 b\",\"x \\u003e y\",null],"
                 "\"environment\":{\"E\":\"\\ud83d\\ude00\",\"N\":null,\"Q\":\"\\\"q\\\"\"},"
                 "\"volumes\":null,\"entrypoint\":[],\"networks\":[{\"name\":\"n\",\"aliases\":"
                 "null},{\"name\":\"m\"}],\"auth_config\":null,\"extra_hosts\":null,\"type\":null,"
                 "\"working_dir\":\"/w\\/x\"");
    wpd_workflow *wf = parse_ok(json);
    const wpd_step *st = &wf->stages[0].steps[0];
    ck_assert_uint_eq(st->commands.n, 3);
    ck_assert_str_eq(st->commands.v[0], "a && b");
    ck_assert_str_eq(st->commands.v[1], "x > y");
    ck_assert_str_eq(st->commands.v[2], "");
    ck_assert_str_eq(env_get(st, "E"), "\xF0\x9F\x98\x80");
    ck_assert_str_eq(env_get(st, "N"), "");
    ck_assert_str_eq(env_get(st, "Q"), "\"q\"");
    ck_assert_uint_eq(st->volumes.n, 1); /* only the generated workspace volume */
    ck_assert_str_eq(st->working_dir, "/w/x");
    ck_assert_uint_eq(st->entrypoint.n, 0);
    ck_assert_uint_eq(st->n_networks, 2);
    ck_assert_uint_eq(st->networks[0].aliases.n, 0);
    ck_assert_str_eq(st->networks[1].name, "m");
    ck_assert_str_eq(st->type, "");
    ck_assert_str_eq(st->working_dir, "/w/x");
    ck_assert_str_eq(st->auth_username, "");
    wpd_workflow_free(wf);
    free(json);
}
END_TEST

START_TEST(environment_order_and_duplicates)
{
    char *json =
        one_step("\"on_success\":true,\"environment\":{\"Z\":\"1\",\"A\":\"2\",\"Z\":\"3\"},"
                 "\"name\":null,\"environment\":{\"B\":\"4\",\"A\":\"5\"},"
                 "\"org_id\":-42");
    wpd_workflow *wf = parse_ok(json);
    const wpd_step *st = &wf->stages[0].steps[0];
    /* a repeated key keeps its place and takes the last value; a second
     * environment object merges into the first (Go map semantics) */
    ck_assert_uint_eq(st->environment.n, 3);
    ck_assert_str_eq(st->environment.v[0].key, "Z");
    ck_assert_str_eq(st->environment.v[0].value, "3");
    ck_assert_str_eq(st->environment.v[1].key, "A");
    ck_assert_str_eq(st->environment.v[1].value, "5");
    ck_assert_str_eq(st->environment.v[2].key, "B");
    /* null leaves a string as it was */
    ck_assert_str_eq(st->name, "a");
    ck_assert_int_eq(st->org_id, -42);
    wpd_workflow_free(wf);
    free(json);
}
END_TEST

START_TEST(load_errors)
{
    wpd_error err;
    wpd_error_clear(&err);
    const char *path = TEST_DATA_DIR "/missing.json";
    ck_assert_ptr_null(wpd_workflow_load(path, &err));
    ck_assert_int_eq(err.kind, WPD_ERR_INPUT);
    char want[1024];
    snprintf(want, sizeof want, "%s: cannot read: No such file or directory", path);
    ck_assert_str_eq(err.message, want);

    ck_assert_ptr_null(wpd_workflow_load(TEST_DATA_DIR, &err));
    ck_assert_int_eq(err.kind, WPD_ERR_INPUT);
    snprintf(want, sizeof want, "%s: cannot read: Is a directory", TEST_DATA_DIR);
    ck_assert_str_eq(err.message, want);
}
END_TEST

START_TEST(ulid_format)
{
    char a[27], b[27];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t before = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
    wpd_generate_ulid(a);
    wpd_generate_ulid(b);
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t after = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
    assert_ulid(a, 0);
    assert_ulid(b, 0);
    ck_assert_str_ne(a, b);
    ck_assert_int_le(a[0], '7'); /* 48-bit timestamp: first char holds 3 bits */
    uint64_t ms = 0;
    for (int k = 0; k < 10; k++)
        ms = ms * 32 + (uint64_t)(strchr(CROCKFORD, a[k]) - CROCKFORD);
    ck_assert_uint_ge(ms, before);
    ck_assert_uint_le(ms, after);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("workflow");
    tcase_add_test(tc, spec_example);
    tcase_add_test(tc, type_errors);
    tcase_add_test(tc, syntax_errors);
    tcase_add_test(tc, validation_errors);
    tcase_add_test(tc, defaults_and_ids);
    tcase_add_test(tc, never_runs_warning);
    tcase_add_test(tc, case_insensitive_and_unknown_keys);
    tcase_add_test(tc, backend_options_user);
    tcase_add_test(tc, unescape_and_nulls);
    tcase_add_test(tc, handwritten_defaults);
    tcase_add_test(tc, environment_order_and_duplicates);
    tcase_add_test(tc, load_errors);
    tcase_add_test(tc, ulid_format);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0;
}
