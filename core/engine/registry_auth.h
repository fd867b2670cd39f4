/* registry_auth.h - the X-Registry-Auth value of image pulls. No I/O. */
#ifndef WPDOCK_ENGINE_REGISTRY_AUTH_H
#define WPDOCK_ENGINE_REGISTRY_AUTH_H

/* Registry auth header value (spec 2.3.4, 7.3): base64url with padding of
 * the compact JSON {"username":..,"password":..[,"serveraddress":..]},
 * escaped the way Go's encoder does (including \u003c \u003e \u0026).
 * wpd_registry_auth returns NULL unless user and password are both
 * non-empty; wpd_registry_auth_encode always encodes, omitting empty or
 * NULL fields (so two empty values give "e30="). Both malloc'd. */
char *wpd_registry_auth(const char *user, const char *password, const char *serveraddress);
char *wpd_registry_auth_encode(const char *user, const char *password, const char *serveraddress);

#endif
