/* archive.c - archive calls (put, stat, get) and the one-file ustar
 * builder and entry reader. */
#include "engine/archive.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/call.h"
#include "engine/parse.h"
#include "util/base64.h"

#define STAT_HEADER "x-docker-container-path-stat"

/* "/containers/<container>/archive?path=<path>" */
static void archive_path(wpd_buf *p, const char *container, const char *path)
{
    wpd_buf_puts(p, "/containers/");
    wpd_path_escape(p, container);
    wpd_buf_puts(p, "/archive?path=");
    wpd_path_escape(p, path);
}

/* ---- put -------------------------------------------------------------- */

wpd_call *wpd_archive_put(wpd_engine *e, const char *container, const char *dir, const void *tar,
                          size_t len, wpd_done_fn done, void *arg)
{
    if (!len) {
        wpd_error err;
        wpd_error_set(&err, WPD_ERR_INPUT, 0, "copy into %s:%s: empty archive", container, dir);
        return wpd_typed_fail(e, wpd_deliver_done, (wpd_any_fn)done, arg, &err);
    }
    wpd_buf p = WPD_BUF_INIT;
    archive_path(&p, container, dir);
    wpd_call_req rq = {
        .method = "PUT",
        .path = wpd_buf_cstr(&p),
        .body = tar,
        .body_len = len,
        .content_type = "application/x-tar",
    };
    wpd_call *c = wpd_typed_send(e, wpd_deliver_done, (wpd_any_fn)done, arg, &rq);
    wpd_buf_free(&p);
    return c;
}

/* ---- stat ------------------------------------------------------------- */

int wpd_path_stat_parse(const char *value, size_t len, wpd_arena *a, wpd_path_stat *out,
                        wpd_error *err)
{
    memset(out, 0, sizeof *out);
    out->name = out->mtime = out->link_target = "";
    while (len && (value[len - 1] == ' ' || value[len - 1] == '\t'))
        len--;
    while (len && (*value == ' ' || *value == '\t')) {
        value++;
        len--;
    }
    /* the JSON text must outlive the tokens: it goes into the arena, whose
     * room is taken before the decode buffer exists (an allocation failure
     * then loses nothing), and the decode buffer never grows (decoded text
     * is shorter than the base64) */
    char *text = wpd_arena_alloc(a, len + 1);
    wpd_buf raw = WPD_BUF_INIT;
    if (wpd_buf_try_reserve(&raw, len + 3) != 0)
        return wpd_error_set(err, WPD_ERR_NOMEM, 0, "path stat: out of memory");
    if (!len || wpd_base64_decode(value, len, &raw) != 0) {
        wpd_buf_free(&raw);
        return wpd_error_set(err, WPD_ERR_PROTOCOL, 0, "path stat: not base64");
    }
    size_t tlen = raw.len;
    memcpy(text, raw.data ? raw.data : "", tlen);
    text[tlen] = '\0';
    wpd_buf_free(&raw);
    wpd_json j;
    if (wpd_resp_body(&j, text, tlen, "path stat", a, err) != 0)
        return -1;
    if (wpd_json_type_of(&j, 0) != WPD_JSON_OBJECT) {
        wpd_json_free(&j);
        return wpd_error_set(err, WPD_ERR_PROTOCOL, 0, "path stat: not an object");
    }
    out->name = wpd_resp_str(&j, 0, "name", a);
    out->size = wpd_resp_int(&j, 0, "size", 0);
    out->mode = (uint32_t)wpd_resp_int(&j, 0, "mode", 0);
    out->perm = out->mode & 0777;
    out->is_dir = (out->mode & WPD_FILEMODE_DIR) || wpd_resp_bool(&j, 0, "isDir");
    out->is_symlink = (out->mode & WPD_FILEMODE_SYMLINK) != 0;
    out->mtime = wpd_resp_str(&j, 0, "mtime", a);
    out->link_target = wpd_resp_str(&j, 0, "linkTarget", a);
    wpd_json_free(&j);
    return 0;
}

/* The stat of a success answer; a missing header is an error too. */
static int response_stat(const wpd_http_response *res, wpd_arena *a, wpd_path_stat *st,
                         wpd_error *err)
{
    const char *v = wpd_http_header_get(res, STAT_HEADER);
    if (!v)
        return wpd_error_set(err, WPD_ERR_PROTOCOL, 0,
                             "archive: the answer has no X-Docker-Container-Path-Stat header");
    if (wpd_path_stat_parse(v, strlen(v), a, st, err) != 0)
        return wpd_error_prefix(err, "archive: X-Docker-Container-Path-Stat");
    return 0;
}

