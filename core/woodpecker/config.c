/* config.c - Woodpecker backend Config JSON (spec section 1) -> wpd_workflow:
 * the document, workflow and stage level, the checks after decoding, the
 * defaults of hand-written documents, loading files and ULIDs. The Step
 * keys are in config_step.c, the generic decoders in config_decode.c.
 * Decoded the way Go's encoding/json does it (keys matched ignoring case,
 * null = absent, unknown keys ignored), then checked for what would
 * otherwise fail later without naming the field. Errors name the file and
 * the JSON path: "hello.json: pipeline[1].steps[0].volumes[2]: expected a
 * string". */
#include "woodpecker/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/json.h"
#include "woodpecker/config_decode.h"

/* ---- document, workflow and stage ----------------------------------------- */

static int dec_steps(wpd_cfg_dec *d, int tok, void *obj)
{
    wpd_stage *sg = obj;
    wpd_cfg_list l = {0};
    if (wpd_cfg_list_of(d, tok, sizeof *sg->steps, wpd_cfg_step, &l))
        return -1;
    sg->steps = l.v;
    sg->n_steps = l.n;
    return 0;
}

static const wpd_cfg_field stage_fields[] = {
    WPD_CFG_CUSTOM("steps", dec_steps),
};

static int dec_stage(wpd_cfg_dec *d, int tok, void *dst)
{
    return wpd_cfg_object(d, tok, stage_fields, WPD_CFG_COUNT(stage_fields), dst);
}

static int dec_pipeline(wpd_cfg_dec *d, int tok, void *obj)
{
    wpd_workflow *wf = obj;
    wpd_cfg_list l = {0};
    if (wpd_cfg_list_of(d, tok, sizeof *wf->stages, dec_stage, &l))
        return -1;
    wf->stages = l.v;
    wf->n_stages = l.n;
    return 0;
}

typedef struct secret {
    char *name, *value;
} secret;

static const wpd_cfg_field secret_fields[] = {
    WPD_CFG_FIELD("name", WPD_CFG_STR, secret, name),
    WPD_CFG_FIELD("value", WPD_CFG_STR, secret, value),
};

static int dec_secret(wpd_cfg_dec *d, int tok, void *dst)
{
    secret *s = dst;
    s->name = s->value = d->empty;
    return wpd_cfg_object(d, tok, secret_fields, WPD_CFG_COUNT(secret_fields), s);
}

/* Secret values (non-empty ones) for log masking. */
static int dec_secrets(wpd_cfg_dec *d, int tok, void *obj)
{
    wpd_workflow *wf = obj;
    wf->secrets = (wpd_strlist){NULL, 0};
    wpd_cfg_list l = {0};
    if (wpd_cfg_list_of(d, tok, sizeof(secret), dec_secret, &l))
        return -1;
    const secret *v = l.v;
    for (size_t i = 0; i < l.n; i++)
        if (*v[i].value)
            wpd_cfg_strlist_push(d->a, &wf->secrets, v[i].value);
    return 0;
}

static const wpd_cfg_field top_fields[] = {
    WPD_CFG_CUSTOM("pipeline", dec_pipeline),
    WPD_CFG_FIELD("network", WPD_CFG_STR, wpd_workflow, network),
    WPD_CFG_FIELD("volume", WPD_CFG_STR, wpd_workflow, volume),
    WPD_CFG_CUSTOM("secrets", dec_secrets),
};

static int dec_top(wpd_cfg_dec *d)
{
    if (wpd_cfg_type(d, 0) != WPD_JSON_OBJECT)
        return wpd_cfg_fail(d, "expected a JSON object at the top level");
    return wpd_cfg_object(d, 0, top_fields, WPD_CFG_COUNT(top_fields), d->wf);
}

/* ---- checks after decoding ------------------------------------------------ */

static bool uuid_char_ok(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
}

