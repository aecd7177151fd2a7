/* SPDX-License-Identifier: MIT */
/*
 * The benchmarks' and fuzzers' view of the fixtures: every recorded Claude
 * Code protobuf body, decoded once, and copies of them with fresh session ids
 * and event sequence numbers so that nothing the history stores de-duplicates.
 */
#ifndef CCR_TEST_CORPUS_H
#define CCR_TEST_CORPUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "otlp.h"

/* One decoded fixture body. */
struct ccr_template {
    char *path;
    struct ccr_otlp_request req;
    size_t records;
};

struct ccr_templates {
    struct ccr_template *v;
    size_t n;
};

/* One packed request body ready to post. */
struct ccr_body {
    enum ccr_signal signal;
    uint8_t *data;
    size_t len;
    size_t records;
};

struct ccr_corpus {
    struct ccr_body *v;
    size_t n;
    size_t records;
    size_t bytes;
};

/*
 * Decodes every tests/data/<scenario>/NN-{logs,metrics}.pb under data_dir
 * (traces are left out: they are acknowledged but not stored). Exits on error.
 */
void ccr_templates_load(const char *data_dir, struct ccr_templates *t);
void ccr_templates_finish(struct ccr_templates *t);

/*
 * Rewrites, in place, every session.id in req to the id of copy and every
 * event.sequence to the next value of *seq.
 */
void ccr_template_rewrite(struct ccr_otlp_request *req, uint64_t copy, int64_t *seq);

/* Packs req (any signal) into a new buffer. */
uint8_t *ccr_request_pack(const struct ccr_otlp_request *req, size_t *len);

/* Adds copies x every template, each copy with its own session id. */
void ccr_corpus_add_copies(struct ccr_corpus *c, struct ccr_templates *t, size_t copies,
                           uint64_t first_copy, int64_t *seq);
/* Adds n bodies holding one log record each, cycling through the logs. */
void ccr_corpus_add_singles(struct ccr_corpus *c, struct ccr_templates *t, size_t n,
                            uint64_t copy, int64_t *seq);
void ccr_corpus_finish(struct ccr_corpus *c);

#endif
