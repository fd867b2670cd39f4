/* credentials_helper.c - credential helpers and the asynchronous
 * resolution of registry credentials: finding `docker-credential-<name>`
 * on PATH, judging a helper's answer (with every known secret redacted
 * from what is quoted), and the request that goes from the step's
 * auth_config through the Docker config file to a helper run through
 * core/childproc, delivering its result from the loop. */
#define _GNU_SOURCE
#include "engine/credentials.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"
#include "io/childproc.h"
#include "engine/credentials_private.h"
#include "util/json.h"

#define REDACTED "********"
#define MAX_CONFIG_SIZE (16u * 1024 * 1024)
#define MAX_QUOTED 400

/* ---- helper programs --------------------------------------------------- */

char *wpd_cred_find_helper(const char *name, const char *path_env)
{
    char defpath[1024];
    if (!path_env) {
        size_t n = confstr(_CS_PATH, defpath, sizeof defpath);
        path_env = n > 0 && n <= sizeof defpath ? defpath : "/usr/local/bin:/usr/bin:/bin";
    }
    const char *p = path_env;
    for (;;) {
        size_t n = strcspn(p, ":");
        if (n > 0) { /* empty entries (the current directory) are not searched */
            char *cand = wpd_xasprintf("%.*s/docker-credential-%s", (int)n, p, name);
            struct stat st;
            if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) && access(cand, X_OK) == 0)
                return cand;
            free(cand);
        }
        if (!p[n])
            return NULL;
        p += n + 1;
    }
}

/* ---- helper answers ---------------------------------------------------- */

char *wpd_cred_redact(const char *text, size_t len, const char *const *secrets)
{
    wpd_buf b = WPD_BUF_INIT;
    wpd_buf_append(&b, text, len);
    wpd_buf_putc(&b, '\0');
    b.len--;
    for (size_t s = 0; secrets && secrets[s]; s++) {
        size_t sl = strlen(secrets[s]);
        if (sl == 0)
            continue;
        wpd_buf o = WPD_BUF_INIT;
        wpd_buf_putc(&o, '\0');
        o.len = 0;
        size_t i = 0;
        while (i < b.len) {
            if (i + sl <= b.len && memcmp(b.data + i, secrets[s], sl) == 0) {
                wpd_buf_puts(&o, REDACTED);
                i += sl;
            } else {
                wpd_buf_putc(&o, b.data[i++]);
            }
        }
        wpd_cred_wipe_buf(&b);
        b = o;
    }
    return wpd_buf_steal(&b);
}

char *wpd_cred_helper_label(const char *helper, const char *host, const char *file)
{
    return wpd_xasprintf("docker-credential-%s (credential helper for %s configured in %s)", helper,
                         host, file);
}

static bool is_not_found(const char *s, size_t len)
{
    static const char nf[] = "credentials not found";
    while (len && isspace((unsigned char)*s)) {
        s++;
        len--;
    }
    return len >= sizeof nf - 1 && strncasecmp(s, nf, sizeof nf - 1) == 0;
}

/* The helper's own words for a failure: stderr, else stdout unless it
 * looks like JSON; redacted, on one line, trimmed, capped. "" if none. */
static char *quote_output(const wpd_cred_helper_run *run, const char *const *secrets)
{
    const char *t = run->err;
    size_t n = run->err_len;
    if (wpd_cred_blank(t, n)) {
        t = run->out;
        n = run->out_len;
        size_t k = 0;
        while (k < n && isspace((unsigned char)t[k]))
            k++;
        if (k < n && (t[k] == '{' || t[k] == '['))
            return wpd_xstrdup("");
    }
    char *red = wpd_cred_redact(t, n, secrets);
    wpd_buf b = WPD_BUF_INIT;
    bool space = false;
    for (const char *p = red; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (isspace(c) || c < 0x20 || c == 0x7f) {
            space = b.len > 0;
            continue;
        }
        if (space) {
            wpd_buf_putc(&b, ' ');
            space = false;
        }
        wpd_buf_putc(&b, (char)c);
    }
    free(red);
    if (b.len > MAX_QUOTED) {
        b.len = MAX_QUOTED;
        /* do not cut a UTF-8 sequence in half */
        while (b.len > 0 && ((unsigned char)b.data[b.len] & 0xC0) == 0x80)
            b.len--;
        b.data[b.len] = '\0';
        wpd_buf_puts(&b, "...");
    }
    return wpd_buf_steal(&b);
}

