/* test_convert_rows.c - unit tests for the container create body of
 * core/convert.c, row by row: container names, the networks a step joins
 * (2.3.6), options (7.1), environment and volumes (7.2), devices, tmpfs,
 * DNS and extra hosts, limits and the fixed HostConfig fields. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "woodpecker/convert.h"
#include "util/json.h"
#include "woodpecker/settings.h"
#include "convert_fixtures.h"

/* ---- names and small bodies ------------------------------------------- */

START_TEST(container_names)
{
    wpd_step s;
    wpd_buf b = WPD_BUF_INIT;
    step_init(&s, "x", "f51821af-4cb8-435e-a3c2-3a684185d828");
    wpd_container_name(&s, &b);
    ck_assert_str_eq(wpd_buf_cstr(&b), "wp_f51821af-4cb8-435e-a3c2-3a684185d828");
    wpd_buf_reset(&b);
    s.uuid = "d841ee40-e66e-4275-bb3f-55bf89744b21";
    wpd_container_name(&s, &b);
    ck_assert_str_eq(wpd_buf_cstr(&b), "wp_d841ee40-e66e-4275-bb3f-55bf89744b21");
    wpd_buf_free(&b);
}
END_TEST

/* 2.3.6: the networks a step joins; the first is joined in the create
 * body (NetworkingConfig), the others are connected after create. */
START_TEST(network_joins)
{
    wpd_step s;
    step_init(&s, "svc", "u9");
    wpd_conn nets[2] = {{"wp_net", SL("svc", "database")}, {"extra", SL()}};
    s.networks = nets;
    s.n_networks = 2;
    wpd_settings st;
    settings_init(&st);
    st.network = "global";
    wpd_join j[4];
    ck_assert_uint_eq(wpd_convert_joins(&s, &st, j, 4), 3);
    ck_assert_str_eq(j[0].network, "wp_net");
    ck_assert_uint_eq(j[0].aliases->n, 2);
    ck_assert_str_eq(j[1].network, "extra");
    ck_assert_uint_eq(j[1].aliases->n, 0);
    ck_assert_str_eq(j[2].network, "global");
    ck_assert_ptr_null(j[2].aliases);
    ck_assert_uint_eq(wpd_convert_joins(&s, &st, NULL, 0), 3);

    body b;
    body_make(&b, &s, NULL, 0, &st);
    int ep = wpd_json_path(&b.j, 0, "NetworkingConfig.EndpointsConfig");
    ck_assert_int_eq(wpd_json_type_of(&b.j, ep), WPD_JSON_OBJECT);
    ck_assert_int_eq(b.j.toks[ep].size, 1);
    const char *al[] = {"svc", "database"};
    assert_key_strarr(&b.j, wpd_json_get(&b.j, ep, "wp_net"), "Aliases", al, 2);
    assert_absent(&b.j, b.hc, "NetworkMode");
    body_free(&b);

    /* the agent's network alone: joined without EndpointConfig aliases */
    s.n_networks = 0;
    body_make(&b, &s, NULL, 0, &st);
    int g = wpd_json_path(&b.j, 0, "NetworkingConfig.EndpointsConfig.global");
    ck_assert_int_eq(wpd_json_type_of(&b.j, g), WPD_JSON_OBJECT);
    ck_assert_int_eq(b.j.toks[g].size, 0);
    body_free(&b);

    /* an empty alias list is sent as null, as in the connect body */
    s.networks = &nets[1];
    s.n_networks = 1;
    body_make(&b, &s, NULL, 0, NULL);
    int x = wpd_json_path(&b.j, 0, "NetworkingConfig.EndpointsConfig.extra.Aliases");
    ck_assert(wpd_json_is_null(&b.j, x));
    body_free(&b);

    /* network_mode: no networks are joined at all */
    s.network_mode = "host";
    ck_assert_uint_eq(wpd_convert_joins(&s, &st, j, 4), 0);
    body_make(&b, &s, NULL, 0, &st);
    assert_absent(&b.j, 0, "NetworkingConfig");
    body_free(&b);

    /* no networks, no option: nothing */
    step_init(&s, "plain", "u10");
    body_make(&b, &s, NULL, 0, NULL);
    assert_absent(&b.j, 0, "NetworkingConfig");
    body_free(&b);
}
END_TEST

