/* plugins_cmd.c - `wpdock plugins`: the transport plugins found on the
 * search path, their ABI and schemes, and why any file was refused; and
 * `wpdock plugins --check FILE [ENDPOINT]`, the conformance check of one
 * plugin file for its author. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <wpdock/engine.h>
#include <wpdock/plugins.h>
#include <wpdock/reactor.h>

#include "cli.h"
#include "printable.h"

void help_plugins(FILE *out)
{
    fputs("usage: wpdock plugins\n"
          "       wpdock plugins --check FILE.so [ENDPOINT]\n"
          "\n"
          "List every transport plugin found (name, version, URI schemes, plugin ABI,\n"
          "file) and every file or directory that was refused, with the reason.\n"
          "\n"
          "Search order: $WPDOCK_PLUGIN_PATH (colon-separated), the install plugin\n"
          "directory, then the build tree's transports/ directory. Only trusted places\n"
          "are used: a plugin file, the directory holding it and every searched\n"
          "directory must be owned by root or by you and not be writable by group or\n"
          "others (parent directories are not checked); the rest is refused.\n"
          "Exit status 0 when at least one plugin loaded, 1 otherwise.\n"
          "\n"
          "--check FILE.so [ENDPOINT]\n"
          "  The conformance check for plugin authors: loads exactly FILE.so (no search\n"
          "  path) and prints one line per item, \"ok\", \"FAILED\" (with the reason) or\n"
          "  \"skip\" (does not apply, or not checked because an earlier item failed):\n"
          "  the file and its trust (owner, mode, directory), the exported dynamic\n"
          "  symbols (exactly one, " WPD_TRANSPORT_ENTRY_SYMBOL "), dlopen with RTLD_NOW |\n"
          "  RTLD_LOCAL, the entry function, the descriptor's fields and ABI versions\n"
          "  against this wpdock's. With ENDPOINT also: its scheme is served, open()\n"
          "  accepts it (the connection setup is shown), headers(), connect() returns a\n"
          "  connected stream socket (ABI 1.1 plugins that set it), and /_ping answers\n"
          "  through the core's engine path with only this plugin loaded.\n"
          "  Exit status 0 when every item holds, 1 when one failed, 2 on bad usage.\n",
          out);
}

/* ---- `wpdock plugins` ---- */

