/* relay.h - connections a transport plugin dials itself (ABI 1.1
 * connect()), for the HTTP layer. libcurl 7.x cannot take a connected
 * socket from the application (CURL_SOCKOPT_ALREADY_CONNECTED is ignored,
 * curl#10626), so curl connects to a private abstract unix socket of the
 * HTTP client instead, and each connection accepted there is relayed, on
 * the reactor, to the next socket the plugin opened. */
#ifndef WPDOCK_RELAY_H
#define WPDOCK_RELAY_H

#include <stddef.h>
#include <wpdock/error.h>

#include "io/reactor.h"

typedef struct wpd_relay wpd_relay;

/* Listen on a fresh abstract unix socket; its name (without the leading
 * NUL, as CURLOPT_ABSTRACT_UNIX_SOCKET wants it) goes to name. NULL with
 * err when the socket cannot be made. */
wpd_relay *wpd_relay_new(wpd_reactor *r, char *name, size_t namelen, wpd_error *err);
/* The plugin's connected socket for the next connection curl makes (the
 * relay owns and closes it). */
void wpd_relay_push(wpd_relay *rl, int fd);
/* Closes the listener, every relayed connection and unused sockets. */
void wpd_relay_free(wpd_relay *rl);

#endif