/* ---- 7.1 options ------------------------------------------------------ */

START_TEST(apparmor_option)
{
    wpd_step s;
    step_init(&s, "a", "u1");
    wpd_settings st;
    settings_init(&st);
    st.apparmor = "osgeo-woodie";
    body b;
    body_make(&b, &s, NULL, 0, &st);
    const char *want[] = {"apparmor=osgeo-woodie"};
    assert_key_strarr(&b.j, b.hc, "SecurityOpt", want, 1);
    body_free(&b);

    st.apparmor = NULL;
    body_make(&b, &s, NULL, 0, &st);
    assert_absent(&b.j, b.hc, "SecurityOpt");
    body_free(&b);
}
END_TEST

START_TEST(dedupe_binds)
{
    wpd_step s;
    step_init(&s, "a", "u1");
    s.volumes = SL("a", "", "b", "a");
    body b;
    body_make(&b, &s, NULL, 0, NULL);
    const char *want[] = {"a", "b"};
    assert_key_strarr(&b.j, b.hc, "Binds", want, 2);
    body_free(&b);

    /* Agent volumes are appended after the step's, duplicates removed. */
    wpd_settings st;
    settings_init(&st);
    st.volumes = SL("/etc/ssl/certs:/etc/ssl/certs:ro", "x:/x", "/etc/timezone:/etc/timezone");
    s.volumes = SL("x:/x", "/etc/ssl/certs:/etc/ssl/certs:ro");
    body_make(&b, &s, NULL, 0, &st);
    const char *want2[] = {"x:/x", "/etc/ssl/certs:/etc/ssl/certs:ro",
                           "/etc/timezone:/etc/timezone"};
    assert_key_strarr(&b.j, b.hc, "Binds", want2, 3);
    /* Config.Volumes only has the step's own destinations. */
    const char *vols[] = {"/x", "/etc/ssl/certs"};
    assert_key_set(&b.j, 0, "Volumes", vols, 2);
    body_free(&b);

    /* No volumes anywhere: no Binds. */
    s.volumes = (wpd_strlist){NULL, 0};
    body_make(&b, &s, NULL, 0, NULL);
    assert_absent(&b.j, b.hc, "Binds");
    body_free(&b);
}
END_TEST

/* ---- 7.2 environment and volumes --------------------------------------- */

START_TEST(env_rows_in_body)
{
    wpd_step s;
    step_init(&s, "p", "u2");
    body b;
    body_make(&b, &s, NULL, 0, NULL);
    assert_absent(&b.j, 0, "Env");
    body_free(&b);

    wpd_kv e1[] = {{"A", "B"}};
    body_make(&b, &s, e1, 1, NULL);
    const char *w1[] = {"A=B"};
    assert_key_strarr(&b.j, 0, "Env", w1, 1);
    body_free(&b);

    wpd_kv e2[] = {{"A", "B=C"}, {"", "Z"}, {"T", "T"}};
    body_make(&b, &s, e2, 3, NULL);
    const char *w2[] = {"A=B=C", "T=T"};
    assert_key_strarr(&b.j, 0, "Env", w2, 2);
    body_free(&b);

    /* Only an empty key: Env omitted. */
    wpd_kv e3[] = {{"", "Z"}};
    body_make(&b, &s, e3, 1, NULL);
    assert_absent(&b.j, 0, "Env");
    body_free(&b);
}
END_TEST

START_TEST(volume_rows_in_body)
{
    wpd_step s;
    step_init(&s, "p", "u2");
    body b;
    body_make(&b, &s, NULL, 0, NULL);
    assert_absent(&b.j, 0, "Volumes");
    body_free(&b);

    s.volumes = SL("test:/test");
    body_make(&b, &s, NULL, 0, NULL);
    const char *w[] = {"/test"};
    assert_key_set(&b.j, 0, "Volumes", w, 1);
    const char *binds[] = {"test:/test"};
    assert_key_strarr(&b.j, b.hc, "Binds", binds, 1);
    body_free(&b);

    /* Entries without a destination add nothing to Volumes. */
    s.volumes = SL("/only", "vol:/b:ro", "cache:/b");
    body_make(&b, &s, NULL, 0, NULL);
    const char *w2[] = {"/b"};
    assert_key_set(&b.j, 0, "Volumes", w2, 1);
    body_free(&b);
}
END_TEST