static int list_plugins(void)
{
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

/* ---- `wpdock plugins --check` ---- */

struct tally {
    size_t items, failed;
};

/* One item line; what the plugin or the user supplied is escaped. */
static void print_item(void *arg, const char *item, wpd_check_status st, const char *detail)
{
    struct tally *t = arg;
    t->items++;
    const char *mark = st == WPD_CHECK_OK ? "ok" : st == WPD_CHECK_FAILED ? "FAILED" : "skip";
    if (st == WPD_CHECK_FAILED)
        t->failed++;
    printf("%-7s ", mark);
    fputs_printable(item, stdout);
    fputs(": ", stdout);
    fputs_printable(detail, stdout);
    putchar('\n');
}

static void itemf(struct tally *t, const char *item, wpd_check_status st, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void itemf(struct tally *t, const char *item, wpd_check_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    print_item(t, item, st, s ? s : "(out of memory)");
    free(s);
}

static const char *env_lookup(void *ctx, const char *name)
{
    (void)ctx;
    return getenv(name);
}

/* Whether the plugin serves the endpoint's scheme (case-insensitive, as
 * the core compares). */
static bool serves(const wpd_transport_plugin *p, const char *endpoint)
{
    const char *sep = strstr(endpoint, "://");
    if (!sep)
        return false;
    size_t sl = (size_t)(sep - endpoint);
    for (size_t i = 0; p->schemes[i]; i++)
        if (strlen(p->schemes[i]) == sl && strncasecmp(p->schemes[i], endpoint, sl) == 0)
            return true;
    return false;
}

static const char *or_none(const char *s)
{
    return s && *s ? s : "(none)";
}

/* The setup open() filled in; a problem the core would trip over goes to
 * *problem (static text). */
static void describe_setup(const wpd_conn_setup *s, char *out, size_t outlen, const char **problem)
{
    *problem = NULL;
    size_t bl = strnlen(s->base_url, sizeof s->base_url);
    if (bl == 0 || bl == sizeof s->base_url)
        *problem = "base_url is empty or not terminated (it is required)";
    else if (strncmp(s->base_url, "http://", 7) != 0 && strncmp(s->base_url, "https://", 8) != 0)
        *problem = "base_url does not start with http:// or https://";
    else if (s->base_url[bl - 1] == '/')
        *problem = "base_url ends with a slash (API paths are appended to it)";
    else if (strnlen(s->unix_path, sizeof s->unix_path) >=
             sizeof(((struct sockaddr_un *)0)->sun_path))
        *problem = "unix_path is longer than a unix socket address holds (107 bytes)";
    else if ((s->ca_file[0] || s->cert_file[0] || s->key_file[0]) &&
             strncmp(s->base_url, "https://", 8) != 0)
        *problem = "TLS files are set but base_url is not https://";
    snprintf(out, outlen,
             "base_url %.*s, unix_path %.*s, ca_file %.*s, cert_file %.*s, key_file %.*s, "
             "verify peer %s host %s, engine hint %.*s, warning: %.*s",
             (int)sizeof s->base_url, or_none(s->base_url), 200, or_none(s->unix_path), 200,
             or_none(s->ca_file), 200, or_none(s->cert_file), 200, or_none(s->key_file),
             s->tls_verify_peer ? "on" : "off", s->tls_verify_host ? "on" : "off",
             (int)sizeof s->engine_hint, or_none(s->engine_hint), (int)sizeof s->warning,
             or_none(s->warning));
}

static void describe_peer(int fd, char *out, size_t outlen)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    memset(&ss, 0, sizeof ss);
    if (getpeername(fd, (struct sockaddr *)&ss, &sl) != 0) {
        snprintf(out, outlen, "?");
        return;
    }
    char host[INET6_ADDRSTRLEN] = "?";
    if (ss.ss_family == AF_UNIX) {
        const struct sockaddr_un *su = (const struct sockaddr_un *)&ss;
        if (sl <= offsetof(struct sockaddr_un, sun_path))
            snprintf(out, outlen, "an unnamed unix socket");
        else if (su->sun_path[0] == '\0')
            snprintf(out, outlen, "abstract unix socket @%.*s",
                     (int)(sl - offsetof(struct sockaddr_un, sun_path) - 1), su->sun_path + 1);
        else
            snprintf(out, outlen, "unix socket %.*s", (int)sizeof su->sun_path, su->sun_path);
    } else if (ss.ss_family == AF_INET) {
        const struct sockaddr_in *si = (const struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &si->sin_addr, host, sizeof host);
        snprintf(out, outlen, "%s:%u", host, ntohs(si->sin_port));
    } else if (ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *si = (const struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &si->sin6_addr, host, sizeof host);
        snprintf(out, outlen, "[%s]:%u", host, ntohs(si->sin6_port));
    } else {
        snprintf(out, outlen, "address family %d", ss.ss_family);
    }
}

static void check_connect(struct tally *t, const wpd_transport_plugin *p, wpd_conn_setup *setup)
{
    if (!WPD_TRANSPORT_HAS(p, connect) || !p->connect) {
        itemf(t, "connect()", WPD_CHECK_SKIPPED,
              "the plugin has no connect(): the core dials %s itself",
              setup->unix_path[0] ? "unix_path" : "base_url's host");
        return;
    }
    char msg[WPD_TRANSPORT_MSG_MAX] = "";
    int fd = p->connect(setup, msg, sizeof msg);
    msg[sizeof msg - 1] = '\0';
    if (fd < 0) {
        itemf(t, "connect()", WPD_CHECK_FAILED, "returned %d: %s", fd,
              msg[0] ? msg : "(no message in err)");
        return;
    }
    int type = 0;
    socklen_t tl = sizeof type;
    char peer[256];
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) != 0)
        itemf(t, "connect()", WPD_CHECK_FAILED, "returned %d, which is not a socket", fd);
    else if (type != SOCK_STREAM)
        itemf(t, "connect()", WPD_CHECK_FAILED, "returned %d, a socket but not a stream socket",
              fd);
    else if (describe_peer(fd, peer, sizeof peer), strcmp(peer, "?") == 0)
        itemf(t, "connect()", WPD_CHECK_FAILED, "returned stream socket %d, which is not connected",
              fd);
    else
        itemf(t, "connect()", WPD_CHECK_OK, "returned a connected stream socket (peer: %s)", peer);
    close(fd);
}

