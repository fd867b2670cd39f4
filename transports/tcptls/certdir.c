/* certdir.c - checks of a Docker-style TLS directory (ca.pem, cert.pem,
 * key.pem) made before any connection: the directory exists, each file is a
 * readable regular file, and its first PEM block is of the expected kind.
 * Only the first bytes of each file are read; OpenSSL parses them later. */
#include "certdir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* PEM headers come first; a file with a long text dump before them is
 * still recognised as long as its first block starts within this many
 * bytes. */
#define PEM_PEEK 16384

int tcptls_check_dir(const char *dir, const char *var, char *err, size_t errlen)
{
    struct stat st;
    if (stat(dir, &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            snprintf(err, errlen,
                     "the TLS directory %s (%s) does not exist: it must hold ca.pem, cert.pem "
                     "and key.pem",
                     dir, var);
        else
            snprintf(err, errlen, "cannot access the TLS directory %s (%s): %s", dir, var,
                     strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(err, errlen,
                 "%s (%s) is not a directory: %s must name a directory holding ca.pem, cert.pem "
                 "and key.pem",
                 dir, var, var);
        return -1;
    }
    return 0;
}

/* Read up to len-1 bytes from fd into buf and NUL-terminate; returns the
 * count, or -1 with errno set. */
static ssize_t peek(int fd, char *buf, size_t len)
{
    size_t got = 0;
    while (got < len - 1) {
        ssize_t n = read(fd, buf + got, len - 1 - got);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    buf[got] = '\0';
    return (ssize_t)got;
}

/* The label of the first "-----BEGIN <label>-----" line, or "" if none. */
static void first_label(const char *text, char *label, size_t labellen)
{
    label[0] = '\0';
    const char *b = strstr(text, "-----BEGIN ");
    if (!b)
        return;
    b += strlen("-----BEGIN ");
    const char *e = strstr(b, "-----");
    const char *nl = strchr(b, '\n');
    if (!e || (nl && nl < e) || e == b)
        return;
    snprintf(label, labellen, "%.*s", (int)(e - b), b);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int check_content(const char *text, size_t len, const char *dir, const char *name,
                         tcptls_pem_kind kind, char *err, size_t errlen)
{
    const char *what = kind == TCPTLS_PEM_KEY ? "private key" : "certificate";
    if (len == 0) {
        snprintf(err, errlen, "%s in %s is empty: it should hold a PEM %s", name, dir, what);
        return -1;
    }
    if (strlen(text) != len && !strstr(text, "-----BEGIN ")) {
        snprintf(err, errlen,
                 "%s in %s is not a PEM %s: it looks binary (DER?); convert it to PEM, e.g. "
                 "with `openssl %s -inform der`",
                 name, dir, what, kind == TCPTLS_PEM_KEY ? "pkey" : "x509");
        return -1;
    }
    char label[64];
    first_label(text, label, sizeof label);
    if (!label[0]) {
        snprintf(err, errlen, "%s in %s is not a PEM %s (it has no \"-----BEGIN\" line)", name, dir,
                 what);
        return -1;
    }
    if (kind == TCPTLS_PEM_KEY) {
        if (strstr(label, "ENCRYPTED") || strstr(text, "Proc-Type: 4,ENCRYPTED")) {
            snprintf(err, errlen,
                     "%s in %s is encrypted with a passphrase, which wpdock cannot ask for: "
                     "store it unencrypted (openssl pkey -in %s -out %s.plain)",
                     name, dir, name, name);
            return -1;
        }
        if (!ends_with(label, "PRIVATE KEY")) {
            snprintf(err, errlen, "%s in %s holds a %s, not a private key", name, dir, label);
            return -1;
        }
    } else if (!ends_with(label, "CERTIFICATE")) {
        snprintf(err, errlen, "%s in %s holds a %s, not a certificate", name, dir, label);
        return -1;
    }
    return 0;
}

int tcptls_check_pem(const char *dir, const char *name, tcptls_pem_kind kind, const char *var,
                     char *path, size_t pathlen, char *err, size_t errlen)
{
    size_t dlen = strlen(dir);
    while (dlen > 1 && dir[dlen - 1] == '/')
        dlen--;
    int n = snprintf(path, pathlen, "%.*s/%s", (int)dlen, dir, name);
    if (n < 0 || (size_t)n >= pathlen) {
        snprintf(err, errlen, "the TLS directory path (%s) is too long: at most %zu bytes", var,
                 pathlen - strlen(name) - 2);
        return -1;
    }
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno == ENOENT)
            snprintf(err, errlen,
                     "the TLS directory %s (%s) has no %s: it must hold ca.pem, cert.pem and "
                     "key.pem",
                     dir, var, name);
        else if (errno == EACCES)
            snprintf(err, errlen,
                     "cannot read %s in %s: permission denied (it must be readable by the user "
                     "running wpdock)",
                     name, dir);
        else
            snprintf(err, errlen, "cannot read %s in %s: %s", name, dir, strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s in %s is not a regular file", name, dir);
        return -1;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        if (errno == EACCES || errno == EPERM)
            snprintf(err, errlen,
                     "cannot read %s in %s: permission denied (it must be readable by the user "
                     "running wpdock)",
                     name, dir);
        else
            snprintf(err, errlen, "cannot read %s in %s: %s", name, dir, strerror(errno));
        return -1;
    }
    char buf[PEM_PEEK];
    ssize_t got = peek(fd, buf, sizeof buf);
    int saved = errno;
    close(fd);
    if (got < 0) {
        snprintf(err, errlen, "cannot read %s in %s: %s", name, dir, strerror(saved));
        return -1;
    }
    return check_content(buf, (size_t)got, dir, name, kind, err, errlen);
}
