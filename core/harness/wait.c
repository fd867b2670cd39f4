/* wait.c - wait strategies as values: constructors, modifiers, the copy a
 * run works on, and their description in failure messages. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/harness_private.h"

static wpd_wait *wnew(hx_wkind kind)
{
    wpd_wait *w = wpd_try_malloc(sizeof *w);
    if (!w)
        return NULL;
    memset(w, 0, sizeof *w);
    w->kind = kind;
    w->times = 1;
    w->lo = 200;
    w->hi = 399;
    w->interval_ms = 100;
    return w;
}

static wpd_wait *log_wait(const char *text, int times, bool regex)
{
    wpd_wait *w = wnew(HX_W_LOG);
    if (!w)
        return NULL;
    w->text = wpd_xstrdup(text ? text : "");
    w->times = times;
    w->regex = regex;
    if (regex)
        w->re_ok = regcomp(&w->re, w->text, REG_EXTENDED | REG_NOSUB) == 0;
    return w;
}

wpd_wait *wpd_wait_log(const char *substring, int times)
{
    return log_wait(substring, times, false);
}

wpd_wait *wpd_wait_log_regex(const char *posix_ere, int times)
{
    return log_wait(posix_ere, times, true);
}

static wpd_wait *port_wait(hx_wkind kind, const char *port)
{
    wpd_wait *w = wnew(kind);
    if (!w)
        return NULL;
    if (hx_port_key(port, w->port, NULL, NULL) != 0)
        w->port[0] = '\0';
    w->text = wpd_xstrdup(port ? port : "(null)");
    return w;
}

wpd_wait *wpd_wait_port(const char *port)
{
    return port_wait(HX_W_PORT, port);
}

wpd_wait *wpd_wait_http(const char *port, const char *path)
{
    wpd_wait *w = port_wait(HX_W_HTTP, port);
    if (!w)
        return NULL;
    free(w->text);
    w->text = wpd_xstrdup(path && path[0] == '/' ? path : "/");
    return w;
}

wpd_wait *wpd_wait_http_status(wpd_wait *w, int lo, int hi)
{
    if (w && w->kind == HX_W_HTTP) {
        w->lo = lo;
        w->hi = hi < lo ? lo : hi;
    }
    return w;
}

wpd_wait *wpd_wait_http_body(wpd_wait *w, const char *substring)
{
    if (w && w->kind == HX_W_HTTP) {
        free(w->body);
        w->body = substring ? wpd_xstrdup(substring) : NULL;
    }
    return w;
}

wpd_wait *wpd_wait_exec(const char *const *argv, int exit_code)
{
    wpd_wait *w = wnew(HX_W_EXEC);
    if (!w)
        return NULL;
    size_t n = 0;
    while (argv && argv[n])
        n++;
    w->argv = wpd_xcalloc(n + 1, sizeof *w->argv);
    for (size_t i = 0; i < n; i++)
        w->argv[i] = wpd_xstrdup(argv[i]);
    w->argc = n;
    w->code = exit_code;
    w->interval_ms = 200;
    return w;
}

wpd_wait *wpd_wait_exit(int exit_code)
{
    wpd_wait *w = wnew(HX_W_EXIT);
    if (w)
        w->code = exit_code;
    return w;
}

wpd_wait *wpd_wait_health(void)
{
    return wnew(HX_W_HEALTH);
}

static wpd_wait *composite(hx_wkind kind, wpd_wait *first, va_list ap)
{
    wpd_wait *w = wnew(kind);
    bool oom = !w;
    for (wpd_wait *k = first; k; k = va_arg(ap, wpd_wait *)) {
        if (!w) {
            hx_wait_free(k);
            continue;
        }
        if (k->oom)
            oom = true;
        w->kids = wpd_xrealloc(w->kids, (w->n_kids + 1) * sizeof *w->kids);
        w->kids[w->n_kids++] = k;
    }
    if (w)
        w->oom = oom;
    return w;
}

wpd_wait *wpd_wait_all(wpd_wait *first, ...)
{
    va_list ap;
    va_start(ap, first);
    wpd_wait *w = composite(HX_W_ALL, first, ap);
    va_end(ap);
    return w;
}

wpd_wait *wpd_wait_any(wpd_wait *first, ...)
{
    va_list ap;
    va_start(ap, first);
    wpd_wait *w = composite(HX_W_ANY, first, ap);
    va_end(ap);
    return w;
}

wpd_wait *wpd_wait_interval(wpd_wait *w, long ms)
{
    if (w && ms > 0)
        w->interval_ms = ms;
    return w;
}

void hx_wait_free(wpd_wait *w)
{
    if (!w)
        return;
    hx_waits_stop(w);
    if (w->t)
        wpd_timer_free(w->t);
    wpd_buf_free(&w->out);
    for (size_t i = 0; i < w->n_kids; i++)
        hx_wait_free(w->kids[i]);
    free(w->kids);
    if (w->regex && w->re_ok)
        regfree(&w->re);
    free(w->text);
    free(w->body);
    for (size_t i = 0; i < w->argc; i++)
        free(w->argv[i]);
    free(w->argv);
    free(w->why);
    free(w->exec_id);
    free(w);
}

void wpd_wait_free(wpd_wait *w)
{
    hx_wait_free(w);
}

wpd_wait *hx_wait_clone(const wpd_wait *w)
{
    wpd_wait *c = wpd_xmalloc(sizeof *c);
    memset(c, 0, sizeof *c);
    c->kind = w->kind;
    c->text = w->text ? wpd_xstrdup(w->text) : NULL;
    c->regex = w->regex;
    if (c->regex)
        c->re_ok = regcomp(&c->re, c->text, REG_EXTENDED | REG_NOSUB) == 0;
    c->times = w->times;
    memcpy(c->port, w->port, sizeof c->port);
    c->lo = w->lo;
    c->hi = w->hi;
    c->body = w->body ? wpd_xstrdup(w->body) : NULL;
    c->argv = wpd_xcalloc(w->argc + 1, sizeof *c->argv);
    for (size_t i = 0; i < w->argc; i++)
        c->argv[i] = wpd_xstrdup(w->argv[i]);
    c->argc = w->argc;
    c->code = w->code;
    c->interval_ms = w->interval_ms;
    c->n_kids = w->n_kids;
    c->kids = wpd_xcalloc(w->n_kids ? w->n_kids : 1, sizeof *c->kids);
    for (size_t i = 0; i < w->n_kids; i++) {
        c->kids[i] = hx_wait_clone(w->kids[i]);
        c->kids[i]->parent = c;
    }
    return c;
}

wpd_wait *hx_wait_tree(const wpd_spec *sp)
{
    if (!sp->n_waits)
        return NULL;
    if (sp->n_waits == 1)
        return hx_wait_clone(sp->waits[0]);
    wpd_wait *all = wnew(HX_W_ALL);
    if (!all)
        wpd_oom_raise();
    all->kids = wpd_xcalloc(sp->n_waits, sizeof *all->kids);
    for (size_t i = 0; i < sp->n_waits; i++) {
        all->kids[i] = hx_wait_clone(sp->waits[i]);
        all->kids[i]->parent = all;
    }
    all->n_kids = sp->n_waits;
    return all;
}

bool hx_wait_has(const wpd_wait *w, hx_wkind kind)
{
    if (!w)
        return false;
    if (w->kind == kind)
        return true;
    for (size_t i = 0; i < w->n_kids; i++)
        if (hx_wait_has(w->kids[i], kind))
            return true;
    return false;
}

void hx_wait_describe(const wpd_wait *w, wpd_buf *out)
{
    if (!w) {
        wpd_buf_puts(out, "no wait strategy");
        return;
    }
    switch (w->kind) {
    case HX_W_LOG:
        wpd_buf_printf(out, "log %s\"%s\" x%d (seen %d)", w->regex ? "regex " : "", w->text,
                       w->times, w->count);
        break;
    case HX_W_PORT: wpd_buf_printf(out, "port %s", w->port); break;
    case HX_W_HTTP:
        wpd_buf_printf(out, "http %s %s (status %d-%d%s%s%s)", w->port, w->text, w->lo, w->hi,
                       w->body ? ", body \"" : "", w->body ? w->body : "", w->body ? "\"" : "");
        break;
    case HX_W_EXEC:
        wpd_buf_puts(out, "exec");
        for (size_t i = 0; i < w->argc; i++)
            wpd_buf_printf(out, " %s", w->argv[i]);
        wpd_buf_printf(out, " (exit %d)", w->code);
        break;
    case HX_W_EXIT:
        if (w->code == WPD_ANY_EXIT)
            wpd_buf_puts(out, "exit (any code)");
        else
            wpd_buf_printf(out, "exit %d", w->code);
        break;
    case HX_W_HEALTH: wpd_buf_puts(out, "health"); break;
    case HX_W_ALL:
    case HX_W_ANY:
        wpd_buf_puts(out, w->kind == HX_W_ALL ? "all(" : "any(");
        for (size_t i = 0; i < w->n_kids; i++) {
            if (i)
                wpd_buf_puts(out, ", ");
            hx_wait_describe(w->kids[i], out);
        }
        wpd_buf_putc(out, ')');
        break;
    }
    if (w->state == -1 && w->why && w->kind != HX_W_ALL && w->kind != HX_W_ANY)
        wpd_buf_printf(out, " [failed: %s]", w->why);
}
