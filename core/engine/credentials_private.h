/* credentials_private.h - small helpers shared by credentials.c (hosts,
 * config.json selection, header values, environment) and
 * credentials_helper.c (credential helpers and the asynchronous
 * resolution); not for use elsewhere. */
#ifndef WPDOCK_CREDENTIALS_PRIVATE_H
#define WPDOCK_CREDENTIALS_PRIVATE_H

#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/env.h"

/* Zero a buffer that held a secret, then free it. */
static inline void wpd_cred_wipe_buf(wpd_buf *b)
{
    if (b->data)
        explicit_bzero(b->data, b->len);
    wpd_buf_free(b);
}

/* Only white space (or nothing)? */
static inline bool wpd_cred_blank(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!isspace((unsigned char)s[i]))
            return false;
    return true;
}

/* A variable's value through lookup (NULL = getenv); NULL when unset or empty. */
static inline const char *wpd_cred_env_get(wpd_getenv_fn lookup, const char *name)
{
    const char *v = lookup ? lookup(name) : getenv(name);
    return v && *v ? v : NULL;
}

#endif