static void check_ping(struct tally *t, const wpd_plugin_registry *reg, const char *endpoint)
{
    wpd_error err;
    wpd_error_clear(&err);
    wpd_reactor *r = wpd_reactor_new(&err);
    if (!r) {
        itemf(t, "ping", WPD_CHECK_FAILED, "%s", err.message);
        return;
    }
    wpd_engine *e = wpd_engine_new(r, reg, "check", endpoint, NULL, NULL, &err);
    if (!e)
        itemf(t, "ping", WPD_CHECK_FAILED, "%s", err.message);
    else if (wpd_engine_connect_sync(e, &err) != 0)
        itemf(t, "ping", WPD_CHECK_FAILED, "%s", err.message);
    else {
        const wpd_engine_info *i = wpd_engine_get_info(e);
        itemf(t, "ping", WPD_CHECK_OK,
              "/_ping answered through the engine path (then /version, /info): %s %s, API %s "
              "(engine up to %s), %s",
              i->kind_name, i->engine_version, i->api_version, i->engine_api_version, i->platform);
    }
    wpd_engine_free(e);
    wpd_reactor_free(r);
}

static void check_endpoint(struct tally *t, const char *file, const char *endpoint)
{
    static const char *const items[] = {"endpoint",  "open()", "headers()",
                                        "connect()", "ping",   NULL};
    wpd_plugin_registry *reg = wpd_plugins_load_file(file);
    if (wpd_plugins_count(reg) != 1) {
        const wpd_plugin_refusal *r = wpd_plugins_refused(reg, 0);
        for (size_t i = 0; items[i]; i++)
            itemf(t, items[i], WPD_CHECK_SKIPPED, "not checked: the loader refuses the file%s%s",
                  r ? ": " : "", r ? r->reason : "");
        wpd_plugins_free(reg);
        return;
    }
    const wpd_transport_plugin *p = wpd_plugins_get(reg, 0)->plugin;
    if (!serves(p, endpoint)) {
        itemf(t, "endpoint", WPD_CHECK_FAILED,
              "%s: its scheme is not one the plugin serves, so the core would not hand it over",
              endpoint);
        for (size_t i = 1; items[i]; i++)
            itemf(t, items[i], WPD_CHECK_SKIPPED, "not checked: the plugin does not serve %s",
                  endpoint);
        wpd_plugins_free(reg);
        return;
    }
    itemf(t, "endpoint", WPD_CHECK_OK, "%s: the scheme is served by plugin \"%s\"", endpoint,
          p->name);
    wpd_conn_setup *setup = calloc(1, sizeof *setup);
    if (!setup) {
        itemf(t, "open()", WPD_CHECK_FAILED, "out of memory");
        wpd_plugins_free(reg);
        return;
    }
    wpd_transport_options opts = {sizeof opts, env_lookup, NULL};
    char msg[WPD_TRANSPORT_MSG_MAX] = "";
    int rc = p->open(endpoint, &opts, setup, msg, sizeof msg);
    msg[sizeof msg - 1] = '\0';
    if (rc != 0) {
        itemf(t, "open()", WPD_CHECK_FAILED, "returned %d%s: %s", rc,
              rc == WPD_TRANSPORT_BAD_ENDPOINT ? " (a malformed endpoint)" : "",
              msg[0] ? msg : "(no message in err)");
        for (size_t i = 2; items[i]; i++)
            itemf(t, items[i], WPD_CHECK_SKIPPED, "not checked: open() failed");
        free(setup);
        wpd_plugins_free(reg);
        return;
    }
    char desc[4096];
    const char *problem;
    describe_setup(setup, desc, sizeof desc, &problem);
    if (problem)
        itemf(t, "open()", WPD_CHECK_FAILED, "returned 0, but %s (%s)", problem, desc);
    else
        itemf(t, "open()", WPD_CHECK_OK, "%s", desc);
    if (!WPD_TRANSPORT_HAS(p, headers) || !p->headers) {
        itemf(t, "headers()", WPD_CHECK_SKIPPED, "the plugin adds no request headers");
    } else {
        const char *const *h = p->headers(setup);
        size_t n = 0;
        const char *bad = NULL;
        char list[1024] = "";
        for (; h && h[n]; n++) {
            const char *colon = strchr(h[n], ':');
            if (!bad && (!colon || colon == h[n] || strpbrk(h[n], "\r\n")))
                bad = h[n];
            size_t l = strlen(list);
            snprintf(list + l, sizeof list - l, "%s\"%s\"", n ? ", " : "", h[n]);
        }
        if (bad)
            itemf(t, "headers()", WPD_CHECK_FAILED,
                  "\"%s\" is not a \"Name: value\" header on one line", bad);
        else
            itemf(t, "headers()", WPD_CHECK_OK, "%zu header%s%s%s", n, n == 1 ? "" : "s",
                  n ? ": " : "", list);
    }
    check_connect(t, p, setup);
    if (p->close)
        p->close(setup);
    free(setup);
    check_ping(t, reg, endpoint);
    wpd_plugins_free(reg);
}

