/* test_json.c - unit tests for the JSON reader (core/json.c): validation,
 * root primitives, unescaping, lookups, numbers, token growth. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/json.h"

static int parse(wpd_json *j, const char *s, wpd_error *err)
{
    return wpd_json_parse(j, s, strlen(s), err);
}

/* Parse `s` expecting success; the caller frees. */
static void parse_ok(wpd_json *j, const char *s)
{
    wpd_error err;
    wpd_error_clear(&err);
    int rc = parse(j, s, &err);
    ck_assert_msg(rc == 0, "parse of <%s> failed: %s", s, err.message);
}

/* Parse `s` expecting failure. */
static void parse_bad(const char *s)
{
    wpd_json j;
    wpd_error err;
    wpd_error_clear(&err);
    int rc = parse(&j, s, &err);
    ck_assert_msg(rc == -1, "parse of <%s> should have failed", s);
    ck_assert_int_eq(err.kind, WPD_ERR_PROTOCOL);
    ck_assert_msg(strstr(err.message, "invalid JSON at line ") == err.message, "message: %s",
                  err.message);
    ck_assert_ptr_null(j.toks);
    ck_assert_int_eq(j.ntoks, 0);
    wpd_json_free(&j);
}

/* Unescape the JSON string literal body `raw` through a parsed document. */
static char *unescaped(const char *raw, size_t *len)
{
    wpd_json j;
    char *doc = wpd_xasprintf("\"%s\"", raw);
    parse_ok(&j, doc);
    char *s = wpd_json_strn(&j, 0, len);
    ck_assert_ptr_nonnull(s);
    wpd_json_free(&j);
    free(doc);
    return s;
}

START_TEST(unescape_go_escapes)
{
    char *s = unescaped("a \\u0026\\u0026 b", NULL);
    ck_assert_str_eq(s, "a && b");
    free(s);
    s = unescaped("\\u003cscript\\u003e", NULL);
    ck_assert_str_eq(s, "<script>");
    free(s);
    s = unescaped("caf\\u00e9 \\u20AC", NULL);
    ck_assert_str_eq(s, "caf\xC3\xA9 \xE2\x82\xAC");
    free(s);
}
END_TEST

START_TEST(unescape_simple_escapes)
{
    size_t len;
    char *s = unescaped("\\\"\\\\\\/\\b\\f\\n\\r\\t.", &len);
    ck_assert_uint_eq(len, 9);
    ck_assert_mem_eq(s, "\"\\/\b\f\n\r\t.", 9);
    free(s);
}
END_TEST

START_TEST(unescape_surrogates)
{
    size_t len;
    char *s = unescaped("\\ud83d\\ude00", &len);
    ck_assert_uint_eq(len, 4);
    ck_assert_mem_eq(s, "\xF0\x9F\x98\x80", 4);
    free(s);
    /* lone high surrogate, then a plain character */
    s = unescaped("\\ud83dx", NULL);
    ck_assert_str_eq(s, "\xEF\xBF\xBDx");
    free(s);
    /* lone low surrogate */
    s = unescaped("\\ude00", NULL);
    ck_assert_str_eq(s, "\xEF\xBF\xBD");
    free(s);
    /* high surrogate followed by a non-surrogate escape: both kept apart */
    s = unescaped("\\uD83D\\u0041", NULL);
    ck_assert_str_eq(s, "\xEF\xBF\xBD"
                        "A");
    free(s);
    /* two high surrogates then a low: first is lone, second pairs */
    s = unescaped("\\ud83d\\ud83d\\ude00", NULL);
    ck_assert_str_eq(s, "\xEF\xBF\xBD\xF0\x9F\x98\x80");
    free(s);
}
END_TEST

