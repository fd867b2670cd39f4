/* session.c - the ssh processes behind one ssh:// engine. The first
 * connect() starts a master connection (ssh -M, ControlPath in a private
 * directory) and checks the remote end once; every connection then rides
 * on it without a handshake: with a socket path the master forwards it to
 * a local socket (-L local:remote) that connect() dials; without one the
 * socket the remote docker CLI uses (`docker context inspect`) is
 * forwarded the same way when it is a unix socket, and otherwise each
 * connection is a `docker system dial-stdio` session on a socketpair. All
 * ssh processes are children that die with wpdock (PR_SET_PDEATHSIG) and
 * are ended and reaped by close(). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ssh_private.h"

#define MASTER_WAIT_MS 20000
#define MAX_ARGS 32

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

ssh_session *ssh_session_new(const ssh_target *t, char *err, size_t errlen)
{
    ssh_session *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->t = *t;
    const char *tmp = getenv("TMPDIR");
    snprintf(s->dir, sizeof s->dir, "%s/wpdock-ssh-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (strlen(s->dir) > 80 || !mkdtemp(s->dir)) {
        snprintf(err, errlen, "cannot make a private directory for ssh in %s: %s",
                 tmp && *tmp ? tmp : "/tmp",
                 strlen(s->dir) > 80 ? "path too long" : strerror(errno));
        free(s);
        return NULL;
    }
    snprintf(s->control, sizeof s->control, "%s/control", s->dir);
    snprintf(s->local, sizeof s->local, "%s/engine.sock", s->dir);
    return s;
}

/* argv for `sh -c 'exec COMMAND "$@"' ssh ARGS... -- HOST [REMOTE...]`: the
 * command line is the user's (quoting as the shell reads it, like git's
 * GIT_SSH_COMMAND); ARGS are ours. */
typedef struct argv_b {
    char *v[MAX_ARGS + 1];
    int n;
    char script[1100];
    char port[16];
} argv_b;

static void add(argv_b *a, const char *s)
{
    if (a->n < MAX_ARGS)
        a->v[a->n++] = (char *)s;
    a->v[a->n] = NULL;
}

static void start_argv(argv_b *a, const ssh_session *s)
{
    a->n = 0;
    snprintf(a->script, sizeof a->script, "exec %s \"$@\"", s->t.command);
    add(a, "/bin/sh");
    add(a, "-c");
    add(a, a->script);
    add(a, "ssh");
    add(a, "-o");
    add(a, "BatchMode=yes");
    add(a, "-o");
    add(a, "ConnectTimeout=10");
    add(a, "-S");
    add(a, s->control);
    if (s->t.user[0]) {
        add(a, "-l");
        add(a, s->t.user);
    }
    if (s->t.port) {
        snprintf(a->port, sizeof a->port, "%d", s->t.port);
        add(a, "-p");
        add(a, a->port);
    }
}

/* Fork and exec a.v with stdin and stdout on io (-1: /dev/null), stdout on
 * outfd instead when that is set, and stderr on errfd (-1: /dev/null); the
 * child dies with us. */
static pid_t spawn(argv_b *a, int io, int errfd, int outfd)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent)
        _exit(127);
    int null = open("/dev/null", O_RDWR);
    dup2(io >= 0 ? io : null, 0);
    dup2(outfd >= 0 ? outfd : io >= 0 ? io : null, 1);
    dup2(errfd >= 0 ? errfd : null, 2);
    /* descriptors of wpdock (engine connections) stay out of ssh */
    for (int fd = 3; fd < 1024; fd++)
        close(fd);
    execv(a->v[0], a->v);
    _exit(127);
}

/* What ssh printed on a file, its last lines, one line. */
static void read_tail(int fd, char *out, size_t outlen)
{
    char buf[4096];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n < 0)
        n = 0;
    buf[n] = '\0';
    /* drop debug noise and join the lines */
    out[0] = '\0';
    size_t len = 0;
    for (char *save = NULL, *line = strtok_r(buf, "\r\n", &save); line;
         line = strtok_r(NULL, "\r\n", &save)) {
        if (!*line || strncmp(line, "debug", 5) == 0 || strstr(line, "Warning: Permanently added"))
            continue;
        int w = snprintf(out + len, outlen - len, "%s%s", len ? "; " : "", line);
        if (w < 0 || (size_t)w >= outlen - len)
            break;
        len += (size_t)w;
    }
}

