/* exec.c - `wpdock exec`: load workflow files, connect to the engine, run
 * every workflow on the reactor, render events, handle SIGINT/SIGTERM and
 * turn the outcome into the public exit status. */
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wpdock/engine.h>
#include <wpdock/runtime.h>

#include "cli.h"
#include "engines.h"
#include "output.h"
#include "printable.h"
#include "settings_opts.h"

void help_exec(FILE *out)
{
    fputs("usage: wpdock exec [OPTIONS] FILE.json...\n"
          "\n"
          "Run each FILE (Woodpecker backend Config JSON; \"-\" reads stdin) with the\n"
          "Woodpecker docker backend's semantics: stages in order, the steps of a stage\n"
          "concurrently, one container per step. All files run at the same time.\n"
          "\n"
          "Output:\n"
          "      --log-format FMT      text (default): `[step] line`, `[step:stderr] line`,\n"
          "                            step start/result lines and a summary table;\n"
          "                            json: one JSON event object per line on stdout\n"
          "      --color WHEN          auto (default), always or never\n"
          "      (text mode shows control characters and escape sequences in names,\n"
          "      messages and log lines as \\n, \\xNN or \\uNNNN; log lines keep their colours)\n"
          "\n"
          "Engine:\n"
          "  -H, --host URI            engine endpoint        (WOODPECKER_BACKEND_DOCKER_HOST, "
          "DOCKER_HOST)\n"
          "      --api-version V       pin the API version    (..._API_VERSION, "
          "DOCKER_API_VERSION)\n"
          "      --engine NAME=URI     use several engines (repeatable; or WPDOCK_ENGINES=\n"
          "                            \"docker=unix:///var/run/docker.sock,podman=podman://\");\n"
          "                            each workflow runs entirely on one of them: the least\n"
          "                            busy reachable one, unreachable engines are skipped\n"
          "      --place FILE=NAME     run FILE on engine NAME\n"
          "\n",
          out);
    cli_help_settings(out);
    fputs(
        "\n"
        "JSON events (--log-format json; every event also carries \"engine\":NAME):\n"
        "  {\"event\":\"workflow\",\"workflow\":W,\"workflow_id\":ID,\"status\":\"started\"|\n"
        "   \"success\"|\"failure\"|\"canceled\"|\"error\",\"error\":MSG?}  (ID: what\n"
        "   `wpdock cleanup --workflow ID` takes if this run is killed)\n"
        "  {\"event\":\"step\",\"workflow\":W,\"step\":NAME,\"uuid\":U,\"status\":\"started\"|"
        "\"success\"|\"failure\"|\"skipped\"|\"canceled\"|\"error\",\"exit_code\":N?,\n"
        "   \"oom_killed\":B?,\"started\":UNIX?,\"finished\":UNIX?,\"error\":MSG?}\n"
        "  {\"event\":\"log\",\"workflow\":W,\"step\":NAME,\"stream\":\"stdout\"|\"stderr\","
        "\"line\":TEXT}\n"
        "  {\"event\":\"pull\",\"workflow\":W,\"step\":NAME,\"image\":I,\"layer\":ID,\"status\":S,"
        "\"current\":N?,\"total\":N?}\n"
        "\n"
        "Exit status: 0 all workflows succeeded; 1 a workflow failed; 2 bad usage or\n"
        "invalid input (nothing was created on the engine); 3 engine unreachable or\n"
        "workflow setup failed; 130/143 interrupted by SIGINT/SIGTERM (a second signal\n"
        "skips the stop grace period; containers, volumes and networks are still removed;\n"
        "a third ends wpdock at once, listing what may be left and the\n"
        "`wpdock cleanup --workflow ID` to run).\n",
        out);
}

struct exec_state {
    output out;
    wpd_run **runs;
    size_t n_runs;
    size_t n_done;
    bool all_done;
    int first_signal;
    int signals;
};

static void on_event(const wpd_event *ev, void *arg)
{
    struct exec_state *st = arg;
    output_event(&st->out, ev);
}

static void on_run_done(wpd_run *run, void *arg)
{
    (void)run;
    struct exec_state *st = arg;
    if (++st->n_done == st->n_runs)
        st->all_done = true;
}

