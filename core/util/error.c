/* error.c - filling and decorating wpd_error values. */
#include <stdio.h>
#include <string.h>
#include <wpdock/error.h>

int wpd_error_vset(wpd_error *err, wpd_errkind kind, int status, const char *fmt, va_list ap)
{
    if (!err)
        return -1;
    err->kind = kind;
    err->status = status;
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    return -1;
}

int wpd_error_set(wpd_error *err, wpd_errkind kind, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    wpd_error_vset(err, kind, status, fmt, ap);
    va_end(ap);
    return -1;
}

int wpd_error_prefix(wpd_error *err, const char *fmt, ...)
{
    char prefix[WPD_ERROR_MAX];
    char old[WPD_ERROR_MAX];
    va_list ap;
    if (!err)
        return -1;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->message, sizeof old);
    size_t pl = strlen(prefix);
    if (pl > sizeof err->message - 3)
        pl = sizeof err->message - 3;
    memcpy(err->message, prefix, pl);
    memcpy(err->message + pl, ": ", 2);
    size_t room = sizeof err->message - pl - 3;
    size_t ol = strnlen(old, room);
    memcpy(err->message + pl + 2, old, ol);
    err->message[pl + 2 + ol] = '\0';
    return -1;
}

void wpd_error_clear(wpd_error *err)
{
    if (!err)
        return;
    err->kind = WPD_OK;
    err->status = 0;
    err->message[0] = '\0';
}

const char *wpd_errkind_name(wpd_errkind kind)
{
    static const char *const names[] = {"ok",      "usage",    "input",  "connect",
                                        "engine",  "protocol", "plugin", "canceled",
                                        "timeout", "nomem",    "io",     "internal"};
    if ((unsigned)kind < sizeof names / sizeof names[0])
        return names[kind];
    return "unknown";
}
