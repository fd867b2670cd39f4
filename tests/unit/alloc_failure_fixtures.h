/* alloc_failure_fixtures.h - the allocation-failure torture the
 * test_alloc_failure* programs share: an operation runs once to count its
 * allocations, then again for every N with the N-th allocation failing;
 * each such run must end in a WPD_ERR_NOMEM error saying "out of memory"
 * (LeakSanitizer, in the sanitizer build, checks nothing is lost). */
#ifndef WPDOCK_TEST_ALLOC_FAILURE_FIXTURES_H
#define WPDOCK_TEST_ALLOC_FAILURE_FIXTURES_H

#include <check.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <wpdock/error.h>

#include "util/buf.h"

typedef int (*op_fn)(const void *arg, wpd_error *err);

/* must_succeed: the operation itself (no allocation failing) returns 0. */
static inline void torture(const char *what, op_fn op, const void *arg, bool must_succeed)
{
    wpd_error err;
    wpd_error_clear(&err);
    wpd_alloc_fail_nth(LONG_MAX);
    int baseline = op(arg, &err);
    long total = wpd_alloc_count();
    wpd_alloc_fail_nth(0);
    ck_assert_msg(!must_succeed || baseline == 0, "%s: does not succeed: %s", what, err.message);
    ck_assert_msg(total > 0, "%s: no allocations counted", what);
    for (long n = 1; n <= total; n++) {
        wpd_error_clear(&err);
        wpd_alloc_fail_nth(n);
        int rc = op(arg, &err);
        long seen = wpd_alloc_count();
        wpd_alloc_fail_nth(0);
        ck_assert_msg(seen >= n, "%s: run %ld made only %ld allocations", what, n, seen);
        ck_assert_msg(rc != 0 && err.kind == WPD_ERR_NOMEM,
                      "%s: allocation %ld of %ld failed, yet the result was %d (%s), not an "
                      "out-of-memory error (baseline %d)",
                      what, n, total, rc, err.message, baseline);
        ck_assert_msg(strstr(err.message, "out of memory"), "%s: message \"%s\"", what,
                      err.message);
    }
}

#endif