START_TEST(unescape_nul_and_raw)
{
    size_t len;
    char *s = unescaped("a\\u0000b", &len);
    ck_assert_uint_eq(len, 3);
    ck_assert_mem_eq(s, "a\0b", 3);
    free(s);

    /* direct calls: invalid escapes pass through, output never longer */
    char out[32];
    const char *in = "x\\q\\u12";
    size_t n = wpd_json_unescape(in, strlen(in), out);
    ck_assert_uint_eq(n, strlen(in));
    ck_assert_mem_eq(out, in, n);
    in = "\\ud800";
    n = wpd_json_unescape(in, strlen(in), out);
    ck_assert_uint_eq(n, 3);
    ck_assert_mem_eq(out, "\xEF\xBF\xBD", 3);
    in = "plain UTF-8 \xC3\xA9";
    n = wpd_json_unescape(in, strlen(in), out);
    ck_assert_uint_eq(n, strlen(in));
    ck_assert_mem_eq(out, in, n);
}
END_TEST

START_TEST(root_primitives)
{
    wpd_json j;
    int64_t v = 0;
    bool b = false;

    parse_ok(&j, "3");
    ck_assert_int_eq(j.ntoks, 1);
    ck_assert_int_eq(j.toks[0].type, WPD_JSON_NUMBER);
    ck_assert_int_eq(wpd_json_int64(&j, 0, &v), 0);
    ck_assert_int_eq(v, 3);
    wpd_json_free(&j);

    parse_ok(&j, "  42\n");
    ck_assert_int_eq(wpd_json_int64(&j, 0, &v), 0);
    ck_assert_int_eq(v, 42);
    wpd_json_free(&j);

    parse_ok(&j, "\"x\"");
    ck_assert_int_eq(j.toks[0].type, WPD_JSON_STRING);
    char *s = wpd_json_str(&j, 0);
    ck_assert_str_eq(s, "x");
    free(s);
    wpd_json_free(&j);

    parse_ok(&j, "\ttrue ");
    ck_assert_int_eq(wpd_json_bool(&j, 0, &b), 0);
    ck_assert(b);
    wpd_json_free(&j);

    parse_ok(&j, "false");
    ck_assert_int_eq(wpd_json_bool(&j, 0, &b), 0);
    ck_assert(!b);
    wpd_json_free(&j);

    parse_ok(&j, "null");
    ck_assert(wpd_json_is_null(&j, 0));
    wpd_json_free(&j);

    parse_ok(&j, "-1.5e+3");
    ck_assert_int_eq(j.toks[0].type, WPD_JSON_NUMBER);
    ck_assert_int_eq(wpd_json_int64(&j, 0, &v), -1); /* not an integer literal */
    wpd_json_free(&j);

    parse_bad("");
    parse_bad("   \n");
    parse_bad("tru");
    parse_bad("nulls");
    parse_bad("01");
    parse_bad("3 4");
    parse_bad("3,");
    parse_bad("+1");
    parse_bad("0x10");
    parse_bad("inf");
    parse_bad("\"x\" 3");
    parse_bad("\"x\" y");
}
END_TEST

START_TEST(rejects_invalid)
{
    parse_bad("[thanx]");
    parse_bad("[truex]");
    parse_bad("[nul]");
    parse_bad("{\"a\"}");
    parse_bad("{\"a\":1,}");
    parse_bad("[1,]");
    parse_bad("{\"a\"::\"b\"}");
    parse_bad("{\"a\":}");
    parse_bad("[1 2]");
    parse_bad("[1,,2]");
    parse_bad("[\"a\" \"b\"]");
    parse_bad("{\"a\":1 \"b\":2}");
    parse_bad("{\"a\" 1}");
    parse_bad("{1:2}");
    parse_bad("{\"a\":1}}");
    parse_bad("[1]]");
    parse_bad("[}");
    parse_bad("{} {}");
    parse_bad("{}x");
    parse_bad("[01]");
    parse_bad("[1.]");
    parse_bad("[.5]");
    parse_bad("[-]");
    parse_bad("[1e]");
    parse_bad("[\"a\x01\"]");
    parse_bad("[\"a\nb\"]");
    parse_bad("[\"\\q\"]");
    parse_bad("[\"\\u12G4\"]");
    parse_bad("[\"a\":1]");
    /* truncated input */
    parse_bad("{");
    parse_bad("[");
    parse_bad("{\"a\":[1,2");
    parse_bad("{\"a\":\"b");
    parse_bad("{\"a\":tr");
    parse_bad("[1,");
    parse_bad("\"abc");
    parse_bad("]");
    /* a NUL byte inside the given length */
    wpd_json j;
    wpd_error err;
    ck_assert_int_eq(wpd_json_parse(&j, "[1]\0x", 5, &err), -1);
    ck_assert_uint_eq(j.err_offset, 3);
    wpd_json_free(&j);
}
END_TEST

