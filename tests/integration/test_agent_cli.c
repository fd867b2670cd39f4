/* test_agent_cli.c - the command line of `wpdock agent`: --help lists every
 * variable and flag; each bad variable, flag or .env line ends it with
 * status 2 and a message naming it before any engine is contacted; a flag
 * overrides its variable and .env never overrides the environment; the
 * secret file wins over the secret; several engines with ,max=N
 * capacities, the unreachable ones skipped; the log lines' format, level
 * and file; SIGINT/SIGTERM end it with 0. Against the project's Woodpecker
 * test server for what needs a server, and `wpdock agent ping` against a
 * closed port, a small HTTP server forked here (200 and 500) and a running
 * agent. Engine selection as in testutil.h. */
#define _GNU_SOURCE
#include <check.h>
#include <netinet/in.h>
#include <regex.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"
#include "testutil_wpserver.h"
#include "util/buf.h"

#define RUN_TIMEOUT_MS 60000
#define NO_SOCK "/nonexistent/wpdock-agent-cli.sock"
#define NO_SOCK_URI "unix://" NO_SOCK
/* what the connect error says: the engine was tried */
#define TRIED "socket " NO_SOCK " does not exist"

#define ck_assert_contains(hay, needle)                                                            \
    ck_assert_msg(strstr((hay), (needle)) != NULL, "\"%.1500s\" does not contain \"%s\"", (hay),   \
                  (needle))

/* Every test runs in a fresh working directory (where .env is read). */
static char *work_dir;

static void setup(void)
{
    work_dir = tu_mkdtemp();
    ck_assert_int_eq(chdir(work_dir), 0);
    unsetenv("WPDOCK_ENGINES"); /* the engines are each test's own */
}

static void teardown(void)
{
    if (chdir("/") != 0)
        return;
    tu_rm_rf(work_dir);
    free(work_dir);
}

static void write_here(const char *name, const char *text)
{
    tu_write_file(name, text, strlen(text));
}

