/* floor.c - the raw-API floor of the benchmarks: a workflow of N steps in one
 * stage driven with exactly the Engine API requests wpdock sends, in the same
 * order (HEAD /_ping, version, info, volume and network create at once, then
 * per step create (joining the network in its body), attach, start, [Podman:
 * logs], wait, inspect, delete; at the end volume and network delete at
 * once), with blocking libcurl easy handles and no other logic: response
 * bodies are discarded, output bytes only counted.
 *
 * Concurrency: the attach must be in place before start is sent and stays
 * open while the container runs, so each step runs its attach on a second
 * thread and sends start once that thread has seen the attach's response
 * headers. Threads keep the floor as plain blocking code (a curl multi would
 * be a small event loop, i.e. exactly the kind of logic the floor is meant
 * to leave out). The N steps of the stage run on N threads, the final
 * teardown likewise, as wpdock starts all of them at once. All handles share
 * one connection cache (CURLSH), as wpdock's handles share one multi handle's
 * cache, so idle connections are reused the same way.
 *
 *   floor [-H unix:///path] info
 *       the three connect requests; prints "engine_ms=T" (their wall time)
 *   floor [-H unix:///path] [-i IMAGE] [-n STEPS] [-v BIND]... run CMD [ARG...]
 *       prints "steps=N attach_bytes=B ms=T"; exit status 1 if a request of
 *       the step sequence failed
 */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define BASE_URL "http://api.moby.localhost"
#define USER_AGENT "wpdock/0.1.0"

static const char *sock_path = "/var/run/docker.sock";
static char api[256] = "/v1.41";
static bool podman;
static char libpod[48] = "/v4.0.0/libpod";
static CURLSH *share;
static pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];
static pthread_mutex_t fail_lock = PTHREAD_MUTEX_INITIALIZER;
static int failures;

/* ------------------------------------------------------------- helpers */

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("floor: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

static char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    char *s;
    va_start(ap, fmt);
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0)
        die("out of memory");
    return s;
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void lock_cb(CURL *h, curl_lock_data data, curl_lock_access access, void *arg)
{
    (void)h;
    (void)access;
    (void)arg;
    pthread_mutex_lock(&share_locks[data]);
}

static void unlock_cb(CURL *h, curl_lock_data data, void *arg)
{
    (void)h;
    (void)arg;
    pthread_mutex_unlock(&share_locks[data]);
}

/* A ULID-shaped id (10 time characters, 16 random ones), like wpdock's. */
static void make_id(char out[27], bool lower)
{
    static const char upper_set[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    static const char lower_set[] = "0123456789abcdefghjkmnpqrstvwxyz";
    const char *set = lower ? lower_set : upper_set;
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    uint64_t ms = (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
    for (int i = 9; i >= 0; i--, ms >>= 5)
        out[i] = set[ms & 31];
    unsigned char r[16];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
        die("getrandom failed");
    for (int i = 0; i < 16; i++)
        out[10 + i] = set[r[i] & 31];
    out[26] = '\0';
}

/* JSON string literal of s (quotes included) appended to a malloc'd copy. */
static char *json_str(const char *s)
{
    size_t n = strlen(s);
    char *out = malloc(n * 6 + 3), *p = out;
    if (!out)
        die("out of memory");
    *p++ = '"';
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            *p++ = '\\';
            *p++ = (char)c;
        } else if (c < 0x20) {
            p += sprintf(p, "\\u%04x", c);
        } else {
            *p++ = (char)c;
        }
    }
    *p++ = '"';
    *p = '\0';
    return out;
}

/* --------------------------------------------------------------- HTTP */

typedef size_t (*data_fn)(char *data, size_t size, size_t n, void *arg);
typedef size_t (*hdr_fn)(char *data, size_t size, size_t n, void *arg);

static size_t discard(char *data, size_t size, size_t n, void *arg)
{
    (void)data;
    (void)arg;
    return size * n;
}

/* One blocking request; returns the HTTP status, or 0 on a transport error.
 * Options mirror wpdock's (core/http.c): POST-style requests always carry
 * an explicit body, so curl sends Content-Length and never waits for 100. */
