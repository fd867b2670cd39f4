/* cleanup_cmd.c - `wpdock cleanup`: remove leftover step containers and
 * workflow networks and volumes from every engine. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <wpdock/cleanup.h>
#include <wpdock/harness.h>

#include "cli.h"
#include "printable.h"
#include "engines.h"

void help_cleanup(FILE *out)
{
    fputs("usage: wpdock cleanup [-H URI | --engine NAME=URI...] [--workflow ID] [--dry-run]\n"
          "       wpdock cleanup --harness [--session ID] [-H URI | --engine NAME=URI...] "
          "[--dry-run]\n"
          "\n"
          "Remove what interrupted or lost runs left on the engine(s): containers\n"
          "labelled wp_uuid (forcibly, with their anonymous volumes) and networks and\n"
          "volumes labelled wp_workflow. Without --workflow, do not run it while\n"
          "workflows are running on those engines: their containers carry the same\n"
          "labels (so do a Woodpecker agent's on the same engine).\n"
          "\n"
          "  --workflow ID  only that workflow's network and volume (label\n"
          "                 wp_workflow=ID, the id `wpdock exec` names when it could\n"
          "                 not clean up) and the step containers attached to them\n"
          "  --harness      instead, what test-harness sessions (wpdock/harness.h)\n"
          "                 left: resources labelled io.wpdock.session whose owner\n"
          "                 process is gone or whose io.wpdock.expires passed (a live\n"
          "                 session's are never touched)\n"
          "  --session ID   with --harness: everything of that session\n"
          "  --dry-run      only list what would be removed\n"
          "\n"
          "Exit status 0 when everything found was removed (or --dry-run), 1 when\n"
          "something could not be removed, 3 when an engine is unreachable.\n",
          out);
}

struct tally {
    const char *engine;
    bool dry;
    size_t failed;
};

static void on_leftover(const wpd_leftover *lo, void *arg)
{
    struct tally *t = arg;
    const char *verb = t->dry ? "would remove" : lo->removed ? "removed" : "could not remove";
    if (!t->dry && !lo->removed)
        t->failed++;
    /* names and messages come from the engine: escaped (printable.h) */
    fputs_printable(t->engine, stdout);
    printf(": %s %s ", verb, lo->kind);
    fputs_printable(lo->name, stdout);
    if (!t->dry && !lo->removed) {
        fputs(": ", stdout);
        fputs_printable(lo->error, stdout);
    }
    putchar('\n');
}

int cmd_cleanup(int argc, char **argv)
{
    const char *host = NULL;
    bool dry = false;
    const char *workflow = NULL;
    bool harness = false;
    const char *session = NULL;
    char *specs[64];
    size_t n_specs = 0;
    static const struct option opts[] = {{"host", required_argument, 0, 'H'},
                                         {"engine", required_argument, 0, 'e'},
                                         {"dry-run", no_argument, 0, 'n'},
                                         {"workflow", required_argument, 0, 'w'},
                                         {"harness", no_argument, 0, 'h'},
                                         {"session", required_argument, 0, 's'},
                                         {0, 0, 0, 0}};
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:H:", opts, NULL)) != -1) {
        switch (c) {
        case 'H': host = optarg; break;
        case 'e':
            if (n_specs == 64) {
                cli_error("cleanup: too many --engine options (at most 64)");
                return WPD_EXIT_USAGE;
            }
            specs[n_specs++] = optarg;
            break;
        case 'n': dry = true; break;
        case 'w': workflow = optarg; break;
        case 'h': harness = true; break;
        case 's': session = optarg; break;
        case ':': cli_error("cleanup: option \"%s\" needs a value", argv[optind - 1]); return 2;
        default:
            cli_error("cleanup: unknown option \"%s\" (see `wpdock cleanup --help`)",
                      argv[optind - 1]);
            return WPD_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        cli_error("cleanup: unexpected argument \"%s\"", argv[optind]);
        return WPD_EXIT_USAGE;
    }
    if (session && !harness) {
        cli_error("cleanup: --session needs --harness");
        return WPD_EXIT_USAGE;
    }
    if (harness && workflow) {
        cli_error("cleanup: --workflow and --harness exclude each other");
        return WPD_EXIT_USAGE;
    }
    cli_engines es;
    wpd_reactor *r;
    int rc = cli_engines_open(&es, "cleanup", specs, n_specs, host, &r, NULL);
    if (rc != WPD_EXIT_OK)
        return rc;
    wpd_error err;
    for (size_t i = 0; i < es.n; i++) {
        cli_engine *ce = &es.v[i];
        if (!ce->up) {
            cli_error("%s", ce->err.message);
            rc = WPD_EXIT_ENGINE;
            continue;
        }
        struct tally t = {ce->name, dry, 0};
        size_t found = 0;
        int lrc = harness
                      ? wpd_harness_sweep(ce->engine, session, dry, on_leftover, &t, &found, &err)
                      : wpd_cleanup_sync(ce->engine, workflow, dry, on_leftover, &t, &found, &err);
        if (lrc != 0) {
            cli_error("%s: %s", ce->name, err.message);
            rc = WPD_EXIT_ENGINE;
            continue;
        }
        if (!found)
            printf("%s: nothing to clean up\n", ce->name);
        if (t.failed && rc == WPD_EXIT_OK)
            rc = WPD_EXIT_FAILED;
    }
    cli_engines_free(&es);
    wpd_reactor_free(r);
    return rc;
}
