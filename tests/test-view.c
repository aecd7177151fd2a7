/* SPDX-License-Identifier: MIT */
/* The view subcommands' time and count arguments, in a fixed time zone. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "harness.h"
#include "view.h"

/* 2026-12-03T00:00:00Z. */
#define DEC3_UTC_MS 1796256000000LL

static void view_age_units_convert(void)
{
    int64_t ms = 0;
    char *cause = NULL;

    ASSERT_INT_EQ(ccr_view_parse_age("90d", &ms, &cause), 0);
    ASSERT_INT_EQ(ms, 90LL * 86400000);
    ASSERT_INT_EQ(ccr_view_parse_age("36h", &ms, &cause), 0);
    ASSERT_INT_EQ(ms, 36LL * 3600000);
    ASSERT_INT_EQ(ccr_view_parse_age("2w", &ms, &cause), 0);
    ASSERT_INT_EQ(ms, 14LL * 86400000);
    ASSERT_INT_EQ(ccr_view_parse_age("45s", &ms, &cause), 0);
    ASSERT_INT_EQ(ms, 45000);
}

static void view_age_garbage_fails_with_cause(void)
{
    static const char *const bad[] = {"", "d", "90", "90x", "9d9", "-1d", "99999999999d"};
    int64_t ms;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *cause = NULL;
        ASSERT_INT_EQ(ccr_view_parse_age(bad[i], &ms, &cause), -EINVAL);
        ASSERT_TRUE(cause != NULL);
        free(cause);
    }
}

static void view_since_age_counts_back_from_now(void)
{
    int64_t ms = 0;
    char *cause = NULL;

    ASSERT_INT_EQ(ccr_view_parse_since("7d", 1000000000000LL, &ms, &cause), 0);
    ASSERT_INT_EQ(ms, 1000000000000LL - 7LL * 86400000);
}

static void view_since_date_is_local_midnight(void)
{
    int64_t ms = 0;
    char *cause = NULL;

    /* 2026-12-03 00:00 at UTC+02:00 is 2026-12-02 22:00 UTC. */
    ASSERT_INT_EQ(ccr_view_parse_since("2026-12-03", 0, &ms, &cause), 0);
    ASSERT_INT_EQ(ms, DEC3_UTC_MS - 2 * 3600000);
    ASSERT_INT_EQ(ccr_view_parse_since("2026-12-03T14:30", 0, &ms, &cause), 0);
    ASSERT_INT_EQ(ms, DEC3_UTC_MS + 12 * 3600000 + 30 * 60000);
    ASSERT_INT_EQ(ccr_view_parse_since("2026-12-03 14:30:05", 0, &ms, &cause), 0);
    ASSERT_INT_EQ(ms, DEC3_UTC_MS + 12 * 3600000 + 30 * 60000 + 5000);
    ASSERT_INT_EQ(ccr_view_parse_since("2026-12-03x", 0, &ms, &cause), -EINVAL);
    ASSERT_TRUE(cause != NULL);
    free(cause);
}

static void view_count_takes_digits_only(void)
{
    int64_t n = 0;
    char *cause = NULL;

    ASSERT_INT_EQ(ccr_view_parse_count("0", &n, &cause), 0);
    ASSERT_INT_EQ(n, 0);
    ASSERT_INT_EQ(ccr_view_parse_count("250", &n, &cause), 0);
    ASSERT_INT_EQ(n, 250);
    ASSERT_INT_EQ(ccr_view_parse_count("2x", &n, &cause), -EINVAL);
    free(cause);
}

int main(int argc, char **argv)
{
    /* A zone without daylight saving time, east of UTC, so the dates above are fixed. */
    setenv("TZ", "UTC-2", 1);
    tzset();
    CCR_RUN(view_age_units_convert);
    CCR_RUN(view_age_garbage_fails_with_cause);
    CCR_RUN(view_since_age_counts_back_from_now);
    CCR_RUN(view_since_date_is_local_midnight);
    CCR_RUN(view_count_takes_digits_only);
    return CCR_TEST_EXIT();
}