static long request(const char *method, bool versioned, const char *path, const char *body,
                    data_fn on_data, void *data_arg, hdr_fn on_hdr, void *hdr_arg)
{
    CURL *e = curl_easy_init();
    if (!e)
        die("curl_easy_init failed");
    char *url = xasprintf("%s%s%s", BASE_URL, versioned ? api : "", path);
    struct curl_slist *hdrs = NULL;
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_SHARE, share);
    curl_easy_setopt(e, CURLOPT_UNIX_SOCKET_PATH, sock_path);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_USERAGENT, USER_AGENT);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data ? on_data : discard);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, data_arg);
    if (on_hdr) {
        curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_hdr);
        curl_easy_setopt(e, CURLOPT_HEADERDATA, hdr_arg);
    }
    if (strcmp(method, "GET") == 0) {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else {
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? strlen(body) : 0));
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, body ? body : "");
        if (strcmp(method, "POST") != 0)
            curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    }
    if (body)
        hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
    hdrs = curl_slist_append(hdrs, "Expect:");
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);
    long status = 0;
    if (curl_easy_perform(e) == CURLE_OK)
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(e);
    free(url);
    return status;
}

/* A request of the step sequence must succeed (2xx); teardown requests
 * (stop/kill/delete) may answer 304/404/409/500 for a stopped or removed
 * container, which wpdock treats as harmless too. */
static void expect_ok(const char *what, long status)
{
    if (status >= 200 && status < 300)
        return;
    pthread_mutex_lock(&fail_lock);
    failures++;
    pthread_mutex_unlock(&fail_lock);
    fprintf(stderr, "floor: %s answered %ld\n", what, status);
}

/* ---------------------------------------------------------- connect */

static size_t ping_header(char *data, size_t size, size_t n, void *arg)
{
    (void)arg;
    size_t len = size * n;
    char line[256];
    if (len >= sizeof line)
        return len;
    memcpy(line, data, len);
    line[len] = '\0';
    line[strcspn(line, "\r\n")] = '\0';
    if (strncasecmp(line, "Api-Version: ", 13) == 0) {
        snprintf(api, sizeof api, "/v%s", line + 13);
    } else if (strncasecmp(line, "Libpod-Api-Version: ", 20) == 0) {
        podman = true;
        snprintf(libpod, sizeof libpod, "/v%d.0.0/libpod", atoi(line + 20));
    }
    return len;
}

static void engine_connect(void)
{
    expect_ok("HEAD /_ping", request("HEAD", false, "/_ping", NULL, NULL, NULL, ping_header, NULL));
    /* wpdock speaks API 1.40..1.55: both test engines are inside */
    expect_ok("GET /version", request("GET", true, "/version", NULL, NULL, NULL, NULL, NULL));
    expect_ok("GET /info", request("GET", true, "/info", NULL, NULL, NULL, NULL, NULL));
}

/* ------------------------------------------------------------- steps */

typedef struct step {
    char name[24];
    char uuid[27];
    char container[32];
    char *create_body;
    /* attach thread hand-off */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool headers_seen;
    bool attach_over;
    uint64_t attach_bytes;
} step;

static char wf_id[27];
static char volume[64];
static const char *image = "localhost/wpdock/busybox:latest";
static char **binds;
static size_t n_binds;
static char **cmd;
static size_t n_cmd;

static char *create_body(const step *s)
{
    struct utsname u;
    char host[256] = "localhost";
    const char *arch = "amd64";
    gethostname(host, sizeof host - 1);
    if (uname(&u) == 0 && strcmp(u.machine, "x86_64") != 0)
        arch = strcmp(u.machine, "aarch64") == 0 ? "arm64" : u.machine;
    long now = (long)time(NULL);
    char *entry = strdup("");
    for (size_t i = 0; i < n_cmd; i++) {
        char *q = json_str(cmd[i]);
        char *next = xasprintf("%s%s%s", entry, i ? "," : "", q);
        free(q);
        free(entry);
        entry = next;
    }
    char *vols = xasprintf("\"/woodpecker\":{}");
    char *bl = xasprintf("\"%s:/woodpecker\"", volume);
    for (size_t i = 0; i < n_binds; i++) {
        const char *colon = strchr(binds[i], ':');
        char *target = strndup(colon + 1, strcspn(colon + 1, ":"));
        char *qt = json_str(target), *qb = json_str(binds[i]);
        char *nv = xasprintf("%s:{},%s", qt, vols); /* wpdock sorts: /data before /woodpecker */
        char *nb = xasprintf("%s,%s", bl, qb);
        free(target);
        free(qt);
        free(qb);
        free(vols);
        free(bl);
        vols = nv;
        bl = nb;
    }
    char *body = xasprintf(
        "{\"Image\":\"%s\",\"Labels\":{\"wp_step\":\"%s\",\"wp_uuid\":\"%s\"},"
        "\"AttachStdout\":true,\"AttachStderr\":true,\"Env\":[\"CI_MACHINE=%s\","
        "\"CI_PIPELINE_STARTED=%ld\",\"CI_PIPELINE_STATUS=success\",\"CI_STEP_NAME=%s\","
        "\"CI_STEP_STARTED=%ld\",\"CI_STEP_TYPE=commands\",\"CI_SYSTEM_PLATFORM=linux/%s\"],"
        "\"Entrypoint\":[%s],\"Volumes\":{%s},\"HostConfig\":{\"Binds\":[%s],"
        "\"Privileged\":false,\"LogConfig\":{\"Type\":\"json-file\",\"Config\":null},"
        "\"Memory\":0,\"MemorySwap\":0,\"CpuQuota\":0,\"CpuShares\":0,\"CpusetCpus\":\"\","
        "\"ShmSize\":0},\"NetworkingConfig\":{\"EndpointsConfig\":{\"%s\":{\"Aliases\":[\"%s\"]}}}"
        "}",
        image, s->name, s->uuid, host, now, s->name, now, arch, entry, vols, bl, volume, s->name);
    free(entry);
    free(vols);
    free(bl);
    return body;
}

