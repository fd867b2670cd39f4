/* testutil.c - helpers shared by the Check test programs: shell commands,
 * files and temp directories, the environment, clocks and ULIDs. The rest
 * of the harness declared in testutil.h: testutil_engine.c (the engine
 * under test, leftover checks), testutil_proc.c (child processes),
 * testutil_exec.c (wpdock exec runs and their events), testutil_wf.c
 * (workflow documents). */
#define _GNU_SOURCE
#include "testutil.h"

#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "util/buf.h"
#include "woodpecker/config.h"

int tu_run(const char *cmd, int merge_stderr, char **out)
{
    size_t n = strlen(cmd) + 16;
    char *full = malloc(n);
    snprintf(full, n, "%s%s", cmd, merge_stderr ? " 2>&1" : "");
    FILE *p = popen(full, "r");
    free(full);
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    if (p) {
        size_t r;
        while ((r = fread(buf + len, 1, cap - len - 1, p)) > 0) {
            len += r;
            if (cap - len < 2) {
                cap *= 2;
                buf = realloc(buf, cap);
            }
        }
    }
    buf[len] = '\0';
    int st = p ? pclose(p) : -1;
    if (out)
        *out = buf;
    else
        free(buf);
    if (st == -1)
        return -1;
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    if (WIFSIGNALED(st))
        return 128 + WTERMSIG(st);
    return -1;
}

char *tu_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0, r;
    char *buf = malloc(cap);
    while ((r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (cap - n < 2) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
    }
    fclose(f);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

size_t tu_count(const char *hay, const char *needle)
{
    size_t c = 0, nl = strlen(needle);
    if (!nl)
        return 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + nl, needle))
        c++;
    return c;
}

const char *tu_env(const char *name, const char *def)
{
    const char *v = getenv(name);
    return v && *v ? v : def;
}

long long tu_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long long tu_ulid_ms(const char *s)
{
    static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    long long v = 0;
    for (int i = 0; i < 10; i++) {
        char ch = s[i];
        if (ch >= 'a' && ch <= 'z')
            ch = (char)(ch - 'a' + 'A');
        const char *at = ch ? strchr(alphabet, ch) : NULL;
        if (!at)
            return -1;
        v = v * 32 + (at - alphabet);
    }
    return v;
}

void tu_ulid_lower(char out[27])
{
    wpd_generate_ulid(out);
    for (char *p = out; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
}

char *tu_mkdtemp(void)
{
    char *dir = wpd_xasprintf("%s/wpdock-test-XXXXXX", tu_env("TMPDIR", "/tmp"));
    ck_assert_msg(mkdtemp(dir) != NULL, "mkdtemp %s: %s", dir, strerror(errno));
    chmod(dir, 0755);
    return dir;
}

void tu_write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot write %s: %s", path, strerror(errno));
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

void tu_rm_rf(const char *path)
{
    if (path)
        nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}
