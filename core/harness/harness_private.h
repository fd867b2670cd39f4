/* harness_private.h - the test harness's internals (core/harness): the
 * session, spec, wait and container structs every file of the layer
 * shares, and the helpers between them.
 *
 * The engine layer's wpd_ctr_stop/wpd_ctr_logs/wpd_net_create/
 * wpd_net_remove are macros for their wpd_engine_* link names (the public
 * harness API owns the short names): they are included first and the macros
 * dropped, so this layer calls the engine by the wpd_engine_* names. */
#ifndef WPDOCK_HARNESS_PRIVATE_H
#define WPDOCK_HARNESS_PRIVATE_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "engine/api.h"
#include "engine/archive.h"
#include "engine/containers.h"
#include "engine/dialect.h"
#include "engine/exec.h"
#include "engine/images.h"
#include "engine/networks.h"
#include "engine/volumes.h"
#include "util/buf.h"
#undef wpd_ctr_stop
#undef wpd_ctr_logs
#undef wpd_net_create
#undef wpd_net_remove

#include <wpdock/harness.h>

/* ---- labels --------------------------------------------------------- */
#define HX_L_SESSION "io.wpdock.session"
#define HX_L_OWNER "io.wpdock.owner"
#define HX_L_HOST "io.wpdock.host"
#define HX_L_EXPIRES "io.wpdock.expires"
#define HX_N_LABELS 4
#define HX_DEFAULT_TIMEOUT_MS 60000L
#define HX_DEFAULT_LEASE_S 7200L

/* ---- session -------------------------------------------------------- */
typedef struct hx_vol {
    char *name;
    struct hx_vol *next;
} hx_vol;

struct wpd_session {
    wpd_reactor *r;
    bool own_reactor;
    wpd_plugin_registry *reg;
    wpd_engine *e;
    pid_t pid; /* the process that opened it */
    char id[40];
    char owner[200];
    char host[256];
    char expires[24];
    char *endpoint;
    int cb_depth; /* > 0 while a user callback runs */
    int wd_fd;    /* write end of the watchdog pipe, -1 = none */
    pid_t wd_pid;
    wpd_ctr *ctrs;
    wpd_net *nets;
    hx_vol *vols;
    wpd_hop *hops; /* operations in flight */
    unsigned seq;
};

/* The four harness labels of s, for create bodies and filters. */
void hx_labels(const wpd_session *s, wpd_pair out[HX_N_LABELS]);
/* 0, or -1 with WPD_ERR_USAGE: s is NULL, used from a forked child, or a
 * blocking call from inside a callback of its reactor (blocking = true). */
int hx_check(wpd_session *s, bool blocking, const char *what, wpd_error *err);
/* Run s's reactor until *done. */
int hx_run_until(wpd_session *s, const volatile bool *done, wpd_error *err);
/* Milliseconds of a monotonic clock. */
long long hx_now_ms(void);

/* ---- operations in flight --------------------------------------------
 * Every async operation starts with this header; hx_hop_finish hands the
 * result to deliver() from the loop (never inside the starting call). */
struct wpd_hop {
    wpd_session *s;
    wpd_hop *next, *prev;
    bool canceled;
    bool finishing;
    wpd_timer *t_deliver;
    wpd_error err;
    bool failed;
    void (*cancel)(wpd_hop *h);  /* abort what is in flight (optional) */
    void (*deliver)(wpd_hop *h); /* run the user callback (err = h->failed ? &h->err : NULL) */
    void (*destroy)(wpd_hop *h); /* free the op's struct */
};
void hx_hop_init(wpd_hop *h, wpd_session *s);
/* err NULL: success. Schedules deliver + destroy on the loop. */
void hx_hop_finish(wpd_hop *h, const wpd_error *err);
/* user callbacks run between these (blocking calls inside are refused) */
void hx_cb_enter(wpd_session *s);
void hx_cb_leave(wpd_session *s);

