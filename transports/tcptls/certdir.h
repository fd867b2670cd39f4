/* certdir.h - checks of a Docker-style TLS directory (ca.pem, cert.pem,
 * key.pem) made before any connection, so a wrong path or a wrong file gets
 * an error that names it. */
#ifndef TCPTLS_CERTDIR_H
#define TCPTLS_CERTDIR_H

#include <stddef.h>

typedef enum tcptls_pem_kind {
    TCPTLS_PEM_CERT, /* one or more certificates (ca.pem, cert.pem) */
    TCPTLS_PEM_KEY   /* an unencrypted private key (key.pem) */
} tcptls_pem_kind;

/* `dir` (configured through the variable `var`) exists and is a directory.
 * Returns 0, or -1 with a message in err. */
int tcptls_check_dir(const char *dir, const char *var, char *err, size_t errlen);

/* dir/name exists, is a readable regular file and holds PEM data of the
 * given kind. Writes the file's path into path (pathlen bytes). Returns 0,
 * or -1 with a message in err naming the file and the directory. */
int tcptls_check_pem(const char *dir, const char *name, tcptls_pem_kind kind, const char *var,
                     char *path, size_t pathlen, char *err, size_t errlen);

#endif
