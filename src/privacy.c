/* SPDX-License-Identifier: MIT */
/* Secret scrubbing and the keep/hash/drop policy, applied to decoded OTLP in place. */
#include "privacy.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "util.h"

#define REDACTED "<REDACTED>"
/* Tool details in hash mode keep 64 bits of the hash: enough to tell values apart. */
#define SHORT_HASH 16
#define MAX_JSON_DEPTH 16

/* Character classes a secret's body is made of. */
enum cls {
    CLS_TOKEN,    /* A-Z a-z 0-9 _ - */
    CLS_UPPERNUM, /* A-Z 0-9 */
    CLS_ALNUM,    /* A-Z a-z 0-9 */
    CLS_BEARER,   /* A-Z a-z 0-9 - . _ ~ + / = */
};

struct match {
    size_t len;  /* bytes of the secret from where its prefix starts */
    size_t keep; /* leading bytes left in clear (a scheme, "Bearer ") */
};

typedef bool (*match_fn)(const char *s, size_t len, struct match *m);

/*
 * The secret shapes. A rule matches its prefix (case-insensitively when
 * icase), not right after a letter or digit when boundary is set, then a
 * body of at least min (at most max, when set) characters of its class; or
 * its own function decides. Order matters: the first rule that matches wins.
 */
struct rule {
    const char *name;
    const char *prefix;
    bool icase;
    bool boundary;
    enum cls cls;
    size_t min;
    size_t max;
    match_fn fn;
};

static bool match_jwt(const char *s, size_t len, struct match *m);
static bool match_pem(const char *s, size_t len, struct match *m);
static bool match_url_password(const char *s, size_t len, struct match *m);
static bool match_bearer(const char *s, size_t len, struct match *m);

static const struct rule rules[] = {
    {"anthropic-key", "sk-ant-", false, true, CLS_TOKEN, 20, 0, NULL},
    {"secret-key", "sk-", false, true, CLS_TOKEN, 12, 0, NULL},
    {"secret-key", "sk_", false, true, CLS_TOKEN, 12, 0, NULL},
    {"restricted-key", "rk_", false, true, CLS_TOKEN, 12, 0, NULL},
    {"aws-access-key", "AKIA", false, true, CLS_UPPERNUM, 16, 16, NULL},
    {"aws-temporary-key", "ASIA", false, true, CLS_UPPERNUM, 16, 16, NULL},
    {"github-token", "ghp_", false, true, CLS_ALNUM, 30, 0, NULL},
    {"github-token", "gho_", false, true, CLS_ALNUM, 30, 0, NULL},
    {"github-token", "ghu_", false, true, CLS_ALNUM, 30, 0, NULL},
    {"github-token", "ghs_", false, true, CLS_ALNUM, 30, 0, NULL},
    {"github-token", "ghr_", false, true, CLS_ALNUM, 30, 0, NULL},
    {"github-pat", "github_pat_", false, true, CLS_TOKEN, 20, 0, NULL},
    {"gitlab-token", "glpat-", false, true, CLS_TOKEN, 20, 0, NULL},
    {"slack-token", "xoxb-", false, true, CLS_TOKEN, 10, 0, NULL},
    {"slack-token", "xoxp-", false, true, CLS_TOKEN, 10, 0, NULL},
    {"slack-token", "xoxa-", false, true, CLS_TOKEN, 10, 0, NULL},
    {"slack-token", "xoxr-", false, true, CLS_TOKEN, 10, 0, NULL},
    {"slack-token", "xoxs-", false, true, CLS_TOKEN, 10, 0, NULL},
    {"slack-app-token", "xapp-", false, true, CLS_TOKEN, 10, 0, NULL},
    {"jwt", "eyJ", false, true, CLS_TOKEN, 0, 0, match_jwt},
    {"bearer", "bearer", true, true, CLS_BEARER, 0, 0, match_bearer},
    {"private-key", "-----BEGIN ", false, false, CLS_TOKEN, 0, 0, match_pem},
    {"url-password", "://", false, false, CLS_TOKEN, 0, 0, match_url_password},
};

static bool in_class(enum cls cls, unsigned char c)
{
    bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');

    switch (cls) {
    case CLS_TOKEN:
        return alnum || c == '_' || c == '-';
    case CLS_UPPERNUM:
        return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    case CLS_ALNUM:
        return alnum;
    case CLS_BEARER:
        return alnum || strchr("-._~+/=", c) != NULL;
    }
    return false;
}