static void classify(const ssh_session *s, const char *said, int status, char *err, size_t errlen)
{
    const char *l = s->t.label;
    if (strstr(said, "Host key verification failed") || strstr(said, "host key is known") ||
        strstr(said, "IDENTIFICATION HAS CHANGED"))
        snprintf(err, errlen,
                 "the host key of %s is not known or has changed: add it to known_hosts (connect "
                 "once with ssh, or use ssh-keyscan) (ssh said: %s)",
                 l, said);
    else if (strstr(said, "Permission denied") || strstr(said, "Too many authentication"))
        snprintf(err, errlen,
                 "%s refused the authentication: check the user, the key (IdentityFile) or the "
                 "agent (ssh said: %s)",
                 l, said);
    else if (strstr(said, "Could not resolve hostname") || strstr(said, "Connection refused") ||
             strstr(said, "timed out") || strstr(said, "No route to host") ||
             strstr(said, "Network is unreachable") || strstr(said, "Connection closed by"))
        snprintf(err, errlen, "cannot reach %s over ssh (ssh said: %s)", l, said);
    else if (status == 127)
        snprintf(err, errlen, "cannot run the ssh client \"%s\" (WPDOCK_SSH_COMMAND)%s%s",
                 s->t.command, *said ? ": " : "", said);
    else
        snprintf(err, errlen, "ssh to %s failed (exit status %d)%s%s", l, status, *said ? ": " : "",
                 said);
}

