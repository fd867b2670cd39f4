/* testutil.c - helpers shared by the Check test programs. */
#define _GNU_SOURCE
#include "testutil.h"

#include <check.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/buf.h"
#include "woodpecker/config.h"
#include "util/json.h"
#include "util/jsonw.h"

/* The CLI under test (integration tests define it). */
#ifndef WPDOCK_CLI
#define WPDOCK_CLI "wpdock"
#endif

int tu_run(const char *cmd, int merge_stderr, char **out)
{
    size_t n = strlen(cmd) + 16;
    char *full = malloc(n);
    snprintf(full, n, "%s%s", cmd, merge_stderr ? " 2>&1" : "");
    FILE *p = popen(full, "r");
    free(full);
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    if (p) {
        size_t r;
        while ((r = fread(buf + len, 1, cap - len - 1, p)) > 0) {
            len += r;
            if (cap - len < 2) {
                cap *= 2;
                buf = realloc(buf, cap);
            }
        }
    }
    buf[len] = '\0';
    int st = p ? pclose(p) : -1;
    if (out)
        *out = buf;
    else
        free(buf);
    if (st == -1)
        return -1;
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    if (WIFSIGNALED(st))
        return 128 + WTERMSIG(st);
    return -1;
}

char *tu_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0, r;
    char *buf = malloc(cap);
    while ((r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (cap - n < 2) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
    }
    fclose(f);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

size_t tu_count(const char *hay, const char *needle)
{
    size_t c = 0, nl = strlen(needle);
    if (!nl)
        return 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + nl, needle))
        c++;
    return c;
}

const char *tu_env(const char *name, const char *def)
{
    const char *v = getenv(name);
    return v && *v ? v : def;
}

/* ------------------------------------------------------------------------
 * The engine under test */

const char *tu_engine_host(void)
{
    const char *h = tu_env("WPDOCK_TEST_ENGINE_HOST", NULL);
    return h ? h : tu_env("WPDOCK_DOCKER_HOST", "unix:///var/run/docker.sock");
}

const char *tu_engine_kind(void)
{
    return tu_env("WPDOCK_TEST_ENGINE_KIND", "docker");
}

int tu_engine_is_podman(void)
{
    return strcmp(tu_engine_kind(), "podman") == 0;
}

const char *tu_engine_cert_path(void)
{
    const char *c = tu_env("WPDOCK_TEST_ENGINE_CERT_PATH", NULL);
    if (c)
        return c;
    const char *tls = tu_env("WPDOCK_DOCKER_TLS_HOST", NULL);
    if (tls && strcmp(tls, tu_engine_host()) == 0)
        return tu_env("WPDOCK_DOCKER_CERT_PATH", NULL);
    return NULL;
}

const char *tu_test_image(void)
{
    return tu_env("WPDOCK_TEST_IMAGE", "localhost/wpdock/busybox:latest");
}

static size_t engine_write(char *data, size_t size, size_t n, void *arg)
{
    wpd_buf_append(arg, data, size * n);
    return size * n;
}

long tu_engine_request(const char *method, const char *path, const char *json_body, char **body)
{
    static int curl_ready;
    if (!curl_ready) {
        curl_global_init(CURL_GLOBAL_ALL);
        curl_ready = 1;
    }
    const char *host = tu_engine_host();
    const char *certs = tu_engine_cert_path();
    wpd_buf out = WPD_BUF_INIT, url = WPD_BUF_INIT;
    char errbuf[CURL_ERROR_SIZE] = "";
    CURL *c = curl_easy_init();
    char *files[3] = {NULL, NULL, NULL};
    if (strncmp(host, "unix://", 7) == 0) {
        curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, host + 7);
        wpd_buf_printf(&url, "http://localhost%s", path);
    } else if (strncmp(host, "tcp://", 6) == 0) {
        wpd_buf_printf(&url, "%s://%s%s", certs ? "https" : "http", host + 6, path);
        if (certs) {
            files[0] = wpd_xasprintf("%s/ca.pem", certs);
            files[1] = wpd_xasprintf("%s/cert.pem", certs);
            files[2] = wpd_xasprintf("%s/key.pem", certs);
            curl_easy_setopt(c, CURLOPT_CAINFO, files[0]);
            curl_easy_setopt(c, CURLOPT_SSLCERT, files[1]);
            curl_easy_setopt(c, CURLOPT_SSLKEY, files[2]);
        }
    } else {
        wpd_buf_printf(&url, "%s%s", host, path);
    }
    struct curl_slist *hdr = NULL;
    curl_easy_setopt(c, CURLOPT_URL, wpd_buf_cstr(&url));
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (json_body || strcmp(method, "POST") == 0) {
        hdr = curl_slist_append(hdr, "Content-Type: application/json");
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, json_body ? json_body : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)(json_body ? strlen(json_body) : 0));
    }
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, engine_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    CURLcode rc = curl_easy_perform(c);
    long status = -1;
    if (rc == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    } else {
        wpd_buf_reset(&out);
        wpd_buf_printf(&out, "engine at %s: %s", host, errbuf[0] ? errbuf : curl_easy_strerror(rc));
    }
    curl_slist_free_all(hdr);
    curl_easy_cleanup(c);
    for (int i = 0; i < 3; i++)
        free(files[i]);
    wpd_buf_free(&url);
    if (body)
        *body = wpd_buf_steal(&out);
    else
        wpd_buf_free(&out);
    return status;
}