static bool is_word(unsigned char c)
{
    return in_class(CLS_ALNUM, c) || c == '_';
}

static size_t run_of(enum cls cls, const char *s, size_t len)
{
    size_t n = 0;
    while (n < len && in_class(cls, (unsigned char)s[n])) {
        n++;
    }
    return n;
}

/* header.payload.signature, each part base64url, the first starting "eyJ". */
static bool match_jwt(const char *s, size_t len, struct match *m)
{
    size_t at = 0;

    for (int part = 0; part < 3; part++) {
        size_t n = 0;
        while (at + n < len && (is_word((unsigned char)s[at + n]) || s[at + n] == '-')) {
            n++;
        }
        if (n < 8) {
            return false;
        }
        at += n;
        if (part < 2) {
            if (at >= len || s[at] != '.') {
                return false;
            }
            at++;
        }
    }
    m->len = at;
    return true;
}

/* Where needle first occurs in s[from, len), or len. */
static size_t find(const char *s, size_t len, size_t from, const char *needle)
{
    size_t n = strlen(needle);

    for (size_t i = from; i + n <= len; i++) {
        if (memcmp(s + i, needle, n) == 0) {
            return i;
        }
    }
    return len;
}

/* A PEM private key block, to the end of its END line, or of the text. */
static bool match_pem(const char *s, size_t len, struct match *m)
{
    size_t head = find(s, len < 64 ? len : 64, 11, "PRIVATE KEY-----");

    if (head >= len || head >= 64) {
        return false;
    }
    size_t end = find(s, len, head + 16, "-----END ");
    if (end < len) {
        end = find(s, len, end + 9, "-----");
        end = end < len ? end + 5 : len;
    }
    m->len = end;
    return true;
}

/*
 * scheme://user:password@host: only the password is secret. The user may be
 * empty (redis://:pw@host); the password runs to the last '@' of the URL, so
 * one holding '/' or '@' is caught whole. A port followed by a path with an
 * '@' in it reads as a password too: scrubbing too much is the safe mistake.
 */
static bool match_url_password(const char *s, size_t len, struct match *m)
{
    size_t i = 3;
    size_t end = 3;
    size_t at = 0;

    while (i < len && s[i] != ':' && s[i] != '/' && s[i] != '@' && s[i] > ' ') {
        i++;
    }
    if (i >= len || s[i] != ':') {
        return false;
    }
    size_t pw = i + 1;
    for (end = pw; end < len && (unsigned char)s[end] > ' '; end++) {
        if (s[end] == '@') {
            at = end;
        }
    }
    if (at <= pw) {
        return false;
    }
    m->keep = pw;
    m->len = at;
    return true;
}

/* "Bearer" and any run of blanks, then a credential of at least 16 characters. */
static bool match_bearer(const char *s, size_t len, struct match *m)
{
    size_t i = 6;

    while (i < len && (s[i] == ' ' || s[i] == '\t')) {
        i++;
    }
    size_t body = run_of(CLS_BEARER, s + i, len - i);
    if (i == 6 || body < 16) {
        return false;
    }
    m->keep = i;
    m->len = i + body;
    return true;
}

#define N_RULES (sizeof(rules) / sizeof(rules[0]))

/*
 * Scrubbing runs on every string of every record, so the rules are indexed
 * by the byte their prefix starts with: at each position only the rules that
 * can start there are tried, in table order, and most positions try none.
 */
struct rule_index {
    uint32_t by_first[256]; /* bit r: rules[r] can start with this byte */
    uint32_t boundary;      /* bit r: rules[r] never starts right after a word character */
    uint8_t prefix_len[N_RULES];
};

static const struct rule_index *rule_index(void)
{
    static struct rule_index ix;
    static bool ready;

    _Static_assert(N_RULES <= 32, "one bit per rule in a uint32_t");
    if (!ready) {
        for (size_t r = 0; r < N_RULES; r++) {
            unsigned char c = (unsigned char)rules[r].prefix[0];
            ix.by_first[c] |= 1u << r;
            if (rules[r].icase && c >= 'a' && c <= 'z') {
                ix.by_first[c - 'a' + 'A'] |= 1u << r;
            }
            if (rules[r].boundary) {
                ix.boundary |= 1u << r;
            }
            ix.prefix_len[r] = (uint8_t)strlen(rules[r].prefix);
        }
        ready = true;
    }
    return &ix;
}

