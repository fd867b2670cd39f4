/* convert.c - step/settings -> Engine API request pieces (see convert.h):
 * volume splitting, environment lists, the container create body, setup
 * and connect bodies, registry auth values and image references. */
#include "woodpecker/convert.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/base64.h"
#include "util/jsonw.h"
#include "woodpecker/script.h"

/* ---- small string vectors -------------------------------------------- */

void wpd_strv_free(char **v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

typedef struct strv {
    char **v;
    size_t n, cap;
} strv;

static void strv_push(strv *s, char *owned)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 8;
        s->v = wpd_xrealloc(s->v, s->cap * sizeof *s->v);
    }
    s->v[s->n++] = owned;
}

static bool strv_has(const strv *s, const char *x)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i], x) == 0)
            return true;
    return false;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ---- 4.1 volume splitting --------------------------------------------- */

static bool is_word(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static bool is_mode_char(char c)
{
    return c == 'r' || c == 'w' || c == 'o' || c == 'm';
}

/* Index of the first ':' at or after i, or len. */
static size_t scan_to_colon(const char *s, size_t i, size_t len)
{
    while (i < len && s[i] != ':')
        i++;
    return i;
}

size_t wpd_volume_split(const char *spec, char ***out)
{
    const char *s = spec ? spec : "";
    size_t len = strlen(s);
    strv parts = {NULL, 0, 0};

    if (!memchr(s, ':', len)) {
        /* The pattern needs a colon: no match, so the "split on ':'" of
         * the input is the input itself. */
        strv_push(&parts, wpd_xstrdup(s));
        *out = parts.v;
        return parts.n;
    }

    /* PART1 = [X:]?[^:]* followed by ':'. The drive prefix is preferred but
     * only kept when a ':' still follows the rest of the part. */
    size_t p1_end = 0;
    bool have = false;
    if (len >= 2 && is_word((unsigned char)s[0]) && s[1] == ':') {
        size_t e = scan_to_colon(s, 2, len);
        if (e < len) {
            p1_end = e;
            have = true;
        }
    }
    if (!have)
        p1_end = scan_to_colon(s, 0, len);

    /* PART2 = [X:]?[^:]* (the rest of the pattern always matches). */
    size_t p2_start = p1_end + 1, e = p2_start;
    if (e + 1 < len && is_word((unsigned char)s[e]) && s[e + 1] == ':')
        e += 2;
    size_t p2_end = scan_to_colon(s, e, len);

    /* Optional ':' MODE, MODE = [rwom]*. */
    size_t m_start = p2_end, m_end = p2_end;
    if (p2_end < len && s[p2_end] == ':') {
        m_start = m_end = p2_end + 1;
        while (m_end < len && is_mode_char(s[m_end]))
            m_end++;
    }

    if (p1_end > 0)
        strv_push(&parts, wpd_xstrndup(s, p1_end));
    if (p2_end > p2_start)
        strv_push(&parts, wpd_xstrndup(s + p2_start, p2_end - p2_start));
    if (m_end > m_start)
        strv_push(&parts, wpd_xstrndup(s + m_start, m_end - m_start));
    *out = parts.v;
    return parts.n;
}

/* ---- 4.4 environment ------------------------------------------------- */

typedef struct kvref {
    const char *key;
    const char *value;
} kvref;

/* Set key to value in a small map kept in insertion order. */
static void kv_set(kvref *m, size_t *n, const char *key, const char *value)
{
    for (size_t i = 0; i < *n; i++) {
        if (strcmp(m[i].key, key) == 0) {
            m[i].value = value;
            return;
        }
    }
    m[*n].key = key;
    m[*n].value = value;
    (*n)++;
}

static size_t kv_to_list(const kvref *m, size_t n, char ***out)
{
    strv l = {NULL, 0, 0};
    for (size_t i = 0; i < n; i++) {
        if (!m[i].key[0])
            continue;
        strv_push(&l, wpd_xasprintf("%s=%s", m[i].key, m[i].value ? m[i].value : ""));
    }
    if (l.n)
        qsort(l.v, l.n, sizeof *l.v, cmp_str);
    *out = l.v;
    return l.n;
}

size_t wpd_env_list(const wpd_kv *env, size_t n, char ***out)
{
    kvref *m = wpd_xcalloc(n + 1, sizeof *m);
    size_t mn = 0;
    for (size_t i = 0; i < n; i++)
        if (env[i].key)
            kv_set(m, &mn, env[i].key, env[i].value);
    size_t r = kv_to_list(m, mn, out);
    free(m);
    return r;
}

/* ---- create body ----------------------------------------------------- */

static void jw_strlist(wpd_jsonw *w, char *const *v, size_t n)
{
    wpd_jw_arr_begin(w);
    for (size_t i = 0; i < n; i++)
        wpd_jw_str(w, v[i]);
    wpd_jw_arr_end(w);
}

/* A parsed "key -> value" map kept sorted by key on output (Go's encoder
 * sorts map keys); on repeated keys the last value wins. */
typedef struct smap {
    kvref *v;
    size_t n;
} smap;

static void smap_set(smap *m, const char *key, const char *value)
{
    m->v = wpd_xrealloc(m->v, (m->n + 1) * sizeof *m->v);
    kv_set(m->v, &m->n, key, value);
}

static int cmp_kvref(const void *a, const void *b)
{
    return strcmp(((const kvref *)a)->key, ((const kvref *)b)->key);
}

static bool valid_ip_literal(const char *s)
{
    unsigned char tmp[sizeof(struct in6_addr)];
    if (inet_pton(AF_INET, s, tmp) == 1)
        return true;
    return inet_pton(AF_INET6, s, tmp) == 1;
}

static bool is_commands_step(const wpd_step *step)
{
    return step->commands.n > 0;
}

static void write_env(wpd_jsonw *w, const wpd_step *step, const wpd_kv *env, size_t n_env)
{
    kvref *m = wpd_xcalloc(n_env + 3, sizeof *m);
    size_t mn = 0;
    char *script = NULL;
    for (size_t i = 0; i < n_env; i++)
        if (env[i].key)
            kv_set(m, &mn, env[i].key, env[i].value);
    if (is_commands_step(step)) {
        script = wpd_script_ci_script((const char *const *)step->commands.v, step->commands.n,
                                      step->working_dir ? step->working_dir : "");
        kv_set(m, &mn, "CI_SCRIPT", script);
        kv_set(m, &mn, "SHELL", "/bin/sh");
    }
    char **list = NULL;
    size_t n = kv_to_list(m, mn, &list);
    if (n) {
        wpd_jw_key(w, "Env");
        jw_strlist(w, list, n);
    }
    wpd_strv_free(list, n);
    free(script);
    free(m);
}

static void write_volumes(wpd_jsonw *w, const wpd_step *step)
{
    if (step->volumes.n == 0)
        return;
    smap m = {NULL, 0};
    strv owned = {NULL, 0, 0};
    for (size_t i = 0; i < step->volumes.n; i++) {
        char **parts = NULL;
        size_t pn = wpd_volume_split(step->volumes.v[i], &parts);
        if (pn >= 2) {
            char *dst = wpd_xstrdup(parts[1]);
            strv_push(&owned, dst);
            smap_set(&m, dst, NULL);
        }
        wpd_strv_free(parts, pn);
    }
    if (m.n)
        qsort(m.v, m.n, sizeof *m.v, cmp_kvref);
    wpd_jw_key(w, "Volumes");
    wpd_jw_obj_begin(w);
    for (size_t i = 0; i < m.n; i++) {
        wpd_jw_key(w, m.v[i].key);
        wpd_jw_obj_begin(w);
        wpd_jw_obj_end(w);
    }
    wpd_jw_obj_end(w);
    free(m.v);
    wpd_strv_free(owned.v, owned.n);
}

static void write_binds(wpd_jsonw *w, const wpd_step *step, const wpd_settings *settings)
{
    strv binds = {NULL, 0, 0};
    const wpd_strlist *lists[2] = {&step->volumes, settings ? &settings->volumes : NULL};
    for (int l = 0; l < 2; l++) {
        if (!lists[l])
            continue;
        for (size_t i = 0; i < lists[l]->n; i++) {
            char *b = lists[l]->v[i];
            if (b && b[0] && !strv_has(&binds, b))
                strv_push(&binds, b);
        }
    }
    if (binds.n) {
        wpd_jw_key(w, "Binds");
        jw_strlist(w, binds.v, binds.n);
    }
    free(binds.v);
}

static void write_devices(wpd_jsonw *w, const wpd_step *step)
{
    bool open = false;
    for (size_t i = 0; i < step->devices.n; i++) {
        char **parts = NULL;
        size_t pn = wpd_volume_split(step->devices.v[i], &parts);
        if (pn >= 2) {
            if (!open) {
                wpd_jw_key(w, "Devices");
                wpd_jw_arr_begin(w);
                open = true;
            }
            wpd_jw_obj_begin(w);
            wpd_jw_kstr(w, "PathOnHost", parts[0]);
            wpd_jw_kstr(w, "PathInContainer", parts[1]);
            wpd_jw_kstr(w, "CgroupPermissions", "rwm");
            wpd_jw_obj_end(w);
        }
        wpd_strv_free(parts, pn);
    }
    if (open)
        wpd_jw_arr_end(w);
}

static int write_tmpfs(wpd_jsonw *w, const wpd_step *step, wpd_error *err)
{
    if (step->tmpfs.n == 0)
        return 0;
    smap m = {NULL, 0};
    strv owned = {NULL, 0, 0};
    int rc = 0;
    for (size_t i = 0; i < step->tmpfs.n; i++) {
        const char *t = step->tmpfs.v[i];
        if (!strchr(t, ':')) {
            smap_set(&m, t, "");
            continue;
        }
        if (t[0] == ':') {
            rc = wpd_error_set(err, WPD_ERR_INPUT, 0,
                               "invalid tmpfs entry \"%s\": missing the mount path", t);
            break;
        }
        char **parts = NULL;
        size_t pn = wpd_volume_split(t, &parts);
        /* pn >= 1 since the path before ':' is non-empty; "/run:" has no
         * options and mounts with the daemon defaults. */
        strv_push(&owned, parts[0]);
        const char *opts = "";
        if (pn >= 2) {
            strv_push(&owned, parts[1]);
            opts = parts[1];
        }
        smap_set(&m, parts[0], opts);
        for (size_t j = 2; j < pn; j++)
            free(parts[j]);
        free(parts);
    }
    if (rc == 0) {
        if (m.n)
            qsort(m.v, m.n, sizeof *m.v, cmp_kvref);
        wpd_jw_key(w, "Tmpfs");
        wpd_jw_obj_begin(w);
        for (size_t i = 0; i < m.n; i++)
            wpd_jw_kstr(w, m.v[i].key, m.v[i].value);
        wpd_jw_obj_end(w);
    }
    free(m.v);
    wpd_strv_free(owned.v, owned.n);
    return rc;
}

static int write_host_config(wpd_jsonw *w, const wpd_step *step, const wpd_settings *settings,
                             wpd_error *err)
{
    wpd_jw_key(w, "HostConfig");
    wpd_jw_obj_begin(w);
    write_binds(w, step, settings);
    wpd_jw_kbool(w, "Privileged", step->privileged != 0);
    if (step->network_mode && step->network_mode[0])
        wpd_jw_kstr(w, "NetworkMode", step->network_mode);
    if (step->dns.n) {
        wpd_jw_key(w, "Dns");
        jw_strlist(w, step->dns.v, step->dns.n);
    }
    if (step->dns_search.n) {
        wpd_jw_key(w, "DnsSearch");
        jw_strlist(w, step->dns_search.v, step->dns_search.n);
    }
    if (step->n_extra_hosts) {
        wpd_jw_key(w, "ExtraHosts");
        wpd_jw_arr_begin(w);
        for (size_t i = 0; i < step->n_extra_hosts; i++) {
            const wpd_hostalias *h = &step->extra_hosts[i];
            char *s = wpd_xasprintf("%s:%s", h->name ? h->name : "", h->ip ? h->ip : "");
            wpd_jw_str(w, s);
            free(s);
        }
        wpd_jw_arr_end(w);
    }
    write_devices(w, step);
    if (write_tmpfs(w, step, err) != 0)
        return -1;
    wpd_jw_key(w, "LogConfig");
    wpd_jw_obj_begin(w);
    wpd_jw_kstr(w, "Type", "json-file");
    wpd_jw_key(w, "Config");
    wpd_jw_null(w);
    wpd_jw_obj_end(w);
    wpd_jw_kint(w, "Memory", settings ? settings->mem : 0);
    wpd_jw_kint(w, "MemorySwap", settings ? settings->mem_swap : 0);
    wpd_jw_kint(w, "CpuQuota", settings ? settings->cpu_quota : 0);
    wpd_jw_kint(w, "CpuShares", settings ? settings->cpu_shares : 0);
    wpd_jw_kstr(w, "CpusetCpus", settings && settings->cpu_set ? settings->cpu_set : "");
    wpd_jw_kint(w, "ShmSize", settings ? settings->shm_size : 0);
    if (settings && settings->apparmor && settings->apparmor[0]) {
        char *opt = wpd_xasprintf("apparmor=%s", settings->apparmor);
        wpd_jw_key(w, "SecurityOpt");
        jw_strlist(w, &opt, 1);
        free(opt);
    }
    wpd_jw_obj_end(w);
    return 0;
}

/* NetworkingConfig: the container joins its first network at create
 * time (the others are connected after create), so it is not also put on
 * the daemon's default bridge and needs one request less before start. */
static void write_networking(wpd_jsonw *w, const wpd_step *step, const wpd_settings *settings)
{
    wpd_join first;
    if (wpd_convert_joins(step, settings, &first, 1) == 0)
        return;
    wpd_jw_key(w, "NetworkingConfig");
    wpd_jw_obj_begin(w);
    wpd_jw_key(w, "EndpointsConfig");
    wpd_jw_obj_begin(w);
    wpd_jw_key(w, first.network);
    wpd_jw_obj_begin(w);
    if (first.aliases) {
        wpd_jw_key(w, "Aliases");
        if (first.aliases->n)
            jw_strlist(w, first.aliases->v, first.aliases->n);
        else
            wpd_jw_null(w);
    }
    wpd_jw_obj_end(w);
    wpd_jw_obj_end(w);
    wpd_jw_obj_end(w);
}

char *wpd_convert_create_body(const wpd_step *step, const wpd_kv *env, size_t n_env,
                              const wpd_settings *settings, wpd_error *err)
{
    /* Validate DNS first: no body is produced for a bad entry. */
    for (size_t i = 0; i < step->dns.n; i++) {
        const char *d = step->dns.v[i];
        if (!valid_ip_literal(d)) {
            wpd_error_set(err, WPD_ERR_INPUT, 0,
                          "could not parse DNS address [%s]: ParseAddr(\"%s\"): unable to "
                          "parse IP",
                          d, d);
            return NULL;
        }
    }

    wpd_buf out = WPD_BUF_INIT;
    wpd_jsonw w;
    wpd_jw_init(&w, &out);
    wpd_jw_obj_begin(&w);
    if (step->image && step->image[0])
        wpd_jw_kstr(&w, "Image", step->image);
    wpd_jw_key(&w, "Labels");
    wpd_jw_obj_begin(&w);
    wpd_jw_kstr(&w, "wp_step", step->name ? step->name : "");
    wpd_jw_kstr(&w, "wp_uuid", step->uuid ? step->uuid : "");
    wpd_jw_obj_end(&w);
    if (step->user && step->user[0])
        wpd_jw_kstr(&w, "User", step->user);
    wpd_jw_kbool(&w, "AttachStdout", true);
    wpd_jw_kbool(&w, "AttachStderr", true);
    write_env(&w, step, env, n_env);

    if (step->entrypoint.n) {
        wpd_jw_key(&w, "Entrypoint");
        jw_strlist(&w, step->entrypoint.v, step->entrypoint.n);
    } else if (is_commands_step(step)) {
        wpd_jw_key(&w, "Entrypoint");
        jw_strlist(&w, (char *const *)wpd_script_entrypoint, 3);
    }
    write_volumes(&w, step);
    const char *wd = is_commands_step(step) ? step->workspace_base : step->working_dir;
    if (wd && wd[0])
        wpd_jw_kstr(&w, "WorkingDir", wd);
    if (write_host_config(&w, step, settings, err) != 0) {
        wpd_buf_free(&out);
        return NULL;
    }
    write_networking(&w, step, settings);
    wpd_jw_obj_end(&w);
    return wpd_buf_steal(&out);
}

size_t wpd_convert_joins(const wpd_step *step, const wpd_settings *settings, wpd_join *out,
                         size_t max)
{
    if (step->network_mode && step->network_mode[0])
        return 0;
    size_t n = 0;
    for (size_t i = 0; i < step->n_networks; i++, n++)
        if (n < max)
            out[n] = (wpd_join){step->networks[i].name, &step->networks[i].aliases};
    if (settings && settings->network && settings->network[0]) {
        if (n < max)
            out[n] = (wpd_join){settings->network, NULL};
        n++;
    }
    return n;
}

/* ---- connect and setup bodies ------------------------------------------ */

void wpd_container_name(const wpd_step *step, wpd_buf *out)
{
    wpd_buf_puts(out, "wp_");
    wpd_buf_puts(out, step->uuid ? step->uuid : "");
}
