/* testutil_private.h - what the files of the test harness (testutil*.c)
 * share among themselves; test programs use testutil.h. */
#ifndef WPDOCK_TESTUTIL_PRIVATE_H
#define WPDOCK_TESTUTIL_PRIVATE_H

/* s itself, or its first 300 bytes and its length when it is longer (for
 * messages); malloc'd. */
char *tu_shorten(const char *s);

#endif
