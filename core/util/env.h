/* env.h - how configuration code reads environment variables: through a
 * lookup function (getenv, or a test's table), never getenv directly. */
#ifndef WPDOCK_UTIL_ENV_H
#define WPDOCK_UTIL_ENV_H

/* Lookup function for environment variables (getenv, or a test's table). */
typedef const char *(*wpd_getenv_fn)(const char *name);

#endif
