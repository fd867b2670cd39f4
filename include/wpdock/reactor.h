/* wpdock/reactor.h - the one event loop everything in wpdock runs on.
 *
 * A reactor owns one libevent event_base and one libcurl multi handle; all
 * engine requests, timers and signal handlers of a process are driven by
 * it, from the thread that calls wpd_reactor_run*. No threads are created. */
#ifndef WPDOCK_REACTOR_H
#define WPDOCK_REACTOR_H

#include <stdbool.h>
#include <wpdock/error.h>
#include <wpdock/export.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wpd_reactor wpd_reactor;
typedef struct wpd_timer wpd_timer;
typedef struct wpd_signal wpd_signal;

WPD_EXPORT wpd_reactor *wpd_reactor_new(wpd_error *err);
/* Free the reactor. Everything created on it (requests, timers, signal
 * handlers, engines) must have been freed first. */
WPD_EXPORT void wpd_reactor_free(wpd_reactor *r);

/* Run until wpd_reactor_stop() is called or nothing is left to wait for. */
WPD_EXPORT int wpd_reactor_run(wpd_reactor *r);
/* Run until *done becomes true (set by one of your callbacks). */
WPD_EXPORT int wpd_reactor_run_until(wpd_reactor *r, const volatile bool *done);
WPD_EXPORT void wpd_reactor_stop(wpd_reactor *r);

/* One-shot timers: cb runs once, ms milliseconds after wpd_timer_start (0 =
 * on the next loop iteration). Starting a pending timer re-arms it. */
typedef void (*wpd_timer_fn)(void *arg);
WPD_EXPORT wpd_timer *wpd_timer_new(wpd_reactor *r, wpd_timer_fn cb, void *arg);
WPD_EXPORT void wpd_timer_start(wpd_timer *t, long ms);
WPD_EXPORT void wpd_timer_stop(wpd_timer *t);
WPD_EXPORT bool wpd_timer_pending(const wpd_timer *t);
WPD_EXPORT void wpd_timer_free(wpd_timer *t);

/* Signal handlers run from the loop (not in signal context). */
typedef void (*wpd_signal_fn)(int signo, void *arg);
WPD_EXPORT wpd_signal *wpd_signal_new(wpd_reactor *r, int signo, wpd_signal_fn cb, void *arg);
WPD_EXPORT void wpd_signal_free(wpd_signal *s);

#ifdef __cplusplus
}
#endif
#endif
