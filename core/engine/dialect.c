/* dialect.c - Docker's and Podman's different answers, classified once
 * (see dialect.h and the engine notes). */
#define _GNU_SOURCE
#include "engine/dialect.h"

#include <string.h>

#include "engine/call.h"

static bool has(const char *hay, const char *needle)
{
    return strcasestr(hay, needle) != NULL;
}

bool wpd_dialect_harmless(wpd_change_op op, const wpd_error *err, wpd_change *out)
{
    if (!err || err->kind != WPD_ERR_ENGINE)
        return false;
    const char *m = err->message;
    bool ctr = op == WPD_CHANGE_OP_START || op == WPD_CHANGE_OP_STOP || op == WPD_CHANGE_OP_KILL ||
               op == WPD_CHANGE_OP_REMOVE;
    if (err->status == 404 || (ctr && has(m, "no such container"))) {
        *out = WPD_CHANGE_NOT_FOUND;
        return true;
    }
    bool already = false;
    switch (op) {
    case WPD_CHANGE_OP_STOP: already = has(m, "is not running"); break;
    case WPD_CHANGE_OP_KILL:
        /* Podman 4.3 answers 500 for a kill of a stopped container */
        already = err->status == 409 || has(m, "is not running") ||
                  has(m, "can only kill running") || has(m, "container state improper");
        break;
    case WPD_CHANGE_OP_REMOVE:
        already = has(m, "removal of container") && has(m, "already in progress");
        break;
    default: break;
    }
    if (already)
        *out = WPD_CHANGE_ALREADY;
    return already;
}

bool wpd_dialect_no_such_container(const wpd_error *err)
{
    return err && err->kind == WPD_ERR_ENGINE &&
           (err->status == 404 || has(err->message, "no such container"));
}

bool wpd_dialect_in_use(const wpd_error *err)
{
    if (!err || err->kind != WPD_ERR_ENGINE || err->status == 404)
        return false;
    const char *m = err->message;
    return has(m, "volume is in use") || has(m, "is being used") || has(m, "active endpoints");
}

bool wpd_dialect_exec_not_running(const wpd_error *err)
{
    if (!err || err->kind != WPD_ERR_ENGINE || err->status == 404)
        return false;
    const char *m = err->message;
    return (err->status == 409 && has(m, "is not running")) ||
           has(m, "can only create exec sessions on running containers");
}

bool wpd_dialect_name_conflict(const wpd_error *err)
{
    if (!err || err->kind != WPD_ERR_ENGINE)
        return false;
    return err->status == 409 || (err->status == 500 && has(err->message, "already in use"));
}

static bool removal_type(const char *type)
{
    return strcmp(type, "container") == 0 || strcmp(type, "volume") == 0 ||
           strcmp(type, "network") == 0;
}

const char *wpd_dialect_event_action(const char *type, const char *action)
{
    return strcmp(action, "remove") == 0 && removal_type(type) ? "destroy" : action;
}

const char *wpd_dialect_event_filter(wpd_engine_kind kind, const char *key, const char *value)
{
    if (kind != WPD_ENGINE_PODMAN || strcmp(key, "event") != 0)
        return value;
    if (strcmp(value, "die") == 0)
        return "died";
    if (strcmp(value, "destroy") == 0)
        return "remove";
    return value;
}

long wpd_dialect_wait_interval(int waits)
{
    long ms = 20L * (waits < 1 ? 1 : waits);
    return ms > 250 ? 250 : ms;
}

void wpd_dialect_wait_path(wpd_engine_kind kind, const char *libpod_prefix, const char *name,
                           wpd_wait_cond cond, int waits, wpd_buf *path, bool *unversioned)
{
    *unversioned = false;
    if (kind == WPD_ENGINE_PODMAN && cond == WPD_WAIT_NOT_RUNNING) {
        *unversioned = true;
        wpd_buf_printf(path, "%s/containers/", libpod_prefix);
        wpd_path_escape(path, name);
        wpd_buf_printf(path, "/wait?condition=exited&condition=stopped&interval=%ldms",
                       wpd_dialect_wait_interval(waits));
        return;
    }
    wpd_buf_puts(path, "/containers/");
    wpd_path_escape(path, name);
    wpd_buf_puts(path, "/wait");
    if (cond == WPD_WAIT_NEXT_EXIT)
        wpd_buf_puts(path, "?condition=next-exit");
    else if (cond == WPD_WAIT_REMOVED)
        wpd_buf_puts(path, "?condition=removed");
}
