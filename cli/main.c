/* main.c - `wpdock` entry point: global options and command dispatch. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <wpdock/transport.h>

#include "cli.h"
#include "printable.h"

static const cli_command commands[] = {
    {"exec", "run workflow files (Woodpecker backend Config JSON)", cmd_exec, help_exec},
    {"info", "show the engine wpdock would use and how it talks to it", cmd_info, help_info},
    {"plugins", "list transport plugins found, and any refused", cmd_plugins, help_plugins},
    {"cleanup", "remove containers, networks and volumes that runs left behind", cmd_cleanup,
     help_cleanup},
    {"agent", "run as a Woodpecker agent (woodpecker-agent with the docker backend)", cmd_agent,
     help_agent},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

/* "wpdock: " + prefix + the message, escaped, + newline on stderr. */
static void report(const char *prefix, const char *fmt, va_list ap)
{
    fputs("wpdock: ", stderr);
    fputs(prefix, stderr);
    vfprintf_printable(stderr, fmt, ap);
    fputc('\n', stderr);
}

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report("", fmt, ap);
    va_end(ap);
}

void cli_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report("warning: ", fmt, ap);
    va_end(ap);
}

int cli_exit_for(const wpd_error *err)
{
    switch (err->kind) {
    case WPD_OK: return WPD_EXIT_OK;
    case WPD_ERR_USAGE:
    case WPD_ERR_INPUT: return WPD_EXIT_USAGE;
    case WPD_ERR_CONNECT:
    case WPD_ERR_ENGINE:
    case WPD_ERR_PROTOCOL:
    case WPD_ERR_PLUGIN:
    case WPD_ERR_TIMEOUT: return WPD_EXIT_ENGINE;
    default: return WPD_EXIT_FAILED;
    }
}

int cli_is_help(const char *arg)
{
    return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}

static void usage(FILE *out)
{
    fputs("usage: wpdock [--version] [--help] COMMAND [ARGS...]\n"
          "\n"
          "Run Woodpecker CI workflows, one container per step, on Docker or Podman.\n"
          "\n"
          "Commands:\n",
          out);
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fputs("\n"
          "Run `wpdock COMMAND --help` for a command's options.\n"
          "\n"
          "Engine selection (all commands):\n"
          "  WOODPECKER_BACKEND_DOCKER_HOST, DOCKER_HOST   endpoint URI "
          "(default unix:///var/run/docker.sock)\n"
          "  WOODPECKER_BACKEND_DOCKER_API_VERSION, DOCKER_API_VERSION   pin the API version\n"
          "  WPDOCK_PLUGIN_PATH   extra transport plugin directories (colon-separated)\n"
          "\n"
          "Exit status: 0 success, 1 a workflow failed, 2 bad usage or input,\n"
          "3 engine unreachable or setup failed, 130/143 interrupted by SIGINT/SIGTERM.\n",
          out);
}

/* Every step holds a few connections: take the descriptors the hard limit
 * allows, as Go programs (dockerd, the Woodpecker agent) do at start. */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

int main(int argc, char **argv)
{
    raise_fd_limit();
    if (argc < 2) {
        usage(stderr);
        return WPD_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (cli_is_help(cmd) || strcmp(cmd, "help") == 0) {
        if (argc > 2 && strcmp(cmd, "help") == 0) {
            for (size_t i = 0; i < N_COMMANDS; i++)
                if (strcmp(commands[i].name, argv[2]) == 0) {
                    commands[i].help(stdout);
                    return WPD_EXIT_OK;
                }
        }
        usage(stdout);
        return WPD_EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("wpdock %s (transport plugin ABI %d.%d)\n", WPDOCK_VERSION, WPD_TRANSPORT_ABI_MAJOR,
               WPD_TRANSPORT_ABI_MINOR);
        return WPD_EXIT_OK;
    }
    for (size_t i = 0; i < N_COMMANDS; i++) {
        if (strcmp(commands[i].name, cmd) == 0) {
            for (int k = 2; k < argc; k++) {
                if (strcmp(argv[k], "--") == 0)
                    break;
                if (cli_is_help(argv[k])) {
                    commands[i].help(stdout);
                    return WPD_EXIT_OK;
                }
            }
            return commands[i].run(argc - 1, argv + 1);
        }
    }
    cli_error("unknown command \"%s\" (see `wpdock --help`)", cmd);
    return WPD_EXIT_USAGE;
}
