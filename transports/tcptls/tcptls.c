/* tcptls.c - transport plugin for "tcp://" (and "https://") endpoints: the
 * Docker Engine API over TCP with mutual TLS from a Docker-style directory
 * (DOCKER_CERT_PATH holding ca.pem, cert.pem, key.pem; DOCKER_TLS_VERIFY,
 * default on). Plain TCP only when TLS is switched off explicitly. The
 * WOODPECKER_BACKEND_DOCKER_* spelling of each variable wins. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <wpdock/endpoint.h>
#include <wpdock/transport.h>

#include "certdir.h"

#define TCPTLS_PLUGIN_VERSION "1.0.0"
#define TLS_PORT 2376
#define PLAIN_PORT 2375

#define VAR_CERT_PATH "DOCKER_CERT_PATH"
#define VAR_TLS_VERIFY "DOCKER_TLS_VERIFY"
#define WP_PREFIX "WOODPECKER_BACKEND_"

/* Value of WOODPECKER_BACKEND_<var>, else of <var>; NULL when both are
 * unset or empty. *which names the variable the value came from. */
static const char *lookup_var(const wpd_transport_options *o, const char *var, const char **which,
                              char *wpname, size_t wplen)
{
    snprintf(wpname, wplen, WP_PREFIX "%s", var);
    *which = var;
    if (!o || o->struct_size < sizeof(wpd_transport_options) || !o->lookup)
        return NULL;
    const char *v = o->lookup(o->ctx, wpname);
    if (v && *v) {
        *which = wpname;
        return v;
    }
    v = o->lookup(o->ctx, var);
    return v && *v ? v : NULL;
}

