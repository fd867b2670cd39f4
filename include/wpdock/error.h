/* wpdock/error.h - errors as values.
 *
 * Every fallible libwpdock function returns a status (0 = ok, -1 = failed, or
 * NULL) and fills a caller-owned wpd_error with a message a user can act on.
 * Nothing in the library prints or exits on its own. */
#ifndef WPDOCK_ERROR_H
#define WPDOCK_ERROR_H

#include <stdarg.h>
#include <wpdock/export.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What kind of failure; the CLI maps these to exit codes. */
typedef enum wpd_errkind {
    WPD_OK = 0,
    WPD_ERR_USAGE,    /* bad command line or option value */
    WPD_ERR_INPUT,    /* invalid workflow file or other user input */
    WPD_ERR_CONNECT,  /* engine unreachable (socket missing, refused, TLS) */
    WPD_ERR_ENGINE,   /* the engine answered with an HTTP error (status set) */
    WPD_ERR_PROTOCOL, /* the engine answered something we cannot understand */
    WPD_ERR_PLUGIN,   /* a transport plugin was refused or failed */
    WPD_ERR_CANCELED, /* the operation was cancelled */
    WPD_ERR_TIMEOUT,  /* an operation ran out of time */
    WPD_ERR_NOMEM,    /* out of memory */
    WPD_ERR_IO,       /* local I/O (files, processes) */
    WPD_ERR_INTERNAL  /* a bug in wpdock */
} wpd_errkind;

#define WPD_ERROR_MAX 1024

typedef struct wpd_error {
    wpd_errkind kind;
    int status;                  /* HTTP status for WPD_ERR_ENGINE, else 0 */
    char message[WPD_ERROR_MAX]; /* NUL-terminated, never NULL */
} wpd_error;

/* Set *err (if err is not NULL). Always returns -1 so callers can
 * `return wpd_error_set(...)`. */
WPD_EXPORT int wpd_error_set(wpd_error *err, wpd_errkind kind, int status, const char *fmt, ...)
    WPD_PRINTF(4, 5);
WPD_EXPORT int wpd_error_vset(wpd_error *err, wpd_errkind kind, int status, const char *fmt,
                              va_list ap);
/* Prepend "prefix: " to the message, keeping kind and status. Returns -1. */
WPD_EXPORT int wpd_error_prefix(wpd_error *err, const char *fmt, ...) WPD_PRINTF(2, 3);
WPD_EXPORT void wpd_error_clear(wpd_error *err);
/* Short name of a kind, e.g. "connect". */
WPD_EXPORT const char *wpd_errkind_name(wpd_errkind kind);

#ifdef __cplusplus
}
#endif
#endif