START_TEST(accepts_valid)
{
    wpd_json j;
    parse_ok(&j, " { \"a\" : [ 1 , -0.5e-3 , true , false , null , \"s\" , { } , [ ] ] ,\n"
                 "\t\"b\" : { \"c\" : { \"d\" : [ [ ] , { \"e\" : 0 } ] } } } \r\n");
    ck_assert_int_eq(j.toks[0].type, WPD_JSON_OBJECT);
    ck_assert_int_eq(j.toks[0].size, 2);
    int a = wpd_json_get(&j, 0, "a");
    ck_assert_int_eq(j.toks[a].size, 8);
    ck_assert_int_eq(wpd_json_type_of(&j, wpd_json_at(&j, a, 1)), WPD_JSON_NUMBER);
    ck_assert_int_eq(wpd_json_type_of(&j, wpd_json_at(&j, a, 2)), WPD_JSON_TRUE);
    ck_assert_int_eq(wpd_json_type_of(&j, wpd_json_at(&j, a, 3)), WPD_JSON_FALSE);
    ck_assert_int_eq(wpd_json_type_of(&j, wpd_json_at(&j, a, 4)), WPD_JSON_NULL);
    ck_assert_int_eq(wpd_json_type_of(&j, wpd_json_at(&j, a, 6)), WPD_JSON_OBJECT);
    ck_assert_int_eq(wpd_json_type_of(&j, wpd_json_at(&j, a, 7)), WPD_JSON_ARRAY);
    ck_assert_int_eq(wpd_json_at(&j, a, 8), -1);
    int64_t v = -1;
    ck_assert_int_eq(wpd_json_get_int64(&j, 0, "b.c.d.1.e", &v), 0);
    ck_assert_int_eq(v, 0);
    wpd_json_free(&j);

    parse_ok(&j, "{}");
    ck_assert_int_eq(j.ntoks, 1);
    wpd_json_free(&j);
    parse_ok(&j, "[[],{},[[]],{\"a\":{}}]");
    ck_assert_int_eq(j.toks[0].size, 4);
    wpd_json_free(&j);
    parse_ok(&j, "[\"\", \"\\u0000\", \"\xC3\xA9\"]");
    wpd_json_free(&j);
}
END_TEST

