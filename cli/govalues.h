/* govalues.h - option values read the way the Go Woodpecker agent reads
 * them: booleans as strconv.ParseBool, durations as time.ParseDuration,
 * integers, and label lists ("k=v,k2=v2") as its SliceToMap. Pure: no I/O,
 * no environment. */
#ifndef WPDOCK_CLI_GOVALUES_H
#define WPDOCK_CLI_GOVALUES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* 1 t T TRUE true True / 0 f F FALSE false False. 0, or -1 for anything else. */
int go_parse_bool(const char *s, bool *out);

/* A decimal integer with an optional sign that fits in a long. 0, or -1. */
int go_parse_int(const char *s, long *out);

/* "1h2m3.5s", "500ms", "-1.5h", "0" (units ns us µs μs ms s m h) into
 * nanoseconds, with Go's overflow limits. 0, or -1 with why holding Go's
 * reason: "invalid duration", "missing unit in duration", "unknown unit
 * \"x\" in duration" (x as given, unescaped: print it with the printable
 * helpers). */
int go_parse_duration(const char *s, int64_t *ns, char *why, size_t whylen);

/* Split a comma list of labels ("k=v,k2=v2"; items trimmed of spaces; an
 * empty or all-space list is no label) and check every item: the split is
 * at the first '=', both parts must be non-empty. The items (malloc'd
 * "k=v" strings, NULL-terminated) are appended to *items (*n of them so
 * far). 0, or -1 with errbuf holding "key 'k' does not have a value
 * assigned" or "empty string in slice". */
int go_parse_labels(const char *s, char ***items, size_t *n, char *errbuf, size_t errlen);

#endif