START_TEST(agent_volumes_in_body)
{
    wpd_step s;
    step_init(&s, "p", "u2");
    wpd_settings st;
    settings_init(&st);
    st.volumes = SL("/etc/ssl/certs:/etc/ssl/certs:ro", "/etc/timezone:/etc/timezone");
    body b;
    body_make(&b, &s, NULL, 0, &st);
    const char *w[] = {"/etc/ssl/certs:/etc/ssl/certs:ro", "/etc/timezone:/etc/timezone"};
    assert_key_strarr(&b.j, b.hc, "Binds", w, 2);
    assert_absent(&b.j, 0, "Volumes");
    body_free(&b);
}
END_TEST

START_TEST(device_rows)
{
    wpd_step s;
    step_init(&s, "p", "u3");
    s.devices = SL("/dev/sdc");
    body b;
    body_make(&b, &s, NULL, 0, NULL);
    assert_absent(&b.j, b.hc, "Devices");
    body_free(&b);

    s.devices = SL("/dev/sdc:/dev/xvdc:r", "/dev/null");
    body_make(&b, &s, NULL, 0, NULL);
    int d = wpd_json_get(&b.j, b.hc, "Devices");
    ck_assert_int_eq(wpd_json_type_of(&b.j, d), WPD_JSON_ARRAY);
    ck_assert_int_eq(b.j.toks[d].size, 1);
    int d0 = wpd_json_at(&b.j, d, 0);
    ck_assert_int_eq(b.j.toks[d0].size, 3);
    assert_key_str(&b.j, d0, "PathOnHost", "/dev/sdc");
    assert_key_str(&b.j, d0, "PathInContainer", "/dev/xvdc");
    assert_key_str(&b.j, d0, "CgroupPermissions", "rwm");
    body_free(&b);
}
END_TEST

START_TEST(tmpfs_rows)
{
    wpd_step s;
    step_init(&s, "p", "u4");
    body b;
    body_make(&b, &s, NULL, 0, NULL);
    assert_absent(&b.j, b.hc, "Tmpfs");
    body_free(&b);

    s.tmpfs = SL("/tmp", "/run:size=64m");
    body_make(&b, &s, NULL, 0, NULL);
    int t = wpd_json_get(&b.j, b.hc, "Tmpfs");
    ck_assert_int_eq(b.j.toks[t].size, 2);
    assert_key_str(&b.j, t, "/tmp", "");
    assert_key_str(&b.j, t, "/run", "size=64m");
    body_free(&b);

    s.tmpfs = SL("/run:rw,noexec,size=65536k", "/cache:");
    body_make(&b, &s, NULL, 0, NULL);
    t = wpd_json_get(&b.j, b.hc, "Tmpfs");
    ck_assert_int_eq(b.j.toks[t].size, 2);
    assert_key_str(&b.j, t, "/run", "rw,noexec,size=65536k");
    assert_key_str(&b.j, t, "/cache", "");
    body_free(&b);
}
END_TEST

START_TEST(tmpfs_without_path_rejected)
{
    wpd_step s;
    step_init(&s, "p", "u4");
    s.tmpfs = SL("/tmp", ":size=1m");
    wpd_settings st;
    settings_init(&st);
    wpd_error err = {0};
    ck_assert_ptr_null(wpd_convert_create_body(&s, NULL, 0, &st, &err));
    ck_assert_int_eq(err.kind, WPD_ERR_INPUT);
    ck_assert_str_eq(err.message, "invalid tmpfs entry \":size=1m\": missing the mount path");
}
END_TEST

