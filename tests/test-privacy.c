/* SPDX-License-Identifier: MIT */
/* Secret scrubbing rules, keyed hashes, and the keep/hash/drop policy on real captures. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "harness.h"
#include "otlp.h"
#include "privacy.h"
#include "util.h"

static struct ccr_privacy policy;

/* Each rule of the table with a secret of its shape inside ordinary text. */
static const char *const secrets[] = {
    "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
    "sk-live-EXAMPLE0000",
    "sk-proj-abcdefghijklmnop1234",
    "sk_live_51HzAbCdEfGhIjKlMn",
    "rk_test_51HzAbCdEfGhIjKlMn",
    "AKIAIOSFODNN7EXAMPLE",
    "ASIAIOSFODNN7EXAMPLE",
    "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    "gho_abcdefghijklmnopqrstuvwxyz0123456789",
    "github_pat_11ABCDEFG0123456789_abcdefghijklmnop",
    "glpat-abcdefghijklmnopqrst",
    "xoxb-123456789012-abcdefghij",
    "xapp-1-A0123456789-abcdef",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----",
    "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n"
    "-----END OPENSSH PRIVATE KEY-----",
};

/* Text that looks close to a secret but is not one. */
static const char *const harmless[] = {
    "task-management-system and skeleton keys",
    "ask-me-anything",
    "use sk-learn for this",
    "AKIA1234",
    "the bearer of bad news",
    "https://example.com/path:8080@home",
    "eyJhbGciOiJIUzI1NiJ9 alone",
    "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
    "Grüße, 世界 👋",
};

static void scrub_replaces_every_rule(void)
{
    for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
        char *text = ccr_xasprintf("before %s after", secrets[i]);
        char *clean = ccr_privacy_scrub(&policy, text);
        if (clean == NULL) {
            CCR_FAIL("not scrubbed: %s", secrets[i]);
            free(text);
            continue;
        }
        ASSERT_TRUE(strstr(clean, secrets[i]) == NULL);
        ASSERT_TRUE(strncmp(clean, "before [secret:", 15) == 0);
        ASSERT_TRUE(strstr(clean, "] after") != NULL);
        free(clean);
        free(text);
    }
}

static void scrub_leaves_harmless_text(void)
{
    for (size_t i = 0; i < sizeof(harmless) / sizeof(harmless[0]); i++) {
        char *clean = ccr_privacy_scrub(&policy, harmless[i]);
        if (clean != NULL) {
            CCR_FAIL("scrubbed harmless text: %s -> %s", harmless[i], clean);
            free(clean);
        }
    }
}

static void scrub_keeps_scheme_and_user(void)
{
    char *clean = ccr_privacy_scrub(&policy, "git clone https://bob:hunter2pass@git.example.com/r");
    char *bearer = ccr_privacy_scrub(&policy, "Authorization: Bearer abcdefghijklmnopqrstuvwxyz");

    ASSERT_TRUE(clean != NULL && strncmp(clean, "git clone https://bob:[secret:", 30) == 0);
    ASSERT_TRUE(clean != NULL && strstr(clean, "hunter2pass") == NULL);
    ASSERT_TRUE(clean != NULL && strstr(clean, "]@git.example.com/r") != NULL);
    ASSERT_TRUE(bearer != NULL && strncmp(bearer, "Authorization: Bearer [secret:", 30) == 0);
    free(clean);
    free(bearer);

    static const char *const hidden[][2] = {
        {"redis://:hunter2pass@cache:6379", "hunter2pass"},
        {"https://bob:pa/ss@wo rd@host", "pa/ss"},
        {"https://bob:p@ss@host/x", "p@ss"},
        {"Authorization: Bearer\tabcdefghijklmnopqrstuvwxyz", "abcdefghijklmnopqrstuvwxyz"},
        {"Authorization: Bearer   abcdefghijklmnopqrstuvwxyz", "abcdefghijklmnopqrstuvwxyz"},
    };
    for (size_t i = 0; i < sizeof(hidden) / sizeof(hidden[0]); i++) {
        char *c = ccr_privacy_scrub(&policy, hidden[i][0]);
        if (c == NULL || strstr(c, hidden[i][1]) != NULL) {
            CCR_FAIL("%s kept %s: %s", hidden[i][0], hidden[i][1], c ? c : "(unchanged)");
        }
        free(c);
    }
}

/*
 * Fuzz-style: secrets dropped at random places into random printable text.
 * Whatever surrounds them, none may survive.
 */