START_TEST(error_positions)
{
    wpd_json j;
    wpd_error err;
    ck_assert_int_eq(parse(&j, "{\"a\"}", &err), -1);
    ck_assert_str_eq(j.err_what, "expected ':' after object key");
    ck_assert_uint_eq(j.err_offset, 4);
    ck_assert_int_eq(j.err_line, 1);
    ck_assert_int_eq(j.err_col, 5);
    ck_assert_str_eq(err.message,
                     "invalid JSON at line 1, column 5 (byte 4): expected ':' after object key");

    ck_assert_int_eq(parse(&j, "{\n  \"a\": 1,\n  \"b\": thanx\n}", &err), -1);
    ck_assert_int_eq(j.err_line, 3);
    ck_assert_int_eq(j.err_col, 8);
    ck_assert_str_eq(j.err_what, "invalid literal 'thanx' (expected true, false or null)");

    ck_assert_int_eq(parse(&j, "[1 2]", &err), -1);
    ck_assert_str_eq(j.err_what, "expected ',' or ']' after array element");
    ck_assert_uint_eq(j.err_offset, 3);

    ck_assert_int_eq(parse(&j, "{\"a\":1,}", &err), -1);
    ck_assert_str_eq(j.err_what, "unexpected character ','");
    ck_assert_uint_eq(j.err_offset, 6);

    ck_assert_int_eq(parse(&j, "[1,2", &err), -1);
    ck_assert_str_eq(j.err_what, "unexpected end of input");
    ck_assert_uint_eq(j.err_offset, 4);

    ck_assert_int_eq(parse(&j, "{} []", &err), -1);
    ck_assert_str_eq(j.err_what, "unexpected data after the top-level value");
    ck_assert_uint_eq(j.err_offset, 3);

    ck_assert_int_eq(parse(&j, "[\"ab\\x\"]", &err), -1);
    ck_assert_str_eq(j.err_what, "invalid escape sequence in string");
    ck_assert_uint_eq(j.err_offset, 4);

    ck_assert_int_eq(parse(&j, "[01]", &err), -1);
    ck_assert_str_eq(j.err_what, "invalid number '01'");
    wpd_json_free(&j);
}
END_TEST

START_TEST(path_lookup)
{
    wpd_json j;
    parse_ok(&j, "{\"Id\":\"abc\",\"State\":{\"Status\":\"exited\",\"Running\":false,"
                 "\"ExitCode\":137,\"OOMKilled\":true},"
                 "\"Mounts\":[{\"Source\":\"/a\"},{\"Source\":\"/b\\/c\"}]}");
    int64_t code = 0;
    ck_assert_int_eq(wpd_json_get_int64(&j, 0, "State.ExitCode", &code), 0);
    ck_assert_int_eq(code, 137);
    int t = wpd_json_path(&j, 0, "State.ExitCode");
    ck_assert_int_ge(t, 0);
    ck_assert_int_eq(j.toks[t].type, WPD_JSON_NUMBER);
    bool b = false;
    ck_assert_int_eq(wpd_json_get_bool(&j, 0, "State.OOMKilled", &b), 0);
    ck_assert(b);
    ck_assert_int_eq(wpd_json_get_bool(&j, 0, "State.Running", &b), 0);
    ck_assert(!b);
    char *s = wpd_json_get_str(&j, 0, "Mounts.1.Source");
    ck_assert_str_eq(s, "/b/c");
    free(s);
    s = wpd_json_get_str(&j, 0, "State.Status");
    ck_assert_str_eq(s, "exited");
    free(s);
    ck_assert_ptr_null(wpd_json_get_str(&j, 0, "State.ExitCode")); /* not a string */
    ck_assert_ptr_null(wpd_json_get_str(&j, 0, "State.Missing"));
    ck_assert_int_eq(wpd_json_path(&j, 0, "State.ExitCode.X"), -1);
    ck_assert_int_eq(wpd_json_path(&j, 0, "Mounts.2.Source"), -1);
    ck_assert_int_eq(wpd_json_path(&j, 0, "Mounts.x"), -1);
    ck_assert_int_eq(wpd_json_path(&j, 0, "state.exitcode"), -1); /* exact case */
    ck_assert_int_eq(wpd_json_path(&j, 0, ""), 0);
    ck_assert_int_eq(wpd_json_path(&j, -1, "State"), -1);
    /* chaining through absent values */
    ck_assert_int_eq(wpd_json_get(&j, wpd_json_get(&j, 0, "Nope"), "x"), -1);
    ck_assert_int_eq(wpd_json_at(&j, -1, 0), -1);
    ck_assert_ptr_null(wpd_json_str(&j, -1));
    ck_assert(!wpd_json_is_null(&j, 999));
    wpd_json_free(&j);
}
END_TEST

