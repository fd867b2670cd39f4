/* govalues.c - Go's strconv.ParseBool, time.ParseDuration and the agent's
 * label-list check, for reading the Woodpecker agent's options. */
#include "govalues.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int go_parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
    static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (strcmp(s, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcmp(s, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -1;
}

int go_parse_int(const char *s, long *out)
{
    const char *p = s;
    if (*p == '+' || *p == '-')
        p++;
    if (*p < '0' || *p > '9')
        return -1;
    for (const char *q = p; *q; q++)
        if (*q < '0' || *q > '9')
            return -1;
    errno = 0;
    char *end;
    long v = strtol(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

/* ------------------------------------------------------------ durations */

#define DUR_MAX ((uint64_t)1 << 63)

/* Leading digits of *s into *v; -1 on overflow (Go's leadingInt). */
static int leading_int(const char **s, uint64_t *v)
{
    uint64_t x = 0;
    const char *p = *s;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (x > DUR_MAX / 10)
            return -1;
        x = x * 10 + (uint64_t)(*p - '0');
        if (x > DUR_MAX)
            return -1;
    }
    *s = p;
    *v = x;
    return 0;
}

/* Leading digits of *s as a fraction: *v / *scale; digits beyond what fits
 * are consumed and dropped (Go's leadingFraction). */
static void leading_fraction(const char **s, uint64_t *v, double *scale)
{
    uint64_t x = 0;
    double sc = 1;
    bool overflow = false;
    const char *p = *s;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (overflow)
            continue;
        if (x > (DUR_MAX - 1) / 10) {
            overflow = true;
            continue;
        }
        uint64_t y = x * 10 + (uint64_t)(*p - '0');
        if (y > DUR_MAX) {
            overflow = true;
            continue;
        }
        x = y;
        sc *= 10;
    }
    *s = p;
    *v = x;
    *scale = sc;
}

static uint64_t unit_ns(const char *u, size_t n)
{
    static const struct {
        const char *name;
        uint64_t ns;
    } units[] = {
        {"ns", 1},
        {"us", 1000},
        {"\xc2\xb5s", 1000}, /* U+00B5 micro sign */
        {"\xce\xbcs", 1000}, /* U+03BC Greek mu */
        {"ms", 1000000},
        {"s", 1000000000ULL},
        {"m", 60ULL * 1000000000ULL},
        {"h", 3600ULL * 1000000000ULL},
    };
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strlen(units[i].name) == n && memcmp(units[i].name, u, n) == 0)
            return units[i].ns;
    return 0;
}

int go_parse_duration(const char *orig, int64_t *ns, char *why, size_t whylen)
{
    const char *s = orig;
    bool neg = false;
    if (*s == '-' || *s == '+') {
        neg = *s == '-';
        s++;
    }
    if (strcmp(s, "0") == 0) {
        *ns = 0;
        return 0;
    }
    if (!*s)
        goto invalid;
    uint64_t d = 0;
    while (*s) {
        if (!(*s == '.' || (*s >= '0' && *s <= '9')))
            goto invalid;
        const char *start = s;
        uint64_t v = 0, f = 0;
        double scale = 1;
        if (leading_int(&s, &v) != 0)
            goto invalid;
        bool pre = s != start, post = false;
        if (*s == '.') {
            s++;
            const char *fs = s;
            leading_fraction(&s, &f, &scale);
            post = s != fs;
        }
        if (!pre && !post)
            goto invalid;
        const char *u = s;
        while (*s && *s != '.' && !(*s >= '0' && *s <= '9'))
            s++;
        if (s == u) {
            snprintf(why, whylen, "missing unit in duration");
            return -1;
        }
        uint64_t unit = unit_ns(u, (size_t)(s - u));
        if (!unit) {
            snprintf(why, whylen, "unknown unit \"%.*s\" in duration", (int)(s - u), u);
            return -1;
        }
        if (v > DUR_MAX / unit)
            goto invalid;
        v *= unit;
        if (f > 0) {
            v += (uint64_t)((double)f * ((double)unit / scale));
            if (v > DUR_MAX)
                goto invalid;
        }
        d += v;
        if (d > DUR_MAX)
            goto invalid;
    }
    if (neg) {
        *ns = d == DUR_MAX ? INT64_MIN : -(int64_t)d;
        return 0;
    }
    if (d > DUR_MAX - 1)
        goto invalid;
    *ns = (int64_t)d;
    return 0;
invalid:
    snprintf(why, whylen, "invalid duration");
    return -1;
}

/* ------------------------------------------------------------ labels */

int go_parse_labels(const char *s, char ***items, size_t *n, char *errbuf, size_t errlen)
{
    size_t len = strlen(s), sp = strspn(s, " \t");
    if (sp == len)
        return 0;
    const char *p = s;
    for (;;) {
        const char *comma = strchr(p, ',');
        const char *end = comma ? comma : p + strlen(p);
        const char *b = p, *e = end;
        while (b < e && (*b == ' ' || *b == '\t'))
            b++;
        while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        if (b == e) {
            snprintf(errbuf, errlen, "empty string in slice");
            return -1;
        }
        const char *eq = memchr(b, '=', (size_t)(e - b));
        if (!eq || eq == b || eq + 1 == e) {
            size_t kl = eq ? (size_t)(eq - b) : (size_t)(e - b);
            snprintf(errbuf, errlen, "key '%.*s' does not have a value assigned", (int)kl, b);
            return -1;
        }
        char **v = realloc(*items, (*n + 2) * sizeof **items);
        if (!v)
            abort();
        *items = v;
        v[*n] = strndup(b, (size_t)(e - b));
        if (!v[*n])
            abort();
        v[++*n] = NULL;
        if (!comma)
            return 0;
        p = comma + 1;
    }
}