static void stat_deliver(wpd_typed_call *c, const wpd_http_response *res, const wpd_error *err)
{
    wpd_path_stat_fn done = (wpd_path_stat_fn)c->done;
    if (err) {
        done(c->arg, NULL, err);
        return;
    }
    wpd_arena *a = wpd_arena_new();
    wpd_path_stat st;
    wpd_error e;
    if (response_stat(res, a, &st, &e) != 0)
        done(c->arg, NULL, &e);
    else
        done(c->arg, &st, NULL);
    wpd_arena_free(a);
}

wpd_call *wpd_archive_stat(wpd_engine *e, const char *container, const char *path,
                           wpd_path_stat_fn done, void *arg)
{
    wpd_buf p = WPD_BUF_INIT;
    archive_path(&p, container, path);
    wpd_call_req rq = {.method = "HEAD", .path = wpd_buf_cstr(&p)};
    wpd_call *c = wpd_typed_send(e, stat_deliver, (wpd_any_fn)done, arg, &rq);
    wpd_buf_free(&p);
    return c;
}

/* ---- get -------------------------------------------------------------- */

typedef struct get_call {
    wpd_call base;
    wpd_archive_get_cbs cbs;
    bool stat_done;
    bool stat_failed;
    wpd_error stat_err;
} get_call;

static void get_headers(wpd_call *c, const wpd_http_response *res)
{
    get_call *g = (get_call *)c;
    if (g->stat_done || g->stat_failed)
        return;
    wpd_arena *a = wpd_arena_new();
    wpd_path_stat st;
    if (response_stat(res, a, &st, &g->stat_err) != 0) {
        g->stat_failed = true;
    } else {
        g->stat_done = true;
        if (g->cbs.stat)
            g->cbs.stat(g->cbs.arg, &st);
    }
    wpd_arena_free(a);
}

static int get_data(wpd_call *c, const char *data, size_t len)
{
    get_call *g = (get_call *)c;
    if (g->stat_failed)
        return 1;
    return g->cbs.data ? g->cbs.data(g->cbs.arg, data, len) : 0;
}

static void get_complete(wpd_call *c, const wpd_http_response *res, const wpd_error *err)
{
    (void)res;
    get_call *g = (get_call *)c;
    wpd_error e;
    if (g->stat_failed && !c->canceled) {
        err = &g->stat_err;
    } else if (!err && !g->stat_done) {
        wpd_error_set(&e, WPD_ERR_PROTOCOL, 0, "archive: the answer has no path stat");
        err = &e;
    }
    g->cbs.done(g->cbs.arg, err);
}

static const wpd_call_type get_type = {
    .complete = get_complete,
    .data = get_data,
    .headers = get_headers,
};

wpd_call *wpd_archive_get(wpd_engine *e, const char *container, const char *path,
                          const wpd_archive_get_cbs *cbs)
{
    get_call *g = wpd_call_new(e, &get_type, sizeof *g);
    g->cbs = *cbs;
    wpd_buf p = WPD_BUF_INIT;
    archive_path(&p, container, path);
    wpd_call_req rq = {.method = "GET", .path = wpd_buf_cstr(&p)};
    wpd_call_send(&g->base, &rq);
    wpd_buf_free(&p);
    return &g->base;
}

/* ---- tar -------------------------------------------------------------- */

#define BLOCK 512

/* Write v in octal into f[0..n): n-1 digits, zero-padded, then NUL. */
static void put_octal(char *f, size_t n, uint64_t v)
{
    for (size_t i = n - 1; i-- > 0; v >>= 3)
        f[i] = (char)('0' + (v & 7));
    f[n - 1] = '\0';
}

static unsigned header_sum(const unsigned char *h)
{
    unsigned sum = 0;
    for (size_t i = 0; i < BLOCK; i++)
        sum += (i >= 148 && i < 156) ? ' ' : h[i];
    return sum;
}