static bool prefix_at(const struct rule *r, size_t n, const char *s, size_t len)
{
    if (n > len) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char a = s[i];
        if (r->icase && a >= 'A' && a <= 'Z') {
            a = (char)(a - 'A' + 'a');
        }
        if (a != r->prefix[i]) {
            return false;
        }
    }
    return true;
}

/* Whether rule r, whose prefix is plen bytes, matches at s; fills m when it does. */
static bool rule_matches(const struct rule *r, size_t plen, const char *s, size_t len,
                         struct match *m)
{
    if (!prefix_at(r, plen, s, len)) {
        return false;
    }
    m->keep = 0;
    if (r->fn != NULL) {
        return r->fn(s, len, m);
    }
    size_t body = run_of(r->cls, s + plen, len - plen);
    if (body < r->min || (r->max != 0 && body > r->max)) {
        return false;
    }
    if (r->icase) {
        m->keep = plen; /* "Bearer " itself is no secret */
    }
    m->len = plen + body;
    return true;
}

/* ccrun's own token, in whatever wrapping a child echoes it back. */
static bool token_at(const struct ccr_privacy *p, size_t n, const char *s, size_t len,
                     struct match *m)
{
    if (n == 0 || n > len || s[0] != p->token[0] || memcmp(s, p->token, n) != 0) {
        return false;
    }
    m->keep = 0;
    m->len = n;
    return true;
}

void ccr_privacy_hash_hex(const struct ccr_privacy *p, const char *s, size_t len,
                          char out[65])
{
    unsigned char h[32];

    crypto_generichash(h, sizeof(h), (const unsigned char *)s, len, p->key, sizeof(p->key));
    sodium_bin2hex(out, 65, h, sizeof(h));
}

static void append_secret(const struct ccr_privacy *p, struct ccr_buf *b, const char *s,
                          size_t len)
{
    char hex[65];

    ccr_privacy_hash_hex(p, s, len, hex);
    ccr_buf_printf(b, "[secret:%.8s]", hex);
}

char *ccr_privacy_scrub(const struct ccr_privacy *p, const char *s)
{
    const struct rule_index *ix = rule_index();
    struct ccr_buf out = {0};
    size_t len = strlen(s);
    size_t token_len = p->token != NULL ? strlen(p->token) : 0;
    int token_first = token_len > 0 ? (unsigned char)p->token[0] : -1;
    size_t copied = 0;
    bool found = false;

    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)s[i];
        uint32_t cand = ix->by_first[c];
        if (cand == 0 && c != token_first) {
            i++;
            continue;
        }
        if (i > 0 && is_word((unsigned char)s[i - 1])) {
            cand &= ~ix->boundary;
        }
        struct match m = {0};
        bool hit = c == token_first && token_at(p, token_len, s + i, len - i, &m);
        for (size_t r = 0; cand != 0 && !hit; r++, cand >>= 1) {
            if (cand & 1) {
                hit = rule_matches(&rules[r], ix->prefix_len[r], s + i, len - i, &m);
            }
        }
        if (!hit) {
            i++;
            continue;
        }
        found = true;
        ccr_buf_append(&out, s + copied, i + m.keep - copied);
        append_secret(p, &out, s + i + m.keep, m.len - m.keep);
        i += m.len;
        copied = i;
    }
    if (!found) {
        return NULL;
    }
    ccr_buf_append(&out, s + copied, len - copied);
    return (char *)out.data;
}

static char *short_hash(const struct ccr_privacy *p, const char *s, size_t len)
{
    char hex[65];

    ccr_privacy_hash_hex(p, s, len, hex);
    return ccr_xasprintf("#%.*s", SHORT_HASH, hex);
}

/*
 * A command keeps its first word (git, npm) when that word is a plain program
 * name; everything after it, or the whole command otherwise, is hashed.
 */
