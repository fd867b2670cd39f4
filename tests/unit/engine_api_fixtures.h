/* engine_api_fixtures.h - what the Engine API answer tests share: the
 * recorded answers in tests/data/api/ (a whole file, one line of a
 * JSON-lines file, an engine's recorded error answer of an operation),
 * label lookup, and assertions on protocol errors. */
#ifndef WPDOCK_TEST_ENGINE_API_FIXTURES_H
#define WPDOCK_TEST_ENGINE_API_FIXTURES_H

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/api.h"
#include "engine/engine.h"
#include "util/buf.h"
#include "util/json.h"
#include "testutil.h"

#define ck_assert_contains(hay, needle)                                                            \
    ck_assert_msg(strstr((hay), (needle)) != NULL, "\"%s\" does not contain \"%s\"", (hay),        \
                  (needle))

/* ---- helpers ------------------------------------------------------------ */

static inline char *data_file(const char *name, size_t *len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/api/%s", TEST_DATA_DIR, name);
    char *s = tu_read_file(path, len);
    ck_assert_msg(s != NULL, "cannot read %s", path);
    return s;
}

/* Line n (0-based) of a JSON-lines file, malloc'd. */
static inline char *data_line(const char *name, int n)
{
    char *all = data_file(name, NULL);
    char *p = all;
    for (int i = 0; i < n && p; i++) {
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    ck_assert_msg(p && *p, "%s has no line %d", name, n);
    char *out = wpd_xstrndup(p, strcspn(p, "\n"));
    free(all);
    return out;
}

static inline const char *label(const wpd_pair *v, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].key, key) == 0)
            return v[i].value;
    return NULL;
}

static inline void protocol_error(const wpd_error *err, const char *what)
{
    ck_assert_msg(err->kind == WPD_ERR_PROTOCOL, "%s: kind %s (%s)", what,
                  wpd_errkind_name(err->kind), err->message);
    ck_assert_msg(err->message[0], "%s: empty message", what);
}

/* The recorded error answer `op` of an engine: status and error value. */
static inline long recorded_error(const char *engine, const char *op, wpd_error *err)
{
    char file[64];
    snprintf(file, sizeof file, "%s-errors.jsonl", engine);
    char *all = data_file(file, NULL);
    long status = -1;
    for (char *line = strtok(all, "\n"); line && status < 0; line = strtok(NULL, "\n")) {
        wpd_json j;
        wpd_error perr;
        ck_assert_msg(wpd_json_parse(&j, line, strlen(line), &perr) == 0, "%s: %s", file,
                      perr.message);
        char *name = wpd_json_get_str(&j, 0, "op");
        if (name && strcmp(name, op) == 0) {
            int64_t st = 0;
            ck_assert_int_eq(wpd_json_get_int64(&j, 0, "status", &st), 0);
            size_t blen = 0;
            char *body = wpd_json_strn(&j, wpd_json_get(&j, 0, "body"), &blen);
            status = (long)st;
            if (status >= 400)
                wpd_engine_error_from_body(status, "application/json", body, blen, err);
            free(body);
        }
        free(name);
        wpd_json_free(&j);
    }
    free(all);
    ck_assert_msg(status >= 0, "%s has no answer %s", file, op);
    return status;
}

#endif