static void on_signal(int signo, void *arg)
{
    struct exec_state *st = arg;
    if (!st->first_signal)
        st->first_signal = signo;
    st->signals++;
    bool hurry = st->signals > 1;
    const char *how = signo == SIGINT ? "interrupted" : "terminated";
    if (st->signals == 1)
        fprintf(stderr,
                "wpdock: %s: canceling; stopping and removing containers (again to skip the "
                "stop grace period)\n",
                how);
    else if (st->signals == 2)
        fprintf(stderr,
                "wpdock: %s again: killing containers now, then removing everything (a third "
                "time gives up waiting for the engine)\n",
                how);
    else
        fprintf(stderr,
                "wpdock: %s a third time: giving up on the teardown; what may be left is "
                "listed below\n",
                how);
    for (size_t i = 0; i < st->n_runs; i++)
        wpd_run_cancel(st->runs[i], hurry);
}

/* s escaped, then spaces up to `width` columns. */
static void put_cell(FILE *o, const char *s, size_t width)
{
    fputs_printable(s, o);
    for (size_t w = printable_width(s); w < width; w++)
        putc(' ', o);
}

static void print_summary(struct exec_state *st, wpd_workflow **wfs)
{
    FILE *o = st->out.out;
    size_t wl = strlen("WORKFLOW"), sl = strlen("(workflow)");
    for (size_t w = 0; w < st->n_runs; w++) {
        size_t l = printable_width(wpd_workflow_label(wfs[w]));
        wl = l > wl ? l : wl;
        for (size_t i = 0; i < wpd_run_step_count(st->runs[w]); i++) {
            wpd_step_summary s;
            wpd_run_step_summary(st->runs[w], i, &s);
            l = printable_width(s.name);
            sl = l > sl ? l : sl;
        }
    }
    fprintf(o, "\n%-*s  %-*s  %-9s %-5s %s\n", (int)wl, "WORKFLOW", (int)sl, "STEP", "STATUS",
            "EXIT", "DURATION");
    for (size_t w = 0; w < st->n_runs; w++) {
        const char *label = wpd_workflow_label(wfs[w]);
        size_t n = wpd_run_step_count(st->runs[w]);
        for (size_t i = 0; i < n; i++) {
            wpd_step_summary s;
            wpd_run_step_summary(st->runs[w], i, &s);
            char exitbuf[16] = "-", dur[32] = "-";
            if (s.has_exit_code)
                snprintf(exitbuf, sizeof exitbuf, "%d", s.exit_code);
            if (s.duration > 0)
                snprintf(dur, sizeof dur, "%.1fs", s.duration);
            put_cell(o, label, wl + 2);
            put_cell(o, s.name, sl + 2);
            fprintf(o, "%-9s %-5s %s%s\n", s.status, exitbuf, dur, s.detached ? " (detached)" : "");
        }
        put_cell(o, label, wl + 2);
        put_cell(o, "(workflow)", sl + 2);
        fprintf(o, "%s\n", wpd_run_status_name(wpd_run_get_status(st->runs[w])));
    }
}

enum {
    OPT_LOG_FORMAT = 1000,
    OPT_COLOR,
    OPT_SETTING,
    OPT_ENGINE,
    OPT_PLACE,
};

/* The command line of `wpdock exec`; every list holds at most argc items,
 * in command-line order. */
typedef struct exec_args {
    const char *host;
    bool json;
    int color;                          /* -1 auto, 0 never, 1 always */
    const char **set_name, **set_value; /* setting flags; later ones win */
    size_t n_set;
    char **engine_specs;
    size_t n_engine_specs;
    char **places;
    size_t n_places;
    int first_file, n_files; /* argv[first_file...] */
} exec_args;

static void exec_args_free(exec_args *a)
{
    free(a->set_name);
    free(a->set_value);
    free(a->engine_specs);
    free(a->places);
}

