/* SPDX-License-Identifier: MIT */
/* The price table: parsing, lookup, the long-context tier, and re-pricing recorded events. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "harness.h"
#include "otlp.h"
#include "price.h"
#include "record.h"
#include "store.h"
#include "util.h"

static void flag_parses_two_to_four_figures(void)
{
    struct ccr_price p;
    char *cause = NULL;

    ASSERT_INT_EQ(ccr_price_parse_flag("glm-4.7=0.60/2.20/0.11", &p, &cause), 0);
    ASSERT_STR_EQ(p.pattern, "glm-4.7");
    ASSERT_DOUBLE_NEAR(p.usd[CCR_TOKENS_CACHE_READ], 0.11, 1e-12);
    ASSERT_DOUBLE_NEAR(p.usd[CCR_TOKENS_CACHE_WRITE], 0, 1e-12);
    ccr_price_finish(&p);
    static const char *const bad[] = {"glm-4.7", "=1/2", "glm=1", "glm=1/x", "glm=1/2/3/4/5",
                                      "glm=-1/2", "glm=1//2"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (ccr_price_parse_flag(bad[i], &p, &cause) != -EINVAL) {
            CCR_FAIL("accepted --price %s", bad[i]);
            ccr_price_finish(&p);
        }
        free(cause);
        cause = NULL;
    }
}

static void exact_name_beats_glob_and_later_entries_replace(void)
{
    struct ccr_prices t = {0};
    struct ccr_price p;
    char *cause = NULL;

    ccr_price_parse_flag("glm-4.5*=1/1", &p, &cause);
    ccr_prices_put(&t, &p);
    ccr_price_parse_flag("glm-4.5-air=2/2", &p, &cause);
    ccr_prices_put(&t, &p);
    ccr_price_parse_flag("glm-4.5*=3/3", &p, &cause);
    ccr_prices_put(&t, &p);
    ASSERT_INT_EQ(t.n, 2);
    ASSERT_DOUBLE_NEAR(ccr_prices_find(&t, "glm-4.5-air")->usd[0], 2, 0);
    ASSERT_DOUBLE_NEAR(ccr_prices_find(&t, "glm-4.5-x")->usd[0], 3, 0);
    ASSERT_TRUE(ccr_prices_find(&t, "claude-opus-4-8") == NULL);
    ASSERT_TRUE(ccr_prices_find(&t, NULL) == NULL);
    ccr_prices_finish(&t);
}

static void long_tier_applies_to_the_whole_request(void)
{
    struct ccr_price p = {.usd = {1, 2, 0.5, 1}, .long_threshold = 6000, .long_usd = {2, 4, 1, 2}};
    const int64_t over[4] = {1200, 40, 5000, 300};
    const int64_t under[4] = {700, 40, 5000, 300}; /* exactly at the threshold */

    ASSERT_DOUBLE_NEAR(ccr_price_cost(&p, over), 0.00816, 1e-12);
    ASSERT_DOUBLE_NEAR(ccr_price_cost(&p, under), 0.00358, 1e-12);
}

static void builtin_table_parses(void)
{
    struct ccr_config c = {0};

    ccr_config_builtin_prices(&c);
    ASSERT_TRUE(c.prices.n >= 5);
    const struct ccr_price *glm = ccr_prices_find(&c.prices, "glm-4.7");
    ASSERT_TRUE(glm != NULL && glm->source != NULL && glm->taken != NULL);
    ASSERT_TRUE(glm != NULL && strcmp(glm->origin, "built-in") == 0);
    ccr_config_finish(&c);
}

static void bad_config_names_its_line(void)
{
    char path[] = "/tmp/ccrun-test-price-XXXXXX";
    int fd = mkstemp(path);
    const char text[] = "[privacy]\nprompts = hash\n[price x]\ninput = 1\noutput = lots\n";
    struct ccr_config c = {0};
    char *warning = NULL;
    char *cause = NULL;

    ASSERT_TRUE(fd >= 0 && write(fd, text, sizeof(text) - 1) == (ssize_t)sizeof(text) - 1);
    close(fd);
    ASSERT_INT_EQ(ccr_config_load(path, &c, &warning, &cause), -EINVAL);
    ASSERT_TRUE(cause != NULL && strstr(cause, "line 5") != NULL);
    ASSERT_STR_EQ(c.prompts, "hash");
    free(cause);
    free(warning);
    ccr_config_finish(&c);
    unlink(path);
}

