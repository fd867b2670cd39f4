/* plugins_cmd.c - `wpdock plugins`: the transport plugins found on the
 * search path, their ABI and schemes, and why any file was refused. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <wpdock/plugins.h>

#include "cli.h"

void help_plugins(FILE *out)
{
    fputs("usage: wpdock plugins\n"
          "\n"
          "List every transport plugin found (name, version, URI schemes, plugin ABI,\n"
          "file) and every file that was refused, with the reason.\n"
          "\n"
          "Search order: $WPDOCK_PLUGIN_PATH (colon-separated), the install plugin\n"
          "directory, then the build tree's transports/ directory.\n"
          "Exit status 0 when at least one plugin loaded, 1 otherwise.\n",
          out);
}

int cmd_plugins(int argc, char **argv)
{
    if (argc > 1) {
        cli_error("plugins: unexpected argument \"%s\"", argv[1]);
        return WPD_EXIT_USAGE;
    }
    wpd_plugin_registry *reg = wpd_plugins_load(NULL);
    size_t n = wpd_plugins_count(reg);
    printf("%-10s %-9s %-5s %-16s %s\n", "NAME", "VERSION", "ABI", "SCHEMES", "FILE");
    for (size_t i = 0; i < n; i++) {
        const wpd_plugin_info *pi = wpd_plugins_get(reg, i);
        const wpd_transport_plugin *p = pi->plugin;
        char schemes[128] = "";
        for (size_t k = 0; p->schemes[k]; k++) {
            size_t l = strlen(schemes);
            snprintf(schemes + l, sizeof schemes - l, "%s%s", k ? "," : "", p->schemes[k]);
        }
        char abi[16];
        snprintf(abi, sizeof abi, "%u.%u", p->abi_major, p->abi_minor);
        printf("%-10s %-9s %-5s %-16s %s\n", p->name, p->version, abi, schemes, pi->path);
    }
    size_t nr = wpd_plugins_refused_count(reg);
    if (nr) {
        printf("\nrefused:\n");
        for (size_t i = 0; i < nr; i++) {
            const wpd_plugin_refusal *r = wpd_plugins_refused(reg, i);
            printf("  %s: %s\n", r->path, r->reason);
        }
    }
    printf("\nsearched:\n");
    for (size_t i = 0; i < wpd_plugins_dir_count(reg); i++) {
        const char *d = wpd_plugins_dir(reg, i);
        struct stat st;
        printf("  %s%s\n", d, stat(d, &st) == 0 ? "" : " (does not exist)");
    }
    wpd_plugins_free(reg);
    if (!n) {
        cli_error("no transport plugin found; set WPDOCK_PLUGIN_PATH to the directory "
                  "holding wpdock-unix.so");
        return WPD_EXIT_FAILED;
    }
    return WPD_EXIT_OK;
}
