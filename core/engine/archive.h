/* archive.h - copying files into and out of containers through the
 * archive endpoints, plus the small tar helpers that need no tar program
 * (see api.h for the rules every call follows).
 *
 *   PUT  /containers/{id}/archive?path=DIR  tar body -> extracted into DIR
 *   GET  /containers/{id}/archive?path=P    -> a tar of P, and its stat
 *   HEAD /containers/{id}/archive?path=P    -> the stat of P only
 *
 * The stat travels in the X-Docker-Container-Path-Stat header: base64 of
 * {"name","size","mode","mtime","linkTarget"} (Podman adds "isDir"). */
#ifndef WPDOCK_ENGINE_ARCHIVE_H
#define WPDOCK_ENGINE_ARCHIVE_H

#include "engine/api.h"
#include "util/arena.h"
#include "util/buf.h"

/* ---- put: extract a tar archive into the directory dir of a container
 * (created or running). 404: no such container, or (Docker) no such
 * directory; Podman creates a missing directory. An unreadable archive is
 * a 500 of the engine. tar is copied; len 0 fails with WPD_ERR_INPUT
 * without a request. */
wpd_call *wpd_archive_put(wpd_engine *e, const char *container, const char *dir, const void *tar,
                          size_t len, wpd_done_fn done, void *arg);

/* ---- the stat of a path in a container */
#define WPD_FILEMODE_DIR (1u << 31)     /* Go's os.ModeDir */
#define WPD_FILEMODE_SYMLINK (1u << 27) /* os.ModeSymlink */

typedef struct wpd_path_stat {
    const char *name; /* base name */
    int64_t size;
    uint32_t mode; /* Go's os.FileMode: permission bits | type bits */
    unsigned perm; /* mode & 0777 */
    bool is_dir, is_symlink;
    const char *mtime;       /* RFC 3339 */
    const char *link_target; /* Docker: "" unless a symlink; Podman: the
                                path resolved, for every file */
} wpd_path_stat;

/* The header's value (base64 JSON) -> *out, strings in a. An undecodable
 * value is a WPD_ERR_PROTOCOL error. Pure, for tests. */
int wpd_path_stat_parse(const char *value, size_t len, wpd_arena *a, wpd_path_stat *out,
                        wpd_error *err);

typedef void (*wpd_path_stat_fn)(void *arg, const wpd_path_stat *st, const wpd_error *err);
/* HEAD: the stat without the contents. 404 (WPD_ERR_ENGINE, status 404):
 * no such container or path. */
wpd_call *wpd_archive_stat(wpd_engine *e, const char *container, const char *path,
                           wpd_path_stat_fn done, void *arg);

/* ---- get: a tar archive of path (a file: one entry named after its base
 * name; a directory: the tree under its base name). */
typedef struct wpd_archive_get_cbs {
    /* the path's stat, once, before any data (a 200 answer without a
     * readable stat header fails the call with WPD_ERR_PROTOCOL) */
    void (*stat)(void *arg, const wpd_path_stat *st);
    /* tar bytes as they arrive; non-zero aborts (done: WPD_ERR_CANCELED) */
    int (*data)(void *arg, const char *data, size_t len);
    /* once, at the end; err NULL when the whole archive arrived */
    void (*done)(void *arg, const wpd_error *err);
    void *arg;
} wpd_archive_get_cbs;
/* 404: no such container or path. */
wpd_call *wpd_archive_get(wpd_engine *e, const char *container, const char *path,
                          const wpd_archive_get_cbs *cbs);

/* ---- tar helpers (pure) */

/* One regular file of an archive to build. */
typedef struct wpd_tar_file {
    const char *name; /* relative path in the archive, e.g. "dir/a.txt" */
    unsigned mode;    /* permission bits, e.g. 0644 */
    unsigned uid, gid;
    int64_t mtime; /* seconds since the epoch */
    const void *data;
    size_t len;
} wpd_tar_file;

/* Append a POSIX ustar archive holding exactly f to out: one header, the
 * contents padded to 512 bytes, two zero blocks. Names longer than 100
 * bytes are split into the prefix field at a '/'. Fails (WPD_ERR_INPUT)
 * for an empty name, a name that does not fit (255 bytes, prefix <= 155,
 * rest <= 100), or contents of 8 GiB or more; out is then unchanged. */
int wpd_tar_one_file(const wpd_tar_file *f, wpd_buf *out, wpd_error *err);

/* One entry of an archive read with wpd_tar_next. */
typedef struct wpd_tar_entry {
    const char *name;      /* full path (prefix/name, or a GNU/PAX long name) */
    const char *link_name; /* symlinks and hard links */
    char type;             /* '0' file ('\0' reads as '0'), '5' dir, '2' symlink, ... */
    unsigned mode;         /* permission bits */
    unsigned uid, gid;
    int64_t size, mtime;
    const char *data; /* size bytes inside the archive */
} wpd_tar_entry;

/* Read the entry at *off of tar[0..len) (start with *off = 0): 1 and *out
 * filled (strings in a; *off moves past the entry's data), 0 at the end of
 * the archive (a zero block, or no bytes left), -1 with err
 * (WPD_ERR_PROTOCOL) for a bad checksum, a bad number field or an entry
 * cut short. GNU long names ('L') and PAX headers ('x': path, linkpath,
 * size) apply to the entry that follows them; global headers are skipped. */
int wpd_tar_next(const char *tar, size_t len, size_t *off, wpd_arena *a, wpd_tar_entry *out,
                 wpd_error *err);

#endif