START_TEST(keys_exact_ci_escaped)
{
    wpd_json j;
    parse_ok(&j, "{\"Name\":\"a\",\"name\":\"b\",\"a\\u0062\":1,\"k\":2,\"k\":3}");
    ck_assert(wpd_json_streq(&j, wpd_json_get(&j, 0, "Name"), "a"));
    ck_assert(wpd_json_streq(&j, wpd_json_get(&j, 0, "name"), "b"));
    ck_assert_int_eq(wpd_json_get(&j, 0, "NAME"), -1);
    /* case-insensitive: the last matching key wins, as in Go */
    ck_assert(wpd_json_streq(&j, wpd_json_get_ci(&j, 0, "NAME"), "b"));
    int64_t v = 0;
    ck_assert_int_eq(wpd_json_int64(&j, wpd_json_get(&j, 0, "ab"), &v), 0);
    ck_assert_int_eq(v, 1);
    ck_assert_int_eq(wpd_json_int64(&j, wpd_json_get(&j, 0, "k"), &v), 0);
    ck_assert_int_eq(v, 3);
    ck_assert(wpd_json_streq_ci(&j, 1, "NAME"));
    ck_assert(!wpd_json_streq(&j, 1, "NAME"));
    ck_assert(!wpd_json_streq(&j, 2, "a "));        /* value "a" */
    ck_assert_int_eq(wpd_json_get(&j, 1, "x"), -1); /* not an object */
    wpd_json_free(&j);

    parse_ok(&j, "[\"a \\u0026\\u0026 b\", 5]");
    ck_assert(wpd_json_streq(&j, 1, "a && b"));
    ck_assert(!wpd_json_streq(&j, 1, "a \\u0026\\u0026 b"));
    ck_assert(!wpd_json_streq(&j, 2, "5"));
    wpd_arena *a = wpd_arena_new();
    char *s = wpd_json_str_arena(&j, 1, a);
    ck_assert_str_eq(s, "a && b");
    ck_assert_ptr_null(wpd_json_str_arena(&j, 2, a));
    wpd_arena_free(a);
    wpd_json_free(&j);
}
END_TEST

START_TEST(int64_values)
{
    wpd_json j;
    int64_t v = 0;
    parse_ok(&j, "[4294967295, -1, 0, -0, 9223372036854775807, -9223372036854775808,"
                 " 9223372036854775808, -9223372036854775809, 1.0, 1e3, \"7\", true, null]");
    ck_assert_int_eq(wpd_json_int64(&j, wpd_json_at(&j, 0, 0), &v), 0);
    ck_assert_int_eq(v, 4294967295LL);
    ck_assert_int_eq(wpd_json_int64(&j, wpd_json_at(&j, 0, 1), &v), 0);
    ck_assert_int_eq(v, -1);
    ck_assert_int_eq(wpd_json_int64(&j, wpd_json_at(&j, 0, 2), &v), 0);
    ck_assert_int_eq(v, 0);
    ck_assert_int_eq(wpd_json_int64(&j, wpd_json_at(&j, 0, 3), &v), 0);
    ck_assert_int_eq(v, 0);
    ck_assert_int_eq(wpd_json_int64(&j, wpd_json_at(&j, 0, 4), &v), 0);
    ck_assert_int_eq(v, INT64_MAX);
    ck_assert_int_eq(wpd_json_int64(&j, wpd_json_at(&j, 0, 5), &v), 0);
    ck_assert_int_eq(v, INT64_MIN);
    v = 77;
    for (int k = 6; k <= 12; k++)
        ck_assert_msg(wpd_json_int64(&j, wpd_json_at(&j, 0, k), &v) == -1, "element %d", k);
    ck_assert_int_eq(v, 77);
    bool b;
    ck_assert_int_eq(wpd_json_bool(&j, wpd_json_at(&j, 0, 12), &b), -1);
    ck_assert(wpd_json_is_null(&j, wpd_json_at(&j, 0, 12)));
    wpd_json_free(&j);
}
END_TEST

