/* ping.c - `wpdock agent ping`: one blocking GET of a running agent's
 * /healthz (spec 7), as `woodpecker-agent ping` does; healthy only on 200. */
#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <wpdock/agent.h>

/* The body is not needed; it is read and dropped. */
static size_t discard(char *data, size_t size, size_t n, void *arg)
{
    (void)data;
    (void)arg;
    return size * n;
}

/* An address goes into the URL as it is: no characters that would change
 * what the URL means (path, user info, query, fragment) or break it. */
static bool plain_address(const char *addr)
{
    for (const unsigned char *p = (const unsigned char *)addr; *p; p++)
        if (*p <= ' ' || *p >= 0x7f || strchr("/@?#\\%", *p))
            return false;
    return true;
}

int wpd_agent_ping(const char *healthcheck_addr, long timeout_ms, wpd_error *err)
{
    const char *addr = healthcheck_addr ? healthcheck_addr : "";
    if (!*addr || !plain_address(addr))
        return wpd_error_set(err, WPD_ERR_USAGE, 0,
                             "health check address \"%s\" is not [HOST]:PORT (e.g. :3000)", addr);
    char url[512];
    int ul =
        snprintf(url, sizeof url, "http://%s%s/healthz", addr[0] == ':' ? "localhost" : "", addr);
    if (ul < 0 || (size_t)ul >= sizeof url)
        return wpd_error_set(err, WPD_ERR_USAGE, 0, "health check address \"%.64s...\" is too long",
                             addr);
    CURL *h = curl_easy_init();
    if (!h)
        return wpd_error_set(err, WPD_ERR_INTERNAL, 0, "health check: cannot set up libcurl");
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROXY, ""); /* the agent is local: never through a proxy */
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE, 1L << 20);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "wpdock-agent-ping/" WPDOCK_VERSION);
    if (timeout_ms > 0)
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    CURLcode rc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(h);
    if (rc != CURLE_OK && status == 0) {
        wpd_errkind kind = rc == CURLE_OPERATION_TIMEDOUT ? WPD_ERR_TIMEOUT : WPD_ERR_CONNECT;
        return wpd_error_set(err, kind, 0, "health check %s failed: %s%s%s", url,
                             curl_easy_strerror(rc), errbuf[0] ? ": " : "", errbuf);
    }
    if (status != 200)
        return wpd_error_set(err, WPD_ERR_ENGINE, (int)status,
                             "health check %s failed: HTTP status %ld%s", url, status,
                             status == 500 ? " (the agent reports itself unhealthy)" : "");
    return 0;
}