/* WPD_EXIT_OK, or WPD_EXIT_USAGE after printing what was wrong. */
static int parse_exec_args(int argc, char **argv, exec_args *a)
{
    struct option opts[6 + CLI_N_SETTING_FLAGS];
    size_t no = 0;
    opts[no++] = (struct option){"log-format", required_argument, 0, OPT_LOG_FORMAT};
    opts[no++] = (struct option){"color", required_argument, 0, OPT_COLOR};
    opts[no++] = (struct option){"host", required_argument, 0, 'H'};
    opts[no++] = (struct option){"engine", required_argument, 0, OPT_ENGINE};
    opts[no++] = (struct option){"place", required_argument, 0, OPT_PLACE};
    no = cli_setting_options(opts, no, OPT_SETTING);
    opts[no] = (struct option){0, 0, 0, 0};

    memset(a, 0, sizeof *a);
    a->color = -1;
    size_t n = (size_t)argc + 1;
    a->set_name = calloc(n, sizeof *a->set_name);
    a->set_value = calloc(n, sizeof *a->set_value);
    a->engine_specs = calloc(n, sizeof *a->engine_specs);
    a->places = calloc(n, sizeof *a->places);
    int c, idx = 0;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:H:", opts, &idx)) != -1) {
        switch (c) {
        case 'H': a->host = optarg; break;
        case OPT_LOG_FORMAT:
            if (strcmp(optarg, "json") == 0)
                a->json = true;
            else if (strcmp(optarg, "text") == 0)
                a->json = false;
            else {
                cli_error("exec: --log-format must be text or json, not \"%s\"", optarg);
                return WPD_EXIT_USAGE;
            }
            break;
        case OPT_COLOR:
            if (strcmp(optarg, "always") == 0)
                a->color = 1;
            else if (strcmp(optarg, "never") == 0)
                a->color = 0;
            else if (strcmp(optarg, "auto") == 0)
                a->color = -1;
            else {
                cli_error("exec: --color must be auto, always or never, not \"%s\"", optarg);
                return WPD_EXIT_USAGE;
            }
            break;
        case OPT_ENGINE: a->engine_specs[a->n_engine_specs++] = optarg; break;
        case OPT_PLACE: a->places[a->n_places++] = optarg; break;
        case OPT_SETTING:
            a->set_name[a->n_set] = opts[idx].name;
            a->set_value[a->n_set++] = optarg;
            break;
        case ':':
            cli_error("exec: option \"%s\" needs a value", argv[optind - 1]);
            return WPD_EXIT_USAGE;
        default:
            cli_error("exec: unknown option \"%s\" (see `wpdock exec --help`)", argv[optind - 1]);
            return WPD_EXIT_USAGE;
        }
    }
    a->first_file = optind;
    a->n_files = argc - optind;
    if (a->n_files <= 0) {
        cli_error("exec: no workflow file given (usage: wpdock exec [OPTIONS] FILE.json...)");
        return WPD_EXIT_USAGE;
    }
    return WPD_EXIT_OK;
}

