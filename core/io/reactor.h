/* reactor.h - internal side of the reactor: access to the event_base and
 * the curl multi handle for the HTTP layer. */
#ifndef WPDOCK_CORE_REACTOR_H
#define WPDOCK_CORE_REACTOR_H

#include <curl/curl.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <wpdock/reactor.h>

struct event_base *wpd_reactor_base(wpd_reactor *r);
CURLM *wpd_reactor_multi(wpd_reactor *r);
/* Code runs while wpd_reactor_run* runs only from the loop's callbacks:
 * true there (blocking helpers refuse to run the loop again). */
bool wpd_reactor_in_callback(const wpd_reactor *r);

/* Every easy handle added to the reactor's multi handle must carry, as
 * CURLOPT_PRIVATE, a pointer to a struct whose first member is this: the
 * reactor calls it (outside any curl callback) when the transfer is done;
 * the callee removes the handle from the multi. */
typedef struct wpd_transfer_hook {
    void (*complete)(void *self, CURLcode result);
} wpd_transfer_hook;

#endif
