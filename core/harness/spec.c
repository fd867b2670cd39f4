/* spec.c - what to run (wpd_spec): setters with sticky errors, the deep
 * copy a run works on, and the container create body. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/harness_private.h"
#include "util/jsonw.h"

/* Record the first error; always -1. */
static int sticky(wpd_spec *sp, const char *fmt, ...) WPD_PRINTF(2, 3);
static int sticky(wpd_spec *sp, const char *fmt, ...)
{
    if (!sp || sp->sticky)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    char buf[WPD_ERROR_MAX];
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    sp->sticky = wpd_xstrdup(buf);
    return -1;
}

#define PUSH(arr, n) (arr = wpd_xrealloc(arr, sizeof *(arr) * ((n) + 1)), &(arr)[(n)++])

wpd_spec *wpd_spec_new(const char *image)
{
    wpd_spec *sp = wpd_xcalloc(1, sizeof *sp);
    sp->timeout_ms = HX_DEFAULT_TIMEOUT_MS;
    if (!image || !*image)
        sticky(sp, "wpd_spec_new: an image is required (got %s)", image ? "\"\"" : "NULL");
    sp->image = wpd_xstrdup(image ? image : "");
    return sp;
}

static void free_argv(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void free_pairs(wpd_pair *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free((char *)p[i].key);
        free((char *)p[i].value);
    }
    free(p);
}

void wpd_spec_free(wpd_spec *sp)
{
    if (!sp)
        return;
    free(sp->image);
    free_argv(sp->cmd, sp->n_cmd);
    free_argv(sp->entrypoint, sp->n_entrypoint);
    free_pairs(sp->env, sp->n_env);
    free_pairs(sp->labels, sp->n_labels);
    free_pairs(sp->tmpfs, sp->n_tmpfs);
    free_pairs(sp->vols, sp->n_vols);
    free(sp->ports);
    for (size_t i = 0; i < sp->n_files; i++) {
        free(sp->files[i].path);
        free(sp->files[i].data);
    }
    free(sp->files);
    for (size_t i = 0; i < sp->n_nets; i++) {
        free(sp->nets[i].name);
        free_argv(sp->nets[i].aliases, sp->nets[i].n_aliases);
    }
    free(sp->nets);
    free_argv(sp->binds, sp->n_binds);
    free_argv(sp->health, sp->n_health);
    free(sp->user);
    free(sp->workdir);
    for (size_t i = 0; i < sp->n_waits; i++)
        hx_wait_free(sp->waits[i]);
    free(sp->waits);
    free(sp->sticky);
    free(sp);
}

static int copy_argv(const char *const *argv, char ***out, size_t *n)
{
    size_t k = 0;
    while (argv && argv[k])
        k++;
    char **v = wpd_xcalloc(k + 1, sizeof *v);
    for (size_t i = 0; i < k; i++)
        v[i] = wpd_xstrdup(argv[i]);
    *out = v;
    *n = k;
    return 0;
}

int wpd_spec_cmd(wpd_spec *sp, const char *const *argv)
{
    if (!sp)
        return -1;
    if (!argv || !argv[0])
        return sticky(sp, "wpd_spec_cmd: the argv is empty");
    free_argv(sp->cmd, sp->n_cmd);
    sp->has_cmd = true;
    return copy_argv(argv, &sp->cmd, &sp->n_cmd);
}

int wpd_spec_shell(wpd_spec *sp, const char *script)
{
    if (!script)
        return sticky(sp, "wpd_spec_shell: the script is NULL");
    const char *argv[] = {"/bin/sh", "-c", script, NULL};
    return wpd_spec_cmd(sp, argv);
}

int wpd_spec_entrypoint(wpd_spec *sp, const char *const *argv)
{
    if (!sp)
        return -1;
    if (!argv || !argv[0])
        return sticky(sp, "wpd_spec_entrypoint: the argv is empty");
    free_argv(sp->entrypoint, sp->n_entrypoint);
    sp->has_entrypoint = true;
    return copy_argv(argv, &sp->entrypoint, &sp->n_entrypoint);
}

