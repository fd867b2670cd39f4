/* test_connerr.c - the pure mapping of libcurl failures to user messages
 * (core/io/connerr.c): unknown CA, host name mismatch, a refused client
 * certificate, TLS against plain HTTP and back, connect failures, local
 * certificate files, and what passes through unchanged. */
#define _GNU_SOURCE
#include <check.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wpdock/error.h>
#include <wpdock/transport.h>

#include "io/connerr.h"

#define ck_assert_contains(hay, needle)                                                            \
    ck_assert_msg(strstr((hay), (needle)) != NULL, "\"%s\" does not contain \"%s\"", (hay),        \
                  (needle))

/* ---- connerr: libcurl failures explained ---- */

static wpd_conn_setup tls_setup(const char *base_url)
{
    wpd_conn_setup s;
    memset(&s, 0, sizeof s);
    snprintf(s.base_url, sizeof s.base_url, "%s", base_url);
    snprintf(s.ca_file, sizeof s.ca_file, "/c/ca.pem");
    snprintf(s.cert_file, sizeof s.cert_file, "/c/cert.pem");
    snprintf(s.key_file, sizeof s.key_file, "/c/key.pem");
    s.tls_verify_peer = s.tls_verify_host = 1;
    return s;
}

static wpd_conn_setup plain_setup(const char *base_url, const char *unix_path)
{
    wpd_conn_setup s;
    memset(&s, 0, sizeof s);
    snprintf(s.base_url, sizeof s.base_url, "%s", base_url);
    if (unix_path)
        snprintf(s.unix_path, sizeof s.unix_path, "%s", unix_path);
    return s;
}

/* Describe; expect exactly `want` (NULL: curl's text alone). */
static void expect_described(CURLcode code, const char *msg, long os_errno, const wpd_conn_setup *s,
                             const char *want)
{
    char out[WPD_ERROR_MAX];
    int added = wpd_describe_transfer_error(code, msg, os_errno, 0, s, out, sizeof out);
    if (!want) {
        ck_assert_int_eq(added, 0);
        ck_assert_str_eq(out, msg);
        return;
    }
    char full[WPD_ERROR_MAX];
    snprintf(full, sizeof full, "%s (%s)", want, msg);
    ck_assert_int_eq(added, 1);
    ck_assert_str_eq(out, full);
}

START_TEST(connerr_unknown_ca)
{
    wpd_conn_setup s = tls_setup("https://127.0.0.1:2376");
    const char *want = "the engine's certificate is not signed by the CA in /c/ca.pem: "
                       "DOCKER_CERT_PATH must hold the ca.pem of the CA that signed the "
                       "engine's certificate";
    expect_described(CURLE_PEER_FAILED_VERIFICATION,
                     "SSL certificate problem: unable to get local issuer certificate", 0, &s,
                     want);
    expect_described(CURLE_PEER_FAILED_VERIFICATION,
                     "SSL certificate problem: self-signed certificate in certificate chain", 0, &s,
                     want);
    expect_described(CURLE_PEER_FAILED_VERIFICATION,
                     "SSL certificate problem: self signed certificate", 0, &s, want);
    expect_described(CURLE_PEER_FAILED_VERIFICATION,
                     "SSL certificate problem: certificate has expired", 0, &s,
                     "the engine's certificate has expired");
}
END_TEST

START_TEST(connerr_host_mismatch)
{
    wpd_conn_setup s = tls_setup("https://[::ffff:127.0.0.1]:2377");
    expect_described(CURLE_PEER_FAILED_VERIFICATION,
                     "SSL: no alternative certificate subject name matches target host name "
                     "'::ffff:127.0.0.1'",
                     0, &s,
                     "the engine's certificate is not valid for the host name "
                     "\"::ffff:127.0.0.1\": connect through a name or address the certificate "
                     "lists (its subject alternative names)");
    s = tls_setup("https://engine.example:2376/base");
    char out[WPD_ERROR_MAX];
    wpd_describe_transfer_error(CURLE_PEER_FAILED_VERIFICATION,
                                "SSL: certificate subject name 'localhost' does not match target "
                                "host name 'engine.example'",
                                0, 0, &s, out, sizeof out);
    ck_assert_contains(out, "not valid for the host name \"engine.example\"");
}
END_TEST