/* `wpdock agent ARGS...` with env (NULL-terminated "K=V", may be NULL). */
static int agent_run(tu_exec *x, const char *const *args, const char *const *env)
{
    const char *argv[40] = {"agent"};
    size_t n = 1;
    for (size_t i = 0; args && args[i]; i++) {
        ck_assert(n < 39);
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    return tu_exec_run(x, argv, env, RUN_TIMEOUT_MS);
}

/* Refused with status 2, message on stderr, nothing on stdout, and the
 * engine never asked (its socket would be named in a connect error). */
static void assert_refused(tu_exec *x, const char *message)
{
    ck_assert_msg(x->status == 2, "exit status %d, expected 2; stderr: %s", x->status, x->proc.err);
    ck_assert_msg(x->proc.out_len == 0, "stdout is not empty: %.500s", x->proc.out);
    ck_assert_contains(x->proc.err, message);
    ck_assert_msg(strstr(x->proc.err, TRIED) == NULL, "the engine was contacted: %s", x->proc.err);
    tu_exec_free(x);
}

/* The run got past every check and tried the (missing) engine: status 3. */
static void assert_reached_engine(tu_exec *x)
{
    ck_assert_msg(x->status == 3, "exit status %d, expected 3 (engine unreachable); stderr: %s",
                  x->status, x->proc.err);
    ck_assert_contains(x->proc.err, TRIED);
    tu_exec_free(x);
}

/* ------------------------------------------------------------ --help */

START_TEST(test_help)
{
    static const char *const listed[] = {
        /* every variable of the Go agent and of the docker backend */
        "WOODPECKER_SERVER", "WOODPECKER_AGENT_SECRET_FILE", "WOODPECKER_AGENT_SECRET",
        "WOODPECKER_GRPC_SECURE", "WOODPECKER_GRPC_SKIP_VERIFY", "WOODPECKER_GRPC_VERIFY",
        "WOODPECKER_RETRY_TIMEOUT", "WOODPECKER_LOG_ENTRY_STREAM_BUFFER_SIZE",
        "WOODPECKER_HOSTNAME", "WOODPECKER_AGENT_CONFIG_FILE", "WOODPECKER_AGENT_LABELS",
        "WOODPECKER_FILTER_LABELS", "WOODPECKER_MAX_WORKFLOWS", "WOODPECKER_MAX_PROCS",
        "WOODPECKER_AGENT_SINGLE_WORKFLOW", "(WOODPECKER_HEALTHCHECK;",
        "WOODPECKER_HEALTHCHECK_ADDR", "(WOODPECKER_KEEPALIVE_TIME)",
        "WOODPECKER_KEEPALIVE_TIMEOUT", "WOODPECKER_BACKEND;", "WOODPECKER_CONNECT_RETRY_COUNT",
        "WOODPECKER_CONNECT_RETRY_DELAY", "WOODPECKER_LOG_LEVEL", "WOODPECKER_LOG_FILE",
        "WOODPECKER_DEBUG_PRETTY", "WOODPECKER_DEBUG_NOCOLOR", "WOODPECKER_BACKEND_DOCKER_HOST",
        "DOCKER_HOST", "DOCKER_API_VERSION", "DOCKER_CERT_PATH", "DOCKER_TLS_VERIFY",
        "WOODPECKER_BACKEND_DOCKER_ENABLE_IPV6", "WOODPECKER_BACKEND_DOCKER_NETWORK",
        "WOODPECKER_BACKEND_DOCKER_VOLUMES", "WOODPECKER_BACKEND_DOCKER_APPARMOR_PROFILE",
        "WOODPECKER_BACKEND_DOCKER_STOP_TIMEOUT", "WOODPECKER_BACKEND_DOCKER_LIMIT_MEM_SWAP",
        "WOODPECKER_BACKEND_DOCKER_LIMIT_SHM_SIZE", "WOODPECKER_BACKEND_DOCKER_LIMIT_CPU_QUOTA",
        "WOODPECKER_BACKEND_DOCKER_LIMIT_CPU_SHARES", "WOODPECKER_BACKEND_DOCKER_LIMIT_CPU_SET",
        "WOODPECKER_LIMIT_", "WPDOCK_ENGINES", "WPDOCK_RECONCILE_LOGS", "WPDOCK_GRPC_CA_FILE",
        /* every flag */
        "--server ADDR", "--grpc-token SECRET", "--grpc-secure[=BOOL]",
        "--grpc-skip-insecure[=BOOL]", "--grpc-skip-insecure-deprecated", "--grpc-ca-file FILE",
        "--retry-timeout DURATION", "--connect-retry-count N", "--connect-retry-delay DURATION",
        "--keepalive-time DURATION", "--keepalive-timeout DURATION", "--hostname NAME",
        "--agent-config FILE", "--labels K=V", "--filter", "--max-workflows N",
        "--single-workflow[=BOOL]", "--backend-engine NAME", "--healthcheck[=BOOL]",
        "--healthcheck-addr ADDR", "--log-level LEVEL", "--log-file FILE",
        "--log-entry-stream-buffer-size N", "--pretty[=BOOL]", "--nocolor[=BOOL]", "-H, --host URI",
        "--api-version V", "--engine NAME=URI[,max=N]", "--network NAME", "--volumes LIST",
        "--ipv6 BOOL", "--stop-timeout SECS", "--apparmor-profile", "--limit-mem BYTES",
        "--limit-mem-swap", "--limit-shm-size", "--limit-cpu-quota", "--limit-cpu-shares",
        "--limit-cpu-set", "--cert-path DIR", "--tls-verify BOOL", "--reconcile-logs WHEN",
        "wpdock agent ping",
        /* the Go defaults, and where wpdock differs */
        "default localhost:9000", "default /etc/woodpecker/agent.conf", "default :3000",
        "default 2m", "default 2s", "default 5)", "default 1)", "default info", "default stderr",
        "default auto-detect", "default true)", "default 20s", "verified by default",
        "backend-engine NAME   docker or auto-detect", "max=N"};
    tu_exec x;
    agent_run(&x, (const char *const[]){"--help", NULL}, NULL);
    ck_assert_msg(x.status == 0, "status %d: %s", x.status, x.proc.err);
    for (size_t i = 0; i < sizeof listed / sizeof listed[0]; i++)
        ck_assert_contains(x.proc.out, listed[i]);
    char *help = wpd_xstrdup(x.proc.out);
    tu_exec_free(&x);

    /* the same text from `wpdock help agent` and `wpdock agent ping --help`;
     * `wpdock --help` lists the command */
    tu_exec_run(&x, (const char *const[]){"help", "agent", NULL}, NULL, RUN_TIMEOUT_MS);
    ck_assert_int_eq(x.status, 0);
    ck_assert_str_eq(x.proc.out, help);
    tu_exec_free(&x);
    agent_run(&x, (const char *const[]){"ping", "--help", NULL}, NULL);
    ck_assert_int_eq(x.status, 0);
    ck_assert_str_eq(x.proc.out, help);
    tu_exec_free(&x);
    tu_exec_run(&x, (const char *const[]){"--help", NULL}, NULL, RUN_TIMEOUT_MS);
    ck_assert_int_eq(x.status, 0);
    ck_assert_contains(x.proc.out, "  agent ");
    tu_exec_free(&x);
    free(help);
}
END_TEST

/* ------------------------------------------------------------ bad values */

typedef struct bad_case {
    const char *env[3]; /* besides WOODPECKER_AGENT_SECRET */
    const char *args[5];
    const char *message;
} bad_case;

static const bad_case bad_cases[] = {
    {{"WOODPECKER_MAX_WORKFLOWS=abc"},
     {0},
     "agent: WOODPECKER_MAX_WORKFLOWS: \"abc\": not an integer"},
    {{"WOODPECKER_MAX_PROCS=1.5"}, {0}, "WOODPECKER_MAX_PROCS: \"1.5\": not an integer"},
    {{"WOODPECKER_MAX_WORKFLOWS=0"}, {0}, "WOODPECKER_MAX_WORKFLOWS: \"0\": must be between 1 and"},
    {{0}, {"--max-workflows", "-2"}, "--max-workflows: \"-2\": must be between 1 and"},
    {{"WOODPECKER_CONNECT_RETRY_COUNT=-1"}, {0}, "WOODPECKER_CONNECT_RETRY_COUNT: \"-1\": must be"},
    {{0}, {"--connect-retry-count", "five"}, "--connect-retry-count: \"five\": not an integer"},
    {{"WOODPECKER_LOG_ENTRY_STREAM_BUFFER_SIZE=big"},
     {0},
     "WOODPECKER_LOG_ENTRY_STREAM_BUFFER_SIZE: \"big\": not an integer"},
    {{"WOODPECKER_GRPC_SECURE=yes"},
     {0},
     "WOODPECKER_GRPC_SECURE: \"yes\": not a boolean (1, t, T"},
    {{0}, {"--grpc-secure=maybe"}, "--grpc-secure: \"maybe\": not a boolean"},
    {{"WOODPECKER_GRPC_SKIP_VERIFY=on"}, {0}, "WOODPECKER_GRPC_SKIP_VERIFY: \"on\": not a boolean"},
    {{"WOODPECKER_GRPC_VERIFY=no"}, {0}, "WOODPECKER_GRPC_VERIFY: \"no\": not a boolean"},
    {{"WOODPECKER_AGENT_SINGLE_WORKFLOW=2"}, {0}, "WOODPECKER_AGENT_SINGLE_WORKFLOW: \"2\""},
    {{"WOODPECKER_HEALTHCHECK=enabled"}, {0}, "WOODPECKER_HEALTHCHECK: \"enabled\": not a boolean"},
    {{"WOODPECKER_DEBUG_PRETTY=x"}, {0}, "WOODPECKER_DEBUG_PRETTY: \"x\": not a boolean"},
    {{0}, {"--nocolor=TRue"}, "--nocolor: \"TRue\": not a boolean"},
    {{0}, {"--healthcheck", "false"}, "unexpected argument \"false\" (a boolean flag takes"},
    {{"WOODPECKER_RETRY_TIMEOUT=10"},
     {0},
     "WOODPECKER_RETRY_TIMEOUT: \"10\": missing unit in duration"},
    {{0}, {"--retry-timeout", "5y"}, "--retry-timeout: \"5y\": unknown unit \"y\" in duration"},
    {{"WOODPECKER_CONNECT_RETRY_DELAY=1h 2m"},
     {0},
     "WOODPECKER_CONNECT_RETRY_DELAY: \"1h 2m\": unknown unit \"h \" in duration"},
    {{"WOODPECKER_CONNECT_RETRY_DELAY=-2s"}, {0}, "\"-2s\": must not be negative"},
    {{"WOODPECKER_KEEPALIVE_TIME=fast"},
     {0},
     "WOODPECKER_KEEPALIVE_TIME: \"fast\": invalid duration"},
    {{"WOODPECKER_KEEPALIVE_TIMEOUT=20"},
     {0},
     "WOODPECKER_KEEPALIVE_TIMEOUT: \"20\": missing unit"},
    {{"WOODPECKER_AGENT_LABELS=a=b,,c=d"},
     {0},
     "WOODPECKER_AGENT_LABELS: \"a=b,,c=d\": empty string in slice"},
    {{"WOODPECKER_AGENT_LABELS=team=ci,os"}, {0}, "key 'os' does not have a value assigned"},
    {{"WOODPECKER_FILTER_LABELS=team"},
     {0},
     "WOODPECKER_FILTER_LABELS: \"team\": key 'team' does not have a value assigned"},
    {{0}, {"--labels", "a=1", "--labels", "b="}, "--labels: \"b=\": key 'b' does not have"},
    {{0}, {"--filter", "=x"}, "--filter: \"=x\": key '' does not have a value assigned"},
    {{"WOODPECKER_LOG_LEVEL=verbose"}, {0}, "WOODPECKER_LOG_LEVEL: \"verbose\": not a log level"},
    {{0}, {"--log-level", "Info"}, "--log-level: \"Info\": not a log level"},
    {{"WOODPECKER_BACKEND=kubernetes"},
     {0},
     "WOODPECKER_BACKEND: \"kubernetes\": wpdock has the docker backend only"},
    {{0}, {"--backend-engine", "local"}, "--backend-engine: \"local\": wpdock has the docker"},
    {{"WOODPECKER_AGENT_SECRET_FILE=/nonexistent/agent-secret"},
     {0},
     "WOODPECKER_AGENT_SECRET_FILE: cannot read \"/nonexistent/agent-secret\""},
    {{"WOODPECKER_LOG_FILE=/nonexistent/dir/agent.log"},
     {0},
     "log file \"/nonexistent/dir/agent.log\""},
    {{"WOODPECKER_BACKEND_DOCKER_STOP_TIMEOUT=soon"},
     {0},
     "WOODPECKER_BACKEND_DOCKER_STOP_TIMEOUT"},
    {{0}, {"--stop-timeout", "abc"}, "agent: --stop-timeout"},
    {{0}, {"--limit-mem-swap", "1g"}, "agent: "},
    {{0}, {"--no-such-flag"}, "unknown option \"--no-such-flag\""},
    {{0}, {"--server"}, "option \"--server\" needs a value"},
    {{0}, {"run"}, "unexpected argument \"run\""},
};

START_TEST(test_bad_value)
{
    const bad_case *c = &bad_cases[_i];
    const char *env[6] = {"WOODPECKER_AGENT_SECRET=s", "WPDOCK_ENGINES="};
    size_t ne = 2;
    for (size_t i = 0; i < 3 && c->env[i]; i++)
        env[ne++] = c->env[i];
    env[ne] = NULL;
    const char *args[8] = {"-H", NO_SOCK_URI};
    size_t na = 2;
    for (size_t i = 0; i < 5 && c->args[i]; i++)
        args[na++] = c->args[i];
    args[na] = NULL;
    tu_exec x;
    agent_run(&x, args, env);
    assert_refused(&x, c->message);
}
END_TEST

/* What is refused before the engines are even listed or contacted. */
START_TEST(test_bad_engines_and_secret)
{
    tu_exec x;
    agent_run(&x, (const char *const[]){"-H", NO_SOCK_URI, NULL},
              (const char *const[]){"WPDOCK_ENGINES=", NULL});
    assert_refused(&x, "agent: no agent secret (set WOODPECKER_AGENT_SECRET, "
                       "WOODPECKER_AGENT_SECRET_FILE or --grpc-token)");
    const char *secret[] = {"WOODPECKER_AGENT_SECRET=s", NULL, NULL};
    secret[1] = "WPDOCK_ENGINES=a=" NO_SOCK_URI ",max=zero";
    agent_run(&x, NULL, secret);
    assert_refused(&x, "WPDOCK_ENGINES: \"max=zero\": the number of workflows at once on engine a "
                       "must be an integer of at least 1");
    secret[1] = "WPDOCK_ENGINES=max=2,a=" NO_SOCK_URI;
    agent_run(&x, NULL, secret);
    assert_refused(&x, "WPDOCK_ENGINES: \"max=2\" must follow an engine (NAME=URI,max=N)");
    secret[1] = "WPDOCK_ENGINES=a=" NO_SOCK_URI ",max=1,max=2";
    agent_run(&x, NULL, secret);
    assert_refused(&x, "engine a has a max already");
    secret[1] = "WPDOCK_ENGINES=";
    agent_run(&x, (const char *const[]){"--engine", "a=" NO_SOCK_URI ",cpus=2", NULL}, secret);
    assert_refused(&x, "--engine: \"a=" NO_SOCK_URI ",cpus=2\": only max=N may follow NAME=URI");
    agent_run(&x, (const char *const[]){"--engine", "max=3", NULL}, secret);
    assert_refused(&x, "--engine: \"max=3\" must follow an engine");
    agent_run(&x, (const char *const[]){"--engine", "a=" NO_SOCK_URI ",max=0", NULL}, secret);
    assert_refused(&x, "\"max=0\": the number of workflows at once on engine a");
    agent_run(&x, (const char *const[]){"-H", NO_SOCK_URI, "--engine", "a=" NO_SOCK_URI, NULL},
              secret);
    assert_refused(&x, "use either -H/--host or --engine");
}
END_TEST

/* Valid values of every kind get past the checks (to the missing engine). */
START_TEST(test_valid_values_accepted)
{
    tu_exec x;
    agent_run(&x, (const char *const[]){"-H", NO_SOCK_URI, NULL},
              (const char *const[]){
                  "WOODPECKER_AGENT_SECRET=s", "WPDOCK_ENGINES=", "WOODPECKER_GRPC_SECURE=True",
                  "WOODPECKER_GRPC_SKIP_VERIFY=F", "WOODPECKER_RETRY_TIMEOUT=1h2m3.5s",
                  "WOODPECKER_CONNECT_RETRY_DELAY=500ms", "WOODPECKER_CONNECT_RETRY_COUNT=0",
                  "WOODPECKER_KEEPALIVE_TIME=0", "WOODPECKER_KEEPALIVE_TIMEOUT=1.5m",
                  "WOODPECKER_MAX_WORKFLOWS=+4", "WOODPECKER_AGENT_SINGLE_WORKFLOW=t",
                  "WOODPECKER_HEALTHCHECK=0",
                  "WOODPECKER_AGENT_LABELS= a=b , c=d=e,!os=linux,repo=*",
                  "WOODPECKER_LOG_LEVEL=fatal", "WOODPECKER_BACKEND=docker",
                  "WOODPECKER_DEBUG_PRETTY=1", "WOODPECKER_LOG_ENTRY_STREAM_BUFFER_SIZE=10",
                  "WOODPECKER_MAX_PROCS=garbage", /* the first one set wins */
                  NULL});
    assert_reached_engine(&x);

    /* bare boolean flags and --FLAG=BOOL */
    agent_run(&x,
              (const char *const[]){"-H", NO_SOCK_URI, "--grpc-secure", "--single-workflow=false",
                                    "--pretty", "--healthcheck=FALSE", "--retry-timeout=0",
                                    "--backend-engine", "auto-detect", "--log-level", "panic",
                                    NULL},
              (const char *const[]){"WOODPECKER_AGENT_SECRET=s", "WPDOCK_ENGINES=", NULL});
    assert_reached_engine(&x);
}
END_TEST

START_TEST(test_flag_overrides_variable)
{
    tu_exec x;
    /* the variable is never read when the flag is given */
    agent_run(&x, (const char *const[]){"-H", NO_SOCK_URI, "--max-workflows", "2", NULL},
              (const char *const[]){"WOODPECKER_AGENT_SECRET=s",
                                    "WPDOCK_ENGINES=", "WOODPECKER_MAX_WORKFLOWS=abc", NULL});
    assert_reached_engine(&x);
    agent_run(&x,
              (const char *const[]){"-H", NO_SOCK_URI, "--grpc-token", "from-flag", "--labels",
                                    "a=b", "--log-level=debug", "--healthcheck=true", NULL},
              (const char *const[]){"WOODPECKER_AGENT_SECRET_FILE=/nonexistent/secret",
                                    "WPDOCK_ENGINES=", "WOODPECKER_AGENT_LABELS=broken",
                                    "WOODPECKER_LOG_LEVEL=loud", "WOODPECKER_HEALTHCHECK=maybe",
                                    NULL});
    assert_reached_engine(&x);
    /* and a bad flag is refused over a good variable */
    agent_run(&x, (const char *const[]){"-H", NO_SOCK_URI, "--log-level", "nope", NULL},
              (const char *const[]){"WOODPECKER_AGENT_SECRET=s",
                                    "WPDOCK_ENGINES=", "WOODPECKER_LOG_LEVEL=info", NULL});
    assert_refused(&x, "--log-level: \"nope\": not a log level");
}
END_TEST

START_TEST(test_deprecated_names_warn)
{
    tu_exec x;
    agent_run(&x,
              (const char *const[]){"-H", NO_SOCK_URI, "--filter", "a=b",
                                    "--grpc-skip-insecure-deprecated", "--grpc-secure", NULL},
              (const char *const[]){"WOODPECKER_AGENT_SECRET=s",
                                    "WPDOCK_ENGINES=", "WOODPECKER_MAX_PROCS=2", NULL});
    ck_assert_contains(x.proc.err, "warning: agent: --filter is deprecated; use --labels");
    ck_assert_contains(x.proc.err, "warning: agent: --grpc-skip-insecure-deprecated is deprecated");
    ck_assert_contains(x.proc.err, "warning: agent: WOODPECKER_MAX_PROCS is deprecated; use "
                                   "WOODPECKER_MAX_WORKFLOWS");
    /* TLS without verification is said out loud */
    ck_assert_contains(x.proc.err, "warning: agent: the Woodpecker server's TLS certificate is "
                                   "not verified");
    assert_reached_engine(&x);
    agent_run(&x, (const char *const[]){"-H", NO_SOCK_URI, NULL},
              (const char *const[]){"WOODPECKER_AGENT_SECRET=s",
                                    "WPDOCK_ENGINES=", "WOODPECKER_FILTER_LABELS=a=b",
                                    "WOODPECKER_GRPC_VERIFY=1", NULL});
    ck_assert_contains(x.proc.err, "WOODPECKER_FILTER_LABELS is deprecated; use "
                                   "WOODPECKER_AGENT_LABELS");
    ck_assert_contains(x.proc.err, "WOODPECKER_GRPC_VERIFY is deprecated");
    /* no TLS: nothing to verify, no warning */
    ck_assert_msg(strstr(x.proc.err, "not verified") == NULL, "%s", x.proc.err);
    assert_reached_engine(&x);
}
END_TEST

/* ------------------------------------------------------------ .env */

static const char *const base_env[] = {"WPDOCK_ENGINES=", NULL};
static const char *const no_engine[] = {"-H", NO_SOCK_URI, NULL};

START_TEST(test_dotenv_loaded)
{
    /* the secret and a (bad) value come from .env; the double-quoted value
     * is unescaped, and printed escaped */
    write_here(".env", "# agent settings\n"
                       "export WOODPECKER_AGENT_SECRET='from dotenv'\n"
                       "\n"
                       "WOODPECKER_LOG_LEVEL=\"ver\\nbose\"  # a comment\n");
    tu_exec x;
    agent_run(&x, no_engine, base_env);
    assert_refused(&x, "WOODPECKER_LOG_LEVEL: \"ver\\nbose\": not a log level");

    /* the environment wins over .env (even an empty value), so the bad
     * value is never seen and the secret is there */
    agent_run(&x, no_engine,
              (const char *const[]){"WPDOCK_ENGINES=", "WOODPECKER_LOG_LEVEL=debug", NULL});
    assert_reached_engine(&x);
    agent_run(&x, no_engine,
              (const char *const[]){"WPDOCK_ENGINES=", "WOODPECKER_LOG_LEVEL=", NULL});
    assert_reached_engine(&x);
    agent_run(&x, no_engine,
              (const char *const[]){"WPDOCK_ENGINES=", "WOODPECKER_LOG_LEVEL=debug",
                                    "WOODPECKER_AGENT_SECRET=", NULL});
    assert_refused(&x, "no agent secret");

    /* the backend settings read .env too */
    write_here(".env", "WOODPECKER_AGENT_SECRET=s\nWOODPECKER_BACKEND_DOCKER_STOP_TIMEOUT=soon\n");
    agent_run(&x, no_engine, base_env);
    assert_refused(&x, "WOODPECKER_BACKEND_DOCKER_STOP_TIMEOUT");

    /* and so do the engines */
    write_here(".env", "WOODPECKER_AGENT_SECRET=s\n"
                       "WPDOCK_ENGINES=\"one=" NO_SOCK_URI ",max=2,two=" NO_SOCK_URI "x\"\n");
    agent_run(&x, NULL, NULL);
    ck_assert_msg(x.status == 3, "status %d: %s", x.status, x.proc.err);
    ck_assert_contains(x.proc.err, NO_SOCK "x");
    tu_exec_free(&x);
}
END_TEST

START_TEST(test_dotenv_malformed)
{
    write_here(".env", "WOODPECKER_AGENT_SECRET=s\n# fine so far\nNOT A STATEMENT\n");
    tu_exec x;
    agent_run(&x, no_engine, base_env);
    assert_refused(&x, "wpdock: agent: .env:3: unexpected character 'A'");
    write_here(".env", "A=1\nB=\"never closed\nC=3\n");
    agent_run(&x, no_engine, base_env);
    assert_refused(&x, ".env:2: unterminated quoted value");
    write_here(".env", "LONELY\n");
    agent_run(&x, (const char *const[]){"ping", NULL}, base_env);
    assert_refused(&x, ".env:1: \"LONELY\" is not KEY=VALUE");
    /* a .env that is not a file */
    ck_assert_int_eq(unlink(".env"), 0);
    ck_assert_int_eq(mkdir(".env", 0755), 0);
    agent_run(&x, no_engine, (const char *const[]){"WOODPECKER_AGENT_SECRET=s", NULL});
    assert_refused(&x, ".env");
}
END_TEST

/* ------------------------------------------------------------ ping */

/* A one-shot HTTP server in a child: answers every connection with
 * `status_line` and records each request line in requests.txt. */
typedef struct mini_http {
    int pid;
    int port;
} mini_http;

static int listen_any(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t l = sizeof a;
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &l), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

static void mini_http_start(mini_http *h, const char *status_line)
{
    int fd = listen_any(&h->port);
    ck_assert_int_eq(listen(fd, 8), 0);
    h->pid = fork();
    ck_assert_int_ge(h->pid, 0);
    if (h->pid == 0) {
        for (;;) {
            int c = accept(fd, NULL, NULL);
            if (c < 0)
                _exit(1);
            char req[4096];
            size_t n = 0;
            while (n < sizeof req - 1 && !memmem(req, n, "\r\n\r\n", 4)) {
                ssize_t r = read(c, req + n, sizeof req - 1 - n);
                if (r <= 0)
                    break;
                n += (size_t)r;
            }
            req[n] = '\0';
            FILE *f = fopen("requests.txt", "a");
            if (f) {
                fprintf(f, "%.*s\n", (int)strcspn(req, "\r\n"), req);
                fclose(f);
            }
            char resp[256];
            int rl =
                snprintf(resp, sizeof resp,
                         "%s\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok", status_line);
            ssize_t w = write(c, resp, (size_t)rl);
            (void)w;
            close(c);
        }
    }
    close(fd);
}

static void mini_http_stop(mini_http *h)
{
    kill(h->pid, SIGKILL);
    waitpid(h->pid, NULL, 0);
}

START_TEST(test_ping_closed_port)
{
    int port;
    close(listen_any(&port)); /* a port nothing listens on */
    char addr[64], want[128];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    snprintf(want, sizeof want,
             "wpdock: agent ping: health check http://127.0.0.1:%d/healthz failed", port);
    tu_exec x;
    agent_run(&x, (const char *const[]){"ping", "--healthcheck-addr", addr, NULL}, base_env);
    ck_assert_msg(x.status == 1, "status %d: %s", x.status, x.proc.err);
    ck_assert_contains(x.proc.err, want);
    ck_assert_contains(x.proc.err, "connect");
    ck_assert_uint_eq(x.proc.out_len, 0);
    tu_exec_free(&x);

    /* ":PORT" asks localhost, from the variable */
    char var[96];
    snprintf(var, sizeof var, "WOODPECKER_HEALTHCHECK_ADDR=:%d", port);
    snprintf(want, sizeof want, "health check http://localhost:%d/healthz failed", port);
    agent_run(&x, (const char *const[]){"ping", NULL}, (const char *const[]){var, NULL});
    ck_assert_msg(x.status == 1, "status %d: %s", x.status, x.proc.err);
    ck_assert_contains(x.proc.err, want);
    tu_exec_free(&x);

    /* an address that is not one */
    agent_run(&x, (const char *const[]){"ping", "--healthcheck-addr", "host:1/evil?x", NULL},
              base_env);
    ck_assert_msg(x.status == 2, "status %d: %s", x.status, x.proc.err);
    ck_assert_contains(x.proc.err, "health check address \"host:1/evil?x\" is not [HOST]:PORT");
    tu_exec_free(&x);
}
END_TEST

START_TEST(test_ping_healthy_and_not)
{
    mini_http ok, bad;
    mini_http_start(&ok, "HTTP/1.1 200 OK");
    mini_http_start(&bad, "HTTP/1.1 500 Internal Server Error");
    char ok_addr[64], bad_addr[64], ok_var[96], bad_var[96], want[128];
    snprintf(ok_addr, sizeof ok_addr, "127.0.0.1:%d", ok.port);
    snprintf(bad_addr, sizeof bad_addr, "127.0.0.1:%d", bad.port);
    snprintf(ok_var, sizeof ok_var, "WOODPECKER_HEALTHCHECK_ADDR=:%d", ok.port);
    snprintf(bad_var, sizeof bad_var, "WOODPECKER_HEALTHCHECK_ADDR=%s", bad_addr);
    tu_exec x;

    agent_run(&x, (const char *const[]){"ping", "--healthcheck-addr", ok_addr, NULL}, base_env);
    ck_assert_msg(x.status == 0, "status %d: %s", x.status, x.proc.err);
    ck_assert_uint_eq(x.proc.out_len, 0);
    tu_exec_free(&x);
    agent_run(&x, (const char *const[]){"ping", NULL}, (const char *const[]){ok_var, NULL});
    ck_assert_msg(x.status == 0, "status %d: %s", x.status, x.proc.err);
    tu_exec_free(&x);
    /* the flag over the variable, and options before `ping` */
    agent_run(&x, (const char *const[]){"--healthcheck-addr", ok_addr, "ping", NULL},
              (const char *const[]){bad_var, NULL});
    ck_assert_msg(x.status == 0, "status %d: %s", x.status, x.proc.err);
    tu_exec_free(&x);

    agent_run(&x, (const char *const[]){"ping", NULL}, (const char *const[]){bad_var, NULL});
    ck_assert_msg(x.status == 1, "status %d: %s", x.status, x.proc.err);
    snprintf(want, sizeof want, "health check http://%s/healthz failed: HTTP status 500", bad_addr);
    ck_assert_contains(x.proc.err, want);
    tu_exec_free(&x);

    mini_http_stop(&ok);
    mini_http_stop(&bad);
    /* every request was a GET of /healthz */
    char *reqs = tu_read_file("requests.txt", NULL);
    ck_assert_ptr_nonnull(reqs);
    ck_assert_uint_eq(tu_count(reqs, "\n"), 4);
    ck_assert_uint_eq(tu_count(reqs, "GET /healthz HTTP/1.1\n"), 4);
    free(reqs);
}
END_TEST

/* ------------------------------------------------------------ against a server */

/* The agent row named `name` on the server once it registered (fails the
 * test when the agent ends first or after timeout_s); malloc'd. */
static char *wait_agent_row(tu_wps *s, tu_exec *x, const char *name, int timeout_s)
{
    long long end = tu_now_ms() + timeout_s * 1000LL;
    while (tu_now_ms() < end) {
        char *body = NULL;
        if (tu_wps_request(s, "GET", "/agents", NULL, &body) == 200) {
            int n = tu_json_len(body, "");
            for (int i = 0; i < n; i++) {
                char path[32];
                snprintf(path, sizeof path, "%d.name", i);
                char *nm = tu_json_str(body, path);
                bool match = nm && strcmp(nm, name) == 0;
                free(nm);
                if (match) {
                    snprintf(path, sizeof path, "%d", i);
                    char *row = tu_json_str(body, path);
                    free(body);
                    return row;
                }
            }
        }
        free(body);
        int eof = tu_proc_pump(&x->proc, 100);
        ck_assert_msg(!eof, "the agent ended before registering as %s: %s", name, x->proc.err);
    }
    ck_abort_msg("no agent %s registered within %d s; agent stderr: %s", name, timeout_s,
                 x->proc.err);
    return NULL;
}

static void agent_host(char *out, size_t len)
{
    char ulid[27];
    tu_ulid_lower(ulid);
    snprintf(out, len, "cli-%.12s", ulid + 14);
}

static int stop_agent(tu_exec *x, int sig)
{
    tu_proc_signal(&x->proc, sig);
    return tu_exec_finish(x, RUN_TIMEOUT_MS);
}

/* Every line on the log is "YYYY-MM-DDTHH:MM:SSZ LVL message". */
static void assert_log_lines(const char *log, const char *levels)
{
    regex_t re;
    char pat[128];
    snprintf(pat, sizeof pat, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z (%s) [^ ]",
             levels);
    ck_assert_int_eq(regcomp(&re, pat, REG_EXTENDED | REG_NOSUB), 0);
    size_t lines = 0;
    for (const char *p = log; *p;) {
        const char *nl = strchr(p, '\n');
        size_t l = nl ? (size_t)(nl - p) : strlen(p);
        char *line = wpd_xstrndup(p, l);
        if (strncmp(line, "wpdock: ", 8) != 0) { /* the command's own messages */
            ck_assert_msg(regexec(&re, line, 0, NULL, 0) == 0, "log line \"%s\" is not %s", line,
                          pat);
            lines++;
        }
        free(line);
        p += l + (nl ? 1 : 0);
    }
    ck_assert_msg(lines > 0, "no log lines in: %s", log);
    regfree(&re);
}

START_TEST(test_secret_file_wins)
{
    tu_wps srv;
    tu_wps_start(&srv, NULL);
    char host[64], hostvar[96], filevar[512], *secret_text;
    agent_host(host, sizeof host);
    snprintf(hostvar, sizeof hostvar, "WOODPECKER_HOSTNAME=%s", host);
    snprintf(filevar, sizeof filevar, "WOODPECKER_AGENT_SECRET_FILE=%s/secret", work_dir);
    secret_text = wpd_xasprintf("\n  %s \t\n\n", srv.secret);
    write_here("secret", secret_text);
    free(secret_text);

    /* the file (trimmed) over a wrong WOODPECKER_AGENT_SECRET */
    char **env = tu_wps_agent_env(
        &srv, NULL,
        (const char *const[]){hostvar, filevar, "WOODPECKER_AGENT_SECRET=wrong-secret", NULL});
    tu_exec x;
    tu_exec_start(&x, (const char *const[]){"agent", NULL}, (const char *const *)env);
    tu_env_free(env);
    free(wait_agent_row(&srv, &x, host, 30));
    int rc = stop_agent(&x, SIGTERM);
    ck_assert_msg(rc == 0, "status %d after SIGTERM: %s", rc, x.proc.err);
    assert_log_lines(x.proc.err, "TRC|DBG|INF|WRN|ERR");
    ck_assert_contains(x.proc.err, " DBG "); /* tu_wps_agent_env asks for debug */
    tu_exec_free(&x);

    /* a wrong file over the right variable: the server refuses it */
    write_here("secret", "wrong-secret\n");
    agent_host(host, sizeof host);
    snprintf(hostvar, sizeof hostvar, "WOODPECKER_HOSTNAME=%s", host);
    env = tu_wps_agent_env(&srv, NULL, (const char *const[]){hostvar, filevar, NULL});
    tu_exec_run(&x, (const char *const[]){"agent", NULL}, (const char *const *)env, RUN_TIMEOUT_MS);
    tu_env_free(env);
    ck_assert_msg(x.status == 1, "status %d with a refused secret: %s", x.status, x.proc.err);
    ck_assert_contains(x.proc.err, "\nwpdock: agent: ");
    tu_exec_free(&x);

    /* --grpc-token over both */
    agent_host(host, sizeof host);
    snprintf(hostvar, sizeof hostvar, "WOODPECKER_HOSTNAME=%s", host);
    env = tu_wps_agent_env(
        &srv, NULL,
        (const char *const[]){hostvar, filevar, "WOODPECKER_AGENT_SECRET=wrong-secret", NULL});
    tu_exec_start(&x, (const char *const[]){"agent", "--grpc-token", srv.secret, NULL},
                  (const char *const *)env);
    tu_env_free(env);
    free(wait_agent_row(&srv, &x, host, 30));
    rc = stop_agent(&x, SIGINT);
    ck_assert_msg(rc == 0, "status %d after SIGINT: %s", rc, x.proc.err);
    tu_exec_free(&x);
    tu_wps_stop(&srv);
}
END_TEST

/* What the agent registers as comes from the options: name, capacity
 * (,max=N over --max-workflows), custom labels; an unreachable engine
 * among several is skipped; the log honours its level and file; the
 * health endpoint answers `wpdock agent ping`. */
START_TEST(test_registers_as_configured)
{
    tu_wps srv;
    tu_wps_start(&srv, NULL);
    char host[64], hostvar[96], eng[512], logvar[512];
    agent_host(host, sizeof host);
    snprintf(hostvar, sizeof hostvar, "WOODPECKER_HOSTNAME=%s", host);
    snprintf(eng, sizeof eng, "near=%s,max=3", tu_engine_host());
    snprintf(logvar, sizeof logvar, "WOODPECKER_LOG_FILE=%s/agent.log", work_dir);
    int hport;
    close(listen_any(&hport));
    char haddr[64];
    snprintf(haddr, sizeof haddr, "127.0.0.1:%d", hport);
    char **env = tu_wps_agent_env(
        &srv, NULL,
        (const char *const[]){hostvar, logvar, "WOODPECKER_MAX_WORKFLOWS=2",
                              "WOODPECKER_AGENT_LABELS=team=ci,size=big", "WPDOCK_ENGINES=", NULL});
    tu_exec x;
    tu_exec_start(&x,
                  (const char *const[]){"agent", "--engine", eng, "--engine", "far=" NO_SOCK_URI,
                                        "--labels", "team=cli", "--labels", "!gpu=yes",
                                        "--log-level", "info", "--healthcheck",
                                        "--healthcheck-addr", haddr, NULL},
                  (const char *const *)env);
    tu_env_free(env);
    char *row = wait_agent_row(&srv, &x, host, 30);
    char *cap = tu_json_str(row, "capacity");
    char *team = tu_json_str(row, "custom_labels.team");
    char *gpu = tu_json_str(row, "custom_labels.!gpu");
    char *size = tu_json_str(row, "custom_labels.size");
    char *backend = tu_json_str(row, "backend");
    ck_assert_msg(cap && strcmp(cap, "3") == 0, "capacity %s: %s", cap, row);
    ck_assert_msg(team && strcmp(team, "cli") == 0, "labels: %s",
                  row); /* flags over the variable */
    ck_assert_msg(gpu && strcmp(gpu, "yes") == 0, "labels: %s", row);
    ck_assert_msg(!size, "the variable's labels were used too: %s", row);
    ck_assert_msg(backend && strcmp(backend, "docker") == 0, "backend: %s", row);
    free(cap);
    free(team);
    free(gpu);
    free(size);
    free(backend);
    free(row);
    ck_assert_contains(x.proc.err, "wpdock: warning: engine far is unreachable and is skipped");

    /* its health endpoint, through `wpdock agent ping` */
    int ping_rc = -1;
    for (int i = 0; i < 100 && ping_rc != 0; i++) {
        tu_exec p;
        agent_run(&p, (const char *const[]){"ping", "--healthcheck-addr", haddr, NULL}, base_env);
        ping_rc = p.status;
        tu_exec_free(&p);
        if (ping_rc != 0)
            usleep(200000);
    }
    ck_assert_msg(ping_rc == 0, "`wpdock agent ping` of the running agent: status %d", ping_rc);

    int rc = stop_agent(&x, SIGTERM);
    ck_assert_msg(rc == 0, "status %d after SIGTERM: %s", rc, x.proc.err);
    /* the log went to the file, at info and above; stderr has only the
     * command's own messages */
    char *log = tu_read_file("agent.log", NULL);
    ck_assert_ptr_nonnull(log);
    assert_log_lines(log, "INF|WRN|ERR");
    ck_assert_contains(log, " INF ");
    ck_assert_msg(strstr(x.proc.err, " INF ") == NULL, "log lines on stderr: %s", x.proc.err);
    free(log);
    tu_exec_free(&x);

    /* none of the engines reachable: status 3, the engine's error */
    agent_host(host, sizeof host);
    env = tu_wps_agent_env(&srv, NULL, (const char *const[]){"WPDOCK_ENGINES=", NULL});
    tu_exec_run(&x,
                (const char *const[]){"agent", "--engine", "a=" NO_SOCK_URI, "--engine",
                                      "b=" NO_SOCK_URI "2", NULL},
                (const char *const *)env, RUN_TIMEOUT_MS);
    tu_env_free(env);
    ck_assert_msg(x.status == 3, "status %d: %s", x.status, x.proc.err);
    ck_assert_contains(x.proc.err, NO_SOCK "2");
    ck_assert_msg(strstr(x.proc.err, "is skipped") == NULL, "%s", x.proc.err);
    tu_exec_free(&x);
    tu_wps_stop(&srv);
}
END_TEST

/* --log-level error keeps the info and warning lines out; disabled, all. */
START_TEST(test_log_level)
{
    /* a server address nothing answers, one attempt: warnings, then the error */
    int port;
    close(listen_any(&port));
    char server[96];
    snprintf(server, sizeof server, "WOODPECKER_SERVER=127.0.0.1:%d", port);
    const char *levels[] = {"error", "disabled", "info"};
    for (size_t i = 0; i < 3; i++) {
        char lv[64];
        snprintf(lv, sizeof lv, "WOODPECKER_LOG_LEVEL=%s", levels[i]);
        tu_exec x;
        agent_run(&x, NULL,
                  (const char *const[]){
                      server, lv, "WOODPECKER_AGENT_SECRET=s", "WOODPECKER_CONNECT_RETRY_COUNT=1",
                      "WOODPECKER_HEALTHCHECK=false", "WOODPECKER_AGENT_CONFIG_FILE=", NULL});
        ck_assert_msg(x.status == 1, "%s: status %d: %s", levels[i], x.status, x.proc.err);
        ck_assert_contains(x.proc.err, "wpdock: agent: ");
        bool inf = strstr(x.proc.err, "Z INF ") != NULL, err = strstr(x.proc.err, "Z ERR ") != NULL;
        if (i == 0)
            ck_assert_msg(!inf && err, "level error: %s", x.proc.err);
        else if (i == 1)
            ck_assert_msg(!inf && !err, "level disabled: %s", x.proc.err);
        else
            ck_assert_msg(inf && err, "level info: %s", x.proc.err);
        tu_exec_free(&x);
    }
}
END_TEST

static Suite *agent_cli_suite(void)
{
    Suite *s = suite_create("agent-cli");
    TCase *tc = tcase_create("cli");
    tcase_set_timeout(tc, 300);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_help);
    tcase_add_loop_test(tc, test_bad_value, 0, (int)(sizeof bad_cases / sizeof bad_cases[0]));
    tcase_add_test(tc, test_bad_engines_and_secret);
    tcase_add_test(tc, test_valid_values_accepted);
    tcase_add_test(tc, test_flag_overrides_variable);
    tcase_add_test(tc, test_deprecated_names_warn);
    tcase_add_test(tc, test_dotenv_loaded);
    tcase_add_test(tc, test_dotenv_malformed);
    tcase_add_test(tc, test_ping_closed_port);
    tcase_add_test(tc, test_ping_healthy_and_not);
    tcase_add_test(tc, test_secret_file_wins);
    tcase_add_test(tc, test_registers_as_configured);
    tcase_add_test(tc, test_log_level);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(agent_cli_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