/* ---- spec and waits ---------------------------------------------------- */
typedef enum hx_wkind {
    HX_W_LOG,
    HX_W_PORT,
    HX_W_HTTP,
    HX_W_EXEC,
    HX_W_EXIT,
    HX_W_HEALTH,
    HX_W_ALL,
    HX_W_ANY
} hx_wkind;

typedef struct hx_probe hx_probe;
typedef struct hx_run hx_run;

struct wpd_wait {
    hx_wkind kind;
    /* definition */
    char *text; /* log substring or regex, http path, http body substring */
    bool regex;
    regex_t re;
    bool re_ok;
    int times;
    char port[24]; /* "8080/tcp" */
    int lo, hi;    /* http status range */
    char *body;    /* http body substring */
    char **argv;   /* exec */
    size_t argc;
    int code; /* exec, exit */
    long interval_ms;
    wpd_wait **kids;
    size_t n_kids;
    bool oom; /* construction ran out of memory */
    /* run time (a clone owned by a run) */
    hx_run *run;
    wpd_wait *parent;
    int state; /* 0 pending, 1 held, -1 failed */
    char *why;
    int count;
    int step; /* port: 0 internal check, 1 host connect */
    bool skip_internal;
    bool no_direct; /* the container's address is not reachable from here */
    wpd_timer *t;
    wpd_call *call;
    char *exec_id;
    wpd_buf out; /* exec output */
    int exec_tries;
    int attempts; /* retries so far (the first ones come sooner) */
    hx_probe *probe;
};

typedef struct hx_file {
    char *path;
    char *data;
    size_t len;
    unsigned mode;
} hx_file;

typedef struct hx_netref {
    char *name;
    char **aliases;
    size_t n_aliases;
} hx_netref;

typedef struct hx_port {
    char key[24]; /* "8080/tcp" */
    int port;
    char proto[4];
    char host_ip[48];
    int host_port; /* 0: random */
} hx_port;

struct wpd_spec {
    char *image;
    char **cmd, **entrypoint;
    size_t n_cmd, n_entrypoint;
    bool has_cmd, has_entrypoint;
    wpd_pair *env, *labels, *tmpfs;
    size_t n_env, n_labels, n_tmpfs;
    hx_port *ports;
    size_t n_ports;
    hx_file *files;
    size_t n_files;
    hx_netref *nets;
    size_t n_nets;
    char **binds;
    size_t n_binds;
    wpd_pair *vols; /* name -> container path */
    size_t n_vols;
    char *user, *workdir;
    char **health;
    size_t n_health;
    long health_interval_ms;
    int health_retries;
    wpd_wait **waits;
    size_t n_waits;
    long timeout_ms;
    int64_t memory; /* bytes, 0 = no limit */
    wpd_line_fn on_line;
    void *on_line_arg;
    char *sticky; /* the first setter error */
};

/* A deep copy (for a run); NULL when out of memory. */
wpd_spec *hx_spec_clone(const wpd_spec *sp);
/* The create body of sp for session s. */
char *hx_create_body(const wpd_spec *sp, const wpd_session *s);
/* A clone of w for a run (state reset); the root of every attached wait
 * (an ALL when there are several, NULL when none). */
wpd_wait *hx_wait_tree(const wpd_spec *sp);
wpd_wait *hx_wait_clone(const wpd_wait *w);
/* "log \"ready\" x1", "port 8080/tcp", ... */
void hx_wait_describe(const wpd_wait *w, wpd_buf *out);
/* "8080" -> "8080/tcp" and the number; -1 when not a port. */
int hx_port_key(const char *port, char key[24], int *num, char proto[4]);

/* ---- containers ------------------------------------------------------ */
typedef struct hx_mapped {
    char key[24];
    int host_port;
} hx_mapped;

typedef struct hx_lines {
    wpd_buf part[2]; /* unterminated line per stream */
} hx_lines;

