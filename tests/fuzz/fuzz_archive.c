/* fuzz_archive.c - what the archive endpoints hand back
 * (core/engine/archive.c): tar streams read by wpd_tar_next and the
 * X-Docker-Container-Path-Stat header read by wpd_path_stat_parse; plus a
 * round trip of wpd_tar_one_file with a name and contents from the input.
 *
 * Input: [selector][...]. Selector 0: a tar archive; 1: a header value;
 * 2: [name length][name][contents].
 *
 * Asserts: every entry's data lies inside the archive, the read position
 * only moves forward and never past the end; a refusal is a
 * WPD_ERR_PROTOCOL error; a stat's permission bits are its mode's and its
 * strings are set; an archive wpd_tar_one_file builds reads back as
 * exactly that one file (name, mode, size, contents), then the end. */
#include <string.h>

#include "fuzz.h"
#include "engine/archive.h"

static void read_tar(const char *tar, size_t len)
{
    wpd_arena *a = wpd_arena_new();
    size_t off = 0;
    for (int i = 0; i < 64; i++) {
        size_t before = off;
        wpd_tar_entry e;
        wpd_error err;
        int rc = wpd_tar_next(tar, len, &off, a, &e, &err);
        if (rc <= 0) {
            FZ_ASSERT(rc == 0 || (rc == -1 && err.kind == WPD_ERR_PROTOCOL));
            break;
        }
        FZ_ASSERT(rc == 1 && off > before && off <= len);
        FZ_ASSERT(e.name && e.link_name && e.size >= 0);
        FZ_ASSERT(e.data >= tar && (size_t)(e.data - tar) + (size_t)e.size <= len);
        FZ_ASSERT((size_t)(e.data - tar) + (size_t)e.size <= off);
    }
    wpd_arena_free(a);
}

static void stat_header(const char *v, size_t len)
{
    wpd_arena *a = wpd_arena_new();
    wpd_path_stat st;
    wpd_error err;
    if (wpd_path_stat_parse(v, len, a, &st, &err) == 0) {
        FZ_ASSERT(st.name && st.mtime && st.link_target);
        FZ_ASSERT(st.perm == (st.mode & 0777));
        FZ_ASSERT(st.is_symlink == ((st.mode & WPD_FILEMODE_SYMLINK) != 0));
    } else {
        FZ_ASSERT(err.kind == WPD_ERR_PROTOCOL && err.message[0]);
    }
    wpd_arena_free(a);
}

static void round_trip(fz_in *in)
{
    size_t nlen;
    const uint8_t *np = fz_take(in, fz_byte(in) + fz_byte(in), &nlen);
    char *name = fz_strndup(np, nlen);
    wpd_tar_file f = {name, 0644, 1000, 1000, 1700000000, in->p, in->n};
    wpd_buf tar = WPD_BUF_INIT;
    wpd_error err;
    if (wpd_tar_one_file(&f, &tar, &err) == 0) {
        wpd_arena *a = wpd_arena_new();
        size_t off = 0;
        wpd_tar_entry e;
        FZ_ASSERT(wpd_tar_next(tar.data, tar.len, &off, a, &e, &err) == 1);
        FZ_ASSERT(strcmp(e.name, name) == 0 && e.type == '0' && e.mode == 0644);
        FZ_ASSERT(e.uid == 1000 && e.gid == 1000 && e.mtime == 1700000000);
        FZ_ASSERT((size_t)e.size == in->n && (in->n == 0 || !memcmp(e.data, in->p, in->n)));
        FZ_ASSERT(wpd_tar_next(tar.data, tar.len, &off, a, &e, &err) == 0);
        wpd_arena_free(a);
    } else {
        FZ_ASSERT(err.kind == WPD_ERR_INPUT && tar.len == 0);
    }
    wpd_buf_free(&tar);
    free(name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in = {data, size};
    switch (fz_byte(&in) % 3) {
    case 0: read_tar((const char *)in.p, in.n); break;
    case 1: stat_header((const char *)in.p, in.n); break;
    default: round_trip(&in); break;
    }
    return 0;
}
