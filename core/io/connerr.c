/* connerr.c - explains a failed transfer to the user: maps libcurl's result
 * code and error text (OpenSSL's alert and verification texts included) to
 * what is wrong with the connection to the engine. */
#include "io/connerr.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include <wpdock/endpoint.h>

#define CERT_DIR_HINT "set DOCKER_CERT_PATH to a directory holding ca.pem, cert.pem and key.pem"

/* Case-insensitive substring test. */
static int has(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i] &&
               tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == n)
            return 1;
    }
    return n == 0;
}

/* Where the request went: "host:port" ("[::1]:2376"), or "socket PATH". */
static void describe_place(const wpd_conn_setup *s, char *host, size_t hostlen, char *place,
                           size_t placelen)
{
    host[0] = '\0';
    if (s->unix_path[0]) {
        snprintf(place, placelen, "socket %s", s->unix_path);
        return;
    }
    wpd_endpoint ep;
    char perr[2 * WPD_TRANSPORT_URL_MAX]; /* big enough for any message about base_url */
    if (wpd_endpoint_parse(s->base_url, &ep, perr, sizeof perr) != 0 || !ep.host[0]) {
        snprintf(place, placelen, "%s", s->base_url[0] ? s->base_url : "the engine");
        return;
    }
    int port = ep.port ? ep.port : strcmp(ep.scheme, "https") == 0 ? 443 : 80;
    snprintf(host, hostlen, "%s", ep.host);
    if (strchr(ep.host, ':'))
        snprintf(place, placelen, "[%s]:%d", ep.host, port);
    else
        snprintf(place, placelen, "%s:%d", ep.host, port);
}

/* OpenSSL's texts for a TLS alert the server sent about our certificate. */
static int client_cert_refused(const char *m)
{
    static const char *const alerts[] = {
        "alert bad certificate",     "certificate required",          "alert unknown ca",
        "alert certificate unknown", "alert unsupported certificate", "alert certificate revoked",
        "alert certificate expired", "alert access denied",
    };
    for (size_t i = 0; i < sizeof alerts / sizeof alerts[0]; i++)
        if (has(m, alerts[i]))
            return 1;
    return 0;
}

/* OpenSSL's texts when the server's first bytes are not a TLS record. */
static int not_tls(const char *m)
{
    return has(m, "wrong version number") || has(m, "packet length too long") ||
           has(m, "unknown protocol") || has(m, "record layer failure");
}