static int check_plugin(const char *file, const char *endpoint)
{
    struct tally t = {0, 0};
    printf("checking ");
    fputs_printable(file, stdout);
    printf(" against wpdock %s (transport ABI %d.%d)\n", WPDOCK_VERSION, WPD_TRANSPORT_ABI_MAJOR,
           WPD_TRANSPORT_ABI_MINOR);
    wpd_plugin_check_file(file, print_item, &t);
    if (endpoint)
        check_endpoint(&t, file, endpoint);
    if (t.failed)
        printf("FAILED: %zu of %zu items failed\n", t.failed, t.items);
    else
        printf("ok: every item holds (%zu items)\n", t.items);
    fflush(stdout);
    return t.failed ? WPD_EXIT_FAILED : WPD_EXIT_OK;
}

int cmd_plugins(int argc, char **argv)
{
    if (argc == 1)
        return list_plugins();
    if (strcmp(argv[1], "--check") == 0) {
        if (argc < 3 || !*argv[2]) {
            cli_error("plugins: --check needs a plugin file (wpdock plugins --check FILE.so "
                      "[ENDPOINT])");
            return WPD_EXIT_USAGE;
        }
        if (argc > 4) {
            cli_error("plugins --check: unexpected argument \"%s\" (FILE.so [ENDPOINT])", argv[4]);
            return WPD_EXIT_USAGE;
        }
        if (argc == 4 && !*argv[3]) {
            cli_error("plugins --check: the endpoint is empty");
            return WPD_EXIT_USAGE;
        }
        return check_plugin(argv[2], argc == 4 ? argv[3] : NULL);
    }
    cli_error("plugins: unexpected argument \"%s\" (see `wpdock plugins --help`)", argv[1]);
    return WPD_EXIT_USAGE;
}