/* IPv4 or IPv6 literal (an IPv6 zone such as %eth0 is allowed, as in Go). */
static bool is_ip_literal(const char *s)
{
    unsigned char buf[16];
    char tmp[64];
    if (inet_pton(AF_INET, s, buf) == 1)
        return true;
    const char *pct = strchr(s, '%');
    if (!pct)
        return inet_pton(AF_INET6, s, buf) == 1;
    size_t n = (size_t)(pct - s);
    if (pct[1] == '\0' || n >= sizeof tmp)
        return false;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    return inet_pton(AF_INET6, tmp, buf) == 1;
}

const char *wpd_name_problem(const char *name)
{
    if (!*name)
        return "it is empty";
    if (strlen(name) > 255)
        return "longer than 255 bytes";
    if (!((*name >= 'A' && *name <= 'Z') || (*name >= 'a' && *name <= 'z') ||
          (*name >= '0' && *name <= '9')))
        return "it must start with a letter or digit";
    for (const char *p = name; *p; p++)
        if (!uuid_char_ok(*p))
            return "only letters, digits, '_', '.' and '-' are allowed";
    return NULL;
}

/* The object name at the current path: NULL or a located error. */
static int check_name(wpd_cfg_dec *d, const char *what, const char *name)
{
    const char *problem = wpd_name_problem(name);
    if (!problem)
        return 0;
    return wpd_cfg_fail(d, "invalid %s name \"%.64s%s\": %s", what, name,
                        strlen(name) > 64 ? "..." : "", problem);
}

