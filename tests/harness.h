/* SPDX-License-Identifier: MIT */
/* A small test harness: named tests, typed assertions that print both sides. */
#ifndef CCR_TEST_HARNESS_H
#define CCR_TEST_HARNESS_H

#ifdef NDEBUG
#error "tests must be built with assertions"
#endif

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int ccr_test_failures;

#define CCR_FAIL(...)                                                   \
    do {                                                                \
        fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                 \
        fprintf(stderr, __VA_ARGS__);                                   \
        fputc('\n', stderr);                                            \
        ccr_test_failures++;                                            \
    } while (0)

#define ASSERT_TRUE(cond)                                               \
    do {                                                                \
        if (!(cond)) {                                                  \
            CCR_FAIL("assertion failed: %s", #cond);                    \
        }                                                               \
    } while (0)

#define ASSERT_INT_EQ(a, b)                                             \
    do {                                                                \
        long long a_ = (long long)(a), b_ = (long long)(b);             \
        if (a_ != b_) {                                                 \
            CCR_FAIL("%s == %s: %lld != %lld", #a, #b, a_, b_);         \
        }                                                               \
    } while (0)

#define ASSERT_DOUBLE_NEAR(a, b, eps)                                   \
    do {                                                                \
        double a_ = (a), b_ = (b);                                      \
        if (!(fabs(a_ - b_) <= (eps))) {                                \
            CCR_FAIL("%s ~ %s: %.12g != %.12g", #a, #b, a_, b_);        \
        }                                                               \
    } while (0)

#define ASSERT_STR_EQ(a, b)                                             \
    do {                                                                \
        const char *a_ = (a), *b_ = (b);                                \
        if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0) {          \
            CCR_FAIL("%s == %s: \"%s\" != \"%s\"", #a, #b,              \
                     a_ ? a_ : "(null)", b_ ? b_ : "(null)");           \
        }                                                               \
    } while (0)

/* Runs one test function and reports it in the TAP-like form meson shows. */
#define CCR_RUN(fn)                                                     \
    do {                                                                \
        int before_ = ccr_test_failures;                                \
        fn();                                                           \
        printf("%s %s\n", ccr_test_failures == before_ ? "ok" : "FAIL", #fn); \
    } while (0)

#define CCR_TEST_EXIT() (ccr_test_failures == 0 ? 0 : 1)

#endif