int cmd_exec(int argc, char **argv)
{
    exec_args args;
    if (parse_exec_args(argc, argv, &args) != WPD_EXIT_OK) {
        exec_args_free(&args);
        return WPD_EXIT_USAGE;
    }
    const bool json = args.json;
    const int n_files = args.n_files;

    /* 1. everything that can be checked without the engine */
    wpd_error err;
    wpd_error_clear(&err);
    int rc = WPD_EXIT_OK;
    int stdin_uses = 0;
    wpd_workflow **wfs = calloc((size_t)n_files, sizeof *wfs);
    wpd_settings *settings = NULL;
    wpd_reactor *r = NULL;
    cli_engines es = {0};
    cli_engine **placed = calloc((size_t)n_files, sizeof *placed);
    struct exec_state st = {0};
    wpd_signal *sigint = NULL, *sigterm = NULL;

    for (int i = 0; i < n_files; i++) {
        const char *path = argv[args.first_file + i];
        if (strcmp(path, "-") == 0 && ++stdin_uses > 1) {
            cli_error("exec: \"-\" (stdin) can be given only once");
            rc = WPD_EXIT_USAGE;
            goto out;
        }
        wfs[i] = wpd_workflow_load(path, &err);
        if (!wfs[i]) {
            cli_error("%s", err.message);
            rc = WPD_EXIT_USAGE;
            goto out;
        }
        for (size_t k = 0; k < wpd_workflow_warning_count(wfs[i]); k++)
            cli_warn("%s", wpd_workflow_warning(wfs[i], k));
    }
    settings = cli_settings_build("exec", args.set_name, args.set_value, args.n_set);
    if (!settings) {
        rc = WPD_EXIT_USAGE;
        goto out;
    }

    /* 2. engines and placement */
    if (cli_engines_init(&es, args.engine_specs, args.n_engine_specs, args.host, &err) != 0) {
        cli_error("exec: %s", err.message);
        rc = WPD_EXIT_USAGE;
        goto out;
    }
    for (size_t i = 0; i < args.n_places; i++) {
        char *eq = strrchr(args.places[i], '=');
        if (!eq || eq == args.places[i] || !eq[1]) {
            cli_error("exec: --place \"%s\" is not FILE=ENGINE", args.places[i]);
            rc = WPD_EXIT_USAGE;
            goto out;
        }
        *eq = '\0';
        cli_engine *ce = cli_engines_find(&es, eq + 1);
        int file = -1;
        for (int k = 0; k < n_files; k++)
            if (strcmp(argv[args.first_file + k], args.places[i]) == 0)
                file = k;
        if (!ce || file < 0) {
            cli_error("exec: --place %s=%s: %s", args.places[i], eq + 1,
                      !ce ? "no engine of that name (see --engine)"
                          : "no such workflow file given");
            rc = WPD_EXIT_USAGE;
            goto out;
        }
        placed[file] = ce;
    }
    r = wpd_reactor_new(&err);
    if (!r) {
        cli_error("%s", err.message);
        rc = WPD_EXIT_FAILED;
        goto out;
    }
    rc = cli_engines_report(&es, cli_engines_connect(&es, r));
    if (rc != WPD_EXIT_OK)
        goto out;
    for (int i = 0; i < n_files; i++) {
        if (placed[i]) {
            if (!placed[i]->up) {
                cli_error("exec: %s is placed on engine %s, which is unreachable",
                          argv[args.first_file + i], placed[i]->name);
                rc = WPD_EXIT_ENGINE;
                goto out;
            }
        } else {
            /* least busy healthy engine, first listed on a tie */
            for (size_t k = 0; k < es.n; k++)
                if (es.v[k].up && (!placed[i] || es.v[k].load < placed[i]->load))
                    placed[i] = &es.v[k];
        }
        placed[i]->load++;
    }

    /* 3. run everything on the loop */
    st.out.out = stdout;
    st.out.json = json;
    st.out.color = !json && (args.color == 1 || (args.color == -1 && isatty(STDOUT_FILENO)));
    st.out.multi = n_files > 1;
    st.out.live = !json && isatty(STDOUT_FILENO);
    output_attach(&st.out, r);
    st.n_runs = (size_t)n_files;
    st.runs = calloc(st.n_runs, sizeof *st.runs);
    st.out.show_engine = true;
    for (size_t i = 0; i < st.n_runs; i++)
        st.runs[i] = wpd_run_new(placed[i]->engine, settings, wfs[i], on_event, &st);
    sigint = wpd_signal_new(r, SIGINT, on_signal, &st);
    sigterm = wpd_signal_new(r, SIGTERM, on_signal, &st);
    /* a reader that goes away (`wpdock exec ... | head`) must not kill us
     * before the containers, network and volume are removed: writes to it
     * just fail from then on */
    signal(SIGPIPE, SIG_IGN);
    for (size_t i = 0; i < st.n_runs; i++)
        wpd_run_start(st.runs[i], on_run_done, &st);
    if (wpd_reactor_run_until(r, &st.all_done) != 0 && !st.all_done) {
        cli_error("exec: the event loop stopped before every workflow finished");
        rc = WPD_EXIT_FAILED;
        goto out;
    }
    if (!json)
        print_summary(&st, wfs);
    fflush(stdout);

    bool any_error = false, any_failure = false;
    for (size_t i = 0; i < st.n_runs; i++) {
        wpd_run_status s = wpd_run_get_status(st.runs[i]);
        if (s == WPD_RUN_ERROR)
            any_error = true;
        else if (s != WPD_RUN_SUCCESS)
            any_failure = true;
    }
    if (st.first_signal)
        rc = st.first_signal == SIGINT ? WPD_EXIT_SIGINT : WPD_EXIT_SIGTERM;
    else if (any_error)
        rc = WPD_EXIT_ENGINE;
    else if (any_failure)
        rc = WPD_EXIT_FAILED;

out:
    wpd_signal_free(sigint);
    wpd_signal_free(sigterm);
    for (size_t i = 0; i < st.n_runs; i++)
        wpd_run_free(st.runs[i]);
    free(st.runs);
    output_free(&st.out);
    cli_engines_free(&es);
    free(placed);
    wpd_reactor_free(r);
    wpd_settings_destroy(settings);
    for (int i = 0; i < n_files; i++)
        wpd_workflow_free(wfs[i]);
    free(wfs);
    exec_args_free(&args);
    return rc;
}