START_TEST(dns_and_hosts)
{
    wpd_step s;
    step_init(&s, "p", "u5");
    s.dns = SL("1.1.1.1", "2001:db8::1");
    s.dns_search = SL("example.com");
    wpd_hostalias hosts[] = {{"registry.local", "10.0.0.5"}, {"v6", "::1"}};
    s.extra_hosts = hosts;
    s.n_extra_hosts = 2;
    s.network_mode = "host";
    s.privileged = 1;
    body b;
    body_make(&b, &s, NULL, 0, NULL);
    const char *dns[] = {"1.1.1.1", "2001:db8::1"};
    assert_key_strarr(&b.j, b.hc, "Dns", dns, 2);
    const char *search[] = {"example.com"};
    assert_key_strarr(&b.j, b.hc, "DnsSearch", search, 1);
    const char *eh[] = {"registry.local:10.0.0.5", "v6:::1"};
    assert_key_strarr(&b.j, b.hc, "ExtraHosts", eh, 2);
    assert_key_str(&b.j, b.hc, "NetworkMode", "host");
    assert_key_bool(&b.j, b.hc, "Privileged", true);
    body_free(&b);

    step_init(&s, "p", "u5");
    body_make(&b, &s, NULL, 0, NULL);
    assert_absent(&b.j, b.hc, "Dns");
    assert_absent(&b.j, b.hc, "DnsSearch");
    assert_absent(&b.j, b.hc, "ExtraHosts");
    assert_absent(&b.j, b.hc, "NetworkMode");
    assert_key_bool(&b.j, b.hc, "Privileged", false);
    body_free(&b);
}
END_TEST

START_TEST(dns_invalid)
{
    wpd_step s;
    step_init(&s, "p", "u5");
    s.dns = SL("1.1.1.1", "dns.google");
    wpd_settings st;
    settings_init(&st);
    wpd_error err = {0};
    ck_assert_ptr_null(wpd_convert_create_body(&s, NULL, 0, &st, &err));
    ck_assert_int_eq(err.kind, WPD_ERR_INPUT);
    const char *prefix = "could not parse DNS address [dns.google]: ";
    ck_assert_msg(strncmp(err.message, prefix, strlen(prefix)) == 0, "%s", err.message);

    s.dns = SL("1.1.1.256");
    ck_assert_ptr_null(wpd_convert_create_body(&s, NULL, 0, &st, &err));
    ck_assert_ptr_nonnull(strstr(err.message, "[1.1.1.256]"));
}
END_TEST

START_TEST(limits_and_fixed_host_fields)
{
    wpd_step s;
    step_init(&s, "p", "u6");
    wpd_settings st;
    settings_init(&st);
    st.mem = 1073741824;
    st.mem_swap = -1;
    st.cpu_quota = 50000;
    st.cpu_shares = 512;
    st.cpu_set = "1,2";
    st.shm_size = 67108864;
    body b;
    body_make(&b, &s, NULL, 0, &st);
    assert_key_int(&b.j, b.hc, "Memory", 1073741824);
    assert_key_int(&b.j, b.hc, "MemorySwap", -1);
    assert_key_int(&b.j, b.hc, "CpuQuota", 50000);
    assert_key_int(&b.j, b.hc, "CpuShares", 512);
    assert_key_str(&b.j, b.hc, "CpusetCpus", "1,2");
    assert_key_int(&b.j, b.hc, "ShmSize", 67108864);
    int lc = wpd_json_get(&b.j, b.hc, "LogConfig");
    assert_key_str(&b.j, lc, "Type", "json-file");
    ck_assert(wpd_json_is_null(&b.j, wpd_json_get(&b.j, lc, "Config")));
    body_free(&b);

    settings_init(&st);
    body_make(&b, &s, NULL, 0, &st);
    assert_key_int(&b.j, b.hc, "Memory", 0);
    assert_key_str(&b.j, b.hc, "CpusetCpus", "");
    body_free(&b);
}
END_TEST

static Suite *convert_rows_suite(void)
{
    Suite *s = suite_create("convert_rows");
    TCase *tc = tcase_create("bodies");
    tcase_add_test(tc, container_names);
    tcase_add_test(tc, network_joins);
    tcase_add_test(tc, apparmor_option);
    tcase_add_test(tc, dedupe_binds);
    tcase_add_test(tc, env_rows_in_body);
    tcase_add_test(tc, volume_rows_in_body);
    tcase_add_test(tc, agent_volumes_in_body);
    tcase_add_test(tc, device_rows);
    tcase_add_test(tc, tmpfs_rows);
    tcase_add_test(tc, tmpfs_without_path_rejected);
    tcase_add_test(tc, dns_and_hosts);
    tcase_add_test(tc, dns_invalid);
    tcase_add_test(tc, limits_and_fixed_host_fields);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(convert_rows_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0;
}
