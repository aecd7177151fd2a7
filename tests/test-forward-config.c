/* SPDX-License-Identifier: MIT */
/* Forwarding settings: endpoints, the one source rule, headers, the branch, and JSON encoding. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "forward-config.h"
#include "harness.h"
#include "otlp-encode.h"
#include "util.h"

static int load(struct ccr_forward_config *fc, const char *const *env,
                const char *flag, const struct ccr_config *config)
{
    struct ccr_forward_sources src = {
        .env = (char *const *)env, .flag_url = flag, .config = config};
    char *warning = NULL;
    char *cause = NULL;
    int rc = ccr_forward_config_init(fc, &src, &warning, &cause);

    free(warning);
    free(cause);
    return rc;
}

static void generic_endpoint_gets_signal_paths_per_signal_used_as_given(void)
{
    const char *env[] = {"OTEL_EXPORTER_OTLP_ENDPOINT=https://u:p@otel.example:4318/",
                   "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT=http://vl:9428/insert/opentelemetry/v1/logs",
                   "OTEL_TRACES_EXPORTER=none", NULL};
    struct ccr_forward_config fc;

    ASSERT_INT_EQ(load(&fc, env, NULL, NULL), 0);
    ASSERT_STR_EQ(fc.targets[CCR_SIGNAL_LOGS].url, "http://vl:9428/insert/opentelemetry/v1/logs");
    ASSERT_STR_EQ(fc.targets[CCR_SIGNAL_METRICS].url, "https://u:p@otel.example:4318/v1/metrics");
    ASSERT_TRUE(fc.targets[CCR_SIGNAL_TRACES].url == NULL);
    ASSERT_STR_EQ(fc.where, "http://vl:9428 and https://otel.example:4318");
    ASSERT_INT_EQ(fc.targets[CCR_SIGNAL_METRICS].timeout_ms, CCR_FORWARD_TIMEOUT_MS);
    ccr_forward_config_finish(&fc);
}

static void headers_split_at_first_equals_and_percent_decoded(void)
{
    const char *env[] = {"OTEL_EXPORTER_OTLP_ENDPOINT=http://c:4318",
                   "OTEL_EXPORTER_OTLP_HEADERS= api-key = a=b%3D , Authorization=Basic%20eA%3d%3d,"
                   "bad%0Aname=x,evil=a%0D%0AX: y,noequals",
                   "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL=http/json",
                   "OTEL_EXPORTER_OTLP_COMPRESSION=gzip", "OTEL_EXPORTER_OTLP_TIMEOUT=2500", NULL};
    struct ccr_forward_config fc;

    ASSERT_INT_EQ(load(&fc, env, NULL, NULL), 0);
    char **h = fc.targets[CCR_SIGNAL_LOGS].headers;
    ASSERT_STR_EQ(h[0], "api-key: a=b=");
    ASSERT_STR_EQ(h[1], "Authorization: Basic eA==");
    ASSERT_TRUE(h[2] == NULL);
    ASSERT_TRUE(!fc.targets[CCR_SIGNAL_LOGS].json && fc.targets[CCR_SIGNAL_METRICS].json);
    ASSERT_TRUE(fc.targets[CCR_SIGNAL_TRACES].gzip);
    ASSERT_INT_EQ(fc.targets[CCR_SIGNAL_LOGS].timeout_ms, 2500);
    ccr_forward_config_finish(&fc);
}

/* Out-of-range numbers are taken as the largest sane value, never wrapped to nothing. */
static void huge_timeout_is_clamped(void)
{
    const char *env[] = {"OTEL_EXPORTER_OTLP_ENDPOINT=http://c:4318",
                         "OTEL_EXPORTER_OTLP_TIMEOUT=99999999999999999999999", NULL};
    struct ccr_forward_config fc;

    ASSERT_INT_EQ(load(&fc, env, NULL, NULL), 0);
    ASSERT_INT_EQ(fc.targets[CCR_SIGNAL_LOGS].timeout_ms, 3600000);
    ccr_forward_config_finish(&fc);
}