/* An api_request event built by hand, without cost_usd when cost is negative. */
static void add_request(struct ccr_recorder *rec, const char *model, double cost, int seq)
{
    ccr_otlp_value vals[8];
    ccr_otlp_kv kvs[8];
    ccr_otlp_kv *kvp[8];
    const char *keys[] = {"event.name", "model", "session.id", "event.sequence",
                          "input_tokens", "output_tokens", "cache_read_tokens", "cost_usd"};
    size_t n = cost < 0 ? 7 : 8;

    for (size_t i = 0; i < 8; i++) {
        opentelemetry__proto__common__v1__any_value__init(&vals[i]);
        opentelemetry__proto__common__v1__key_value__init(&kvs[i]);
        kvs[i].key = (char *)keys[i];
        kvs[i].value = &vals[i];
        kvp[i] = &kvs[i];
    }
    for (size_t i = 0; i < 3; i++) {
        vals[i].value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
    }
    vals[0].string_value = (char *)"api_request";
    vals[1].string_value = (char *)model;
    vals[2].string_value = (char *)"s1";
    for (size_t i = 3; i < 7; i++) {
        vals[i].value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE;
    }
    vals[3].int_value = seq;
    vals[4].int_value = 1000000;
    vals[5].int_value = 1000000;
    vals[6].int_value = 0;
    vals[7].value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE;
    vals[7].double_value = cost;

    ccr_otlp_log_record lr;
    opentelemetry__proto__logs__v1__log_record__init(&lr);
    lr.time_unix_nano = 1000 + (uint64_t)seq;
    lr.attributes = kvp;
    lr.n_attributes = n;
    ccr_otlp_log_record *lrp = &lr;
    ccr_otlp_scope_logs sl;
    opentelemetry__proto__logs__v1__scope_logs__init(&sl);
    sl.log_records = &lrp;
    sl.n_log_records = 1;
    ccr_otlp_scope_logs *slp = &sl;
    ccr_otlp_resource_logs rl;
    opentelemetry__proto__logs__v1__resource_logs__init(&rl);
    rl.scope_logs = &slp;
    rl.n_scope_logs = 1;
    ccr_otlp_resource_logs *rlp = &rl;
    ccr_otlp_logs_request logs;
    opentelemetry__proto__collector__v1__export_logs_service_request__init(&logs);
    logs.resource_logs = &rlp;
    logs.n_resource_logs = 1;
    struct ccr_otlp_request req = {.signal = CCR_SIGNAL_LOGS, .logs = &logs};
    ASSERT_INT_EQ(ccr_record_request(rec, &req), 0);
}

static void recorded_requests_are_repriced_estimated_or_unknown(void)
{
    char dir[] = "/tmp/ccrun-test-price-XXXXXX";
    struct ccr_store *st = NULL;
    struct ccr_prices t = {0};
    struct ccr_price p;
    struct ccr_recorder rec;
    struct ccr_summary s;
    char *cause = NULL;
    int64_t run;

    ASSERT_TRUE(mkdtemp(dir) != NULL);
    char *db = ccr_xasprintf("%s/h.db", dir);
    ASSERT_INT_EQ(ccr_store_open(db, false, &st, &cause), 0);
    ASSERT_INT_EQ(ccr_store_run_start(st, "[]", "/", 1, "https://api.z.ai/api/anthropic", &run), 0);
    ccr_price_parse_flag("glm-4.7=0.5/2", &p, &cause);
    ccr_prices_put(&t, &p);
    ccr_recorder_init(&rec, st, run);
    rec.prices = &t;
    add_request(&rec, "glm-4.7", 30.0, 1); /* reported at Claude prices */
    add_request(&rec, "glm-4.7", -1, 2);   /* no cost reported: estimated */
    add_request(&rec, "mystery", -1, 3);   /* no cost, no price: unknown */
    ASSERT_INT_EQ(ccr_store_summary(st, run, &s), 0);
    ASSERT_DOUBLE_NEAR(s.cost_usd, 5.0, 1e-9);
    ASSERT_DOUBLE_NEAR(s.reported_cost_usd, 30.0, 1e-9);
    ASSERT_INT_EQ(s.priced_requests, 2);
    ASSERT_INT_EQ(s.estimated_requests, 1);
    ASSERT_INT_EQ(s.unknown_cost_requests, 1);
    ASSERT_STR_EQ(s.api_base_url, "https://api.z.ai/api/anthropic");
    ccr_summary_finish(&s);
    ccr_recorder_finish(&rec);
    ccr_prices_finish(&t);
    ccr_store_close(st);
    char *rm = ccr_xasprintf("rm -rf '%s'", dir);
    ASSERT_INT_EQ(system(rm), 0);
    free(rm);
    free(db);
}

int main(void)
{
    CCR_RUN(flag_parses_two_to_four_figures);
    CCR_RUN(exact_name_beats_glob_and_later_entries_replace);
    CCR_RUN(long_tier_applies_to_the_whole_request);
    CCR_RUN(builtin_table_parses);
    CCR_RUN(bad_config_names_its_line);
    CCR_RUN(recorded_requests_are_repriced_estimated_or_unknown);
    return CCR_TEST_EXIT();
}
