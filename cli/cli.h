/* cli.h - shared declarations of the wpdock command-line front end. */
#ifndef WPDOCK_CLI_H
#define WPDOCK_CLI_H

#include <stdio.h>
#include <wpdock/error.h>

/* Exit codes (public: scripts depend on them). */
enum {
    WPD_EXIT_OK = 0,
    WPD_EXIT_FAILED = 1, /* a workflow failed */
    WPD_EXIT_USAGE = 2,  /* bad usage or invalid input; nothing created */
    WPD_EXIT_ENGINE = 3, /* engine unreachable or workflow setup failed */
    WPD_EXIT_SIGINT = 130,
    WPD_EXIT_SIGTERM = 143
};

typedef struct cli_command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
    void (*help)(FILE *out);
} cli_command;

int cmd_info(int argc, char **argv);
void help_info(FILE *out);
int cmd_plugins(int argc, char **argv);
void help_plugins(FILE *out);
int cmd_exec(int argc, char **argv);
void help_exec(FILE *out);
int cmd_cleanup(int argc, char **argv);
void help_cleanup(FILE *out);
int cmd_agent(int argc, char **argv);
void help_agent(FILE *out);
void help_exec(FILE *out);

/* "wpdock: " + message on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Exit code for an error kind. */
int cli_exit_for(const wpd_error *err);
/* True when argv[i] is -h or --help. */
int cli_is_help(const char *arg);

#endif