START_TEST(connerr_client_cert_refused)
{
    wpd_conn_setup s = tls_setup("https://127.0.0.1:2377");
    const char *want = "the engine refused our client certificate /c/cert.pem: it must be "
                       "signed by a CA the engine trusts (dockerd --tlscacert)";
    expect_described(CURLE_RECV_ERROR,
                     "OpenSSL SSL_read: OpenSSL/3.0.22: error:0A000418:SSL routines::tlsv1 alert "
                     "unknown ca, errno 0",
                     0, &s, want);
    expect_described(CURLE_RECV_ERROR,
                     "OpenSSL SSL_read: OpenSSL/3.0.22: error:0A000412:SSL routines::sslv3 alert "
                     "bad certificate, errno 0",
                     0, &s, want);
    expect_described(CURLE_RECV_ERROR,
                     "OpenSSL SSL_read: error:0A00045C:SSL routines::tlsv13 alert certificate "
                     "required, errno 0",
                     0, &s, want);
    expect_described(CURLE_SSL_CONNECT_ERROR,
                     "OpenSSL/3.0.22: error:0A000412:SSL routines::sslv3 alert bad certificate", 0,
                     &s, want);

    /* the alert lost the race against our request: a reset, and curl's
     * error buffer holds a side note that is replaced by the real cause */
    char out[WPD_ERROR_MAX];
    int added = wpd_describe_transfer_error(
        CURLE_SEND_ERROR,
        "getpeername() failed with errno 107: Transport endpoint is not connected", ECONNRESET, 0,
        &s, out, sizeof out);
    ck_assert_int_eq(added, 1);
    char want2[WPD_ERROR_MAX];
    snprintf(want2, sizeof want2,
             "the engine reset the connection right after the TLS handshake: it probably refused "
             "our client certificate /c/cert.pem (it must be signed by a CA the engine trusts) "
             "(%s: %s)",
             curl_easy_strerror(CURLE_SEND_ERROR), strerror(ECONNRESET));
    ck_assert_str_eq(out, want2);
    expect_described(CURLE_SEND_ERROR, "Send failure: Connection reset by peer", ECONNRESET, &s,
                     "the engine reset the connection right after the TLS handshake: it "
                     "probably refused our client certificate /c/cert.pem (it must be signed by "
                     "a CA the engine trusts)");
}
END_TEST

START_TEST(connerr_tls_vs_plain)
{
    /* we speak TLS, the server plain HTTP */
    wpd_conn_setup s = tls_setup("https://127.0.0.1:5000");
    expect_described(CURLE_SSL_CONNECT_ERROR,
                     "OpenSSL/3.0.22: error:0A00010B:SSL routines::wrong version number", 0, &s,
                     "the engine does not speak TLS on 127.0.0.1:5000 (plain HTTP?): check the "
                     "port (Docker uses 2376 for TLS, 2375 for plain HTTP) and the engine's TLS "
                     "settings");

    /* a server that hangs up on our handshake */
    s = tls_setup("https://127.0.0.1:18099");
    const char *hangup = "the engine on 127.0.0.1:18099 closed the connection during the TLS "
                         "handshake: it may not speak TLS on this port, or it does not accept our "
                         "client certificate /c/cert.pem";
    expect_described(CURLE_SSL_CONNECT_ERROR, "Recv failure: Connection reset by peer", ECONNRESET,
                     &s, hangup);
    expect_described(CURLE_SSL_CONNECT_ERROR,
                     "OpenSSL SSL_connect: SSL_ERROR_SYSCALL in connection to 127.0.0.1:18099", 0,
                     &s, hangup);

    /* we speak plain HTTP, the server TLS */
    wpd_conn_setup p = plain_setup("http://127.0.0.1:2377", NULL);
    const char *want = "the engine does not speak plain HTTP on 127.0.0.1:2377: it closed the "
                       "connection, so it probably expects TLS (set DOCKER_CERT_PATH to a "
                       "directory holding ca.pem, cert.pem and key.pem)";
    expect_described(CURLE_RECV_ERROR, "Recv failure: Connection reset by peer", ECONNRESET, &p,
                     want);
    expect_described(CURLE_RECV_ERROR, "Recv failure: Connection reset by peer", 0, &p, want);
    expect_described(CURLE_GOT_NOTHING, "Empty reply from server", 0, &p,
                     "the engine does not speak plain HTTP on 127.0.0.1:2377: it sent no HTTP "
                     "answer, so it probably expects TLS (set DOCKER_CERT_PATH to a directory "
                     "holding ca.pem, cert.pem and key.pem)");

    /* the same over a unix socket says nothing about TLS */
    wpd_conn_setup u = plain_setup("http://api.moby.localhost", "/run/x.sock");
    expect_described(CURLE_RECV_ERROR, "Recv failure: Connection reset by peer", ECONNRESET, &u,
                     NULL);
    expect_described(CURLE_GOT_NOTHING, "Empty reply from server", 0, &u, NULL);
}
END_TEST

