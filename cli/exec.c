/* exec.c - `wpdock exec`: run workflow files. */
#include <stdio.h>

#include "cli.h"

void help_exec(FILE *out)
{
    fputs("usage: wpdock exec [OPTIONS] FILE.json...\n", out);
}

int cmd_exec(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cli_error("exec: not built yet");
    return WPD_EXIT_FAILED;
}
