/* connerr.h - explains a failed transfer to the user: turns libcurl's result
 * code and error text into what is wrong with the connection to the engine
 * (untrusted certificate, host name mismatch, client certificate refused,
 * TLS against plain HTTP or the reverse, nothing listening). Pure: no I/O. */
#ifndef WPDOCK_CONNERR_H
#define WPDOCK_CONNERR_H

#include <curl/curl.h>
#include <stddef.h>
#include <wpdock/transport.h>

/* Write "<what is wrong> (<curl_message>)" into out (outlen bytes, always
 * NUL-terminated), or curl_message alone when there is nothing to add.
 * os_errno is CURLINFO_OS_ERRNO (0 = unknown); http_status is the status of
 * a response that had begun to arrive (0 = none: only then is the
 * connection itself to blame); setup says where and how the request
 * connected (base_url, unix_path, ca/cert/key files). Returns 1 when a
 * description was added, 0 when out is curl's text alone. */
int wpd_describe_transfer_error(CURLcode code, const char *curl_message, long os_errno,
                                long http_status, const wpd_conn_setup *setup, char *out,
                                size_t outlen);

#endif