/* Secrets for redaction: the caller's plus the Secret field of a JSON
 * answer. *owned receives the malloc'd Secret to free. */
static const char **collect_secrets(const char *const *secrets, const wpd_json *j, bool parsed,
                                    char **owned)
{
    size_t n = 0;
    while (secrets && secrets[n])
        n++;
    const char **all = wpd_xcalloc(n + 2, sizeof *all);
    for (size_t i = 0; i < n; i++)
        all[i] = secrets[i];
    *owned = NULL;
    if (parsed && wpd_json_type_of(j, 0) == WPD_JSON_OBJECT) {
        *owned = wpd_json_get_str(j, 0, "Secret");
        if (*owned)
            all[n++] = *owned;
    }
    all[n] = NULL;
    return all;
}

static void free_secret(char *s)
{
    if (s) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

int wpd_cred_helper_answer(const char *label, const char *server_url,
                           const wpd_cred_helper_run *run, const char *const *secrets,
                           char **header, wpd_error *err)
{
    *header = NULL;
    wpd_json j;
    wpd_error perr;
    bool parsed = wpd_json_parse(&j, run->out, run->out_len, &perr) == 0;
    char *owned = NULL;
    const char **all = collect_secrets(secrets, &j, parsed, &owned);
    int rc = 0;

    if (run->exit_code != 0) {
        if (run->exit_code > 0 && is_not_found(run->out, run->out_len)) {
            rc = 0; /* "credentials not found": no credentials */
        } else {
            char *q = quote_output(run, all);
            if (run->exit_code < 0)
                rc = wpd_error_set(err, WPD_ERR_IO, 0, "%s: killed by signal %d%s%s", label,
                                   run->term_signal, *q ? ": " : "", q);
            else
                rc = wpd_error_set(err, WPD_ERR_IO, 0, "%s: exited with status %d%s%s", label,
                                   run->exit_code, *q ? ": " : "", q);
            free(q);
        }
    } else if (!parsed) {
        if (is_not_found(run->out, run->out_len))
            rc = 0;
        else if (wpd_cred_blank(run->out, run->out_len))
            rc = wpd_error_set(err, WPD_ERR_IO, 0, "%s: answered nothing on stdout", label);
        else
            rc = wpd_error_set(err, WPD_ERR_IO, 0,
                               "%s: answered something that is not credentials JSON (invalid "
                               "JSON at line %d, column %d)",
                               label, j.err_line, j.err_col);
    } else if (wpd_json_type_of(&j, 0) != WPD_JSON_OBJECT) {
        rc = wpd_error_set(err, WPD_ERR_IO, 0,
                           "%s: answered a JSON %s instead of an object with Username and Secret",
                           label, wpd_json_type_name(j.toks[0].type));
    } else {
        int ut = wpd_json_get(&j, 0, "Username"), st = wpd_json_get(&j, 0, "Secret");
        char *user = wpd_json_get_str(&j, 0, "Username");
        if ((ut >= 0 && !user && !wpd_json_is_null(&j, ut)) ||
            (st >= 0 && !owned && !wpd_json_is_null(&j, st))) {
            rc = wpd_error_set(err, WPD_ERR_IO, 0,
                               "%s: answered JSON whose Username or Secret is not a string", label);
        } else if (!owned || !*owned) {
            rc = 0; /* nothing stored for this registry */
        } else if (user && strcmp(user, "<token>") == 0) {
            *header = wpd_cred_header_token(owned, server_url);
        } else if (!user || !*user) {
            rc = wpd_error_set(err, WPD_ERR_IO, 0, "%s: answered a Secret without a Username",
                               label);
        } else {
            *header = wpd_cred_header_basic(user, owned, server_url);
        }
        free(user);
    }
    free(all);
    free_secret(owned);
    wpd_json_free(&j);
    return rc;
}

/* ---- the asynchronous request ------------------------------------------ */

struct wpd_cred_request {
    wpd_reactor *r;
    wpd_child *child;
    wpd_timer *deliver_timer;
    char *host;
    char *server_url;
    char *label;    /* helper label for messages */
    char *password; /* the step's password, for redaction */
    char *header;   /* result */
    bool failed;
    wpd_error error;
    bool finished; /* result fixed, delivery pending */
    bool in_done;
    wpd_cred_done_fn done;
    void *arg;
};

static void req_free(wpd_cred_request *q)
{
    wpd_timer_free(q->deliver_timer);
    free(q->host);
    free(q->server_url);
    free(q->label);
    free_secret(q->password);
    free_secret(q->header);
    free(q);
}

static void req_deliver(void *arg)
{
    wpd_cred_request *q = arg;
    q->in_done = true;
    q->done(q->arg, q->failed ? NULL : q->header, q->failed ? &q->error : NULL);
    req_free(q);
}

static void req_finish(wpd_cred_request *q)
{
    if (q->finished)
        return;
    q->finished = true;
    wpd_timer_start(q->deliver_timer, 0);
}

static void req_fail(wpd_cred_request *q, const wpd_error *e)
{
    q->failed = true;
    q->error = *e;
    free_secret(q->header);
    q->header = NULL;
    req_finish(q);
}

static void on_helper_done(void *arg, const wpd_child_result *res, const wpd_error *err)
{
    wpd_cred_request *q = arg;
    q->child = NULL;
    wpd_error e;
    wpd_error_clear(&e);
    if (err && err->kind == WPD_ERR_CANCELED) {
        wpd_error_set(&e, WPD_ERR_CANCELED, 0, "%s: canceled", q->label);
        req_fail(q, &e);
        return;
    }
    if (err && err->kind == WPD_ERR_TIMEOUT) {
        wpd_error_set(&e, WPD_ERR_TIMEOUT, 0, "%s: %s", q->label, err->message);
        req_fail(q, &e);
        return;
    }
    if (err || !res) {
        wpd_error_set(&e, err ? err->kind : WPD_ERR_INTERNAL, 0, "%s: %s", q->label,
                      err ? err->message : "no result");
        req_fail(q, &e);
        return;
    }
    const char *secrets[] = {q->password, NULL};
    wpd_cred_helper_run run = {.exit_code = res->exited ? res->exit_code : -1,
                               .term_signal = res->term_signal,
                               .out = res->out,
                               .out_len = res->out_len,
                               .err = res->err,
                               .err_len = res->err_len};
    if (wpd_cred_helper_answer(q->label, q->server_url, &run, q->password ? secrets : NULL,
                               &q->header, &e) != 0) {
        req_fail(q, &e);
        return;
    }
    req_finish(q);
}

/* Read the config file: 1 = contents in *data, 0 = no file, -1 = error. */
static int read_config(const char *path, char **data, size_t *len, wpd_error *err)
{
    *data = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return 0;
        return wpd_error_set(err, WPD_ERR_INPUT, 0, "cannot read docker config file %s: %s", path,
                             strerror(errno));
    }
    wpd_buf b = WPD_BUF_INIT;
    char chunk[8192];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n > 0) {
            wpd_buf_append(&b, chunk, (size_t)n);
            if (b.len > MAX_CONFIG_SIZE) {
                close(fd);
                wpd_buf_free(&b);
                return wpd_error_set(err, WPD_ERR_INPUT, 0,
                                     "docker config file %s is larger than %u bytes", path,
                                     MAX_CONFIG_SIZE);
            }
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            close(fd);
            wpd_buf_free(&b);
            return wpd_error_set(err, WPD_ERR_INPUT, 0, "cannot read docker config file %s: %s",
                                 path, strerror(e));
        }
        break;
    }
    close(fd);
    *len = b.len;
    *data = wpd_buf_steal(&b);
    return 1;
}

