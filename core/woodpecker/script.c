/* script.c - generate the POSIX step script and its CI_SCRIPT encoding. */
#include "woodpecker/script.h"

#include <string.h>

#include "util/base64.h"

const char *const wpd_script_entrypoint[3] = {
    WPD_SCRIPT_ENTRYPOINT_SHELL,
    "-c",
    "echo $CI_SCRIPT | base64 -d | /bin/sh -e",
};

static const char script_header[] = "\n"
                                    "if [ -n \"$CI_NETRC_MACHINE\" ]; then\n"
                                    "cat <<EOF > $HOME/.netrc\n"
                                    "machine $CI_NETRC_MACHINE\n"
                                    "login $CI_NETRC_USERNAME\n"
                                    "password $CI_NETRC_PASSWORD\n"
                                    "EOF\n"
                                    "chmod 0600 $HOME/.netrc\n"
                                    "fi\n"
                                    "unset CI_NETRC_USERNAME\n"
                                    "unset CI_NETRC_PASSWORD\n"
                                    "unset CI_SCRIPT\n";

static int is_safe(unsigned char c)
{
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
        return 1;
    return c != '\0' && strchr("_@%+=:,./-", c) != NULL;
}

void wpd_shell_quote(wpd_buf *out, const char *s)
{
    if (!s || !*s) {
        wpd_buf_append(out, "''", 2);
        return;
    }
    const unsigned char *p = (const unsigned char *)s;
    while (*p && is_safe(*p))
        p++;
    if (!*p) {
        wpd_buf_puts(out, s);
        return;
    }
    wpd_buf_putc(out, '\'');
    const char *run = s;
    const char *q;
    while ((q = strchr(run, '\'')) != NULL) {
        wpd_buf_append(out, run, (size_t)(q - run));
        wpd_buf_append(out, "'\"'\"'", 5);
        run = q + 1;
    }
    wpd_buf_puts(out, run);
    wpd_buf_putc(out, '\'');
}

static void build(wpd_buf *b, const char *const *commands, size_t n, const char *working_dir)
{
    const char *w = working_dir ? working_dir : "";
    wpd_buf_append(b, script_header, sizeof script_header - 1);
    wpd_buf_printf(b, "mkdir -p \"%s\"\ncd \"%s\"\n", w, w);
    for (size_t i = 0; i < n; i++) {
        const char *c = commands[i] ? commands[i] : "";
        wpd_buf_puts(b, "\necho + ");
        wpd_shell_quote(b, c);
        wpd_buf_putc(b, '\n');
        wpd_buf_puts(b, c);
        wpd_buf_putc(b, '\n');
    }
}

char *wpd_script_posix(const char *const *commands, size_t n, const char *working_dir)
{
    wpd_buf b = WPD_BUF_INIT;
    build(&b, commands, n, working_dir);
    return wpd_buf_steal(&b);
}

char *wpd_script_ci_script(const char *const *commands, size_t n, const char *working_dir)
{
    wpd_buf b = WPD_BUF_INIT;
    build(&b, commands, n, working_dir);
    char *enc = wpd_base64_encode(b.data, b.len);
    wpd_buf_free(&b);
    return enc;
}
