/* test_httpd.c - a Check test suite that needs a real web server: busybox
 * httpd in a container with a page copied in, a wait until its port is
 * really listening, then a plain HTTP GET from the test. Build against the
 * installed wpdock:
 *
 *     cc test_httpd.c $(pkg-config --cflags --libs wpdock check) -o test_httpd
 *
 * WPDOCK_EXAMPLE_IMAGE names the image (default busybox:latest); the
 * engine is the one DOCKER_HOST (or CONTAINER_HOST) selects. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <wpdock/harness.h>

static const char PAGE[] = "<h1>hello from a container</h1>\n";

/* GET path from host:port; returns the whole answer (malloc'd) or NULL */
static char *http_get(const char *host, int port, const char *path)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    inet_pton(AF_INET, host, &sa.sin_addr);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    char req[256];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\n\r\n", path);
    if (write(fd, req, (size_t)n) != n) {
        close(fd);
        return NULL;
    }
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);
    ssize_t k;
    while (buf && (k = read(fd, buf + len, cap - 1 - len)) > 0)
        len += (size_t)k;
    close(fd);
    if (buf)
        buf[len] = '\0';
    return buf;
}

START_TEST(serves_the_copied_page)
{
    wpd_error err;
    /* one session per test: Check runs each test in a forked process */
    wpd_session *s = wpd_session_open(NULL, &err);
    ck_assert_msg(s, "%s", err.message);

    const char *image = getenv("WPDOCK_EXAMPLE_IMAGE");
    wpd_spec *sp = wpd_spec_new(image && *image ? image : "busybox:latest");
    const char *cmd[] = {"httpd", "-f", "-p", "8080", "-h", "/www", NULL};
    wpd_spec_cmd(sp, cmd);
    wpd_spec_file(sp, "/www/index.html", PAGE, strlen(PAGE), 0644);
    wpd_spec_wait(sp, wpd_wait_port("8080")); /* mapped, listening inside, connectable */
    wpd_spec_timeout(sp, 30000);

    wpd_ctr *c = wpd_ctr_run(s, sp, &err); /* any setter error is reported here */
    ck_assert_msg(c, "%s", err.message);

    char *answer = http_get(wpd_ctr_host(c), wpd_ctr_port(c, "8080"), "/index.html");
    ck_assert_ptr_nonnull(answer);
    ck_assert_msg(strncmp(answer, "HTTP/1.", 7) == 0 && strncmp(answer + 8, " 200", 4) == 0, "%s",
                  answer);
    ck_assert_ptr_nonnull(strstr(answer, PAGE));
    free(answer);

    wpd_spec_free(sp);
    /* removes the container; had the test crashed, the session's watchdog
     * or the next session's sweep would have */
    ck_assert_msg(wpd_session_close(s, &err) == 0, "%s", err.message);
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("httpd");
    TCase *tc = tcase_create("httpd");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, serves_the_copied_page);
    suite_add_tcase(suite, tc);
    SRunner *sr = srunner_create(suite);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