static void scrub_finds_secrets_in_random_text(void)
{
    static const char alphabet[] = "abcdefghij klmnop/:.,;=@-_ \n\tXYZ0123456789{}\"";

    for (int round = 0; round < 2000; round++) {
        struct ccr_buf b = {0};
        const char *secret = secrets[randombytes_uniform(sizeof(secrets) / sizeof(secrets[0]))];
        size_t before = randombytes_uniform(40);
        size_t after = randombytes_uniform(40);
        for (size_t i = 0; i < before; i++) {
            ccr_buf_append(&b, &alphabet[randombytes_uniform(sizeof(alphabet) - 1)], 1);
        }
        /* A separator keeps the secret from gluing onto a preceding word. */
        ccr_buf_append(&b, " ", 1);
        ccr_buf_append(&b, secret, strlen(secret));
        ccr_buf_append(&b, " ", 1);
        for (size_t i = 0; i < after; i++) {
            ccr_buf_append(&b, &alphabet[randombytes_uniform(sizeof(alphabet) - 1)], 1);
        }
        char *clean = ccr_privacy_scrub(&policy, ccr_buf_cstr(&b));
        if (clean == NULL || strstr(clean, secret) != NULL) {
            CCR_FAIL("secret survived in: %s", ccr_buf_cstr(&b));
        }
        free(clean);
        ccr_buf_finish(&b);
    }
}

static void hash_depends_on_key_only(void)
{
    struct ccr_privacy other = policy;
    char a[65], b[65], c[65];

    ccr_privacy_hash_hex(&policy, "same prompt", 11, a);
    ccr_privacy_hash_hex(&policy, "same prompt", 11, b);
    other.key[0] ^= 1;
    ccr_privacy_hash_hex(&other, "same prompt", 11, c);
    ASSERT_STR_EQ(a, b);
    ASSERT_TRUE(strcmp(a, c) != 0);
    ASSERT_INT_EQ(strlen(a), 64);
}

static struct ccr_otlp_request load(const char *scenario)
{
    const char *dir = getenv("CCR_TEST_DATA");
    char *path = ccr_xasprintf("%s/%s/01-logs.pb", dir ? dir : "tests/data", scenario);
    FILE *f = fopen(path, "rb");
    static uint8_t body[1 << 16];
    size_t n = f ? fread(body, 1, sizeof(body), f) : 0;
    struct ccr_otlp_request req;

    if (f != NULL) {
        fclose(f);
    }
    ASSERT_TRUE(n > 0);
    ASSERT_INT_EQ(ccr_otlp_decode_protobuf(CCR_SIGNAL_LOGS, body, n, &req), 0);
    free(path);
    return req;
}

/* Every attribute of every record as one JSON text, to search. */
static char *dump_logs(const struct ccr_otlp_request *req)
{
    json_t *all = json_array();
    ccr_otlp_scope_logs *sl = req->logs->resource_logs[0]->scope_logs[0];

    for (size_t i = 0; i < sl->n_log_records; i++) {
        json_array_append_new(all, ccr_otlp_attrs_json(sl->log_records[i]->attributes,
                                                       sl->log_records[i]->n_attributes));
    }
    char *s = json_dumps(all, JSON_COMPACT);
    json_decref(all);
    return s;
}

static void policy_on_logged_prompt(enum ccr_mode prompts, enum ccr_mode details, char **out)
{
    struct ccr_otlp_request req = load("k2-prompt-logged-unicode");
    struct ccr_privacy p = policy;

    p.prompts = prompts;
    p.tool_details = details;
    ccr_privacy_apply(&p, &req);
    *out = dump_logs(&req);
    ccr_otlp_request_finish(&req);
}

static void hash_mode_leaves_no_prompt_or_secret(void)
{
    char *s;

    policy_on_logged_prompt(CCR_MODE_HASH, CCR_MODE_HASH, &s);
    ASSERT_TRUE(strstr(s, "sk-live-EXAMPLE0000") == NULL);
    ASSERT_TRUE(strstr(s, "Deploy with key") == NULL);
    ASSERT_TRUE(strstr(s, "Grüße") == NULL);
    ASSERT_TRUE(strstr(s, "\"prompt_hash\":\"") != NULL);
    ASSERT_TRUE(strstr(s, "\"prompt_length\":\"57\"") != NULL);
    free(s);
}

static void keep_mode_scrubs_the_secret(void)
{
    char *s;

    policy_on_logged_prompt(CCR_MODE_KEEP, CCR_MODE_KEEP, &s);
    ASSERT_TRUE(strstr(s, "sk-live-EXAMPLE0000") == NULL);
    ASSERT_TRUE(strstr(s, "Deploy with key [secret:") != NULL);
    ASSERT_TRUE(strstr(s, "Grüße, 世界 👋") != NULL);
    free(s);
}

static void drop_mode_keeps_only_the_length(void)
{
    char *s;

    policy_on_logged_prompt(CCR_MODE_DROP, CCR_MODE_DROP, &s);
    ASSERT_TRUE(strstr(s, "\"prompt\"") == NULL);
    ASSERT_TRUE(strstr(s, "prompt_hash") == NULL);
    ASSERT_TRUE(strstr(s, "tool_parameters") == NULL);
    ASSERT_TRUE(strstr(s, "tool_input\"") == NULL);
    ASSERT_TRUE(strstr(s, "\"prompt_length\":\"57\"") != NULL);
    ASSERT_TRUE(strstr(s, "tool_input_size_bytes") != NULL);
    free(s);
}