static int check_step(wpd_cfg_dec *d, size_t si, size_t ti)
{
    wpd_workflow *wf = d->wf;
    wpd_step *st = &wf->stages[si].steps[ti];
    size_t base = wpd_cfg_path_add(d, "pipeline[%zu].steps[%zu]", si, ti);
    size_t mark;

    if (!*st->name) {
        wpd_cfg_path_key(d, "name");
        return wpd_cfg_fail(d, "must not be empty");
    }
    if (!*st->image) {
        wpd_cfg_path_key(d, "image");
        return wpd_cfg_fail(d, "must not be empty");
    }
    for (const char *p = st->uuid; *p; p++) {
        if (!uuid_char_ok(*p)) {
            wpd_cfg_path_key(d, "uuid");
            if ((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f)
                return wpd_cfg_fail(
                    d,
                    "invalid character '%c' in \"%s\" (allowed: letters, digits, '_', "
                    "'.', '-'; it becomes the container name wp_<uuid>)",
                    *p, st->uuid);
            return wpd_cfg_fail(d, "invalid byte 0x%02x (allowed: letters, digits, '_', '.', '-')",
                                (unsigned char)*p);
        }
    }
    mark = wpd_cfg_path_key(d, "networks");
    for (size_t k = 0; k < st->n_networks; k++) {
        size_t m2 = wpd_cfg_path_add(d, "[%zu].name", k);
        if (check_name(d, "network", st->networks[k].name))
            return -1;
        wpd_cfg_path_pop(d, m2);
    }
    wpd_cfg_path_pop(d, mark);
    mark = wpd_cfg_path_key(d, "dns");
    for (size_t k = 0; k < st->dns.n; k++) {
        if (!is_ip_literal(st->dns.v[k])) {
            wpd_cfg_path_index(d, k);
            return wpd_cfg_fail(d, "could not parse DNS address [%s]: not an IP address",
                                st->dns.v[k]);
        }
    }
    wpd_cfg_path_pop(d, mark);
    if (!st->on_success && !st->on_failure) {
        char *m = wpd_arena_printf(d->a,
                                   "%s: %s (\"%s\"): neither on_success nor on_failure is set, so "
                                   "this step can never run",
                                   d->label, d->path, st->name);
        wpd_cfg_strlist_push(d->a, &wf->warnings, m);
    }
    wpd_cfg_path_pop(d, base);
    return 0;
}

/* A hand-written workflow cannot name the generated network and volume,
 * so do for it what Woodpecker's compiler does (spec 1.5): when the
 * document has no `volume`, every step gets it mounted at its
 * workspace_base (default /woodpecker; a commands step's working_dir
 * defaults to it); when it has no `network`, every step without networks
 * joins it with its own name as alias. Documents that name both, as
 * Woodpecker's own payloads do, are left exactly as they are. */
static void add_handwritten_defaults(wpd_cfg_dec *d, wpd_step *st, bool own_network,
                                     bool own_volume)
{
    wpd_workflow *wf = d->wf;
    if (own_volume) {
        if (!*st->workspace_base)
            st->workspace_base = wpd_arena_strdup(d->a, "/woodpecker");
        if (st->commands.n && !*st->working_dir)
            st->working_dir = st->workspace_base;
        char *bind = wpd_arena_printf(d->a, "%s:%s", wf->volume, st->workspace_base);
        char **v = wpd_arena_alloc(d->a, (st->volumes.n + 1) * sizeof *v);
        v[0] = bind;
        for (size_t i = 0; i < st->volumes.n; i++)
            v[i + 1] = st->volumes.v[i];
        st->volumes.v = v;
        st->volumes.n++;
    }
    if (own_network && !st->n_networks && !*st->network_mode) {
        st->networks = wpd_arena_alloc(d->a, sizeof *st->networks);
        st->networks[0].name = wf->network;
        st->networks[0].aliases.v = wpd_arena_alloc(d->a, sizeof(char *));
        st->networks[0].aliases.v[0] = st->name;
        st->networks[0].aliases.n = 1;
        st->n_networks = 1;
    }
}

/* ---- duplicate step names and uuids, in O(n log n) ------------------------ */

typedef struct step_ref {
    const char *key;
    size_t si, ti, order;
} step_ref;

static int cmp_ref(const void *a, const void *b)
{
    const step_ref *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    if (c)
        return c;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* The first step in document order whose name (uuid when `uuid`) an
 * earlier step already has is an error naming both. */
static int check_unique(wpd_cfg_dec *d, bool uuid)
{
    wpd_workflow *wf = d->wf;
    size_t n = 0;
    for (size_t si = 0; si < wf->n_stages; si++)
        n += wf->stages[si].n_steps;
    if (n < 2)
        return 0;
    step_ref *v = wpd_arena_alloc(d->a, n * sizeof *v);
    size_t k = 0;
    for (size_t si = 0; si < wf->n_stages; si++)
        for (size_t ti = 0; ti < wf->stages[si].n_steps; ti++, k++) {
            const wpd_step *st = &wf->stages[si].steps[ti];
            v[k] = (step_ref){uuid ? st->uuid : st->name, si, ti, k};
        }
    qsort(v, n, sizeof *v, cmp_ref);
    const step_ref *dup = NULL, *first = NULL;
    for (k = 1; k < n; k++) {
        /* v[k] is the second of its group (sorted by document order) */
        bool second = strcmp(v[k].key, v[k - 1].key) == 0 &&
                      (k == 1 || strcmp(v[k - 1].key, v[k - 2].key) != 0);
        if (second && (!dup || v[k].order < dup->order)) {
            dup = &v[k];
            first = &v[k - 1];
        }
    }
    if (!dup)
        return 0;
    wpd_cfg_path_add(d, "pipeline[%zu].steps[%zu]", dup->si, dup->ti);
    wpd_cfg_path_key(d, uuid ? "uuid" : "name");
    return wpd_cfg_fail(d, "duplicate %s \"%s\" (also used by pipeline[%zu].steps[%zu])",
                        uuid ? "uuid" : "step name", dup->key, first->si, first->ti);
}

static int finish(wpd_cfg_dec *d)
{
    wpd_workflow *wf = d->wf;
    char ulid[27];
    wpd_generate_ulid(ulid);
    for (char *p = ulid; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    wf->id = wpd_arena_strdup(d->a, ulid);
    char *def = wpd_arena_alloc(d->a, sizeof "wp__default" + sizeof ulid);
    snprintf(def, sizeof "wp__default" + sizeof ulid, "wp_%s_default", wf->id);
    bool own_network = !*wf->network, own_volume = !*wf->volume;
    size_t mark = wpd_cfg_path_key(d, "network");
    if (!own_network && check_name(d, "network", wf->network))
        return -1;
    wpd_cfg_path_pop(d, mark);
    mark = wpd_cfg_path_key(d, "volume");
    if (!own_volume && check_name(d, "volume", wf->volume))
        return -1;
    wpd_cfg_path_pop(d, mark);
    if (own_network)
        wf->network = def;
    if (own_volume)
        wf->volume = def;
    for (size_t si = 0; si < wf->n_stages; si++) {
        for (size_t ti = 0; ti < wf->stages[si].n_steps; ti++) {
            wpd_step *st = &wf->stages[si].steps[ti];
            if (!*st->uuid) {
                st->uuid = wpd_arena_alloc(d->a, 27);
                wpd_generate_ulid(st->uuid);
            }
            if (!*st->failure)
                st->failure = wpd_arena_strdup(d->a, "fail");
            add_handwritten_defaults(d, st, own_network, own_volume);
        }
    }
    for (size_t si = 0; si < wf->n_stages; si++)
        for (size_t ti = 0; ti < wf->stages[si].n_steps; ti++)
            if (check_step(d, si, ti))
                return -1;
    return check_unique(d, false) || check_unique(d, true) ? -1 : 0;
}

wpd_workflow *wpd_workflow_parse(const char *label, const char *json, size_t len, wpd_error *err)
{
    if (!label)
        label = "-";
    if (json && len > WPD_WORKFLOW_MAX_BYTES) {
        wpd_error_set(err, WPD_ERR_INPUT, 0, "%s: larger than %zu MiB, the most a workflow may be",
                      label, WPD_WORKFLOW_MAX_BYTES >> 20);
        return NULL;
    }
    /* the decoder state is on the heap, so that the recovery branch sees
     * what the parse had allocated when an allocation failed */
    wpd_cfg_dec *d = wpd_try_malloc(sizeof *d);
    if (!d) {
        wpd_error_set(err, WPD_ERR_NOMEM, 0, "%s: out of memory", label);
        return NULL;
    }
    memset(d, 0, sizeof *d);
    d->label = label;
    d->err = err;
    wpd_oom_guard guard;
    wpd_oom_guard_push(&guard);
    if (setjmp(guard.env) != 0) {
        wpd_error_set(err, WPD_ERR_NOMEM, 0, "%s: out of memory while reading the workflow",
                      d->label);
        goto fail;
    }
    d->a = wpd_arena_new();
    d->empty = wpd_arena_strdup(d->a, "");
    d->wf = wpd_arena_alloc(d->a, sizeof *d->wf);
    d->wf->arena = d->a;
    d->wf->label = wpd_arena_strdup(d->a, d->label);
    d->wf->network = d->wf->volume = d->empty;

    wpd_error jerr;
    if (wpd_json_parse(&d->j, json ? json : "", json ? len : 0, &jerr)) {
        if (jerr.kind == WPD_ERR_NOMEM)
            wpd_error_set(err, WPD_ERR_NOMEM, 0, "%s: %s", d->label, jerr.message);
        else
            wpd_error_set(err, WPD_ERR_INPUT, 0, "%s: invalid JSON at line %d, column %d: %s",
                          d->label, d->j.err_line, d->j.err_col, d->j.err_what);
        goto fail;
    }
    if (dec_top(d) || finish(d))
        goto fail;
    wpd_oom_guard_pop(&guard);
    wpd_json_free(&d->j);
    wpd_workflow *wf = d->wf;
    free(d);
    return wf;
fail:
    wpd_oom_guard_pop(&guard);
    wpd_json_free(&d->j);
    wpd_arena_free(d->a);
    free(d);
    return NULL;
}

/* Read all of fd into b, but never more than WPD_WORKFLOW_MAX_BYTES + 1
 * bytes: 0, or -1 with errno set (EFBIG when over the limit, ENOMEM). */
static int read_bounded(int fd, wpd_buf *b)
{
    struct stat st;
    if (fstat(fd, &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            errno = EISDIR;
            return -1;
        }
        if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > WPD_WORKFLOW_MAX_BYTES) {
            errno = EFBIG;
            return -1;
        }
    }
    for (;;) {
        if (b->len > WPD_WORKFLOW_MAX_BYTES) {
            errno = EFBIG;
            return -1;
        }
        if (b->cap - b->len < 2) {
            size_t cap = b->cap ? b->cap * 2 : 65536;
            if (cap > WPD_WORKFLOW_MAX_BYTES + 2)
                cap = WPD_WORKFLOW_MAX_BYTES + 2;
            char *grown = wpd_try_realloc(b->data, cap);
            if (!grown) {
                errno = ENOMEM;
                return -1;
            }
            b->data = grown;
            b->cap = cap;
        }
        ssize_t r = read(fd, b->data + b->len, b->cap - b->len - 1);
        if (r == 0)
            return 0;
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        b->len += (size_t)r;
        b->data[b->len] = '\0';
    }
}

wpd_workflow *wpd_workflow_load(const char *path, wpd_error *err)
{
    bool is_stdin = strcmp(path, "-") == 0;
    const char *label = is_stdin ? "-" : path;
    int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        wpd_error_set(err, WPD_ERR_INPUT, 0, "%s: cannot read: %s", label, strerror(errno));
        return NULL;
    }
    wpd_buf b = WPD_BUF_INIT;
    int rc = read_bounded(fd, &b);
    int e = errno;
    if (!is_stdin)
        close(fd);
    if (rc != 0) {
        wpd_buf_free(&b);
        if (e == EFBIG)
            wpd_error_set(err, WPD_ERR_INPUT, 0,
                          "%s: larger than %zu MiB, the most a workflow file may be", label,
                          WPD_WORKFLOW_MAX_BYTES >> 20);
        else if (e == ENOMEM)
            wpd_error_set(err, WPD_ERR_NOMEM, 0, "%s: out of memory while reading the file", label);
        else
            wpd_error_set(err, WPD_ERR_INPUT, 0, "%s: cannot read: %s", label, strerror(e));
        return NULL;
    }
    wpd_workflow *wf = wpd_workflow_parse(path, b.data ? b.data : "", b.len, err);
    wpd_buf_free(&b);
    return wf;
}

void wpd_workflow_free(wpd_workflow *wf)
{
    if (wf)
        wpd_arena_free(wf->arena);
}

/* ---- ULID ----------------------------------------------------------------- */

static void random_bytes(unsigned char *out, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = getrandom(out + got, n - got, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    if (got == n)
        return;
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        while (got < n) {
            ssize_t r = read(fd, out + got, n - got);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                break;
            got += (size_t)r;
        }
        close(fd);
    }
    if (got == n)
        return;
    /* Last resort: splitmix64 over time, pid and a counter. */
    static uint64_t counter;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t x =
        (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^ ((uint64_t)getpid() << 16) ^ ++counter;
    for (; got < n; got++) {
        x += 0x9E3779B97F4A7C15ULL;
        uint64_t z = x;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        out[got] = (unsigned char)(z ^ (z >> 31));
    }
}

void wpd_generate_ulid(char out[27])
{
    static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t ms = ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000) & 0xFFFFFFFFFFFFULL;
    for (int i = 9; i >= 0; i--) {
        out[i] = alphabet[ms & 31];
        ms >>= 5;
    }
    unsigned char r[10];
    random_bytes(r, sizeof r);
    for (int i = 0; i < 16; i++) {
        int bit = i * 5, byte = bit / 8, off = bit % 8;
        unsigned v = (unsigned)r[byte] << 8 | (byte + 1 < 10 ? r[byte + 1] : 0u);
        out[10 + i] = alphabet[(v >> (11 - off)) & 31];
    }
    out[26] = '\0';
}
