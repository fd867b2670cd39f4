/* conffile.c - the agent config file (WOODPECKER_AGENT_CONFIG_FILE): the
 * Go agent's {"agent_id":N} for one engine, {"agents":{"NAME":N,...}}
 * for several. Missing or unreadable means no stored id (-1); written
 * atomically (mode 0644) only when the content changes. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/agent_private.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/jsonw.h"

#define CONF_MAX 65536

static char *read_small(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    wpd_buf b = WPD_BUF_INIT;
    char chunk[4096];
    ssize_t n;
    while ((n = read(fd, chunk, sizeof chunk)) > 0 && b.len < CONF_MAX)
        wpd_buf_append(&b, chunk, (size_t)n);
    close(fd);
    *len = b.len;
    return b.data ? wpd_buf_steal(&b) : wpd_xstrdup("");
}

void agent_conf_load(wpd_agent *a)
{
    if (!a->config_file)
        return;
    size_t len = 0;
    char *text = read_small(a->config_file, &len);
    if (!text) {
        if (errno != ENOENT)
            agent_log(a, WPD_AGENT_LOG_WARN, "cannot read %s: %s; starting without a stored id",
                      a->config_file, strerror(errno));
        return;
    }
    wpd_json j;
    wpd_error err;
    if (len == 0 || wpd_json_parse(&j, text, len, &err) != 0) {
        if (len)
            agent_log(a, WPD_AGENT_LOG_WARN, "%s is not JSON (%s); starting without a stored id",
                      a->config_file, err.message);
        free(text);
        return;
    }
    for (size_t i = 0; i < a->n_engines; i++) {
        agent_engine *ae = &a->engines[i];
        int tok = -1;
        if (a->n_engines == 1) {
            tok = wpd_json_get(&j, 0, "agent_id");
        } else {
            int agents = wpd_json_get(&j, 0, "agents");
            if (agents >= 0)
                tok = wpd_json_get(&j, agents, ae->name);
        }
        int64_t id;
        if (tok >= 0 && wpd_json_int64(&j, tok, &id) == 0)
            ae->stored_id = id;
    }
    wpd_json_free(&j);
    free(text);
}

void agent_conf_store(wpd_agent *a)
{
    if (!a->config_file)
        return;
    wpd_buf out = WPD_BUF_INIT;
    wpd_jsonw w;
    wpd_jw_init(&w, &out);
    wpd_jw_obj_begin(&w);
    if (a->n_engines == 1) {
        wpd_jw_kint(&w, "agent_id", a->engines[0].stored_id);
    } else {
        wpd_jw_key(&w, "agents");
        wpd_jw_obj_begin(&w);
        for (size_t i = 0; i < a->n_engines; i++)
            wpd_jw_kint(&w, a->engines[i].name, a->engines[i].stored_id);
        wpd_jw_obj_end(&w);
    }
    wpd_jw_obj_end(&w);
    wpd_buf_putc(&out, '\n');
    size_t old_len = 0;
    char *old = read_small(a->config_file, &old_len);
    bool same = old && old_len == out.len && memcmp(old, out.data, out.len) == 0;
    free(old);
    if (same) {
        wpd_buf_free(&out);
        return;
    }
    char *tmp = wpd_xasprintf("%s.tmp.%ld", a->config_file, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    bool ok = fd >= 0 && write(fd, out.data, out.len) == (ssize_t)out.len;
    int saved = errno;
    if (fd >= 0 && close(fd) != 0 && ok) {
        ok = false;
        saved = errno;
    }
    if (ok && rename(tmp, a->config_file) != 0) {
        ok = false;
        saved = errno;
    }
    if (!ok) {
        unlink(tmp);
        agent_log(a, WPD_AGENT_LOG_ERROR,
                  "cannot store the agent id in %s: %s (a restart will register a new agent)",
                  a->config_file, strerror(saved));
    }
    free(tmp);
    wpd_buf_free(&out);
}