static void hashed_tool_details_keep_the_program_name(void)
{
    struct ccr_otlp_request req = load("c-multi-tool");
    struct ccr_privacy p = policy;

    p.tool_details = CCR_MODE_HASH;
    ccr_privacy_apply(&p, &req);
    char *s = dump_logs(&req);
    ASSERT_TRUE(strstr(s, "\\\"bash_command\\\":\\\"grep\\\"") != NULL);
    ASSERT_TRUE(strstr(s, "\\\"full_command\\\":\\\"grep #") != NULL);
    ASSERT_TRUE(strstr(s, "README.md") == NULL || strstr(s, "hello README.md") == NULL);
    ASSERT_TRUE(strstr(s, "grep -n hello") == NULL);
    free(s);
    ccr_otlp_request_finish(&req);
}

static void redacted_prompt_stays_redacted(void)
{
    struct ccr_otlp_request req = load("k1-prompt-redacted-unicode");
    struct ccr_privacy p = policy;

    p.prompts = CCR_MODE_HASH;
    ccr_privacy_apply(&p, &req);
    char *s = dump_logs(&req);
    ASSERT_TRUE(strstr(s, "\"prompt\":\"<REDACTED>\"") != NULL);
    ASSERT_TRUE(strstr(s, "prompt_hash") == NULL);
    free(s);
    ccr_otlp_request_finish(&req);
}

static void command_arguments_follow_the_prompt_policy(void)
{
    struct ccr_privacy p = policy;
    char *a;

    p.prompts = CCR_MODE_HASH;
    a = ccr_privacy_argument(&p, "fix the failing test");
    ASSERT_TRUE(a[0] == '#' && strlen(a) == 17);
    free(a);
    a = ccr_privacy_argument(&p, "--allowedTools");
    ASSERT_STR_EQ(a, "--allowedTools");
    free(a);
    p.prompts = CCR_MODE_DROP;
    a = ccr_privacy_argument(&p, "fix the failing test");
    ASSERT_STR_EQ(a, "[dropped]");
    free(a);
    p.prompts = CCR_MODE_KEEP;
    a = ccr_privacy_argument(&p, "use sk-live-EXAMPLE0000 here");
    ASSERT_TRUE(strncmp(a, "use [secret:", 12) == 0);
    free(a);
}

/* Text outside the attributes travels upstream too; text that is not UTF-8 is escaped. */
static void scopes_and_invalid_text_are_cleaned(void)
{
    struct ccr_otlp_request req = load("b-bash-ok");
    ccr_otlp_scope_logs *sl = req.logs->resource_logs[0]->scope_logs[0];
    ccr_otlp_log_record *lr = sl->log_records[0];
    ccr_otlp_value *v = lr->attributes[0]->value;

    free(sl->scope->name);
    sl->scope->name = ccr_xstrdup("scope sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWx");
    if (lr->severity_text != protobuf_c_empty_string) {
        free(lr->severity_text);
    }
    lr->severity_text = ccr_xstrdup("Bearer abcdefghijklmnopqrstuvwxyz");
    free(v->string_value);
    v->string_value = ccr_xstrdup("bad \xff\xfe bytes");
    ccr_privacy_apply(&policy, &req);
    ASSERT_TRUE(strstr(sl->scope->name, "sk-ant-") == NULL);
    ASSERT_TRUE(strstr(lr->severity_text, "abcdefghijklmnop") == NULL);
    ASSERT_STR_EQ(v->string_value, "bad \\xff\\xfe bytes");
    ccr_otlp_request_finish(&req);
}

int main(void)
{
    if (sodium_init() < 0) {
        return 1;
    }
    randombytes_buf(policy.key, sizeof(policy.key));
    CCR_RUN(scrub_replaces_every_rule);
    CCR_RUN(scrub_leaves_harmless_text);
    CCR_RUN(scrub_keeps_scheme_and_user);
    CCR_RUN(scrub_finds_secrets_in_random_text);
    CCR_RUN(hash_depends_on_key_only);
    CCR_RUN(hash_mode_leaves_no_prompt_or_secret);
    CCR_RUN(keep_mode_scrubs_the_secret);
    CCR_RUN(drop_mode_keeps_only_the_length);
    CCR_RUN(hashed_tool_details_keep_the_program_name);
    CCR_RUN(redacted_prompt_stays_redacted);
    CCR_RUN(command_arguments_follow_the_prompt_policy);
    CCR_RUN(scopes_and_invalid_text_are_cleaned);
    return CCR_TEST_EXIT();
}