static void flag_wins_and_carries_no_headers_from_the_environment(void)
{
    const char *env[] = {"OTEL_EXPORTER_OTLP_ENDPOINT=http://c:4318",
                   "OTEL_EXPORTER_OTLP_HEADERS=x-key=secret", NULL};
    struct ccr_config config = {0};
    struct ccr_forward_config fc;
    char *cause = NULL;

    ASSERT_INT_EQ(ccr_config_load("/dev/null", &config, NULL, &cause), 0);
    ASSERT_INT_EQ(load(&fc, env, "http://other:4318", &config), 0);
    ASSERT_STR_EQ(fc.targets[CCR_SIGNAL_LOGS].url, "http://other:4318/v1/logs");
    ASSERT_TRUE(fc.targets[CCR_SIGNAL_LOGS].headers[0] == NULL);
    ccr_forward_config_finish(&fc);
    ccr_config_finish(&config);
}

static void config_section_is_used_when_the_environment_names_no_endpoint(void)
{
    char path[] = "/tmp/ccrun-test-forward-XXXXXX";
    int fd = mkstemp(path);
    const char *text = "[forward]\nendpoint = http://team:4318\nheaders = k=v\n"
                       "metrics_protocol = http/json\ndeadline = 750\nqueue_mib = 2\n";
    struct ccr_config config = {0};
    struct ccr_forward_config fc;
    const char *env[] = {"OTEL_EXPORTER_OTLP_HEADERS=x-key=secret", NULL};
    char *cause = NULL;
    char *warning = NULL;

    ASSERT_TRUE(fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    ASSERT_INT_EQ(ccr_config_load(path, &config, &warning, &cause), 0);
    unlink(path);
    ASSERT_TRUE(warning == NULL);
    ASSERT_INT_EQ(load(&fc, env, NULL, &config), 0);
    ASSERT_STR_EQ(fc.targets[CCR_SIGNAL_TRACES].url, "http://team:4318/v1/traces");
    ASSERT_STR_EQ(fc.targets[CCR_SIGNAL_LOGS].headers[0], "k: v");
    ASSERT_TRUE(fc.targets[CCR_SIGNAL_METRICS].json && !fc.targets[CCR_SIGNAL_LOGS].json);
    ASSERT_INT_EQ(fc.deadline_ms, 750);
    ASSERT_INT_EQ((long long)fc.queue_bytes, 2LL << 20);
    ccr_forward_config_finish(&fc);
    ccr_config_finish(&config);
}

static void grpc_and_non_http_endpoints_are_not_used(void)
{
    const char *grpc[] = {"OTEL_EXPORTER_OTLP_ENDPOINT=http://c:4317",
                    "OTEL_EXPORTER_OTLP_PROTOCOL=grpc", NULL};
    const char *ftp[] = {"OTEL_EXPORTER_OTLP_ENDPOINT=file:///etc/passwd", NULL};
    struct ccr_forward_config fc;

    ASSERT_INT_EQ(load(&fc, grpc, NULL, NULL), 0);
    ASSERT_TRUE(!ccr_forward_config_enabled(&fc));
    ccr_forward_config_finish(&fc);
    ASSERT_INT_EQ(load(&fc, ftp, NULL, NULL), -EINVAL);
    ccr_forward_config_finish(&fc);
}

static void branch_is_read_from_head_and_linked_worktrees(void)
{
    char root[] = "/tmp/ccrun-test-branch-XXXXXX";
    ASSERT_TRUE(mkdtemp(root) != NULL);
    char *git = ccr_xasprintf("%s/.git", root);
    char *head = ccr_xasprintf("%s/.git/HEAD", root);
    FILE *f;

    ASSERT_TRUE(ccr_forward_git_branch(root) == NULL);
    mkdir(git, 0700);
    f = fopen(head, "w");
    fputs("ref: refs/heads/feature/x\n", f);
    fclose(f);
    char *branch = ccr_forward_git_branch(root);
    ASSERT_STR_EQ(branch, "feature/x");
    free(branch);
    f = fopen(head, "w");
    fputs("0123456789abcdef0123456789abcdef01234567\n", f);
    fclose(f);
    ASSERT_TRUE(ccr_forward_git_branch(root) == NULL);
    /* A linked work tree: .git is a file naming the git directory, relative here. */
    char *real = ccr_xasprintf("%s/real", root);
    char *real_head = ccr_xasprintf("%s/real/HEAD", root);
    unlink(head);
    rmdir(git);
    mkdir(real, 0700);
    f = fopen(real_head, "w");
    fputs("ref: refs/heads/linked\n", f);
    fclose(f);
    f = fopen(git, "w");
    fputs("gitdir: real\n", f);
    fclose(f);
    branch = ccr_forward_git_branch(root);
    ASSERT_STR_EQ(branch, "linked");
    free(branch);
    unlink(real_head);
    rmdir(real);
    unlink(git);
    rmdir(root);
    free(real);
    free(real_head);
    free(git);
    free(head);
}

static void json_encoding_keeps_zero_oneof_values_and_hex_ids(void)
{
    ccr_otlp_traces_request req =
        OPENTELEMETRY__PROTO__COLLECTOR__V1__EXPORT_TRACE_SERVICE_REQUEST__INIT;
    ccr_otlp_resource_spans rs = OPENTELEMETRY__PROTO__TRACE__V1__RESOURCE_SPANS__INIT;
    ccr_otlp_scope_spans ss = OPENTELEMETRY__PROTO__TRACE__V1__SCOPE_SPANS__INIT;
    ccr_otlp_span span = OPENTELEMETRY__PROTO__TRACE__V1__SPAN__INIT;
    ccr_otlp_kv kv = OPENTELEMETRY__PROTO__COMMON__V1__KEY_VALUE__INIT;
    ccr_otlp_value v = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;
    uint8_t id[8] = {0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3};
    ccr_otlp_resource_spans *rsp = &rs;
    ccr_otlp_scope_spans *ssp = &ss;
    ccr_otlp_span *sp = &span;
    ccr_otlp_kv *kvp = &kv;
    struct ccr_otlp_request r = {.signal = CCR_SIGNAL_TRACES, .traces = &req};
    struct ccr_buf pb = {0}, json = {0};
    char project_key[] = "ccrun.project", project[] = "demo";
    char *extra[] = {project_key, project, NULL};

    v.value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE;
    char key[] = "n", name[] = "s";

    kv.key = key;
    kv.value = &v;
    span.span_id.data = id;
    span.span_id.len = sizeof(id);
    span.name = name;
    span.start_time_unix_nano = 1700000000000000001ULL;
    span.attributes = &kvp;
    span.n_attributes = 1;
    ss.spans = &sp;
    ss.n_spans = 1;
    rs.scope_spans = &ssp;
    rs.n_scope_spans = 1;
    req.resource_spans = &rsp;
    req.n_resource_spans = 1;
    ccr_otlp_encode_protobuf(&r, extra, &pb);
    ASSERT_TRUE(rs.resource == NULL);
    ASSERT_INT_EQ(ccr_otlp_encode_json(CCR_SIGNAL_TRACES, pb.data, pb.len, &json), 0);
    const char *text = ccr_buf_cstr(&json);
    ASSERT_TRUE(strstr(text, "\"spanId\":\"deadbeef00010203\"") != NULL);
    ASSERT_TRUE(strstr(text, "\"startTimeUnixNano\":\"1700000000000000001\"") != NULL);
    ASSERT_TRUE(strstr(text, "\"intValue\":\"0\"") != NULL);
    ASSERT_TRUE(strstr(text, "{\"key\":\"ccrun.project\",\"value\":{\"stringValue\":\"demo\"}}")
                != NULL);
    ccr_buf_finish(&pb);
    ccr_buf_finish(&json);
}

int main(void)
{
    CCR_RUN(generic_endpoint_gets_signal_paths_per_signal_used_as_given);
    CCR_RUN(headers_split_at_first_equals_and_percent_decoded);
    CCR_RUN(huge_timeout_is_clamped);
    CCR_RUN(flag_wins_and_carries_no_headers_from_the_environment);
    CCR_RUN(config_section_is_used_when_the_environment_names_no_endpoint);
    CCR_RUN(grpc_and_non_http_endpoints_are_not_used);
    CCR_RUN(branch_is_read_from_head_and_linked_worktrees);
    CCR_RUN(json_encoding_keeps_zero_oneof_values_and_hex_ids);
    return CCR_TEST_EXIT();
}