START_TEST(skip_nested)
{
    wpd_json j;
    parse_ok(&j, "[{\"a\":[1,{\"b\":[2,[3]]}],\"c\":{}},\"after\",[[],[[]]],4]");
    /* tokens: 0 [ 1 { 2 "a" 3 [ 4 1 5 { 6 "b" 7 [ 8 2 9 [ 10 3 11 "c" 12 {} 13 "after" ... */
    ck_assert_int_eq(wpd_json_skip(&j, 1), 13);
    ck_assert(wpd_json_streq(&j, 13, "after"));
    ck_assert_int_eq(wpd_json_skip(&j, 2), 11); /* a key: skips its value too */
    ck_assert_int_eq(wpd_json_skip(&j, 3), 11);
    ck_assert_int_eq(wpd_json_skip(&j, 13), 14);
    ck_assert_int_eq(wpd_json_skip(&j, 14), 18);
    ck_assert_int_eq(wpd_json_skip(&j, 0), j.ntoks);
    ck_assert_int_eq(wpd_json_at(&j, 0, 1), 13);
    ck_assert_int_eq(wpd_json_at(&j, 0, 3), 18);
    ck_assert_int_eq(wpd_json_skip(&j, -1), -1);
    ck_assert_int_eq(j.toks[4].parent, 3);
    ck_assert_int_eq(j.toks[3].parent, 2);
    ck_assert_int_eq(j.toks[2].parent, 1);
    wpd_json_free(&j);
}
END_TEST

START_TEST(token_growth)
{
    wpd_buf b = WPD_BUF_INIT;
    wpd_buf_putc(&b, '[');
    for (int k = 0; k < 10000; k++)
        wpd_buf_printf(&b, "%s%d", k ? "," : "", k);
    wpd_buf_putc(&b, ']');
    wpd_json j;
    parse_ok(&j, b.data);
    ck_assert_int_eq(j.ntoks, 10001);
    ck_assert_int_eq(j.toks[0].size, 10000);
    int64_t v = 0;
    ck_assert_int_eq(wpd_json_int64(&j, wpd_json_at(&j, 0, 9999), &v), 0);
    ck_assert_int_eq(v, 9999);
    wpd_json_free(&j);

    /* objects of objects: 10k members with 3 tokens each */
    wpd_buf_reset(&b);
    wpd_buf_putc(&b, '{');
    for (int k = 0; k < 10000; k++)
        wpd_buf_printf(&b, "%s\"k%d\":{\"v\":%d}", k ? "," : "", k, k);
    wpd_buf_putc(&b, '}');
    parse_ok(&j, b.data);
    ck_assert_int_eq(j.ntoks, 1 + 10000 * 4);
    ck_assert_int_eq(wpd_json_get_int64(&j, 0, "k7777.v", &v), 0);
    ck_assert_int_eq(v, 7777);
    wpd_json_free(&j);

    /* nesting as deep as allowed */
    wpd_buf_reset(&b);
    for (int k = 0; k < WPD_JSON_MAX_DEPTH; k++)
        wpd_buf_puts(&b, "[1,");
    wpd_buf_putc(&b, '2');
    for (int k = 0; k < WPD_JSON_MAX_DEPTH; k++)
        wpd_buf_putc(&b, ']');
    parse_ok(&j, b.data);
    ck_assert_int_eq(j.ntoks, 2 * WPD_JSON_MAX_DEPTH + 1);
    ck_assert_int_eq(wpd_json_skip(&j, 0), 2 * WPD_JSON_MAX_DEPTH + 1);
    ck_assert_int_eq(wpd_json_skip(&j, 1), 2);
    ck_assert_int_eq(wpd_json_skip(&j, 2), 2 * WPD_JSON_MAX_DEPTH + 1);
    ck_assert_int_eq(wpd_json_skip(&j, 2 * WPD_JSON_MAX_DEPTH - 1), 2 * WPD_JSON_MAX_DEPTH);
    wpd_json_free(&j);
    wpd_buf_free(&b);
}
END_TEST

