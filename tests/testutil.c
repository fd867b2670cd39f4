/* testutil.c - helpers shared by the Check test programs. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

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