struct wpd_ctr {
    wpd_session *s;
    wpd_ctr *next, *prev;
    bool listed; /* in s->ctrs */
    char *id;
    char short_id[13];
    char *image;
    char host[48];
    char ip[48]; /* on its first network ("" when none): the direct check */
    hx_mapped *ports;
    size_t n_ports;
    /* the log follow (log waits, on_line) */
    wpd_call *follow;
    hx_lines lines;
    wpd_line_fn on_line;
    void *on_line_arg;
    hx_run *run; /* while starting */
};
void hx_ctr_link(wpd_ctr *c);
void hx_ctr_unlink(wpd_ctr *c);
void hx_ctr_free(wpd_ctr *c);
/* Attach to c before its start (lines go to c->run's log waits and
 * on_line); c->run hears hx_run_attached() once the engine confirmed. */
void hx_follow_start(wpd_ctr *c);
void hx_follow_stop(wpd_ctr *c);

/* ---- the run and its waits --------------------------------------------- */
struct hx_run {
    wpd_hop h;
    wpd_spec *sp;
    wpd_ctr_fn cb;
    void *arg;
    wpd_ctr *c;
    wpd_wait *root;
    char *body;
    int phase;
    long long t0;
    wpd_call *call;      /* the step in flight */
    wpd_call *exit_call; /* the exit watch */
    bool create_sent;    /* a create is in flight: wait for it before teardown */
    wpd_timer *t_deadline, *t_step;
    size_t i;
    int pulls;
    bool exited;
    int64_t exit_code;
    bool timed_out;
    bool attach_wait; /* the start waits for the attach's confirmation */
    wpd_error fail;
    bool failing;
    char *state_text; /* for the failure message */
    char *tail_text;
    int inspects;
    wpd_call *reread; /* the log read after a follow that ended early */
    wpd_buf reread_buf;
};

/* waits.c: start every leaf of r->root; r gets hx_run_wait_changed() */
void hx_waits_start(hx_run *r);
void hx_waits_stop(wpd_wait *w);
void hx_waits_log_line(hx_run *r, const char *line, size_t len);
/* the container ended: exit waits hold or fail, the others fail */
void hx_waits_exited(hx_run *r, int64_t code);
/* the log follow ended with log waits still pending */
void hx_waits_follow_ended(hx_run *r);
void hx_wait_set(wpd_wait *w, int state, const char *why);
void hx_run_wait_changed(hx_run *r);
void hx_run_attached(hx_run *r);
void hx_wait_free(wpd_wait *w);
bool hx_wait_has(const wpd_wait *w, hx_wkind kind);

/* probe.c: a TCP connect or one HTTP GET to 127.0.0.1:port on the
 * reactor; done runs once from the loop (never inside start). status: 0 =
 * connected (connect) / the status code (http); -1 failed (why). */
typedef void (*hx_probe_fn)(void *arg, int status, const char *body, size_t len, const char *why);
hx_probe *hx_probe_start(wpd_reactor *r, const char *ip, int port, const char *http_path,
                         long timeout_ms, hx_probe_fn done, void *arg);
void hx_probe_cancel(hx_probe *p); /* no callback */

/* sync.c: blocking engine calls (each runs the reactor until done). */
typedef struct hx_list_item {
    char *kind; /* "container", "volume", "network" */
    char *name; /* id for containers */
    char *display;
    char *session, *owner, *host, *expires;
} hx_list_item;
int hx_sync_list(wpd_engine *e, const char *kind, const wpd_pair *filters, size_t n,
                 hx_list_item **out, size_t *n_out, wpd_error *err);
void hx_list_free(hx_list_item *v, size_t n);
int hx_sync_remove(wpd_engine *e, const char *kind, const char *name, wpd_error *err);
int hx_sync_inspect(wpd_engine *e, const char *id, bool *running, int64_t *code, bool *oom,
                    char **health, wpd_error *err);

/* watchdog.c */
int hx_watchdog_start(wpd_session *s, wpd_error *err);
void hx_watchdog_disarm(wpd_session *s);

/* sweep.c */
int hx_sweep_run(wpd_engine *e, const char *session_id, bool dry_run, wpd_leftover_fn fn, void *arg,
                 size_t *found, wpd_error *err);
/* "<boot id>/<pid>/<start time>" of pid; -1 when it cannot be read. */
int hx_owner_of(pid_t pid, char *out, size_t len);

#endif