/* Everything up to starting a helper; returns 0 when the request is
 * finished (result or error set), 1 when a helper runs. */
static int resolve_start(wpd_cred_request *q, const char *image, const char *user,
                         const char *password, wpd_getenv_fn lookup)
{
    wpd_error e;
    wpd_error_clear(&e);
    q->host = wpd_cred_registry_host(image, &e);
    if (!q->host) {
        req_fail(q, &e);
        return 0;
    }
    q->server_url = wpd_cred_server_url(q->host);

    if (user && *user && password && *password) {
        q->header = wpd_cred_header_basic(user, password, q->server_url);
        req_finish(q);
        return 0;
    }

    char *file = wpd_cred_config_path(lookup);
    if (!file) {
        req_finish(q);
        return 0;
    }
    char *data = NULL;
    size_t len = 0;
    int rc = read_config(file, &data, &len, &e);
    if (rc <= 0) {
        free(file);
        if (rc < 0)
            req_fail(q, &e);
        else
            req_finish(q);
        return 0;
    }
    wpd_cred_source src;
    rc = wpd_cred_select(file, data, len, q->host, &src, &e);
    if (data)
        explicit_bzero(data, len);
    free(data);
    if (rc != 0) {
        free(file);
        req_fail(q, &e);
        return 0;
    }
    switch (src.kind) {
    case WPD_CRED_NONE: break;
    case WPD_CRED_BASIC:
        q->header = wpd_cred_header_basic(src.username, src.password, q->server_url);
        break;
    case WPD_CRED_TOKEN: q->header = wpd_cred_header_token(src.token, q->server_url); break;
    case WPD_CRED_HELPER: {
        q->label = wpd_cred_helper_label(src.helper, q->host, file);
        long timeout_ms = 0;
        if (wpd_cred_helper_timeout(lookup, &timeout_ms, &e) != 0) {
            req_fail(q, &e);
            break;
        }
        char *path = wpd_cred_find_helper(src.helper, wpd_cred_env_get(lookup, "PATH"));
        if (!path) {
            wpd_error_set(&e, WPD_ERR_IO, 0,
                          "docker-credential-%s not found on PATH (credential helper for %s "
                          "configured in %s)",
                          src.helper, q->host, file);
            req_fail(q, &e);
            break;
        }
        char *argv0 = wpd_xasprintf("docker-credential-%s", src.helper);
        const char *argv[] = {argv0, "get", NULL};
        wpd_child_spec spec = {.path = path,
                               .argv = argv,
                               .input = q->server_url,
                               .input_len = strlen(q->server_url),
                               .timeout_ms = timeout_ms,
                               .done = on_helper_done,
                               .arg = q};
        q->child = wpd_child_start(q->r, &spec);
        free(argv0);
        free(path);
        free(file);
        wpd_cred_source_free(&src);
        return 1;
    }
    }
    free(file);
    wpd_cred_source_free(&src);
    req_finish(q);
    return 0;
}

wpd_cred_request *wpd_credentials_resolve(wpd_reactor *r, const char *image, const char *user,
                                          const char *password, wpd_getenv_fn lookup,
                                          wpd_cred_done_fn done, void *arg)
{
    wpd_cred_request *q = wpd_xcalloc(1, sizeof *q);
    q->r = r;
    q->done = done;
    q->arg = arg;
    q->deliver_timer = wpd_timer_new(r, req_deliver, q);
    if (password && *password)
        q->password = wpd_xstrdup(password);
    resolve_start(q, image, user, password, lookup);
    return q;
}

void wpd_credentials_cancel(wpd_cred_request *q)
{
    if (!q || q->in_done || q->finished)
        return;
    if (q->child) {
        wpd_child_cancel(q->child); /* on_helper_done follows with CANCELED */
        return;
    }
    wpd_error e;
    wpd_error_set(&e, WPD_ERR_CANCELED, 0, "resolving registry credentials: canceled");
    req_fail(q, &e);
}

void wpd_credentials_abort(wpd_cred_request *q)
{
    if (!q || q->in_done)
        return;
    if (q->child)
        wpd_child_abort(q->child);
    q->child = NULL;
    req_free(q);
}
