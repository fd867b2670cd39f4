/* credentials_fixtures.h - what the credentials tests share: the expected
 * X-Registry-Auth values, a fake environment, decoding a header value, and
 * a temp dir holding a copy of the test credential helper
 * tests/helpers/docker-credential-wpdtest. */
#ifndef WPDOCK_TEST_CREDENTIALS_FIXTURES_H
#define WPDOCK_TEST_CREDENTIALS_FIXTURES_H

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/base64.h"
#include "util/buf.h"
#include "testutil.h"

#define ck_assert_contains(hay, needle)                                                            \
    ck_assert_msg(strstr((hay), (needle)) != NULL, "\"%s\" does not contain \"%s\"", (hay),        \
                  (needle))
#define ck_assert_lacks(hay, needle)                                                               \
    ck_assert_msg(strstr((hay), (needle)) == NULL, "\"%s\" contains \"%s\"", (hay), (needle))

#define HELPER_SCRIPT TEST_DATA_DIR "/../helpers/docker-credential-wpdtest"
#define SECRET "s3cr3t-value"

/* X-Registry-Auth of
 * {"username":"wpdock","password":"wpdock-pass","serveraddress":"127.0.0.1:5001"} */
#define AUTH_WPDOCK_5001                                                                           \
    "eyJ1c2VybmFtZSI6IndwZG9jayIsInBhc3N3b3JkIjoid3Bkb2NrLXBhc3MiLCJzZXJ2ZXJhZGRyZXNzIjoiMTI3LjAu" \
    "MC4xOjUwMDEifQ=="
/* {"identitytoken":"tok-123","serveraddress":"https://index.docker.io/v1/"} */
#define AUTH_TOKEN_HUB                                                                             \
    "eyJpZGVudGl0eXRva2VuIjoidG9rLTEyMyIsInNlcnZlcmFkZHJlc3MiOiJodHRwczovL2luZGV4LmRvY2tlci5pby92" \
    "MS8ifQ=="
/* {"username":"hubuser","password":"hubpass","serveraddress":"https://index.docker.io/v1/"} */
#define AUTH_HUBUSER                                                                               \
    "eyJ1c2VybmFtZSI6Imh1YnVzZXIiLCJwYXNzd29yZCI6Imh1YnBhc3MiLCJzZXJ2ZXJhZGRyZXNzIjoiaHR0cHM6Ly9p" \
    "bmRleC5kb2NrZXIuaW8vdjEvIn0="
/* {"username":"wpdtest-user","password":"s3cr3t-value","serveraddress":"helper.example.com"} */
#define AUTH_HELPER_BASIC                                                                          \
    "eyJ1c2VybmFtZSI6IndwZHRlc3QtdXNlciIsInBhc3N3b3JkIjoiczNjcjN0LXZhbHVlIiwic2VydmVyYWRkcmVzcyI6" \
    "ImhlbHBlci5leGFtcGxlLmNvbSJ9"
/* {"identitytoken":"s3cr3t-value","serveraddress":"helper.example.com"} */
#define AUTH_HELPER_TOKEN                                                                          \
    "eyJpZGVudGl0eXRva2VuIjoiczNjcjN0LXZhbHVlIiwic2VydmVyYWRkcmVzcyI6ImhlbHBlci5leGFtcGxlLmNvbSJ9"

/* ---- fake environment --------------------------------------------------- */

#define MAX_VARS 16
static const char *env_names[MAX_VARS];
static const char *env_values[MAX_VARS];
static size_t env_n;

static inline void env_reset(void)
{
    env_n = 0;
}

static inline void env_put(const char *name, const char *value)
{
    for (size_t i = 0; i < env_n; i++)
        if (strcmp(env_names[i], name) == 0) {
            env_values[i] = value;
            return;
        }
    ck_assert_uint_lt(env_n, MAX_VARS);
    env_names[env_n] = name;
    env_values[env_n++] = value;
}

static inline const char *fake_getenv(const char *name)
{
    for (size_t i = 0; i < env_n; i++)
        if (strcmp(env_names[i], name) == 0)
            return env_values[i];
    return NULL;
}

/* Decoded JSON of a header value. */
static inline char *decode_header(const char *h)
{
    wpd_buf b = WPD_BUF_INIT;
    ck_assert_int_eq(wpd_base64_decode(h, strlen(h), &b), 0);
    wpd_buf_putc(&b, '\0');
    return wpd_buf_steal(&b);
}

/* A temp dir holding a copy of the test helper (and a PATH for it). */
static char *bin_dir;

static inline void make_bin_dir(void)
{
    bin_dir = tu_mkdtemp();
    size_t len = 0;
    char *script = tu_read_file(HELPER_SCRIPT, &len);
    ck_assert_msg(script != NULL, "cannot read %s", HELPER_SCRIPT);
    char *dst = wpd_xasprintf("%s/docker-credential-wpdtest", bin_dir);
    tu_write_file(dst, script, len);
    ck_assert_int_eq(chmod(dst, 0755), 0);
    free(dst);
    free(script);
}

static inline void remove_bin_dir(void)
{
    if (bin_dir)
        tu_rm_rf(bin_dir);
    free(bin_dir);
    bin_dir = NULL;
}

#endif