static bool env_name_ok(const char *s)
{
    if (!s || !*s || (*s >= '0' && *s <= '9'))
        return false;
    for (; *s; s++)
        if (!(*s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9')))
            return false;
    return true;
}

int wpd_spec_env(wpd_spec *sp, const char *name, const char *value)
{
    if (!sp)
        return -1;
    if (!env_name_ok(name))
        return sticky(sp, "wpd_spec_env: \"%s\" is not a variable name", name ? name : "(null)");
    if (!value)
        return sticky(sp, "wpd_spec_env: %s: the value is NULL", name);
    wpd_pair *p = PUSH(sp->env, sp->n_env);
    p->key = wpd_xstrdup(name);
    p->value = wpd_xstrdup(value);
    return 0;
}

int wpd_spec_label(wpd_spec *sp, const char *key, const char *value)
{
    if (!sp)
        return -1;
    if (!key || !*key)
        return sticky(sp, "wpd_spec_label: the key is empty");
    if (strncmp(key, "io.wpdock.", 10) == 0)
        return sticky(sp, "wpd_spec_label: \"%s\": io.wpdock.* labels are the harness's own", key);
    wpd_pair *p = PUSH(sp->labels, sp->n_labels);
    p->key = wpd_xstrdup(key);
    p->value = wpd_xstrdup(value ? value : "");
    return 0;
}

int hx_port_key(const char *port, char key[24], int *num, char proto[4])
{
    if (!port || !*port)
        return -1;
    char *end;
    errno = 0;
    long n = strtol(port, &end, 10);
    if (end == port || errno || n < 1 || n > 65535)
        return -1;
    const char *pr = "tcp";
    if (*end == '/') {
        if (strcmp(end + 1, "tcp") == 0)
            pr = "tcp";
        else if (strcmp(end + 1, "udp") == 0)
            pr = "udp";
        else
            return -1;
    } else if (*end) {
        return -1;
    }
    if (port[0] < '0' || port[0] > '9')
        return -1;
    snprintf(key, 24, "%ld/%s", n, pr);
    if (num)
        *num = (int)n;
    if (proto)
        snprintf(proto, 4, "%s", pr);
    return 0;
}

static int add_port(wpd_spec *sp, const char *what, const char *port, const char *ip, int hport)
{
    char key[24], proto[4];
    int num;
    if (hx_port_key(port, key, &num, proto) != 0)
        return sticky(sp, "%s: \"%s\" is not a port (\"8080\", \"8080/tcp\", \"53/udp\")", what,
                      port ? port : "(null)");
    for (size_t i = 0; i < sp->n_ports; i++)
        if (strcmp(sp->ports[i].key, key) == 0) {
            if (hport)
                sp->ports[i].host_port = hport;
            return 0;
        }
    hx_port *p = PUSH(sp->ports, sp->n_ports);
    memset(p, 0, sizeof *p);
    snprintf(p->key, sizeof p->key, "%s", key);
    p->port = num;
    snprintf(p->proto, sizeof p->proto, "%s", proto);
    snprintf(p->host_ip, sizeof p->host_ip, "%s", ip ? ip : "127.0.0.1");
    p->host_port = hport;
    return 0;
}

int wpd_spec_expose(wpd_spec *sp, const char *port)
{
    if (!sp)
        return -1;
    return add_port(sp, "wpd_spec_expose", port, NULL, 0);
}

int wpd_spec_publish(wpd_spec *sp, const char *port, const char *host_ip, int host_port)
{
    if (!sp)
        return -1;
    if (host_port < 1 || host_port > 65535)
        return sticky(sp, "wpd_spec_publish: host port %d is not in 1-65535", host_port);
    if (host_ip && (!*host_ip || strlen(host_ip) >= 48 || strpbrk(host_ip, " /\"")))
        return sticky(sp, "wpd_spec_publish: \"%s\" is not an IP address", host_ip);
    return add_port(sp, "wpd_spec_publish", port, host_ip, host_port);
}

static bool abs_path_ok(const char *p)
{
    return p && p[0] == '/' && p[1] && !strstr(p, "/../") && strcmp(p, "/..") != 0;
}

int wpd_spec_file(wpd_spec *sp, const char *ctr_path, const void *data, size_t len, unsigned mode)
{
    if (!sp)
        return -1;
    if (!abs_path_ok(ctr_path) || ctr_path[strlen(ctr_path) - 1] == '/')
        return sticky(sp, "wpd_spec_file: \"%s\" is not an absolute file path",
                      ctr_path ? ctr_path : "(null)");
    if (!data && len)
        return sticky(sp, "wpd_spec_file: %s: data is NULL", ctr_path);
    if (mode > 07777)
        return sticky(sp, "wpd_spec_file: %s: mode %o is not a permission mode", ctr_path, mode);
    hx_file *f = PUSH(sp->files, sp->n_files);
    f->path = wpd_xstrdup(ctr_path);
    f->data = wpd_xmalloc(len + 1);
    if (len)
        memcpy(f->data, data, len);
    f->len = len;
    f->mode = mode;
    return 0;
}

int wpd_spec_file_from(wpd_spec *sp, const char *ctr_path, const char *host_path, unsigned mode)
{
    if (!sp)
        return -1;
    FILE *f = host_path ? fopen(host_path, "rb") : NULL;
    if (!f)
        return sticky(sp, "wpd_spec_file_from: cannot read \"%s\": %s",
                      host_path ? host_path : "(null)", host_path ? strerror(errno) : "NULL");
    wpd_buf b = WPD_BUF_INIT;
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        wpd_buf_append(&b, chunk, n);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        wpd_buf_free(&b);
        return sticky(sp, "wpd_spec_file_from: reading \"%s\" failed", host_path);
    }
    int rc = wpd_spec_file(sp, ctr_path, b.data ? b.data : "", b.len, mode);
    wpd_buf_free(&b);
    return rc;
}

int wpd_spec_network(wpd_spec *sp, const char *network, const char *const *aliases)
{
    if (!sp)
        return -1;
    if (!network || !*network)
        return sticky(sp, "wpd_spec_network: the network name is empty");
    hx_netref *n = PUSH(sp->nets, sp->n_nets);
    n->name = wpd_xstrdup(network);
    copy_argv(aliases, &n->aliases, &n->n_aliases);
    return 0;
}

int wpd_spec_user(wpd_spec *sp, const char *user)
{
    if (!sp)
        return -1;
    if (!user || !*user)
        return sticky(sp, "wpd_spec_user: the user is empty");
    free(sp->user);
    sp->user = wpd_xstrdup(user);
    return 0;
}

int wpd_spec_workdir(wpd_spec *sp, const char *dir)
{
    if (!sp)
        return -1;
    if (!dir || dir[0] != '/')
        return sticky(sp, "wpd_spec_workdir: \"%s\" is not an absolute path", dir ? dir : "(null)");
    free(sp->workdir);
    sp->workdir = wpd_xstrdup(dir);
    return 0;
}

int wpd_spec_tmpfs(wpd_spec *sp, const char *path, const char *opts)
{
    if (!sp)
        return -1;
    if (!abs_path_ok(path))
        return sticky(sp, "wpd_spec_tmpfs: \"%s\" is not an absolute path", path ? path : "(null)");
    wpd_pair *p = PUSH(sp->tmpfs, sp->n_tmpfs);
    p->key = wpd_xstrdup(path);
    p->value = wpd_xstrdup(opts ? opts : "");
    return 0;
}

int wpd_spec_bind(wpd_spec *sp, const char *host_path, const char *ctr_path, bool ro)
{
    if (!sp)
        return -1;
    if (!host_path || host_path[0] != '/' || strchr(host_path, ':'))
        return sticky(sp, "wpd_spec_bind: \"%s\" is not an absolute host path",
                      host_path ? host_path : "(null)");
    if (!abs_path_ok(ctr_path) || strchr(ctr_path, ':'))
        return sticky(sp, "wpd_spec_bind: \"%s\" is not an absolute container path",
                      ctr_path ? ctr_path : "(null)");
    char **b = PUSH(sp->binds, sp->n_binds);
    *b = wpd_xasprintf("%s:%s%s", host_path, ctr_path, ro ? ":ro" : "");
    return 0;
}

static bool name_ok(const char *s)
{
    if (!s || !((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')))
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == '.' || *s == '-'))
            return false;
    return true;
}

int wpd_spec_volume(wpd_spec *sp, const char *name, const char *ctr_path)
{
    if (!sp)
        return -1;
    if (!name_ok(name))
        return sticky(sp, "wpd_spec_volume: \"%s\" is not a volume name", name ? name : "(null)");
    if (!abs_path_ok(ctr_path) || strchr(ctr_path, ':'))
        return sticky(sp, "wpd_spec_volume: \"%s\" is not an absolute container path",
                      ctr_path ? ctr_path : "(null)");
    wpd_pair *p = PUSH(sp->vols, sp->n_vols);
    p->key = wpd_xstrdup(name);
    p->value = wpd_xstrdup(ctr_path);
    return 0;
}

int wpd_spec_healthcheck(wpd_spec *sp, const char *const *test, long interval_ms, int retries)
{
    if (!sp)
        return -1;
    if (!test || !test[0])
        return sticky(sp, "wpd_spec_healthcheck: the test argv is empty");
    if (interval_ms < 1)
        return sticky(sp, "wpd_spec_healthcheck: interval %ld ms is not positive", interval_ms);
    if (retries < 0)
        return sticky(sp, "wpd_spec_healthcheck: retries %d is negative", retries);
    free_argv(sp->health, sp->n_health);
    copy_argv(test, &sp->health, &sp->n_health);
    sp->health_interval_ms = interval_ms;
    sp->health_retries = retries;
    return 0;
}

int wpd_spec_wait(wpd_spec *sp, wpd_wait *w)
{
    if (!sp) {
        hx_wait_free(w);
        return -1;
    }
    if (!w)
        return sticky(sp, "wpd_spec_wait: the wait is NULL (out of memory)");
    if (w->oom) {
        hx_wait_free(w);
        return sticky(sp, "wpd_spec_wait: the wait could not be built (out of memory)");
    }
    if (w->kind == HX_W_LOG && w->regex && !w->re_ok) {
        int rc = sticky(sp, "wpd_wait_log_regex: \"%s\" is not a POSIX extended regex", w->text);
        hx_wait_free(w);
        return rc;
    }
    if (w->kind == HX_W_LOG && w->times < 1) {
        int rc = sticky(sp, "wpd_wait_log: times %d is not positive", w->times);
        hx_wait_free(w);
        return rc;
    }
    if ((w->kind == HX_W_PORT || w->kind == HX_W_HTTP) && !w->port[0]) {
        int rc = sticky(sp, "%s: \"%s\" is not a port",
                        w->kind == HX_W_PORT ? "wpd_wait_port" : "wpd_wait_http",
                        w->text ? w->text : "");
        hx_wait_free(w);
        return rc;
    }
    if (w->kind == HX_W_EXEC && !w->argc) {
        hx_wait_free(w);
        return sticky(sp, "wpd_wait_exec: the argv is empty");
    }
    *PUSH(sp->waits, sp->n_waits) = w;
    /* a port or HTTP wait publishes its port */
    if (w->kind == HX_W_PORT || w->kind == HX_W_HTTP)
        add_port(sp, "wpd_spec_wait", w->port, NULL, 0);
    for (size_t i = 0; i < w->n_kids; i++)
        if (w->kids[i]->kind == HX_W_PORT || w->kids[i]->kind == HX_W_HTTP)
            add_port(sp, "wpd_spec_wait", w->kids[i]->port, NULL, 0);
    return 0;
}

int wpd_spec_timeout(wpd_spec *sp, long ms)
{
    if (!sp)
        return -1;
    if (ms < 1)
        return sticky(sp, "wpd_spec_timeout: %ld ms is not positive", ms);
    sp->timeout_ms = ms;
    return 0;
}

int wpd_spec_memory(wpd_spec *sp, long long bytes)
{
    if (!sp)
        return -1;
    if (bytes < 6 * 1024 * 1024)
        return sticky(sp, "wpd_spec_memory: %lld bytes is below the engines' minimum of 6 MiB",
                      bytes);
    sp->memory = bytes;
    return 0;
}

int wpd_spec_on_line(wpd_spec *sp, wpd_line_fn fn, void *arg)
{
    if (!sp)
        return -1;
    sp->on_line = fn;
    sp->on_line_arg = arg;
    return 0;
}

/* ---- copy ------------------------------------------------------------ */

static char **dup_argv(char **v, size_t n)
{
    char **o = wpd_xcalloc(n + 1, sizeof *o);
    for (size_t i = 0; i < n; i++)
        o[i] = wpd_xstrdup(v[i]);
    return o;
}

static wpd_pair *dup_pairs(const wpd_pair *p, size_t n)
{
    wpd_pair *o = wpd_xcalloc(n ? n : 1, sizeof *o);
    for (size_t i = 0; i < n; i++) {
        o[i].key = wpd_xstrdup(p[i].key);
        o[i].value = wpd_xstrdup(p[i].value);
    }
    return o;
}

wpd_spec *hx_spec_clone(const wpd_spec *sp)
{
    wpd_spec *c = wpd_xcalloc(1, sizeof *c);
    c->image = wpd_xstrdup(sp->image);
    c->cmd = dup_argv(sp->cmd, sp->n_cmd);
    c->n_cmd = sp->n_cmd;
    c->has_cmd = sp->has_cmd;
    c->entrypoint = dup_argv(sp->entrypoint, sp->n_entrypoint);
    c->n_entrypoint = sp->n_entrypoint;
    c->has_entrypoint = sp->has_entrypoint;
    c->env = dup_pairs(sp->env, c->n_env = sp->n_env);
    c->labels = dup_pairs(sp->labels, c->n_labels = sp->n_labels);
    c->tmpfs = dup_pairs(sp->tmpfs, c->n_tmpfs = sp->n_tmpfs);
    c->vols = dup_pairs(sp->vols, c->n_vols = sp->n_vols);
    c->ports = wpd_xcalloc(sp->n_ports ? sp->n_ports : 1, sizeof *c->ports);
    if (sp->n_ports)
        memcpy(c->ports, sp->ports, sp->n_ports * sizeof *c->ports);
    c->n_ports = sp->n_ports;
    c->files = wpd_xcalloc(sp->n_files ? sp->n_files : 1, sizeof *c->files);
    for (size_t i = 0; i < sp->n_files; i++) {
        c->files[i] = sp->files[i];
        c->files[i].path = wpd_xstrdup(sp->files[i].path);
        c->files[i].data = wpd_xmalloc(sp->files[i].len + 1);
        memcpy(c->files[i].data, sp->files[i].data, sp->files[i].len);
    }
    c->n_files = sp->n_files;
    c->nets = wpd_xcalloc(sp->n_nets ? sp->n_nets : 1, sizeof *c->nets);
    for (size_t i = 0; i < sp->n_nets; i++) {
        c->nets[i].name = wpd_xstrdup(sp->nets[i].name);
        c->nets[i].aliases = dup_argv(sp->nets[i].aliases, sp->nets[i].n_aliases);
        c->nets[i].n_aliases = sp->nets[i].n_aliases;
    }
    c->n_nets = sp->n_nets;
    c->binds = dup_argv(sp->binds, c->n_binds = sp->n_binds);
    c->health = dup_argv(sp->health, c->n_health = sp->n_health);
    c->health_interval_ms = sp->health_interval_ms;
    c->health_retries = sp->health_retries;
    c->user = sp->user ? wpd_xstrdup(sp->user) : NULL;
    c->workdir = sp->workdir ? wpd_xstrdup(sp->workdir) : NULL;
    c->timeout_ms = sp->timeout_ms;
    c->memory = sp->memory;
    c->on_line = sp->on_line;
    c->on_line_arg = sp->on_line_arg;
    c->sticky = sp->sticky ? wpd_xstrdup(sp->sticky) : NULL;
    /* waits are cloned into the run's tree (hx_wait_tree), not here */
    return c;
}

/* ---- create body -------------------------------------------------------- */

static void argv_json(wpd_jsonw *w, const char *key, char **v, size_t n)
{
    wpd_jw_key(w, key);
    wpd_jw_arr_begin(w);
    for (size_t i = 0; i < n; i++)
        wpd_jw_str(w, v[i]);
    wpd_jw_arr_end(w);
}

char *hx_create_body(const wpd_spec *sp, const wpd_session *s)
{
    wpd_buf b = WPD_BUF_INIT;
    wpd_jsonw w;
    wpd_jw_init(&w, &b);
    wpd_jw_obj_begin(&w);
    wpd_jw_kstr(&w, "Image", sp->image);
    if (sp->has_cmd)
        argv_json(&w, "Cmd", sp->cmd, sp->n_cmd);
    if (sp->has_entrypoint)
        argv_json(&w, "Entrypoint", sp->entrypoint, sp->n_entrypoint);
    if (sp->n_env) {
        wpd_jw_key(&w, "Env");
        wpd_jw_arr_begin(&w);
        for (size_t i = 0; i < sp->n_env; i++) {
            char *kv = wpd_xasprintf("%s=%s", sp->env[i].key, sp->env[i].value);
            wpd_jw_str(&w, kv);
            free(kv);
        }
        wpd_jw_arr_end(&w);
    }
    if (sp->user)
        wpd_jw_kstr(&w, "User", sp->user);
    if (sp->workdir)
        wpd_jw_kstr(&w, "WorkingDir", sp->workdir);
    wpd_pair labels[HX_N_LABELS];
    hx_labels(s, labels);
    wpd_jw_key(&w, "Labels");
    wpd_jw_obj_begin(&w);
    for (size_t i = 0; i < sp->n_labels; i++)
        wpd_jw_kstr(&w, sp->labels[i].key, sp->labels[i].value);
    for (size_t i = 0; i < HX_N_LABELS; i++)
        wpd_jw_kstr(&w, labels[i].key, labels[i].value);
    wpd_jw_obj_end(&w);
    if (sp->n_ports) {
        wpd_jw_key(&w, "ExposedPorts");
        wpd_jw_obj_begin(&w);
        for (size_t i = 0; i < sp->n_ports; i++) {
            wpd_jw_key(&w, sp->ports[i].key);
            wpd_jw_obj_begin(&w);
            wpd_jw_obj_end(&w);
        }
        wpd_jw_obj_end(&w);
    }
    if (sp->n_health) {
        wpd_jw_key(&w, "Healthcheck");
        wpd_jw_obj_begin(&w);
        wpd_jw_key(&w, "Test");
        wpd_jw_arr_begin(&w);
        wpd_jw_str(&w, "CMD");
        for (size_t i = 0; i < sp->n_health; i++)
            wpd_jw_str(&w, sp->health[i]);
        wpd_jw_arr_end(&w);
        wpd_jw_kint(&w, "Interval", (int64_t)sp->health_interval_ms * 1000000);
        wpd_jw_kint(&w, "Timeout",
                    (int64_t)(sp->health_interval_ms < 1000 ? 1000 : sp->health_interval_ms) *
                        1000000);
        wpd_jw_kint(&w, "Retries", sp->health_retries);
        wpd_jw_obj_end(&w);
    }
    wpd_jw_key(&w, "HostConfig");
    wpd_jw_obj_begin(&w);
    if (sp->n_ports) {
        wpd_jw_key(&w, "PortBindings");
        wpd_jw_obj_begin(&w);
        for (size_t i = 0; i < sp->n_ports; i++) {
            wpd_jw_key(&w, sp->ports[i].key);
            wpd_jw_arr_begin(&w);
            wpd_jw_obj_begin(&w);
            wpd_jw_kstr(&w, "HostIp", sp->ports[i].host_ip);
            char hp[16];
            snprintf(hp, sizeof hp, "%d", sp->ports[i].host_port);
            wpd_jw_kstr(&w, "HostPort", sp->ports[i].host_port ? hp : "");
            wpd_jw_obj_end(&w);
            wpd_jw_arr_end(&w);
        }
        wpd_jw_obj_end(&w);
    }
    if (sp->memory) {
        /* no swap on top: the limit is what the process gets */
        wpd_jw_kint(&w, "Memory", sp->memory);
        wpd_jw_kint(&w, "MemorySwap", sp->memory);
    }
    if (sp->n_tmpfs) {
        wpd_jw_key(&w, "Tmpfs");
        wpd_jw_obj_begin(&w);
        for (size_t i = 0; i < sp->n_tmpfs; i++)
            wpd_jw_kstr(&w, sp->tmpfs[i].key, sp->tmpfs[i].value);
        wpd_jw_obj_end(&w);
    }
    if (sp->n_binds || sp->n_vols) {
        wpd_jw_key(&w, "Binds");
        wpd_jw_arr_begin(&w);
        for (size_t i = 0; i < sp->n_binds; i++)
            wpd_jw_str(&w, sp->binds[i]);
        for (size_t i = 0; i < sp->n_vols; i++) {
            char *v = wpd_xasprintf("%s:%s", sp->vols[i].key, sp->vols[i].value);
            wpd_jw_str(&w, v);
            free(v);
        }
        wpd_jw_arr_end(&w);
    }
    if (sp->n_nets)
        wpd_jw_kstr(&w, "NetworkMode", sp->nets[0].name);
    wpd_jw_obj_end(&w);
    if (sp->n_nets) {
        wpd_jw_key(&w, "NetworkingConfig");
        wpd_jw_obj_begin(&w);
        wpd_jw_key(&w, "EndpointsConfig");
        wpd_jw_obj_begin(&w);
        wpd_jw_key(&w, sp->nets[0].name);
        wpd_jw_obj_begin(&w);
        if (sp->nets[0].n_aliases)
            argv_json(&w, "Aliases", sp->nets[0].aliases, sp->nets[0].n_aliases);
        wpd_jw_obj_end(&w);
        wpd_jw_obj_end(&w);
        wpd_jw_obj_end(&w);
    }
    wpd_jw_obj_end(&w);
    return wpd_buf_steal(&b);
}