int wpd_tar_one_file(const wpd_tar_file *f, wpd_buf *out, wpd_error *err)
{
    const char *name = f->name ? f->name : "";
    size_t nlen = strlen(name);
    if (!nlen)
        return wpd_error_set(err, WPD_ERR_INPUT, 0, "tar: empty file name");
    if (f->len >= (uint64_t)1 << 33)
        return wpd_error_set(err, WPD_ERR_INPUT, 0, "tar: %s: contents of 8 GiB or more", name);
    size_t split = 0; /* bytes of name that go to the prefix field (without the '/') */
    if (nlen > 100) {
        /* the last '/' that leaves at most 100 bytes after it and at most
         * 155 before it */
        bool found = false;
        for (size_t i = nlen - 1; i > 0 && !found; i--) {
            if (name[i] == '/' && nlen - i - 1 <= 100 && nlen - i - 1 > 0 && i <= 155) {
                split = i;
                found = true;
            }
        }
        if (!found)
            return wpd_error_set(err, WPD_ERR_INPUT, 0,
                                 "tar: the name %s does not fit a ustar header", name);
    }
    unsigned char h[BLOCK];
    memset(h, 0, sizeof h);
    if (split) {
        memcpy(h + 345, name, split);
        memcpy(h, name + split + 1, nlen - split - 1);
    } else {
        memcpy(h, name, nlen);
    }
    put_octal((char *)h + 100, 8, f->mode & 07777);
    put_octal((char *)h + 108, 8, f->uid & 07777777);
    put_octal((char *)h + 116, 8, f->gid & 07777777);
    put_octal((char *)h + 124, 12, f->len);
    put_octal((char *)h + 136, 12, f->mtime > 0 ? (uint64_t)f->mtime & 077777777777 : 0);
    h[156] = '0';
    memcpy(h + 257, "ustar", 6); /* with its NUL */
    memcpy(h + 263, "00", 2);
    char sum[8];
    snprintf(sum, sizeof sum, "%06o", header_sum(h) & 0777777);
    memcpy(h + 148, sum, 6);
    h[154] = '\0';
    h[155] = ' ';
    wpd_buf_reserve(out, BLOCK + f->len + 3 * BLOCK);
    wpd_buf_append(out, h, BLOCK);
    if (f->len)
        wpd_buf_append(out, f->data, f->len);
    static const char zeros[BLOCK];
    size_t pad = (BLOCK - f->len % BLOCK) % BLOCK;
    if (pad)
        wpd_buf_append(out, zeros, pad);
    wpd_buf_append(out, zeros, BLOCK);
    wpd_buf_append(out, zeros, BLOCK);
    return 0;
}

/* A numeric header field: octal digits (leading spaces, NUL or space
 * ended) or GNU base-256 (high bit of the first byte set). */
static int get_number(const unsigned char *f, size_t n, int64_t *out)
{
    if (f[0] & 0x80) {
        if (f[0] & 0x40)
            return -1; /* negative */
        uint64_t v = f[0] & 0x3f;
        for (size_t i = 1; i < n; i++) {
            if (v >> 55)
                return -1;
            v = v << 8 | f[i];
        }
        *out = (int64_t)v;
        return 0;
    }
    size_t i = 0;
    while (i < n && f[i] == ' ')
        i++;
    uint64_t v = 0;
    for (; i < n && f[i] >= '0' && f[i] <= '7'; i++) {
        if (v >> 60)
            return -1;
        v = v << 3 | (uint64_t)(f[i] - '0');
    }
    for (; i < n; i++)
        if (f[i] != '\0' && f[i] != ' ')
            return -1;
    *out = (int64_t)v;
    return 0;
}

static char *field_str(wpd_arena *a, const unsigned char *f, size_t n)
{
    size_t len = 0;
    while (len < n && f[len])
        len++;
    return wpd_arena_strndup(a, (const char *)f, len);
}

/* PAX records "LEN key=value\n" of data[0..n): path, linkpath, size. */
static int pax_apply(const char *data, size_t n, wpd_arena *a, const char **path,
                     const char **linkpath, int64_t *size)
{
    size_t pos = 0;
    while (pos < n) {
        size_t rl = 0, i = pos;
        while (i < n && data[i] >= '0' && data[i] <= '9')
            rl = rl * 10 + (size_t)(data[i++] - '0');
        if (i >= n || data[i] != ' ' || rl == 0 || rl > n - pos || data[pos + rl - 1] != '\n')
            return -1;
        const char *kv = data + i + 1, *end = data + pos + rl - 1;
        const char *eq = memchr(kv, '=', (size_t)(end - kv));
        if (!eq)
            return -1;
        size_t klen = (size_t)(eq - kv);
        const char *val = eq + 1;
        size_t vlen = (size_t)(end - val);
        if (klen == 4 && memcmp(kv, "path", 4) == 0) {
            *path = wpd_arena_strndup(a, val, vlen);
        } else if (klen == 8 && memcmp(kv, "linkpath", 8) == 0) {
            *linkpath = wpd_arena_strndup(a, val, vlen);
        } else if (klen == 4 && memcmp(kv, "size", 4) == 0) {
            char *s = wpd_arena_strndup(a, val, vlen), *e;
            long long v = strtoll(s, &e, 10);
            if (*s == '\0' || *e != '\0' || v < 0)
                return -1;
            *size = v;
        }
        pos += rl;
    }
    return 0;
}

