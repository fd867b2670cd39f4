/* exec.c - exec calls: create, start (an output stream), inspect. */
#define _GNU_SOURCE
#include "engine/exec.h"

#include <stdlib.h>
#include <string.h>

#include "engine/call.h"
#include "engine/parse.h"
#include "engine/stream.h"
#include "util/jsonw.h"

/* ---- create ----------------------------------------------------------- */

static void write_strings(wpd_jsonw *w, const char *key, const char *const *v, size_t n)
{
    wpd_jw_key(w, key);
    wpd_jw_arr_begin(w);
    for (size_t i = 0; i < n; i++)
        wpd_jw_str(w, v[i] ? v[i] : "");
    wpd_jw_arr_end(w);
}

void wpd_exec_create_body(const wpd_exec_spec *spec, wpd_buf *out)
{
    wpd_jsonw w;
    wpd_jw_init(&w, out);
    wpd_jw_obj_begin(&w);
    wpd_jw_kbool(&w, "AttachStdin", false);
    wpd_jw_kbool(&w, "AttachStdout", spec->attach_stdout);
    wpd_jw_kbool(&w, "AttachStderr", spec->attach_stderr);
    wpd_jw_kbool(&w, "Tty", spec->tty);
    write_strings(&w, "Cmd", spec->cmd, spec->n_cmd);
    if (spec->n_env)
        write_strings(&w, "Env", spec->env, spec->n_env);
    if (spec->user && *spec->user)
        wpd_jw_kstr(&w, "User", spec->user);
    if (spec->working_dir && *spec->working_dir)
        wpd_jw_kstr(&w, "WorkingDir", spec->working_dir);
    if (spec->privileged)
        wpd_jw_kbool(&w, "Privileged", true);
    wpd_jw_obj_end(&w);
}

int wpd_exec_create_parse(const char *body, size_t len, wpd_arena *a, const char **id,
                          wpd_error *err)
{
    *id = "";
    wpd_json j;
    if (wpd_resp_body(&j, body, len, "exec create", a, err) != 0)
        return -1;
    int rc = 0;
    if (wpd_json_type_of(&j, 0) != WPD_JSON_OBJECT)
        rc = wpd_error_set(err, WPD_ERR_PROTOCOL, 0,
                           "exec create: unreadable answer: not an object");
    else if (!*(*id = wpd_resp_str(&j, 0, "Id", a)))
        rc = wpd_error_set(err, WPD_ERR_PROTOCOL, 0, "exec create: the answer has no \"Id\"");
    wpd_json_free(&j);
    return rc;
}

static int create_parse(const char *body, size_t len, wpd_arena *a, void *r, wpd_error *err)
{
    return wpd_exec_create_parse(body, len, a, r, err);
}

static const wpd_result_type create_type = {sizeof(const char *), create_parse, wpd_emit_str};

wpd_call *wpd_exec_create(wpd_engine *e, const char *container, const wpd_exec_spec *spec,
                          wpd_exec_create_fn done, void *arg)
{
    if (!spec->n_cmd || !spec->cmd || !spec->cmd[0] || !*spec->cmd[0]) {
        wpd_error err;
        wpd_error_set(&err, WPD_ERR_INPUT, 0, "exec create in %s: no command", container);
        return wpd_result_fail(e, &create_type, (wpd_any_fn)done, arg, &err);
    }
    wpd_buf path = WPD_BUF_INIT, body = WPD_BUF_INIT;
    wpd_buf_puts(&path, "/containers/");
    wpd_path_escape(&path, container);
    wpd_buf_puts(&path, "/exec");
    wpd_exec_create_body(spec, &body);
    wpd_call_req rq = {.method = "POST", .path = wpd_buf_cstr(&path), .body = wpd_buf_cstr(&body)};
    wpd_call *c = wpd_result_send(e, &create_type, (wpd_any_fn)done, arg, &rq);
    wpd_buf_free(&path);
    wpd_buf_free(&body);
    return c;
}

/* ---- start ------------------------------------------------------------ */

void wpd_exec_start_body(bool tty, wpd_buf *out)
{
    wpd_jsonw w;
    wpd_jw_init(&w, out);
    wpd_jw_obj_begin(&w);
    wpd_jw_kbool(&w, "Detach", false);
    wpd_jw_kbool(&w, "Tty", tty);
    wpd_jw_obj_end(&w);
}

wpd_call *wpd_exec_start(wpd_engine *e, const char *exec_id, bool tty, const wpd_output_cbs *cbs)
{
    wpd_buf path = WPD_BUF_INIT, body = WPD_BUF_INIT;
    wpd_buf_puts(&path, "/exec/");
    wpd_path_escape(&path, exec_id);
    wpd_buf_puts(&path, "/start");
    wpd_exec_start_body(tty, &body);
    wpd_call_req rq = {.method = "POST", .path = wpd_buf_cstr(&path), .body = wpd_buf_cstr(&body)};
    wpd_call *c = wpd_stream_open(e, &rq, tty, cbs);
    wpd_buf_free(&path);
    wpd_buf_free(&body);
    return c;
}

/* ---- inspect ---------------------------------------------------------- */

int wpd_exec_info_parse(const char *body, size_t len, wpd_arena *a, wpd_exec_info *out,
                        wpd_error *err)
{
    memset(out, 0, sizeof *out);
    wpd_json j;
    if (wpd_resp_body(&j, body, len, "exec inspect", a, err) != 0)
        return -1;
    if (wpd_json_type_of(&j, 0) != WPD_JSON_OBJECT) {
        wpd_json_free(&j);
        return wpd_error_set(err, WPD_ERR_PROTOCOL, 0,
                             "exec inspect: unreadable answer: not an object");
    }
    out->id = wpd_resp_str(&j, 0, "ID", a);
    out->container_id = wpd_resp_str(&j, 0, "ContainerID", a);
    out->running = wpd_resp_bool(&j, 0, "Running");
    out->has_exit_code = wpd_json_get_int64(&j, 0, "ExitCode", &out->exit_code) == 0;
    if (!out->has_exit_code)
        out->exit_code = 0;
    out->pid = wpd_resp_int(&j, 0, "Pid", 0);
    out->tty = wpd_resp_bool(&j, 0, "ProcessConfig.tty");
    wpd_json_free(&j);
    return 0;
}

static int info_parse(const char *body, size_t len, wpd_arena *a, void *r, wpd_error *err)
{
    return wpd_exec_info_parse(body, len, a, r, err);
}

static void info_emit(wpd_any_fn done, void *arg, const void *r, const wpd_error *err)
{
    ((wpd_exec_inspect_fn)done)(arg, r, err);
}

static const wpd_result_type info_type = {sizeof(wpd_exec_info), info_parse, info_emit};

wpd_call *wpd_exec_inspect(wpd_engine *e, const char *exec_id, wpd_exec_inspect_fn done, void *arg)
{
    wpd_buf p = WPD_BUF_INIT;
    wpd_buf_puts(&p, "/exec/");
    wpd_path_escape(&p, exec_id);
    wpd_buf_puts(&p, "/json");
    return wpd_result_get(e, &p, &info_type, (wpd_any_fn)done, arg);
}
