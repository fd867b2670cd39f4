/* images.c - image calls: pull with its progress stream, inspect. */
#include "engine/images.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "engine/call.h"
#include "engine/parse.h"

int wpd_pull_line_parse(const char *line, size_t len, wpd_arena *a, wpd_pull_progress *p,
                        char **error)
{
    while (len && isspace((unsigned char)line[len - 1]))
        len--;
    if (!len)
        return 0;
    wpd_json j;
    if (wpd_json_parse_in(&j, line, len, a, NULL) != 0 ||
        wpd_json_type_of(&j, 0) != WPD_JSON_OBJECT) {
        wpd_json_free(&j);
        return 0;
    }
    int rc = 1;
    char *msg = wpd_json_get_str(&j, 0, "errorDetail.message");
    if (!msg || !*msg) {
        free(msg);
        msg = wpd_json_get_str(&j, 0, "error");
    }
    if (msg) {
        *error = msg;
        rc = 2;
    } else {
        p->id = wpd_resp_str(&j, 0, "id", a);
        p->status = wpd_resp_str(&j, 0, "status", a);
        p->current = wpd_resp_int(&j, 0, "progressDetail.current", 0);
        p->total = wpd_resp_int(&j, 0, "progressDetail.total", 0);
    }
    wpd_json_free(&j);
    return rc;
}

typedef struct pull_call {
    wpd_call base;
    wpd_pull_fn progress;
    void *progress_arg;
    wpd_done_fn done;
    void *arg;
    wpd_buf line;
    char *error; /* the last error object of the stream */
} pull_call;

typedef struct pull_parse {
    const char *line;
    size_t len;
    wpd_pull_progress p;
    char *error;
} pull_parse;

static int parse_pull_line(void *arg, wpd_arena *a, wpd_error *err)
{
    (void)err;
    pull_parse *pp = arg;
    return wpd_pull_line_parse(pp->line, pp->len, a, &pp->p, &pp->error);
}

/* One line, parsed under an out-of-memory guard (a line that cannot be
 * read for lack of memory is skipped, as an unreadable line is). */
static void pull_line(pull_call *pc, const char *line, size_t len)
{
    pull_parse pp = {line, len, {0}, NULL};
    wpd_arena *a;
    wpd_error e;
    int kind = wpd_parse_guarded(parse_pull_line, &pp, &a, &e);
    wpd_pull_progress p = pp.p;
    char *error = pp.error;
    if (kind == 2) {
        free(pc->error);
        pc->error = error;
    } else if (kind == 1 && pc->progress) {
        pc->progress(pc->progress_arg, &p);
    }
    wpd_arena_free(a);
}

static int pull_data(wpd_call *c, const char *data, size_t len)
{
    pull_call *pc = (pull_call *)c;
    /* what is kept from earlier calls is an unfinished line: only the new
     * bytes can hold a newline (rescanning it made long lines quadratic) */
    size_t from = pc->line.len;
    wpd_buf_append(&pc->line, data, len);
    size_t start = 0;
    for (size_t i = from; i < pc->line.len; i++) {
        if (pc->line.data[i] == '\n') {
            pull_line(pc, pc->line.data + start, i - start);
            start = i + 1;
        }
    }
    wpd_buf_consume(&pc->line, start);
    return 0;
}

static void pull_complete(wpd_call *c, const wpd_http_response *res, const wpd_error *err)
{
    (void)res;
    pull_call *pc = (pull_call *)c;
    if (pc->line.len) {
        pull_line(pc, pc->line.data, pc->line.len);
        wpd_buf_reset(&pc->line);
    }
    wpd_error e;
    if (!err && pc->error) {
        wpd_error_set(&e, WPD_ERR_ENGINE, 0, "%s", pc->error);
        err = &e;
    }
    pc->done(pc->arg, err);
}

static void pull_cleanup(wpd_call *c)
{
    pull_call *pc = (pull_call *)c;
    wpd_buf_free(&pc->line);
    free(pc->error);
}

static const wpd_call_type pull_type = {
    .complete = pull_complete, .data = pull_data, .cleanup = pull_cleanup};

wpd_call *wpd_image_pull(wpd_engine *e, const char *from_image, const char *tag, const char *auth,
                         wpd_pull_fn progress, void *progress_arg, wpd_done_fn done, void *arg)
{
    pull_call *pc = wpd_call_new(e, &pull_type, sizeof *pc);
    pc->progress = progress;
    pc->progress_arg = progress_arg;
    pc->done = done;
    pc->arg = arg;
    wpd_buf path = WPD_BUF_INIT;
    wpd_buf_puts(&path, "/images/create?fromImage=");
    wpd_path_escape(&path, from_image);
    if (tag && *tag) {
        wpd_buf_puts(&path, "&tag=");
        wpd_path_escape(&path, tag);
    }
    char *header = auth ? wpd_xasprintf("X-Registry-Auth: %s", auth) : NULL;
    const char *headers[2] = {header, NULL};
    wpd_call_req rq = {
        .method = "POST", .path = wpd_buf_cstr(&path), .headers = header ? headers : NULL};
    wpd_call_send(&pc->base, &rq);
    free(header);
    wpd_buf_free(&path);
    return &pc->base;
}

int wpd_image_info_parse(const char *body, size_t len, wpd_arena *a, wpd_image_info *out,
                         wpd_error *err)
{
    memset(out, 0, sizeof *out);
    wpd_json j;
    if (wpd_resp_body(&j, body, len, "image inspect", a, err) != 0)
        return -1;
    if (wpd_json_type_of(&j, 0) != WPD_JSON_OBJECT) {
        wpd_json_free(&j);
        return wpd_error_set(err, WPD_ERR_PROTOCOL, 0,
                             "image inspect: unreadable answer: not an object");
    }
    out->id = wpd_resp_str(&j, 0, "Id", a);
    out->os = wpd_resp_str(&j, 0, "Os", a);
    out->arch = wpd_resp_str(&j, 0, "Architecture", a);
    out->size = wpd_resp_int(&j, 0, "Size", 0);
    out->n_repo_tags = wpd_resp_strings(&j, wpd_json_get(&j, 0, "RepoTags"), a, &out->repo_tags);
    wpd_json_free(&j);
    return 0;
}

static int image_info_parse(const char *body, size_t len, wpd_arena *a, void *r, wpd_error *err)
{
    return wpd_image_info_parse(body, len, a, r, err);
}

static void image_info_emit(wpd_any_fn done, void *arg, const void *r, const wpd_error *err)
{
    ((wpd_image_inspect_fn)done)(arg, r, err);
}

static const wpd_result_type image_info_type = {sizeof(wpd_image_info), image_info_parse,
                                                image_info_emit};

wpd_call *wpd_image_inspect(wpd_engine *e, const char *name, wpd_image_inspect_fn done, void *arg)
{
    wpd_buf p = WPD_BUF_INIT;
    wpd_buf_puts(&p, "/images/");
    wpd_path_escape(&p, name);
    wpd_buf_puts(&p, "/json");
    return wpd_result_get(e, &p, &image_info_type, (wpd_any_fn)done, arg);
}