char *tu_url_escape(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    wpd_buf b = WPD_BUF_INIT;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.' || *p == '~')
            wpd_buf_putc(&b, (char)*p);
        else
            wpd_buf_printf(&b, "%%%c%c", hex[*p >> 4], hex[*p & 15]);
    }
    return wpd_buf_steal(&b);
}

long long tu_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long long tu_ulid_ms(const char *s)
{
    static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    long long v = 0;
    for (int i = 0; i < 10; i++) {
        char ch = s[i];
        if (ch >= 'a' && ch <= 'z')
            ch = (char)(ch - 'a' + 'A');
        const char *at = ch ? strchr(alphabet, ch) : NULL;
        if (!at)
            return -1;
        v = v * 32 + (at - alphabet);
    }
    return v;
}

void tu_ulid_lower(char out[27])
{
    wpd_generate_ulid(out);
    for (char *p = out; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
}

char *tu_mkdtemp(void)
{
    char *dir = wpd_xasprintf("%s/wpdock-test-XXXXXX", tu_env("TMPDIR", "/tmp"));
    ck_assert_msg(mkdtemp(dir) != NULL, "mkdtemp %s: %s", dir, strerror(errno));
    chmod(dir, 0755);
    return dir;
}

void tu_write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot write %s: %s", path, strerror(errno));
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

void tu_rm_rf(const char *path)
{
    if (path)
        nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ------------------------------------------------------------------------
 * Child processes */

static void guard_release(tu_proc *p)
{
    if (p->life_fd >= 0) {
        ssize_t w = write(p->life_fd, "d", 1);
        (void)w;
        close(p->life_fd);
        p->life_fd = -1;
    }
    if (p->guard_pid > 0) {
        waitpid(p->guard_pid, NULL, 0);
        p->guard_pid = 0;
    }
}

static int proc_reap(tu_proc *p, int block_ms)
{
    long long end = tu_now_ms() + block_ms;
    for (;;) {
        int st;
        pid_t r = waitpid(p->pid, &st, WNOHANG);
        if (r == p->pid || r < 0) {
            if (r == p->pid)
                p->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
            p->pid = 0;
            guard_release(p);
            return 1;
        }
        if (tu_now_ms() >= end)
            return 0;
        tu_proc_pump(p, 10);
    }
}

/* Interrupt a child the way a user would (so that wpdock still removes
 * what it created), a second time to skip grace periods, then kill it if it
 * does not end. */
static void proc_abort(tu_proc *p)
{
    if (p->pid <= 0)
        return;
    kill(p->pid, SIGINT);
    if (proc_reap(p, 1000))
        return;
    kill(p->pid, SIGINT);
    if (proc_reap(p, 60000))
        return;
    kill(p->pid, SIGKILL);
    proc_reap(p, 5000);
}

/* The guardian: a process that outlives a test process which ends in the
 * middle (a failed assertion ends it with _exit, a timeout with SIGKILL).
 * It holds the read ends of the child's pipes, so the child can go on
 * writing, and waits on the lifeline: a 'd' means the child is done; EOF
 * without it means the test is gone, and the child is interrupted like in
 * proc_abort, its output drained until it ends. */
static void guard_run(pid_t child, int life, int out, int err)
{
    for (int fd = 3; fd < 1024; fd++)
        if (fd != life && fd != out && fd != err)
            close(fd);
    char c = 0;
    ssize_t r;
    do
        r = read(life, &c, 1);
    while (r < 0 && errno == EINTR);
    if (r == 1 && c == 'd')
        _exit(0);
    tu_proc p;
    memset(&p, 0, sizeof p);
    p.pid = child;
    p.out_fd = out;
    p.err_fd = err;
    p.life_fd = -1;
    p.out = calloc(1, 1);
    p.err = calloc(1, 1);
    p.out_cap = p.err_cap = 1;
    long long steps[] = {1000, 60000, 5000};
    int sigs[] = {SIGINT, SIGINT, SIGKILL};
    for (int i = 0; i < 3; i++) {
        kill(child, sigs[i]);
        long long end = tu_now_ms() + steps[i];
        while (tu_now_ms() < end)
            if (tu_proc_pump(&p, 100))
                _exit(0); /* the child closed its output: it is ending */
    }
    _exit(0);
}

int tu_proc_start(tu_proc *p, const char *const *argv, const char *const *env)
{
    memset(p, 0, sizeof *p);
    p->status = -1;
    p->out_fd = p->err_fd = p->life_fd = -1;
    int o[2], e[2], life[2];
    if (pipe(o) != 0)
        return -1;
    if (pipe(e) != 0 || pipe(life) != 0) {
        close(o[0]);
        close(o[1]);
        return -1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        /* out of the test's process group: Check kills that group when a
         * test ends, which would leave the child no chance to clean up */
        setsid();
        int null = open("/dev/null", O_RDONLY);
        if (null >= 0)
            dup2(null, 0);
        dup2(o[1], 1);
        dup2(e[1], 2);
        for (int fd = 3; fd < 1024; fd++)
            close(fd);
        static const int sigs[] = {SIGINT, SIGTERM, SIGPIPE, SIGHUP, SIGQUIT, SIGCHLD};
        for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
            signal(sigs[i], SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        extern char **environ;
        execve(argv[0], (char *const *)argv, env ? (char *const *)env : environ);
        fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(o[1]);
    close(e[1]);
    fcntl(o[0], F_SETFL, O_NONBLOCK);
    fcntl(e[0], F_SETFL, O_NONBLOCK);
    pid_t guard = fork();
    if (guard == 0) {
        setsid();
        close(life[1]);
        guard_run(pid, life[0], o[0], e[0]);
    }
    close(life[0]);
    fcntl(o[0], F_SETFD, FD_CLOEXEC);
    fcntl(e[0], F_SETFD, FD_CLOEXEC);
    fcntl(life[1], F_SETFD, FD_CLOEXEC);
    p->pid = pid;
    p->guard_pid = guard > 0 ? guard : 0;
    p->life_fd = life[1];
    p->out_fd = o[0];
    p->err_fd = e[0];
    p->out = calloc(1, 1);
    p->err = calloc(1, 1);
    p->out_cap = p->err_cap = 1;
    return 0;
}

static void proc_read(int *fd, char **buf, size_t *len, size_t *cap)
{
    for (;;) {
        if (*cap - *len < 65537) {
            *cap = (*cap + 65537) * 2;
            *buf = realloc(*buf, *cap);
        }
        ssize_t r = read(*fd, *buf + *len, *cap - *len - 1);
        if (r > 0) {
            *len += (size_t)r;
            (*buf)[*len] = '\0';
            continue;
        }
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        close(*fd);
        *fd = -1;
        return;
    }
}

int tu_proc_pump(tu_proc *p, int timeout_ms)
{
    struct pollfd fds[2];
    int n = 0;
    if (p->out_fd >= 0)
        fds[n++] = (struct pollfd){.fd = p->out_fd, .events = POLLIN};
    if (p->err_fd >= 0)
        fds[n++] = (struct pollfd){.fd = p->err_fd, .events = POLLIN};
    if (n == 0)
        return 1;
    if (poll(fds, (nfds_t)n, timeout_ms) > 0) {
        for (int i = 0; i < n; i++) {
            if (!fds[i].revents)
                continue;
            if (fds[i].fd == p->out_fd)
                proc_read(&p->out_fd, &p->out, &p->out_len, &p->out_cap);
            else
                proc_read(&p->err_fd, &p->err, &p->err_len, &p->err_cap);
        }
    }
    return p->out_fd < 0 && p->err_fd < 0;
}

int tu_proc_finish(tu_proc *p, int timeout_ms)
{
    long long end = tu_now_ms() + timeout_ms;
    while (p->pid > 0 && !tu_proc_pump(p, 50)) {
        if (tu_now_ms() >= end) {
            proc_abort(p);
            return -1;
        }
    }
    long long left = end - tu_now_ms();
    if (p->pid > 0 && !proc_reap(p, left > 0 ? (int)left : 0)) {
        proc_abort(p);
        return -1;
    }
    /* output written just before the exit */
    while (!tu_proc_pump(p, 0))
        ;
    return p->status;
}

void tu_proc_signal(tu_proc *p, int sig)
{
    if (p->pid > 0)
        kill(p->pid, sig);
}

void tu_proc_free(tu_proc *p)
{
    proc_abort(p);
    guard_release(p);
    if (p->out_fd >= 0)
        close(p->out_fd);
    if (p->err_fd >= 0)
        close(p->err_fd);
    free(p->out);
    free(p->err);
    memset(p, 0, sizeof *p);
    p->out_fd = p->err_fd = p->life_fd = -1;
}

/* ------------------------------------------------------------------------
 * wpdock exec runs */

static char *shorten(const char *s)
{
    size_t n = strlen(s);
    return n <= 300 ? wpd_xstrdup(s) : wpd_xasprintf("%.300s... (%zu bytes)", s, n);
}

/* The documented keys in their order. "engine" (the engine's name, right
 * after "workflow") is an addition of wpdock's multi-engine mode. */
static const char *const wf_keys[] = {"event", "workflow", "engine", "status", "error", NULL};
static const char *const step_keys[] = {"event",   "workflow", "engine",    "step",
                                        "uuid",    "status",   "exit_code", "oom_killed",
                                        "started", "finished", "error",     NULL};
static const char *const log_keys[] = {"event",  "workflow", "engine", "step",
                                       "stream", "line",     NULL};
/* Image pulls (wpdock's help documents them; a test image is normally
 * present, so they are rare). */
static const char *const pull_keys[] = {"event", "workflow", "engine",  "step",  "image",
                                        "layer", "status",   "current", "total", NULL};

static bool one_of(const char *s, const char *const *set)
{
    for (; *set; set++)
        if (strcmp(s, *set) == 0)
            return true;
    return false;
}

/* Parse one event line and check it against the documented shape:
 * exactly the documented keys, in the documented order, with the
 * documented types and values. */
static void parse_event(tu_exec *x, const char *line, size_t len)
{
    char *raw = wpd_xstrndup(line, len);
    char *shown = shorten(raw);
    wpd_json j;
    wpd_error err;
    ck_assert_msg(wpd_json_parse(&j, raw, len, &err) == 0, "stdout line is not JSON (%s): %s",
                  err.message, shown);
    ck_assert_msg(wpd_json_type_of(&j, 0) == WPD_JSON_OBJECT, "not a JSON object: %s", shown);
    char *kind = wpd_json_get_str(&j, 0, "event");
    ck_assert_msg(kind != NULL, "no \"event\": %s", shown);
    tu_event ev;
    memset(&ev, 0, sizeof ev);
    const char *const *keys;
    if (strcmp(kind, "workflow") == 0) {
        ev.kind = TU_EV_WORKFLOW;
        keys = wf_keys;
    } else if (strcmp(kind, "step") == 0) {
        ev.kind = TU_EV_STEP;
        keys = step_keys;
    } else if (strcmp(kind, "log") == 0) {
        ev.kind = TU_EV_LOG;
        keys = log_keys;
    } else if (strcmp(kind, "pull") == 0) {
        ev.kind = TU_EV_PULL;
        keys = pull_keys;
    } else {
        ck_abort_msg("unexpected event kind \"%s\": %s", kind, shown);
        return;
    }
    free(kind);
    int last = -1;
    int tok = 1;
    for (int k = 0; k < j.toks[0].size; k++) {
        char *key = wpd_json_str(&j, tok);
        int pos = -1;
        for (int i = 0; keys[i]; i++)
            if (strcmp(keys[i], key) == 0)
                pos = i;
        ck_assert_msg(pos >= 0, "undocumented key \"%s\": %s", key, shown);
        ck_assert_msg(pos > last, "key \"%s\" out of the documented order (or twice): %s", key,
                      shown);
        last = pos;
        int v = tok + 1;
        int t = wpd_json_type_of(&j, v);
        if (strcmp(key, "current") == 0 || strcmp(key, "total") == 0) {
            int64_t n = 0;
            ck_assert_msg(wpd_json_int64(&j, v, &n) == 0, "\"%s\" is not an integer: %s", key,
                          shown);
        } else if (strcmp(key, "exit_code") == 0 || strcmp(key, "started") == 0 ||
                   strcmp(key, "finished") == 0) {
            int64_t n = 0;
            ck_assert_msg(wpd_json_int64(&j, v, &n) == 0, "\"%s\" is not an integer: %s", key,
                          shown);
            if (key[0] == 'e') {
                ev.has_exit_code = 1;
                ev.exit_code = (int)n;
            } else if (key[0] == 's') {
                ev.started = n;
            } else {
                ev.finished = n;
            }
        } else if (strcmp(key, "oom_killed") == 0) {
            bool b = false;
            ck_assert_msg(wpd_json_bool(&j, v, &b) == 0, "\"oom_killed\" is not a boolean: %s",
                          shown);
            ev.has_oom = 1;
            ev.oom_killed = b;
        } else {
            ck_assert_msg(t == WPD_JSON_STRING, "\"%s\" is not a string: %s", key, shown);
            size_t n = 0;
            char *s = wpd_json_strn(&j, v, &n);
            if (strcmp(key, "workflow") == 0)
                ev.workflow = s;
            else if (strcmp(key, "status") == 0)
                ev.status = s;
            else if (strcmp(key, "error") == 0)
                ev.error = s;
            else if (strcmp(key, "step") == 0)
                ev.step = s;
            else if (strcmp(key, "uuid") == 0)
                ev.uuid = s;
            else if (strcmp(key, "stream") == 0)
                ev.stream = s;
            else if (strcmp(key, "line") == 0) {
                ev.line = s;
                ev.line_len = n;
            } else
                free(s);
        }
        free(key);
        tok = wpd_json_skip(&j, tok);
    }
    wpd_json_free(&j);
    ck_assert_msg(ev.workflow != NULL, "no \"workflow\": %s", shown);
    static const char *const wf_status[] = {"started",  "success", "failure",
                                            "canceled", "error",   NULL};
    static const char *const step_status[] = {"started",  "success", "failure", "skipped",
                                              "canceled", "error",   NULL};
    static const char *const streams[] = {"stdout", "stderr", NULL};
    long long lo = x->t_spawn_ms / 1000 - 1, hi = tu_now_ms() / 1000 + 1;
    switch (ev.kind) {
    case TU_EV_WORKFLOW:
        ck_assert_msg(ev.status && one_of(ev.status, wf_status), "bad workflow status: %s", shown);
        if (strcmp(ev.status, "started") == 0 || strcmp(ev.status, "success") == 0)
            ck_assert_msg(!ev.error, "%s workflow with an error: %s", ev.status, shown);
        else if (strcmp(ev.status, "canceled") != 0)
            ck_assert_msg(ev.error && *ev.error, "%s workflow without an error: %s", ev.status,
                          shown);
        break;
    case TU_EV_STEP:
        ck_assert_msg(ev.step && ev.uuid && *ev.uuid, "step event without step/uuid: %s", shown);
        ck_assert_msg(ev.status && one_of(ev.status, step_status), "bad step status: %s", shown);
        if (strcmp(ev.status, "started") == 0) {
            ck_assert_msg(!ev.has_exit_code && !ev.has_oom && !ev.finished && !ev.error,
                          "a started event with results: %s", shown);
            ck_assert_msg(ev.started, "a started event without \"started\": %s", shown);
        } else if (strcmp(ev.status, "skipped") == 0) {
            ck_assert_msg(!ev.has_exit_code && !ev.has_oom, "a skipped step with an exit code: %s",
                          shown);
        } else if (strcmp(ev.status, "success") == 0) {
            ck_assert_msg(!ev.error, "a successful step with an error: %s", shown);
        } else {
            ck_assert_msg(ev.error && *ev.error, "a %s step without an error: %s", ev.status,
                          shown);
        }
        if (ev.started)
            ck_assert_msg(ev.started >= lo && ev.started <= hi,
                          "\"started\" is not the time of this run (%lld..%lld): %s", lo, hi,
                          shown);
        if (ev.finished)
            ck_assert_msg(ev.finished >= ev.started && ev.finished <= hi,
                          "\"finished\" is before \"started\" or in the future: %s", shown);
        break;
    case TU_EV_LOG:
        ck_assert_msg(ev.step && ev.line, "log event without step/line: %s", shown);
        ck_assert_msg(ev.stream && one_of(ev.stream, streams), "bad stream: %s", shown);
        break;
    case TU_EV_PULL:
        ck_assert_msg(ev.step && ev.status, "pull event without step/status: %s", shown);
        break;
    }
    if (ev.kind != TU_EV_LOG || strlen(raw) < 4096)
        ev.raw = raw;
    else
        free(raw); /* the text is kept in ev.line */
    free(shown);
    x->ev = wpd_xrealloc(x->ev, (x->n_ev + 1) * sizeof *x->ev);
    x->ev[x->n_ev++] = ev;
}

static void exec_parse_new(tu_exec *x)
{
    tu_proc *p = &x->proc;
    if (p->out_len && !x->t_first_ms)
        x->t_first_ms = tu_now_ms();
    while (x->json && x->parsed < p->out_len) {
        const char *start = p->out + x->parsed;
        const char *nl = memchr(start, '\n', p->out_len - x->parsed);
        if (!nl)
            return;
        parse_event(x, start, (size_t)(nl - start));
        x->parsed = (size_t)(nl - p->out) + 1;
    }
}

static void env_push(const char ***env, size_t *n, const char *entry)
{
    *env = wpd_xrealloc(*env, (*n + 2) * sizeof **env);
    (*env)[(*n)++] = entry;
    (*env)[*n] = NULL;
}

void tu_exec_start(tu_exec *x, const char *const *args, const char *const *extra_env)
{
    tu_exec_start_prog(x, WPDOCK_CLI, args, extra_env);
}

void tu_exec_start_prog(tu_exec *x, const char *prog, const char *const *args,
                        const char *const *extra_env)
{
    extern char **environ;
    memset(x, 0, sizeof *x);
    const char **env = NULL;
    size_t n_env = 0;
    for (char **e = environ; *e; e++) {
        if (strncmp(*e, "DOCKER_", 7) == 0 || strncmp(*e, "WOODPECKER_", 11) == 0 ||
            strncmp(*e, "CONTAINER_HOST=", 15) == 0)
            continue;
        env_push(&env, &n_env, *e);
    }
    char *host = wpd_xasprintf("DOCKER_HOST=%s", tu_engine_host());
    char *certs = NULL;
    env_push(&env, &n_env, host);
    if (tu_engine_cert_path()) {
        certs = wpd_xasprintf("DOCKER_CERT_PATH=%s", tu_engine_cert_path());
        env_push(&env, &n_env, certs);
        env_push(&env, &n_env, "DOCKER_TLS_VERIFY=1");
    }
    for (size_t i = 0; extra_env && extra_env[i]; i++) {
        /* an extra entry replaces one of the same name */
        size_t kl = strcspn(extra_env[i], "=") + 1;
        for (size_t k = 0; k < n_env;) {
            if (strncmp(env[k], extra_env[i], kl) == 0) {
                memmove(&env[k], &env[k + 1], (n_env - k) * sizeof *env);
                n_env--;
            } else {
                k++;
            }
        }
        env_push(&env, &n_env, extra_env[i]);
    }
    const char **argv = NULL;
    size_t n_argv = 0;
    env_push(&argv, &n_argv, prog);
    for (size_t i = 0; args[i]; i++) {
        env_push(&argv, &n_argv, args[i]);
        if ((strcmp(args[i], "--log-format") == 0 && args[i + 1] &&
             strcmp(args[i + 1], "json") == 0) ||
            strcmp(args[i], "--log-format=json") == 0)
            x->json = 1;
    }
    x->t_spawn_ms = tu_now_ms();
    int rc = tu_proc_start(&x->proc, argv, env);
    free(argv);
    free(env);
    free(host);
    free(certs);
    ck_assert_msg(rc == 0, "cannot start %s", prog);
}

static bool has_log(const tu_exec *x, const char *step, const char *line)
{
    for (size_t i = 0; i < x->n_ev; i++) {
        const tu_event *e = &x->ev[i];
        if (e->kind == TU_EV_LOG && strcmp(e->step, step) == 0 && strcmp(e->line, line) == 0)
            return true;
    }
    return false;
}

void tu_exec_wait_log(tu_exec *x, const char *step, const char *line, int timeout_ms)
{
    long long end = tu_now_ms() + timeout_ms;
    for (;;) {
        exec_parse_new(x);
        if (has_log(x, step, line))
            return;
        char *err = shorten(x->proc.err);
        ck_assert_msg(x->proc.out_fd >= 0,
                      "wpdock ended its output before step %s printed \"%s\"; stderr: %s", step,
                      line, err);
        ck_assert_msg(tu_now_ms() < end, "step %s did not print \"%s\" within %d ms; stderr: %s",
                      step, line, timeout_ms, err);
        free(err);
        tu_proc_pump(&x->proc, 100);
    }
}

/* Order of the events: one workflow "started" first, one final workflow
 * event last; per step at most one "started" before exactly one final
 * event, its logs in between; one uuid per step name. */
static void check_sequence(const tu_exec *x)
{
    if (x->n_ev == 0)
        return;
    ck_assert_msg(x->ev[0].kind == TU_EV_WORKFLOW && strcmp(x->ev[0].status, "started") == 0,
                  "the first event is not the workflow start: %s", x->ev[0].raw);
    const tu_event *lastev = &x->ev[x->n_ev - 1];
    ck_assert_msg(lastev->kind == TU_EV_WORKFLOW && strcmp(lastev->status, "started") != 0,
                  "the last event is not the workflow result: %s",
                  lastev->raw ? lastev->raw : lastev->line);
    for (size_t i = 0; i < x->n_ev; i++) {
        const tu_event *e = &x->ev[i];
        ck_assert_msg(strcmp(e->workflow, x->ev[0].workflow) == 0,
                      "events of several workflows in a one-file run");
        if (i > 0 && i + 1 < x->n_ev)
            ck_assert_msg(e->kind != TU_EV_WORKFLOW, "a workflow event in the middle: %s", e->raw);
        if (e->kind == TU_EV_WORKFLOW)
            continue;
        long started_at = -1, final_at = -1;
        int n_started = 0, n_final = 0;
        for (size_t k = 0; k < x->n_ev; k++) {
            const tu_event *o = &x->ev[k];
            if (o->kind != TU_EV_STEP || strcmp(o->step, e->step) != 0)
                continue;
            if (strcmp(o->status, "started") == 0) {
                n_started++;
                started_at = (long)k;
            } else {
                n_final++;
                final_at = (long)k;
            }
            if (e->kind == TU_EV_STEP)
                ck_assert_msg(strcmp(o->uuid, e->uuid) == 0, "step %s has two uuids", e->step);
        }
        ck_assert_msg(n_final == 1, "step %s has %d final events", e->step, n_final);
        ck_assert_msg(n_started <= 1, "step %s started %d times", e->step, n_started);
        ck_assert_msg(started_at < final_at, "step %s: final event before \"started\"", e->step);
        if (e->kind == TU_EV_LOG || e->kind == TU_EV_PULL)
            ck_assert_msg(started_at >= 0 && (long)i > started_at && (long)i < final_at,
                          "a %s event of step %s outside its started..final events",
                          e->kind == TU_EV_LOG ? "log" : "pull", e->step);
    }
}

int tu_exec_finish(tu_exec *x, int timeout_ms)
{
    x->status = tu_proc_finish(&x->proc, timeout_ms);
    x->t_end_ms = tu_now_ms();
    exec_parse_new(x);
    if (!x->t_first_ms)
        x->t_first_ms = x->t_end_ms;
    char *err = shorten(x->proc.err);
    ck_assert_msg(x->status >= 0, "wpdock did not finish within %d ms; stderr: %s", timeout_ms,
                  err);
    if (x->json)
        ck_assert_msg(x->parsed == x->proc.out_len, "stdout does not end with a newline");
    free(err);
    check_sequence(x);
    return x->status;
}

int tu_exec_run(tu_exec *x, const char *const *args, const char *const *extra_env, int timeout_ms)
{
    tu_exec_start(x, args, extra_env);
    return tu_exec_finish(x, timeout_ms);
}

void tu_exec_watch_name(tu_exec *x, const char *name)
{
    x->names = wpd_xrealloc(x->names, (x->n_names + 1) * sizeof *x->names);
    x->names[x->n_names++] = wpd_xstrdup(name);
}

const tu_event *tu_exec_step(const tu_exec *x, const char *step)
{
    const tu_event *r = NULL;
    for (size_t i = 0; i < x->n_ev; i++)
        if (x->ev[i].kind == TU_EV_STEP && strcmp(x->ev[i].step, step) == 0 &&
            strcmp(x->ev[i].status, "started") != 0)
            r = &x->ev[i];
    return r;
}

const tu_event *tu_exec_step_started(const tu_exec *x, const char *step)
{
    for (size_t i = 0; i < x->n_ev; i++)
        if (x->ev[i].kind == TU_EV_STEP && strcmp(x->ev[i].step, step) == 0 &&
            strcmp(x->ev[i].status, "started") == 0)
            return &x->ev[i];
    return NULL;
}

const tu_event *tu_exec_workflow(const tu_exec *x)
{
    for (size_t i = x->n_ev; i-- > 0;)
        if (x->ev[i].kind == TU_EV_WORKFLOW && strcmp(x->ev[i].status, "started") != 0)
            return &x->ev[i];
    return NULL;
}

size_t tu_exec_count_lines(const tu_exec *x, const char *step, const char *stream, const char *line)
{
    size_t n = 0;
    for (size_t i = 0; i < x->n_ev; i++) {
        const tu_event *e = &x->ev[i];
        if (e->kind == TU_EV_LOG && strcmp(e->step, step) == 0 &&
            (!stream || strcmp(e->stream, stream) == 0) && (!line || strcmp(e->line, line) == 0))
            n++;
    }
    return n;
}

char *tu_exec_join_lines(const tu_exec *x, const char *step, const char *stream)
{
    wpd_buf b = WPD_BUF_INIT;
    for (size_t i = 0; i < x->n_ev; i++) {
        const tu_event *e = &x->ev[i];
        if (e->kind == TU_EV_LOG && strcmp(e->step, step) == 0 &&
            (!stream || strcmp(e->stream, stream) == 0)) {
            wpd_buf_append(&b, e->line, e->line_len);
            wpd_buf_putc(&b, '\n');
        }
    }
    return wpd_buf_steal(&b);
}

/* The window in which wpdock generated the ids of this run (ms since the
 * epoch). The workflow id and the uuids of steps without one are ULIDs made
 * in one go while the input is parsed: when the events show a generated
 * step uuid, the workflow id is from the same few milliseconds; otherwise
 * the window is the time between the start of wpdock and its first output. */
static void id_window(const tu_exec *x, long long *lo, long long *hi)
{
    *lo = x->t_spawn_ms - 2;
    *hi = x->t_first_ms + 2;
    long long first_uuid = -1;
    for (size_t i = 0; i < x->n_ev; i++) {
        if (x->ev[i].kind != TU_EV_STEP)
            continue;
        long long ms = tu_ulid_ms(x->ev[i].uuid);
        if (ms >= *lo && ms <= *hi && (first_uuid < 0 || ms < first_uuid))
            first_uuid = ms;
    }
    if (first_uuid >= 0) {
        *lo = first_uuid - 20;
        *hi = first_uuid;
    }
}

static bool run_owns_ulid(const tu_exec *x, const char *ulid)
{
    long long lo, hi, ms = tu_ulid_ms(ulid);
    id_window(x, &lo, &hi);
    return ms >= 0 && ms >= lo && ms <= hi;
}

/* A container is this run's when its step is in the events (a step is
 * created only after its "started" event) or, for text output or a run
 * without events, when its uuid was generated during the run. */
static bool run_owns_uuid(const tu_exec *x, const char *uuid)
{
    for (size_t i = 0; i < x->n_ev; i++)
        if (x->ev[i].kind == TU_EV_STEP && strcmp(x->ev[i].uuid, uuid) == 0)
            return true;
    return (!x->json || x->n_ev == 0) && strlen(uuid) == 26 && run_owns_ulid(x, uuid);
}

static bool run_owns_name(const tu_exec *x, const char *name)
{
    for (size_t i = 0; i < x->n_names; i++)
        if (strcmp(x->names[i], name) == 0)
            return true;
    return strncmp(name, "wp_", 3) == 0 && strlen(name) >= 29 && run_owns_ulid(x, name + 3);
}

/* Docker 20.10 sometimes keeps a stale endpoint count on a network after
 * many containers on it were started and removed at the same time
 * (moby#43286, reproduced here with the docker CLI alone): the network then
 * has no container, the engine refuses to remove it ("has active
 * endpoints") and only a daemon restart frees it. A network in that state
 * that wpdock did try to remove (it says so on stderr) is the engine's
 * defect, not wpdock's: it is reported on stderr instead of failing. */
static bool stale_docker_network(const tu_exec *x, const char *name)
{
    if (tu_engine_is_podman())
        return false;
    char *said = wpd_xasprintf("could not remove network %s", name);
    bool tried =
        x->proc.err && strstr(x->proc.err, said) && strstr(x->proc.err, "active endpoints");
    free(said);
    if (!tried)
        return false;
    char *esc = tu_url_escape(name);
    char *url = wpd_xasprintf("/networks/%s", esc);
    char *body = NULL, *info = NULL;
    bool stale =
        tu_engine_request("DELETE", url, NULL, &body) >= 400 && strstr(body, "active endpoints") &&
        tu_engine_request("GET", url, NULL, &info) == 200 && strstr(info, "\"Containers\":{}");
    free(body);
    free(info);
    free(url);
    free(esc);
    if (stale)
        fprintf(stderr,
                "warning: network %s stays behind: Docker's stale endpoint count "
                "(moby#43286); no container is attached, only a daemon restart removes it\n",
                name);
    return stale;
}

/* Names (field `key` of each element of the array at `path` of the
 * response to GET `url`) that this run owns. */
static void collect_leftovers(const tu_exec *x, const char *url, const char *path, const char *key,
                              bool uuid_label, wpd_buf *found)
{
    char *body = NULL;
    long st = tu_engine_request("GET", url, NULL, &body);
    ck_assert_msg(st == 200, "GET %s: %ld %s", url, st, body);
    wpd_json j;
    wpd_error err;
    ck_assert_msg(wpd_json_parse(&j, body, strlen(body), &err) == 0, "GET %s: %s", url,
                  err.message);
    int arr = path ? wpd_json_path(&j, 0, path) : 0;
    for (int i = 0;; i++) {
        int el = wpd_json_at(&j, arr, i);
        if (el < 0)
            break;
        char *name = wpd_json_get_str(&j, el, key);
        if (!name)
            continue;
        bool ours = uuid_label ? run_owns_uuid(x, name) : run_owns_name(x, name);
        if (ours && uuid_label) {
            char *step = wpd_json_get_str(&j, el, "Labels.wp_step");
            char *state = wpd_json_get_str(&j, el, "Status");
            wpd_buf_printf(found, " container wp_%s (step %s, %s);", name, step ? step : "?",
                           state ? state : "?");
            free(step);
            free(state);
        } else if (ours) {
            if (strcmp(url, "/networks") != 0 || !stale_docker_network(x, name))
                wpd_buf_printf(found, " %s %s;", url + 1, name);
        }
        free(name);
    }
    wpd_json_free(&j);
    free(body);
}

void tu_exec_assert_clean(const tu_exec *x)
{
    wpd_buf found = WPD_BUF_INIT;
    char *filters = tu_url_escape("{\"label\":[\"wp_uuid\"]}");
    char *url = wpd_xasprintf("/containers/json?all=1&filters=%s", filters);
    collect_leftovers(x, url, NULL, "Labels.wp_uuid", true, &found);
    free(url);
    free(filters);
    collect_leftovers(x, "/networks", NULL, "Name", false, &found);
    collect_leftovers(x, "/volumes", "Volumes", "Name", false, &found);
    char *err = shorten(x->proc.err ? x->proc.err : "");
    ck_assert_msg(found.len == 0, "left behind on %s:%s (wpdock stderr: %s)", tu_engine_host(),
                  wpd_buf_cstr(&found), err);
    free(err);
    wpd_buf_free(&found);
}

void tu_exec_free(tu_exec *x)
{
    tu_proc_free(&x->proc);
    for (size_t i = 0; i < x->n_ev; i++) {
        tu_event *e = &x->ev[i];
        free(e->raw);
        free(e->workflow);
        free(e->status);
        free(e->error);
        free(e->step);
        free(e->uuid);
        free(e->stream);
        free(e->line);
    }
    free(x->ev);
    for (size_t i = 0; i < x->n_names; i++)
        free(x->names[i]);
    free(x->names);
    memset(x, 0, sizeof *x);
}

/* ------------------------------------------------------------------------
 * Workflow documents */

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