int wpd_tar_next(const char *tar, size_t len, size_t *off, wpd_arena *a, wpd_tar_entry *out,
                 wpd_error *err)
{
    memset(out, 0, sizeof *out);
    const char *long_name = NULL, *long_link = NULL;
    int64_t pax_size = -1;
    for (;;) {
        size_t at = *off;
        if (at >= len)
            return 0;
        if (len - at < BLOCK)
            return wpd_error_set(err, WPD_ERR_PROTOCOL, 0, "tar: header cut short at byte %zu", at);
        const unsigned char *h = (const unsigned char *)tar + at;
        bool zero = true;
        for (size_t i = 0; i < BLOCK && zero; i++)
            zero = h[i] == 0;
        if (zero)
            return 0;
        int64_t sum, size, mode, uid, gid, mtime;
        if (get_number(h + 148, 8, &sum) != 0 || (unsigned)sum != header_sum(h))
            return wpd_error_set(err, WPD_ERR_PROTOCOL, 0, "tar: bad header checksum at byte %zu",
                                 at);
        if (get_number(h + 124, 12, &size) != 0 || get_number(h + 100, 8, &mode) != 0 ||
            get_number(h + 108, 8, &uid) != 0 || get_number(h + 116, 8, &gid) != 0 ||
            get_number(h + 136, 12, &mtime) != 0)
            return wpd_error_set(err, WPD_ERR_PROTOCOL, 0, "tar: bad number field at byte %zu", at);
        char type = h[156] ? (char)h[156] : '0';
        if (pax_size >= 0 && type != 'x' && type != 'g' && type != 'L' && type != 'K')
            size = pax_size;
        size_t data_at = at + BLOCK;
        if ((uint64_t)size > len - data_at)
            return wpd_error_set(err, WPD_ERR_PROTOCOL, 0,
                                 "tar: entry at byte %zu cut short (%" PRId64 " bytes of data, "
                                 "%zu left)",
                                 at, size, len - data_at);
        const char *data = tar + data_at;
        size_t next = data_at + (size_t)size;
        size_t padded = next + (BLOCK - (size_t)size % BLOCK) % BLOCK;
        *off = padded < len ? padded : len;
        if (type == 'L' || type == 'K') { /* GNU long name / long link name */
            size_t n = (size_t)size;
            while (n && data[n - 1] == '\0')
                n--;
            char *s = wpd_arena_strndup(a, data, n);
            if (type == 'L')
                long_name = s;
            else
                long_link = s;
            continue;
        }
        if (type == 'x') {
            if (pax_apply(data, (size_t)size, a, &long_name, &long_link, &pax_size) != 0)
                return wpd_error_set(err, WPD_ERR_PROTOCOL, 0, "tar: bad PAX header at byte %zu",
                                     at);
            continue;
        }
        if (type == 'g')
            continue;
        if (long_name) {
            out->name = long_name;
        } else {
            char *name = field_str(a, h, 100);
            bool ustar = memcmp(h + 257, "ustar", 5) == 0;
            char *prefix = ustar ? field_str(a, h + 345, 155) : NULL;
            if (prefix && *prefix) {
                size_t pl = strlen(prefix), nl = strlen(name);
                char *full = wpd_arena_alloc(a, pl + nl + 2);
                memcpy(full, prefix, pl);
                full[pl] = '/';
                memcpy(full + pl + 1, name, nl + 1);
                name = full;
            }
            out->name = name;
        }
        out->link_name = long_link ? long_link : field_str(a, h + 157, 100);
        out->type = type;
        out->mode = (unsigned)mode & 07777;
        out->uid = (unsigned)uid;
        out->gid = (unsigned)gid;
        out->size = size;
        out->mtime = mtime;
        out->data = data;
        return 1;
    }
}