static char *hash_command(const struct ccr_privacy *p, const char *cmd)
{
    size_t len = strlen(cmd);
    size_t word = 0;

    while (word < len && (in_class(CLS_TOKEN, (unsigned char)cmd[word]) ||
                          strchr("./+", cmd[word]) != NULL)) {
        word++;
    }
    char *first = ccr_xstrndup(cmd, word);
    char *scrubbed = ccr_privacy_scrub(p, first);
    free(first);
    if (word == 0 || scrubbed != NULL || (word < len && cmd[word] != ' ' && cmd[word] != '\t')) {
        free(scrubbed);
        return short_hash(p, cmd, len);
    }
    if (word == len) {
        return ccr_xstrdup(cmd);
    }
    char *rest = short_hash(p, cmd + word + 1, len - word - 1);
    char *out = ccr_xasprintf("%.*s %s", (int)word, cmd, rest);
    free(rest);
    return out;
}

/* Keys whose values name things rather than hold content. */
static bool is_structural_key(const char *key)
{
    static const char *const keys[] = {"bash_command", "subagent_type", "skill", "tool_name",
                                       "model", "mcp_server_name", "mcp_tool_name"};

    for (size_t i = 0; key != NULL && i < sizeof(keys) / sizeof(keys[0]); i++) {
        if (strcmp(key, keys[i]) == 0) {
            return true;
        }
    }
    return false;
}

static json_t *hash_json(const struct ccr_privacy *p, json_t *v, const char *key, int depth)
{
    if (depth > MAX_JSON_DEPTH) {
        return json_null();
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *h;
        if (is_structural_key(key)) {
            h = ccr_privacy_scrub(p, s);
            if (h == NULL) {
                return json_incref(v);
            }
        } else if (key != NULL &&
                   (strcmp(key, "command") == 0 || strcmp(key, "full_command") == 0)) {
            h = hash_command(p, s);
        } else {
            h = short_hash(p, s, json_string_length(v));
        }
        json_t *out = json_string(h);
        free(h);
        return out != NULL ? out : json_null();
    }
    if (json_is_object(v)) {
        json_t *out = json_object();
        const char *k;
        json_t *member;
        json_object_foreach(v, k, member) {
            char *clean = ccr_privacy_scrub(p, k);
            json_object_set_new(out, clean != NULL ? clean : k, hash_json(p, member, k, depth + 1));
            free(clean);
        }
        return out;
    }
    if (json_is_number(v)) {
        /* A number in tool input may be a PIN or an account: it is content too. */
        char *text = json_dumps(v, JSON_ENCODE_ANY);
        json_t *out = json_string_nocheck("");
        if (text != NULL) {
            char *h = short_hash(p, text, strlen(text));
            json_string_set(out, h);
            free(h);
            free(text);
        }
        return out;
    }
    if (json_is_array(v)) {
        json_t *out = json_array();
        size_t i;
        json_t *item;
        json_array_foreach(v, i, item) {
            json_array_append_new(out, hash_json(p, item, key, depth + 1));
        }
        return out;
    }
    return json_incref(v);
}