/* Fails with a message containing `what` at byte `offset` (any when -1). */
static void parse_refused(const char *s, size_t len, const char *what, size_t offset)
{
    wpd_json j;
    wpd_error err;
    wpd_error_clear(&err);
    ck_assert_int_eq(wpd_json_parse(&j, s, len, &err), -1);
    ck_assert_msg(strstr(err.message, what), "message \"%s\" lacks \"%s\"", err.message, what);
    if (offset != (size_t)-1)
        ck_assert_uint_eq(j.err_offset, offset);
    wpd_json_free(&j);
}

START_TEST(limits)
{
    /* one level too deep, counted outside strings only */
    wpd_buf b = WPD_BUF_INIT;
    wpd_buf_puts(&b, "[\"[[[[\\\"[[[\",");
    for (int k = 1; k < WPD_JSON_MAX_DEPTH; k++)
        wpd_buf_putc(&b, '[');
    parse_refused(b.data, b.len, "unexpected end of input", b.len);
    wpd_buf_reset(&b);
    for (int k = 0; k <= WPD_JSON_MAX_DEPTH; k++)
        wpd_buf_putc(&b, '[');
    for (int k = 0; k <= WPD_JSON_MAX_DEPTH; k++)
        wpd_buf_putc(&b, ']');
    parse_refused(b.data, b.len, "nested deeper than 128 levels", WPD_JSON_MAX_DEPTH);

    /* 100,000 levels: refused at once, not parsed */
    wpd_buf_reset(&b);
    for (int k = 0; k < 100000; k++)
        wpd_buf_putc(&b, '[');
    parse_refused(b.data, b.len, "nested deeper than", WPD_JSON_MAX_DEPTH);

    /* one value more than allowed */
    wpd_buf_reset(&b);
    wpd_buf_putc(&b, '[');
    for (int k = 0; k < WPD_JSON_MAX_TOKENS; k++)
        wpd_buf_puts(&b, k ? ",0" : "0");
    wpd_buf_putc(&b, ']');
    parse_refused(b.data, b.len, "more than 1048576 values", (size_t)-1);
    /* exactly the limit */
    b.len -= 3;
    b.data[b.len++] = ']';
    wpd_json j;
    wpd_error err;
    ck_assert_int_eq(wpd_json_parse(&j, b.data, b.len, &err), 0);
    ck_assert_int_eq(j.ntoks, WPD_JSON_MAX_TOKENS);
    wpd_json_free(&j);
    wpd_buf_free(&b);
}
END_TEST

START_TEST(type_names)
{
    ck_assert_str_eq(wpd_json_type_name(WPD_JSON_ARRAY), "array");
    ck_assert_str_eq(wpd_json_type_name(WPD_JSON_FALSE), "boolean");
    ck_assert_str_eq(wpd_json_type_name(WPD_JSON_NULL), "null");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("json");
    TCase *tc = tcase_create("reader");
    tcase_add_test(tc, unescape_go_escapes);
    tcase_add_test(tc, unescape_simple_escapes);
    tcase_add_test(tc, unescape_surrogates);
    tcase_add_test(tc, unescape_nul_and_raw);
    tcase_add_test(tc, root_primitives);
    tcase_add_test(tc, rejects_invalid);
    tcase_add_test(tc, accepts_valid);
    tcase_add_test(tc, error_positions);
    tcase_add_test(tc, path_lookup);
    tcase_add_test(tc, keys_exact_ci_escaped);
    tcase_add_test(tc, int64_values);
    tcase_add_test(tc, skip_nested);
    tcase_add_test(tc, token_growth);
    tcase_add_test(tc, limits);
    tcase_add_test(tc, type_names);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0;
}