START_TEST(connerr_connect_failures)
{
    wpd_conn_setup s = tls_setup("https://127.0.0.1:1");
    const char *msg =
        "Failed to connect to 127.0.0.1 port 1 after 0 ms: Couldn't connect to server";
    expect_described(CURLE_COULDNT_CONNECT, msg, ECONNREFUSED, &s,
                     "nothing listens on 127.0.0.1:1");
    expect_described(CURLE_COULDNT_CONNECT, msg, EHOSTUNREACH, &s,
                     "127.0.0.1:1 is unreachable from here (no route to it)");
    expect_described(CURLE_COULDNT_CONNECT, msg, 0, &s, NULL);

    wpd_conn_setup v6 = plain_setup("http://[::1]:2375/base", NULL);
    expect_described(CURLE_COULDNT_CONNECT, "Failed to connect to ::1 port 2375", ECONNREFUSED, &v6,
                     "nothing listens on [::1]:2375");
    wpd_conn_setup dflt = tls_setup("https://engine.example");
    expect_described(CURLE_COULDNT_CONNECT, "Failed to connect", ECONNREFUSED, &dflt,
                     "nothing listens on engine.example:443");

    wpd_conn_setup u = plain_setup("http://api.moby.localhost", "/run/x.sock");
    expect_described(CURLE_COULDNT_CONNECT, "Failed to connect to api.moby.localhost port 80",
                     ECONNREFUSED, &u, "nothing listens on socket /run/x.sock");
    expect_described(CURLE_COULDNT_CONNECT, "Failed to connect to api.moby.localhost port 80",
                     ENOENT, &u, "socket /run/x.sock does not exist");

    wpd_conn_setup r = plain_setup("http://nonexistent.invalid:2375", NULL);
    expect_described(CURLE_COULDNT_RESOLVE_HOST, "Could not resolve host: nonexistent.invalid", 0,
                     &r, "cannot resolve the host name \"nonexistent.invalid\"");
}
END_TEST

START_TEST(connerr_local_files)
{
    wpd_conn_setup s = tls_setup("https://127.0.0.1:2377");
    expect_described(CURLE_SSL_CERTPROBLEM, "unable to set private key file: '/c/key.pem' type PEM",
                     0, &s,
                     "cannot use the client key /c/key.pem: it does not belong to the "
                     "certificate /c/cert.pem, or it is not a usable private key");
    expect_described(CURLE_SSL_CERTPROBLEM,
                     "could not load PEM client certificate from /c/cert.pem, OpenSSL error "
                     "error:0480006C:PEM routines::no start line",
                     0, &s, "cannot load the client certificate /c/cert.pem");
    expect_described(CURLE_SSL_CACERT_BADFILE, "error setting certificate file: /c/ca.pem", 0, &s,
                     "cannot load the CA certificates from /c/ca.pem");
}
END_TEST

START_TEST(connerr_passthrough)
{
    wpd_conn_setup s = tls_setup("https://127.0.0.1:2377");
    char out[WPD_ERROR_MAX];
    /* unmapped codes keep curl's text */
    expect_described(CURLE_OPERATION_TIMEDOUT, "Operation timed out after 30000 milliseconds", 0,
                     &s, NULL);
    /* an answer had begun: the connection is not to blame */
    ck_assert_int_eq(wpd_describe_transfer_error(CURLE_RECV_ERROR,
                                                 "Recv failure: Connection reset by peer",
                                                 ECONNRESET, 200, &s, out, sizeof out),
                     0);
    ck_assert_str_eq(out, "Recv failure: Connection reset by peer");
    /* no message: curl's text for the code; trailing newline dropped */
    ck_assert_int_eq(
        wpd_describe_transfer_error(CURLE_GOT_NOTHING, NULL, 0, 0, &s, out, sizeof out), 1);
    ck_assert_str_eq(out, "the engine on 127.0.0.1:2377 closed the connection without an HTTP "
                          "answer (Server returned nothing (no headers, no data))");
    wpd_describe_transfer_error(CURLE_OPERATION_TIMEDOUT, "timed out\n", 0, 0, &s, out, sizeof out);
    ck_assert_str_eq(out, "timed out");
    /* a small buffer is filled and terminated */
    char small[11];
    memset(small, 'x', sizeof small);
    wpd_describe_transfer_error(CURLE_COULDNT_CONNECT, "refused", ECONNREFUSED, 0, &s, small, 10);
    ck_assert_str_eq(small, "nothing l");
    ck_assert_int_eq(small[10], 'x');
}
END_TEST

int main(void)
{
    Suite *s = suite_create("connerr");
    TCase *tc = tcase_create("connerr");
    tcase_add_test(tc, connerr_unknown_ca);
    tcase_add_test(tc, connerr_host_mismatch);
    tcase_add_test(tc, connerr_client_cert_refused);
    tcase_add_test(tc, connerr_tls_vs_plain);
    tcase_add_test(tc, connerr_connect_failures);
    tcase_add_test(tc, connerr_local_files);
    tcase_add_test(tc, connerr_passthrough);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0;
}