/* Tool parameters and input are JSON text: keep their shape, hash their contents. */
static char *hash_tool_json(const struct ccr_privacy *p, const char *text)
{
    json_t *doc = json_loads(text, JSON_DECODE_ANY, NULL);

    if (doc == NULL) {
        return short_hash(p, text, strlen(text));
    }
    json_t *hashed = hash_json(p, doc, NULL, 0);
    char *out = json_dumps(hashed, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(hashed);
    json_decref(doc);
    return out != NULL ? out : short_hash(p, text, strlen(text));
}

static void replace_string(char **field, char *s)
{
    if (*field != protobuf_c_empty_string) {
        free(*field);
    }
    *field = s;
}


/*
 * Scrubs a string field of a decoded message in place. Text that is not
 * UTF-8 first becomes its bytes escaped as \xNN, so every view, the JSON
 * outputs and the upstream see the same valid text.
 */
static void scrub_string(const struct ccr_privacy *p, char **field)
{
    if (*field == NULL) {
        return;
    }
    char *escaped = ccr_utf8_escaped(*field);
    if (escaped != NULL) {
        replace_string(field, escaped);
    }
    char *clean = ccr_privacy_scrub(p, *field);
    if (clean != NULL) {
        replace_string(field, clean);
    }
}

static void scrub_value(const struct ccr_privacy *p, ccr_otlp_value *v, int depth)
{
    if (v == NULL || depth > MAX_JSON_DEPTH) {
        return;
    }
    switch (v->value_case) {
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE:
        scrub_string(p, &v->string_value);
        break;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BYTES_VALUE: {
        if (v->bytes_value.len == 0) {
            break;
        }
        /* Bytes are stored as hex, which reads straight back: scrub them as text. */
        char *text = ccr_xstrndup((const char *)v->bytes_value.data, v->bytes_value.len);
        char *clean = strlen(text) == v->bytes_value.len ? ccr_privacy_scrub(p, text) : NULL;
        if (clean != NULL) {
            free(v->bytes_value.data);
            v->bytes_value.data = (uint8_t *)clean;
            v->bytes_value.len = strlen(clean);
        }
        free(text);
        break;
    }
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_ARRAY_VALUE:
        for (size_t i = 0; i < v->array_value->n_values; i++) {
            scrub_value(p, v->array_value->values[i], depth + 1);
        }
        break;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_KVLIST_VALUE:
        for (size_t i = 0; i < v->kvlist_value->n_values; i++) {
            scrub_string(p, &v->kvlist_value->values[i]->key);
            scrub_value(p, v->kvlist_value->values[i]->value, depth + 1);
        }
        break;
    default:
        break;
    }
}

enum content {
    CONTENT_NONE,
    CONTENT_PROMPT,  /* free text typed by the user */
    CONTENT_TEXT,    /* free text written by the model */
    CONTENT_JSON,    /* tool parameters or input, as JSON text */
    CONTENT_COMMAND, /* a shell command line */
};

static enum content content_of(const char *key)
{
    static const struct {
        const char *key;
        enum content content;
    } keys[] = {
        {"prompt", CONTENT_PROMPT},          {"user_prompt", CONTENT_PROMPT},
        {"response", CONTENT_TEXT},          {"tool_parameters", CONTENT_JSON},
        {"tool_input", CONTENT_JSON},        {"full_command", CONTENT_COMMAND},
    };

    for (size_t i = 0; key != NULL && i < sizeof(keys) / sizeof(keys[0]); i++) {
        if (strcmp(key, keys[i].key) == 0) {
            return keys[i].content;
        }
    }
    return CONTENT_NONE;
}

/* Hash mode: the value becomes its hash, under "<key>_hash". */
static void hash_in_place(const struct ccr_privacy *p, ccr_otlp_kv *kv, enum content c)
{
    ccr_otlp_value *v = kv->value;
    const char *s = v->string_value;
    char *hashed;

    if (c == CONTENT_JSON) {
        replace_string(&v->string_value, hash_tool_json(p, s));
        return;
    }
    if (c == CONTENT_COMMAND) {
        replace_string(&v->string_value, hash_command(p, s));
        return;
    }
    char hex[65];
    ccr_privacy_hash_hex(p, s, strlen(s), hex);
    hashed = ccr_xstrdup(hex);
    replace_string(&v->string_value, hashed);
    replace_string(&kv->key, ccr_xasprintf("%s_hash", kv->key));
}

/* Applies the policy to one attribute; returns false when it must be removed. */
static bool apply_kv(const struct ccr_privacy *p, ccr_otlp_kv *kv)
{
    enum content c = content_of(kv->key);
    ccr_otlp_value *v = kv->value;

    scrub_string(p, &kv->key);
    if (c == CONTENT_NONE || v == NULL) {
        scrub_value(p, v, 0);
        return true;
    }
    if (v->value_case != OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE) {
        /* Content in another shape (bytes, a list) cannot be hashed readably: keep or drop. */
        enum ccr_mode mode = c == CONTENT_PROMPT ? p->prompts : p->tool_details;
        if (mode != CCR_MODE_KEEP) {
            return false;
        }
        scrub_value(p, v, 0);
        return true;
    }
    if (strcmp(v->string_value, REDACTED) == 0) {
        return true;
    }
    enum ccr_mode mode = c == CONTENT_PROMPT ? p->prompts : p->tool_details;
    switch (mode) {
    case CCR_MODE_DROP:
        return false;
    case CCR_MODE_HASH:
        hash_in_place(p, kv, c);
        return true;
    case CCR_MODE_KEEP:
        scrub_value(p, v, 0);
        return true;
    }
    return true;
}

/* Applies the policy to every attribute, compacting away the removed ones in one pass. */
static void apply_attrs(const struct ccr_privacy *p, ccr_otlp_kv **kvs, size_t *n)
{
    size_t kept = 0;

    for (size_t i = 0; i < *n; i++) {
        if (apply_kv(p, kvs[i])) {
            kvs[kept++] = kvs[i];
        } else {
            opentelemetry__proto__common__v1__key_value__free_unpacked(kvs[i], NULL);
        }
    }
    *n = kept;
}

static void apply_resource(const struct ccr_privacy *p, ccr_otlp_resource *res)
{
    if (res != NULL) {
        apply_attrs(p, res->attributes, &res->n_attributes);
    }
}

/* The instrumentation scope travels upstream with the records: its text is scrubbed too. */
static void apply_scope(const struct ccr_privacy *p,
                        Opentelemetry__Proto__Common__V1__InstrumentationScope *scope)
{
    if (scope != NULL) {
        scrub_string(p, &scope->name);
        scrub_string(p, &scope->version);
        apply_attrs(p, scope->attributes, &scope->n_attributes);
    }
}

static void apply_logs(const struct ccr_privacy *p, ccr_otlp_logs_request *req)
{
    for (size_t i = 0; i < req->n_resource_logs; i++) {
        ccr_otlp_resource_logs *rl = req->resource_logs[i];
        apply_resource(p, rl->resource);
        scrub_string(p, &rl->schema_url);
        for (size_t j = 0; j < rl->n_scope_logs; j++) {
            ccr_otlp_scope_logs *sl = rl->scope_logs[j];
            apply_scope(p, sl->scope);
            scrub_string(p, &sl->schema_url);
            for (size_t k = 0; k < sl->n_log_records; k++) {
                ccr_otlp_log_record *lr = sl->log_records[k];
                apply_attrs(p, lr->attributes, &lr->n_attributes);
                scrub_value(p, lr->body, 0);
                scrub_string(p, &lr->event_name);
                scrub_string(p, &lr->severity_text);
            }
        }
    }
}

static void apply_metric(const struct ccr_privacy *p, ccr_otlp_metric *m)
{
    scrub_string(p, &m->name);
    scrub_string(p, &m->unit);
    scrub_string(p, &m->description);
    switch (m->data_case) {
    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE:
        for (size_t i = 0; i < m->gauge->n_data_points; i++) {
            ccr_otlp_number_point *dp = m->gauge->data_points[i];
            apply_attrs(p, dp->attributes, &dp->n_attributes);
        }
        break;
    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM:
        for (size_t i = 0; i < m->sum->n_data_points; i++) {
            ccr_otlp_number_point *dp = m->sum->data_points[i];
            apply_attrs(p, dp->attributes, &dp->n_attributes);
        }
        break;
    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM:
        for (size_t i = 0; i < m->histogram->n_data_points; i++) {
            ccr_otlp_histogram_point *dp = m->histogram->data_points[i];
            apply_attrs(p, dp->attributes, &dp->n_attributes);
        }
        break;
    default:
        break;
    }
}

static void apply_metrics(const struct ccr_privacy *p, ccr_otlp_metrics_request *req)
{
    for (size_t i = 0; i < req->n_resource_metrics; i++) {
        ccr_otlp_resource_metrics *rm = req->resource_metrics[i];
        apply_resource(p, rm->resource);
        scrub_string(p, &rm->schema_url);
        for (size_t j = 0; j < rm->n_scope_metrics; j++) {
            ccr_otlp_scope_metrics *sm = rm->scope_metrics[j];
            apply_scope(p, sm->scope);
            scrub_string(p, &sm->schema_url);
            for (size_t k = 0; k < sm->n_metrics; k++) {
                apply_metric(p, sm->metrics[k]);
            }
        }
    }
}

static void apply_traces(const struct ccr_privacy *p, ccr_otlp_traces_request *req)
{
    for (size_t i = 0; i < req->n_resource_spans; i++) {
        Opentelemetry__Proto__Trace__V1__ResourceSpans *rs = req->resource_spans[i];
        apply_resource(p, rs->resource);
        scrub_string(p, &rs->schema_url);
        for (size_t j = 0; j < rs->n_scope_spans; j++) {
            Opentelemetry__Proto__Trace__V1__ScopeSpans *ss = rs->scope_spans[j];
            apply_scope(p, ss->scope);
            scrub_string(p, &ss->schema_url);
            for (size_t k = 0; k < ss->n_spans; k++) {
                apply_attrs(p, ss->spans[k]->attributes, &ss->spans[k]->n_attributes);
                Opentelemetry__Proto__Trace__V1__Span *sp = ss->spans[k];
                scrub_string(p, &sp->name);
                scrub_string(p, &sp->trace_state);
                if (sp->status != NULL) {
                    scrub_string(p, &sp->status->message);
                }
            }
        }
    }
}

void ccr_privacy_apply(const struct ccr_privacy *p, struct ccr_otlp_request *req)
{
    if (req->logs != NULL) {
        apply_logs(p, req->logs);
    }
    if (req->metrics != NULL) {
        apply_metrics(p, req->metrics);
    }
    if (req->traces != NULL) {
        apply_traces(p, req->traces);
    }
}

char *ccr_privacy_argument(const struct ccr_privacy *p, const char *arg)
{
    size_t len = strlen(arg);
    bool free_text = len > 40 || strpbrk(arg, " \t\n") != NULL;

    if (free_text && p->prompts == CCR_MODE_HASH) {
        return short_hash(p, arg, len);
    }
    if (free_text && p->prompts == CCR_MODE_DROP) {
        return ccr_xstrdup("[dropped]");
    }
    char *clean = ccr_privacy_scrub(p, arg);
    return clean != NULL ? clean : ccr_xstrdup(arg);
}

bool ccr_privacy_parse_mode(const char *s, enum ccr_mode *out)
{
    static const char *const names[] = {"keep", "hash", "drop"};

    for (int i = 0; s != NULL && i < 3; i++) {
        if (strcasecmp(s, names[i]) == 0) {
            *out = (enum ccr_mode)i;
            return true;
        }
    }
    return false;
}

const char *ccr_privacy_mode_name(enum ccr_mode mode)
{
    return mode == CCR_MODE_KEEP ? "keep" : mode == CCR_MODE_HASH ? "hash" : "drop";
}

static int read_key(int fd, struct ccr_privacy *p, const char *path, char **cause)
{
    struct stat st;
    ssize_t n = read(fd, p->key, sizeof(p->key));

    if (fstat(fd, &st) < 0 || n != (ssize_t)sizeof(p->key) || st.st_size != (off_t)sizeof(p->key)) {
        *cause = ccr_xasprintf("%s is not a %zu-byte key; remove it to start a new one (old "
                               "hashes will no longer match)", path, sizeof(p->key));
        return -EINVAL;
    }
    if (st.st_uid != geteuid()) {
        *cause = ccr_xasprintf("%s belongs to another user", path);
        return -EPERM;
    }
    fchmod(fd, 0600);
    return 0;
}

/*
 * A new key is written whole to a private temporary file and then linked into
 * place, so a second ccrun starting at the same moment either finds no key or
 * a complete one, never an empty file.
 */
static int create_key(struct ccr_privacy *p, const char *dir, const char *path, char **cause)
{
    char *tmp = ccr_xasprintf("%s/.key-XXXXXX", dir);
    int fd = mkstemp(tmp);
    int rc = 0;

    if (fd < 0) {
        rc = -errno;
        *cause = ccr_xasprintf("create a key in %s: %s", dir, strerror(-rc));
        free(tmp);
        return rc;
    }
    randombytes_buf(p->key, sizeof(p->key));
    if (fchmod(fd, 0600) < 0 || write(fd, p->key, sizeof(p->key)) != (ssize_t)sizeof(p->key) ||
        fsync(fd) < 0) {
        rc = -EIO;
        *cause = ccr_xasprintf("write %s: %s", tmp, strerror(errno));
    } else if (link(tmp, path) < 0) {
        rc = errno == EEXIST ? -EEXIST : -errno;
        if (rc != -EEXIST) {
            *cause = ccr_xasprintf("create %s: %s", path, strerror(-rc));
        }
    }
    close(fd);
    unlink(tmp);
    free(tmp);
    return rc;
}

int ccr_privacy_load_key(struct ccr_privacy *p, const char *dir, char **cause)
{
    char *path = ccr_xasprintf("%s/key", dir);
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    int rc;

    if (fd < 0 && errno == ENOENT) {
        rc = create_key(p, dir, path, cause);
        if (rc != -EEXIST) {
            free(path);
            return rc;
        }
        fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC); /* another ccrun made it first */
    }
    if (fd < 0) {
        rc = -errno;
        *cause = ccr_xasprintf("open %s: %s", path, strerror(-rc));
    } else {
        rc = read_key(fd, p, path, cause);
        close(fd);
    }
    free(path);
    return rc;
}
