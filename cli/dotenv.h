/* dotenv.h - `.env` files with godotenv's rules, as the Go Woodpecker agent
 * loads them at start: KEY=VALUE (or KEY: VALUE) statements, an optional
 * `export ` prefix, `#` comment lines, blank lines, values unquoted
 * (trimmed, ` #` starts a comment), in single quotes (literal) or double
 * quotes (\n and \r become newline and carriage return, any other \X is X).
 * Quoted values may span lines. No $VAR expansion. */
#ifndef WPDOCK_CLI_DOTENV_H
#define WPDOCK_CLI_DOTENV_H

#include <stddef.h>

typedef struct dotenv_entry {
    char *key;
    char *value;
    size_t line; /* 1-based line the statement starts on */
} dotenv_entry;

/* Parse text[0..len). 0 with *out (*n entries, in file order, a key given
 * twice appears twice), or -1 with *err_line the 1-based line of the first
 * malformed statement and msg saying what is wrong with it. */
int dotenv_parse(const char *text, size_t len, dotenv_entry **out, size_t *n, size_t *err_line,
                 char *msg, size_t msglen);
/* Frees the entries, wiping the values first (they may be secrets). */
void dotenv_free(dotenv_entry *v, size_t n);

/* Load `path` into the environment: a variable already set (even to "")
 * is left as it is; for a key given twice the last one wins. 1 when there
 * is no such file, 0 when loaded, -1 with msg set ("PATH:LINE: what", or
 * why the file cannot be read). */
int dotenv_load(const char *path, char *msg, size_t msglen);

#endif
