/* testutil_wf.c - workflow documents built step by step and saved to a
 * temp file. */
#define _GNU_SOURCE
#include "testutil.h"

#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/jsonw.h"

struct tu_wf {
    wpd_buf buf;
    wpd_jsonw w;
    bool stage_open, step_open, pipeline_done;
};

tu_wf *tu_wf_new(void)
{
    tu_wf *b = wpd_xcalloc(1, sizeof *b);
    wpd_jw_init(&b->w, &b->buf);
    wpd_jw_obj_begin(&b->w);
    wpd_jw_key(&b->w, "pipeline");
    wpd_jw_arr_begin(&b->w);
    return b;
}

static void wf_close_step(tu_wf *b)
{
    if (b->step_open)
        wpd_jw_obj_end(&b->w);
    b->step_open = false;
}

static void wf_close_stage(tu_wf *b)
{
    wf_close_step(b);
    if (b->stage_open) {
        wpd_jw_arr_end(&b->w);
        wpd_jw_obj_end(&b->w);
    }
    b->stage_open = false;
}

void tu_wf_stage(tu_wf *b)
{
    wf_close_stage(b);
    wpd_jw_obj_begin(&b->w);
    wpd_jw_key(&b->w, "steps");
    wpd_jw_arr_begin(&b->w);
    b->stage_open = true;
}

void tu_wf_step(tu_wf *b, const char *name, unsigned flags, const char *const *commands)
{
    if (!b->stage_open)
        tu_wf_stage(b);
    wf_close_step(b);
    wpd_jw_obj_begin(&b->w);
    b->step_open = true;
    wpd_jw_kstr(&b->w, "name", name);
    wpd_jw_kstr(&b->w, "type", (flags & TU_SERVICE) ? "service" : "commands");
    wpd_jw_kstr(&b->w, "image", tu_test_image());
    if (flags & TU_SERVICE)
        wpd_jw_kbool(&b->w, "detach", true);
    if (commands) {
        wpd_jw_key(&b->w, "commands");
        wpd_jw_arr_begin(&b->w);
        for (size_t i = 0; commands[i]; i++)
            wpd_jw_str(&b->w, commands[i]);
        wpd_jw_arr_end(&b->w);
    }
    if (!(flags & TU_NO_ON_SUCCESS))
        wpd_jw_kbool(&b->w, "on_success", true);
    if (flags & TU_ON_FAILURE)
        wpd_jw_kbool(&b->w, "on_failure", true);
}

void tu_wf_env(tu_wf *b, const char *const *kv)
{
    wpd_jw_key(&b->w, "environment");
    wpd_jw_obj_begin(&b->w);
    for (size_t i = 0; kv[i] && kv[i + 1]; i += 2)
        wpd_jw_kstr(&b->w, kv[i], kv[i + 1]);
    wpd_jw_obj_end(&b->w);
}

struct wpd_jsonw *tu_wf_json(tu_wf *b)
{
    return &b->w;
}

void tu_wf_end_pipeline(tu_wf *b)
{
    if (b->pipeline_done)
        return;
    wf_close_stage(b);
    wpd_jw_arr_end(&b->w);
    b->pipeline_done = true;
}

char *tu_wf_save(tu_wf *b)
{
    tu_wf_end_pipeline(b);
    wpd_jw_obj_end(&b->w);
    char *path = wpd_xasprintf("%s/wpdock-wf-XXXXXX.json", tu_env("TMPDIR", "/tmp"));
    int fd = mkstemps(path, 5);
    ck_assert_msg(fd >= 0, "mkstemps %s: %s", path, strerror(errno));
    close(fd);
    tu_write_file(path, b->buf.data, b->buf.len);
    wpd_buf_free(&b->buf);
    free(b);
    return path;
}