/* 1/0, true/false, t/f, yes/no in any case. Returns 0, or -1 if not a boolean. */
static int parse_bool(const char *text, int *out)
{
    static const char *const yes[] = {"1", "t", "true", "yes"};
    static const char *const no[] = {"0", "f", "false", "no"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (strcasecmp(text, yes[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcasecmp(text, no[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    return -1;
}

/* host as it goes into a URL: IPv6 literals in brackets, with a zone id's
 * '%' escaped as "%25". */
static int url_host(const char *host, char *out, size_t outlen)
{
    if (!strchr(host, ':'))
        return snprintf(out, outlen, "%s", host) < (int)outlen ? 0 : -1;
    size_t o = 0;
    if (o + 1 >= outlen)
        return -1;
    out[o++] = '[';
    for (const char *h = host; *h; h++) {
        if (*h == '%' && strncmp(h + 1, "25", 2) != 0) {
            if (o + 3 >= outlen)
                return -1;
            memcpy(out + o, "%25", 3);
            o += 3;
        } else {
            if (o + 1 >= outlen)
                return -1;
            out[o++] = *h;
        }
    }
    if (o + 2 > outlen)
        return -1;
    out[o++] = ']';
    out[o] = '\0';
    return 0;
}

static int set_base_url(wpd_conn_setup *setup, const char *scheme, const wpd_endpoint *ep, int port,
                        char *err, size_t errlen)
{
    char host[sizeof ep->host * 3 + 3];
    if (url_host(ep->host, host, sizeof host) != 0) {
        snprintf(err, errlen, "endpoint host name too long: %s", ep->host);
        return -1;
    }
    int n = snprintf(setup->base_url, sizeof setup->base_url, "%s://%s:%d%s", scheme, host, port,
                     ep->path);
    if (n < 0 || (size_t)n >= sizeof setup->base_url) {
        snprintf(err, errlen, "endpoint base path too long (the URL may have at most %zu bytes)",
                 sizeof setup->base_url - 1);
        return -1;
    }
    return 0;
}

static int tcptls_open(const char *endpoint, const wpd_transport_options *options,
                       wpd_conn_setup *setup, char *err, size_t errlen)
{
    wpd_endpoint ep;
    if (wpd_endpoint_parse(endpoint, &ep, err, errlen) != 0)
        return WPD_TRANSPORT_BAD_ENDPOINT;
    int https_scheme = strcmp(ep.scheme, "https") == 0;
    if (!https_scheme && strcmp(ep.scheme, "tcp") != 0) {
        snprintf(err, errlen, "not a tcp:// or https:// endpoint: \"%s\"", endpoint);
        return WPD_TRANSPORT_BAD_ENDPOINT;
    }

    char wp_verify[64], wp_path[64];
    const char *verify_var, *path_var;
    const char *verify_text =
        lookup_var(options, VAR_TLS_VERIFY, &verify_var, wp_verify, sizeof wp_verify);
    const char *cert_path = lookup_var(options, VAR_CERT_PATH, &path_var, wp_path, sizeof wp_path);
    int verify = 1;
    if (verify_text && parse_bool(verify_text, &verify) != 0) {
        snprintf(err, errlen,
                 "%s=\"%s\" is not a boolean: use 1 or 0 (true/false, t/f and yes/no work too)",
                 verify_var, verify_text);
        return -1;
    }

    if (!cert_path) {
        if (https_scheme || verify) {
            snprintf(err, errlen,
                     "%s needs TLS but no client certificate is configured: set "
                     "DOCKER_CERT_PATH to a directory holding ca.pem, cert.pem and key.pem%s",
                     endpoint,
                     https_scheme ? ""
                                  : ", or set DOCKER_TLS_VERIFY=0 to talk plain HTTP to an "
                                    "unprotected engine (unsafe)");
            return -1;
        }
        int port = ep.port ? ep.port : PLAIN_PORT;
        if (set_base_url(setup, "http", &ep, port, err, errlen) != 0)
            return -1;
        setup->tcp_keepalive = 1;
        snprintf(setup->warning, sizeof setup->warning,
                 "TLS is off (%s=%s and no DOCKER_CERT_PATH): the engine's API on %s port %d is "
                 "exposed without authentication or encryption; anyone who can reach it controls "
                 "the engine",
                 verify_var, verify_text, ep.host, port);
        return 0;
    }

    if (tcptls_check_dir(cert_path, path_var, err, errlen) != 0)
        return -1;
    /* Without verification the CA is not needed (as with the docker CLI). */
    if (verify && tcptls_check_pem(cert_path, "ca.pem", TCPTLS_PEM_CERT, path_var, setup->ca_file,
                                   sizeof setup->ca_file, err, errlen) != 0)
        return -1;
    if (tcptls_check_pem(cert_path, "cert.pem", TCPTLS_PEM_CERT, path_var, setup->cert_file,
                         sizeof setup->cert_file, err, errlen) != 0 ||
        tcptls_check_pem(cert_path, "key.pem", TCPTLS_PEM_KEY, path_var, setup->key_file,
                         sizeof setup->key_file, err, errlen) != 0)
        return -1;
    if (set_base_url(setup, "https", &ep, ep.port ? ep.port : TLS_PORT, err, errlen) != 0)
        return -1;
    setup->tls_verify_peer = verify;
    setup->tls_verify_host = verify;
    setup->tcp_keepalive = 1;
    if (!verify)
        snprintf(setup->warning, sizeof setup->warning,
                 "TLS verification is off: the engine's identity is not checked (%s=%s)",
                 verify_var, verify_text);
    return 0;
}

WPD_TRANSPORT_EXPORT const wpd_transport_plugin *wpdock_transport_entry(void)
{
    static const char *const schemes[] = {"tcp", "https", NULL};
    static const wpd_transport_plugin plugin = {
        .abi_major = WPD_TRANSPORT_ABI_MAJOR,
        .abi_minor = WPD_TRANSPORT_ABI_MINOR,
        .struct_size = sizeof(wpd_transport_plugin),
        .name = "tcptls",
        .version = TCPTLS_PLUGIN_VERSION,
        .schemes = schemes,
        .description = "Docker Engine API over TCP with mutual TLS (DOCKER_CERT_PATH, "
                       "DOCKER_TLS_VERIFY)",
        .open = tcptls_open,
        .close = NULL,
        .default_endpoint = NULL,
    };
    return &plugin;
}