int wpd_describe_transfer_error(CURLcode code, const char *curl_message, long os_errno,
                                long http_status, const wpd_conn_setup *setup, char *out,
                                size_t outlen)
{
    char msg[CURL_ERROR_SIZE + 128];
    const char *m0 = curl_message && *curl_message ? curl_message : curl_easy_strerror(code);
    if (os_errno > 0 && has(m0, "getpeername() failed"))
        /* curl 7.8x leaves this side note in the error buffer when the peer
         * reset the connection; the reset is what matters */
        snprintf(msg, sizeof msg, "%s: %s", curl_easy_strerror(code), strerror((int)os_errno));
    else
        snprintf(msg, sizeof msg, "%s", m0);
    size_t ml = strlen(msg);
    while (ml && isspace((unsigned char)msg[ml - 1]))
        msg[--ml] = '\0';
    if (http_status != 0) { /* the engine answered: the connection itself was fine */
        snprintf(out, outlen, "%s", msg);
        return 0;
    }

    char host[256], place[WPD_TRANSPORT_PATH_MAX + 16], d[2 * WPD_TRANSPORT_PATH_MAX + 512];
    describe_place(setup, host, sizeof host, place, sizeof place);
    int tls = strncmp(setup->base_url, "https:", 6) == 0;
    int plain_tcp = !tls && !setup->unix_path[0];
    const char *ca = setup->ca_file[0] ? setup->ca_file : "the trusted CA certificates";
    const char *cert = setup->cert_file[0] ? setup->cert_file : "(none)";
    d[0] = '\0';

    switch (code) {
    case CURLE_PEER_FAILED_VERIFICATION:
        if (has(msg, "subject name") || has(msg, "host name"))
            snprintf(d, sizeof d,
                     "the engine's certificate is not valid for the host name \"%s\": connect "
                     "through a name or address the certificate lists (its subject alternative "
                     "names)",
                     host);
        else if (has(msg, "local issuer") || has(msg, "self signed") || has(msg, "self-signed") ||
                 has(msg, "unable to get issuer") || has(msg, "verify the first certificate") ||
                 has(msg, "signature failure"))
            snprintf(d, sizeof d,
                     "the engine's certificate is not signed by the CA in %s: DOCKER_CERT_PATH "
                     "must hold the ca.pem of the CA that signed the engine's certificate",
                     ca);
        else if (has(msg, "expired"))
            snprintf(d, sizeof d, "the engine's certificate has expired");
        else if (has(msg, "not yet valid"))
            snprintf(d, sizeof d,
                     "the engine's certificate is not valid yet (is this machine's clock right?)");
        else
            snprintf(d, sizeof d, "the engine's certificate could not be verified against %s", ca);
        break;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_SSL_CLIENTCERT:
        if (tls && client_cert_refused(msg))
            snprintf(d, sizeof d,
                     "the engine refused our client certificate %s: it must be signed by a CA "
                     "the engine trusts (dockerd --tlscacert)",
                     cert);
        else if (tls && (code == CURLE_SEND_ERROR || code == CURLE_RECV_ERROR) &&
                 (os_errno == ECONNRESET || has(msg, "connection reset")))
            /* TLS 1.3 servers check the client certificate after the
             * handshake; their alert races with our request, so the refusal
             * often shows as a reset */
            snprintf(d, sizeof d,
                     "the engine reset the connection right after the TLS handshake: it probably "
                     "refused our client certificate %s (it must be signed by a CA the engine "
                     "trusts)",
                     cert);
        else if (tls && not_tls(msg))
            snprintf(d, sizeof d,
                     "the engine does not speak TLS on %s (plain HTTP?): check the port (Docker "
                     "uses 2376 for TLS, 2375 for plain HTTP) and the engine's TLS settings",
                     place);
        else if (tls && code == CURLE_SSL_CONNECT_ERROR &&
                 (os_errno == ECONNRESET || has(msg, "connection reset") ||
                  has(msg, "unexpected eof") || has(msg, "SSL_ERROR_SYSCALL")))
            snprintf(d, sizeof d,
                     "the engine on %s closed the connection during the TLS handshake: it may not "
                     "speak TLS on this port, or it does not accept our client certificate %s",
                     place, cert);
        else if (plain_tcp && (code == CURLE_RECV_ERROR || code == CURLE_SEND_ERROR) &&
                 (os_errno == ECONNRESET || has(msg, "connection reset")))
            snprintf(d, sizeof d,
                     "the engine does not speak plain HTTP on %s: it closed the connection, so it "
                     "probably expects TLS (" CERT_DIR_HINT ")",
                     place);
        break;
    case CURLE_GOT_NOTHING:
    case CURLE_WEIRD_SERVER_REPLY:
        if (plain_tcp)
            snprintf(d, sizeof d,
                     "the engine does not speak plain HTTP on %s: it sent no HTTP answer, so it "
                     "probably expects TLS (" CERT_DIR_HINT ")",
                     place);
        else if (tls)
            snprintf(d, sizeof d, "the engine on %s closed the connection without an HTTP answer",
                     place);
        break;
    case CURLE_COULDNT_CONNECT:
        if (os_errno == EMFILE || os_errno == ENFILE) {
            struct rlimit rl;
            if (os_errno == EMFILE && getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
                rl.rlim_cur != RLIM_INFINITY)
                snprintf(d, sizeof d,
                         "out of file descriptors: this process may have %llu open (ulimit -n); "
                         "run fewer steps or workflows at once, or raise the limit",
                         (unsigned long long)rl.rlim_cur);
            else
                snprintf(d, sizeof d,
                         "out of file descriptors (%s): run fewer steps or workflows at once, or "
                         "raise the limit",
                         os_errno == EMFILE ? "the process limit, ulimit -n"
                                            : "the system's limit");
        } else if (setup->unix_path[0]) {
            if (os_errno == ENOENT)
                snprintf(d, sizeof d, "%s does not exist", place);
            else if (os_errno == EACCES || os_errno == EPERM)
                snprintf(d, sizeof d,
                         "permission denied on %s (is the user in the engine's group?)", place);
            else if (os_errno == ECONNREFUSED || has(msg, "refused"))
                snprintf(d, sizeof d, "nothing listens on %s", place);
        } else if (os_errno == ECONNREFUSED || has(msg, "refused")) {
            snprintf(d, sizeof d, "nothing listens on %s", place);
        } else if (os_errno == EHOSTUNREACH || os_errno == ENETUNREACH || has(msg, "unreachable") ||
                   has(msg, "no route")) {
            snprintf(d, sizeof d, "%s is unreachable from here (no route to it)", place);
        } else if (os_errno == ETIMEDOUT) {
            snprintf(d, sizeof d, "%s does not answer (a firewall dropping packets?)", place);
        }
        break;
    case CURLE_COULDNT_RESOLVE_HOST:
        snprintf(d, sizeof d, "cannot resolve the host name \"%s\"", host[0] ? host : place);
        break;
    case CURLE_SSL_CERTPROBLEM:
        if (has(msg, "private key"))
            snprintf(d, sizeof d,
                     "cannot use the client key %s: it does not belong to the certificate %s, "
                     "or it is not a usable private key",
                     setup->key_file[0] ? setup->key_file : "(none)", cert);
        else
            snprintf(d, sizeof d, "cannot load the client certificate %s", cert);
        break;
    case CURLE_SSL_CACERT_BADFILE:
        snprintf(d, sizeof d, "cannot load the CA certificates from %s", ca);
        break;
    default: break;
    }
    if (!d[0]) {
        snprintf(out, outlen, "%s", msg);
        return 0;
    }
    snprintf(out, outlen, "%s (%s)", d, msg);
    return 1;
}
