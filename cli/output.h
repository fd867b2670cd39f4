/* output.h - rendering runtime events for `wpdock exec`: text for people
 * (optionally coloured), or one JSON object per line for programs. */
#ifndef WPDOCK_CLI_OUTPUT_H
#define WPDOCK_CLI_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>
#include <wpdock/reactor.h>
#include <wpdock/runtime.h>

typedef struct output {
    FILE *out;
    bool json;
    bool color;
    bool multi;                    /* more than one workflow: prefix step names with the file */
    bool show_engine;              /* include "engine" in JSON events */
    struct wpd_timer *flush_timer; /* flushes log lines once per loop turn */
    char **pull_state;             /* last pull status per "step/layer", text mode */
    size_t n_pull_state;
    bool live;        /* stdout is a terminal: pull lines update in place */
    char **live_keys; /* layers of the pull lines printed last, top to bottom */
    size_t n_live;
} output;

void output_event(output *o, const wpd_event *ev);
/* Flush log lines from the loop instead of after every line. */
void output_attach(output *o, wpd_reactor *r);
void output_free(output *o);
/* Append s as a JSON string literal; invalid UTF-8 becomes U+FFFD. */
void json_put_string(FILE *out, const char *s, size_t n);

#endif