static size_t attach_header(char *data, size_t size, size_t n, void *arg)
{
    step *s = arg;
    size_t len = size * n;
    if (len <= 2 && (data[0] == '\r' || data[0] == '\n')) {
        pthread_mutex_lock(&s->mu);
        s->headers_seen = true;
        pthread_cond_signal(&s->cv);
        pthread_mutex_unlock(&s->mu);
    }
    return len;
}

static size_t attach_data(char *data, size_t size, size_t n, void *arg)
{
    (void)data;
    step *s = arg;
    s->attach_bytes += size * n;
    return size * n;
}

static void *attach_thread(void *arg)
{
    step *s = arg;
    char *path = xasprintf("/containers/%s/attach?stream=1&stdout=1&stderr=1", s->container);
    expect_ok("attach", request("POST", true, path, NULL, attach_data, s, attach_header, s));
    free(path);
    pthread_mutex_lock(&s->mu);
    s->attach_over = true;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* the container ended (the wait said so): only the remove is left */
static void teardown(const step *s)
{
    char *p = xasprintf("/containers/%s?v=1", s->container);
    request("DELETE", true, p, NULL, NULL, NULL, NULL, NULL);
    free(p);
}

static void *step_thread(void *arg)
{
    step *s = arg;
    char *p = xasprintf("/containers/create?name=%s", s->container);
    expect_ok("create", request("POST", true, p, s->create_body, NULL, NULL, NULL, NULL));
    free(p);

    pthread_t at;
    if (pthread_create(&at, NULL, attach_thread, s) != 0)
        die("pthread_create failed");
    pthread_mutex_lock(&s->mu);
    while (!s->headers_seen && !s->attach_over)
        pthread_cond_wait(&s->cv, &s->mu);
    pthread_mutex_unlock(&s->mu);

    p = xasprintf("/containers/%s/start", s->container);
    expect_ok("start", request("POST", true, p, NULL, NULL, NULL, NULL, NULL));
    free(p);
    pthread_join(at, NULL);

    if (podman) {
        p = xasprintf("/containers/%s/logs?stderr=1&stdout=1", s->container);
        expect_ok("logs", request("GET", true, p, NULL, NULL, NULL, NULL, NULL));
        free(p);
        p = xasprintf("%s/containers/%s/wait?condition=exited&condition=stopped&interval=20ms",
                      libpod, s->container);
        expect_ok("wait", request("POST", false, p, NULL, NULL, NULL, NULL, NULL));
    } else {
        p = xasprintf("/containers/%s/wait", s->container);
        expect_ok("wait", request("POST", true, p, NULL, NULL, NULL, NULL, NULL));
    }
    free(p);
    p = xasprintf("/containers/%s/json", s->container);
    expect_ok("inspect", request("GET", true, p, NULL, NULL, NULL, NULL, NULL));
    free(p);
    teardown(s);
    return NULL;
}

/* Two requests at once, as wpdock sends the workflow's volume and network
 * calls. */
typedef struct pair_req {
    const char *what, *method, *path, *body;
    bool check;
} pair_req;

static void *pair_thread(void *arg)
{
    pair_req *r = arg;
    long st = request(r->method, true, r->path, r->body, NULL, NULL, NULL, NULL);
    if (r->check)
        expect_ok(r->what, st);
    return NULL;
}

static void request_pair(pair_req *a, pair_req *b)
{
    pthread_t t;
    if (pthread_create(&t, NULL, pair_thread, a) != 0)
        die("pthread_create failed");
    pair_thread(b);
    pthread_join(t, NULL);
}

static void run_all(step *steps, size_t n, void *(*fn)(void *))
{
    pthread_t *t = calloc(n, sizeof *t);
    if (!t)
        die("out of memory");
    for (size_t i = 0; i < n; i++)
        if (pthread_create(&t[i], NULL, fn, &steps[i]) != 0)
            die("pthread_create failed");
    for (size_t i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    free(t);
}

static int run_workflow(size_t n)
{
    double t0 = now_ms();
    engine_connect();
    make_id(wf_id, true);
    snprintf(volume, sizeof volume, "wp_%s_default", wf_id);

    char *vbody =
        xasprintf("{\"Name\":\"%s\",\"Driver\":\"local\",\"Labels\":{\"wp_workflow\":\"%s\"}}",
                  volume, wf_id);
    char *nbody = xasprintf("{\"Name\":\"%s\",\"Driver\":\"bridge\",\"EnableIPv6\":false,"
                            "\"Labels\":{\"wp_workflow\":\"%s\"}}",
                            volume, wf_id);
    pair_req vc = {"volume create", "POST", "/volumes/create", vbody, true};
    pair_req nc = {"network create", "POST", "/networks/create", nbody, true};
    request_pair(&vc, &nc);
    free(vbody);
    free(nbody);

    step *steps = calloc(n, sizeof *steps);
    if (!steps)
        die("out of memory");
    for (size_t i = 0; i < n; i++) {
        step *s = &steps[i];
        snprintf(s->name, sizeof s->name, "s%zu", i + 1);
        make_id(s->uuid, false);
        snprintf(s->container, sizeof s->container, "wp_%s", s->uuid);
        s->create_body = create_body(s);
        pthread_mutex_init(&s->mu, NULL);
        pthread_cond_init(&s->cv, NULL);
    }
    run_all(steps, n, step_thread);
    /* every step removed its own container: DestroyWorkflow has only the
     * volume and the network left */
    char *vp = xasprintf("/volumes/%s?force=1", volume);
    char *np = xasprintf("/networks/%s", volume);
    pair_req vd = {"volume delete", "DELETE", vp, NULL, false};
    pair_req nd = {"network delete", "DELETE", np, NULL, false};
    request_pair(&vd, &nd);
    free(vp);
    free(np);

    uint64_t bytes = 0;
    for (size_t i = 0; i < n; i++) {
        bytes += steps[i].attach_bytes;
        free(steps[i].create_body);
        pthread_mutex_destroy(&steps[i].mu);
        pthread_cond_destroy(&steps[i].cv);
    }
    free(steps);
    printf("steps=%zu attach_bytes=%llu ms=%.3f\n", n, (unsigned long long)bytes, now_ms() - t0);
    return failures ? 1 : 0;
}

/* ---------------------------------------------------------------- main */

static void usage(void)
{
    fputs("usage: floor [-H unix:///path] info\n"
          "       floor [-H unix:///path] [-i IMAGE] [-n STEPS] [-v BIND]... run CMD [ARG...]\n",
          stderr);
    exit(2);
}

int main(int argc, char **argv)
{
    size_t n = 1;
    int opt;
    binds = calloc((size_t)argc, sizeof *binds);
    while ((opt = getopt(argc, argv, "+H:i:n:v:")) != -1) {
        switch (opt) {
        case 'H':
            if (strncmp(optarg, "unix://", 7) != 0)
                die("-H: only unix:///path endpoints");
            sock_path = optarg + 7;
            break;
        case 'i': image = optarg; break;
        case 'n': n = (size_t)strtoul(optarg, NULL, 10); break;
        case 'v':
            if (!strchr(optarg, ':'))
                die("-v: expected VOLUME:/path");
            binds[n_binds++] = optarg;
            break;
        default: usage();
        }
    }
    if (optind >= argc || n == 0)
        usage();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_init(&share_locks[i], NULL);
    share = curl_share_init();
    curl_share_setopt(share, CURLSHOPT_LOCKFUNC, lock_cb);
    curl_share_setopt(share, CURLSHOPT_UNLOCKFUNC, unlock_cb);
    curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);

    int rc;
    if (strcmp(argv[optind], "info") == 0) {
        double t0 = now_ms();
        engine_connect();
        printf("engine_ms=%.3f\n", now_ms() - t0);
        rc = failures ? 1 : 0;
    } else if (strcmp(argv[optind], "run") == 0) {
        cmd = argv + optind + 1;
        n_cmd = (size_t)(argc - optind - 1);
        if (!n_cmd)
            usage();
        rc = run_workflow(n);
    } else {
        usage();
    }
    curl_share_cleanup(share);
    curl_global_cleanup();
    free(binds);
    return rc;
}