static int is_socket(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

/* Run ssh over the master with a remote command; its exit status, its
 * first line of output in out (may be NULL), stderr in said. */
static int remote_out(ssh_session *s, const char *const *cmd, char *out, size_t outlen, char *said,
                      size_t saidlen)
{
    argv_b a;
    start_argv(&a, s);
    add(&a, "--");
    add(&a, s->t.host);
    for (size_t i = 0; cmd[i]; i++)
        add(&a, cmd[i]);
    char ef[320];
    snprintf(ef, sizeof ef, "%s/remote.err", s->dir);
    int efd = open(ef, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    char of[320];
    snprintf(of, sizeof of, "%s/remote.out", s->dir);
    int ofd = out ? open(of, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600) : -1;
    pid_t pid = spawn(&a, -1, efd, ofd);
    int st = 0;
    while (pid > 0 && waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (efd >= 0) {
        read_tail(efd, said, saidlen);
        close(efd);
    }
    unlink(ef);
    if (out) {
        out[0] = '\0';
        if (ofd >= 0) {
            ssize_t n = pread(ofd, out, outlen - 1, 0);
            out[n > 0 ? n : 0] = '\0';
            out[strcspn(out, "\r\n")] = '\0';
            close(ofd);
        }
        unlink(of);
    }
    if (pid < 0)
        return 127;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int remote(ssh_session *s, const char *const *cmd, char *said, size_t saidlen)
{
    return remote_out(s, cmd, NULL, 0, said, saidlen);
}

/* Ask the master to forward the remote socket at path to s->local. */
static int forward(ssh_session *s, const char *path)
{
    argv_b a;
    start_argv(&a, s);
    char fwd[1400];
    snprintf(fwd, sizeof fwd, "%s:%s", s->local, path);
    add(&a, "-O");
    add(&a, "forward");
    add(&a, "-L");
    add(&a, fwd);
    add(&a, "--");
    add(&a, s->t.host);
    pid_t pid = spawn(&a, -1, -1, -1);
    int st = 0;
    while (pid > 0 && waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return pid > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0 && is_socket(s->local) ? 0 : -1;
}

static int start_master(ssh_session *s, char *err, size_t errlen)
{
    argv_b a;
    start_argv(&a, s);
    add(&a, "-M");
    add(&a, "-N");
    add(&a, "-o");
    add(&a, "ControlPersist=no");
    add(&a, "-o");
    add(&a, "ExitOnForwardFailure=yes");
    char fwd[1400];
    if (s->t.path[0]) {
        snprintf(fwd, sizeof fwd, "%s:%s", s->local, s->t.path);
        add(&a, "-L");
        add(&a, fwd);
    }
    add(&a, "--");
    add(&a, s->t.host);
    char ef[320];
    snprintf(ef, sizeof ef, "%s/master.err", s->dir);
    int efd = open(ef, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    s->master = spawn(&a, -1, efd, -1);
    if (s->master < 0) {
        s->master = 0;
        snprintf(err, errlen, "cannot start ssh: %s", strerror(errno));
        if (efd >= 0)
            close(efd);
        return -1;
    }
    long long deadline = now_ms() + MASTER_WAIT_MS;
    int st = 0, up = 0;
    for (;;) {
        pid_t r = waitpid(s->master, &st, WNOHANG);
        if (r == s->master) {
            s->master = 0;
            break;
        }
        if (is_socket(s->control) && (!s->t.path[0] || is_socket(s->local))) {
            up = 1;
            break;
        }
        if (now_ms() > deadline)
            break;
        poll(NULL, 0, 10);
    }
    char said[400] = "";
    if (efd >= 0)
        read_tail(efd, said, sizeof said);
    if (up) {
        if (efd >= 0)
            close(efd);
        unlink(ef);
        return 0;
    }
    if (efd >= 0)
        close(efd);
    if (s->master) { /* neither up nor gone in time */
        kill(s->master, SIGTERM);
        waitpid(s->master, &st, 0);
        s->master = 0;
        snprintf(err, errlen, "ssh to %s did not come up within %d s%s%s", s->t.label,
                 MASTER_WAIT_MS / 1000, *said ? " (ssh said: " : "", *said ? said : "");
        if (*said)
            snprintf(err + strlen(err), errlen - strlen(err), ")");
        return -1;
    }
    classify(s, said, WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), err, errlen);
    return -1;
}

/* The master, and the remote end checked once. */
static int ensure_ready(ssh_session *s, char *err, size_t errlen)
{
    if (s->ready && s->master && waitpid(s->master, NULL, WNOHANG) == 0)
        return 0;
    if (s->master) { /* the master went away (network, remote restart): again */
        waitpid(s->master, NULL, WNOHANG);
        s->master = 0;
        unlink(s->control);
        unlink(s->local);
    }
    s->ready = 0;
    s->forwarded = 0;
    if (start_master(s, err, errlen) != 0)
        return -1;
    char said[400] = "";
    if (s->t.path[0]) {
        const char *cmd[] = {"test", "-S", s->t.path, NULL};
        int rc = remote(s, cmd, said, sizeof said);
        if (rc == 1) {
            snprintf(err, errlen, "there is no socket %s on %s (is the engine running there?)",
                     s->t.path, s->t.label);
            return -1;
        }
        if (rc != 0) {
            classify(s, said, rc, err, errlen);
            return -1;
        }
    } else {
        /* where the remote docker CLI would connect: a unix socket there is
         * forwarded like an explicit path (no process per connection);
         * anything else goes through dial-stdio */
        const char *ctx[] = {
            "docker", "context", "inspect", "--format", "'{{.Endpoints.docker.Host}}'", NULL};
        char where[400] = "";
        int rc = s->t.dial_stdio ? 1 : remote_out(s, ctx, where, sizeof where, said, sizeof said);
        if (rc == 0 && strncmp(where, "unix:///", 8) == 0 && !strpbrk(where + 7, "'\"\\;&|`$ \t") &&
            forward(s, where + 7) == 0) {
            s->forwarded = 1;
            s->ready = 1;
            return 0;
        }
        const char *cmd[] = {"command", "-v", "docker", NULL};
        rc = remote(s, cmd, said, sizeof said);
        if (rc == 1 || rc == 127) {
            snprintf(err, errlen,
                     "the docker CLI is not installed on %s: ssh://%s without a path runs `docker "
                     "system dial-stdio` there; give the engine's socket instead, e.g. "
                     "ssh://%s/run/podman/podman.sock",
                     s->t.label, s->t.label, s->t.label);
            return -1;
        }
        if (rc != 0) {
            classify(s, said, rc, err, errlen);
            return -1;
        }
    }
    s->ready = 1;
    return 0;
}

static void reap(ssh_session *s)
{
    size_t k = 0;
    for (size_t i = 0; i < s->n_children; i++) {
        pid_t r = waitpid(s->children[i], NULL, WNOHANG);
        if (r == 0)
            s->children[k++] = s->children[i];
    }
    s->n_children = k;
}

int ssh_session_connect(ssh_session *s, char *err, size_t errlen)
{
    reap(s);
    if (ensure_ready(s, err, errlen) != 0)
        return -1;
    if (s->t.path[0] || s->forwarded) {
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_un sa;
        memset(&sa, 0, sizeof sa);
        sa.sun_family = AF_UNIX;
        snprintf(sa.sun_path, sizeof sa.sun_path, "%.*s", (int)sizeof sa.sun_path - 1, s->local);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
            snprintf(err, errlen, "cannot reach the ssh forward of %s on %s: %s",
                     s->t.path[0] ? s->t.path : "the docker socket", s->t.label, strerror(errno));
            if (fd >= 0)
                close(fd);
            return -1;
        }
        return fd;
    }
    if (s->n_children >= SSH_MAX_CHILDREN) {
        snprintf(err, errlen, "%zu ssh connections to %s are open already", s->n_children,
                 s->t.label);
        return -1;
    }
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        snprintf(err, errlen, "socketpair: %s", strerror(errno));
        return -1;
    }
    argv_b a;
    start_argv(&a, s);
    add(&a, "--");
    add(&a, s->t.host);
    add(&a, "docker");
    add(&a, "system");
    add(&a, "dial-stdio");
    pid_t pid = spawn(&a, sv[1], -1, -1);
    close(sv[1]);
    if (pid < 0) {
        snprintf(err, errlen, "cannot start ssh: %s", strerror(errno));
        close(sv[0]);
        return -1;
    }
    s->children[s->n_children++] = pid;
    return sv[0];
}

void ssh_session_free(ssh_session *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_children; i++)
        kill(s->children[i], SIGTERM);
    if (s->master)
        kill(s->master, SIGTERM);
    for (size_t i = 0; i < s->n_children; i++)
        waitpid(s->children[i], NULL, 0);
    if (s->master)
        waitpid(s->master, NULL, 0);
    unlink(s->control);
    unlink(s->local);
    rmdir(s->dir);
    free(s);
}
