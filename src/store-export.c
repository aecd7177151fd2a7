/* SPDX-License-Identifier: MIT */
/* Events and metric points read back with their resources, for a backfill. */
#include "store-export.h"

#include <errno.h>

#include "log.h"
#include "store-private.h"
#include "util.h"

/*
 * The WHERE clause of a selection; ?1 is the start time. Run ids are
 * numbers parsed by the caller, so writing them into the text is safe.
 */
static void where(struct ccr_buf *sql, const char *alias, const struct ccr_record_selection *sel)
{
    ccr_buf_printf(sql, " WHERE (?1 IS NULL OR %s.run_id IN (SELECT id FROM runs WHERE "
                        "started_ms >= ?1))", alias);
    for (size_t i = 0; i < sel->n_runs; i++) {
        ccr_buf_printf(sql, "%s%lld", i == 0 ? " AND run_id IN (" : ", ",
                       (long long)sel->run_ids[i]);
    }
    ccr_buf_printf(sql, "%s", sel->n_runs > 0 ? ")" : "");
}

static sqlite3_stmt *prepare(sqlite3 *db, struct ccr_buf *sql,
                             const struct ccr_record_selection *sel)
{
    sqlite3_stmt *s = NULL;

    if (sqlite3_prepare_v2(db, ccr_buf_cstr(sql), -1, &s, NULL) != SQLITE_OK) {
        ccr_log_error("store", "prepare backfill query: %s", sqlite3_errmsg(db));
        ccr_buf_finish(sql);
        return NULL;
    }
    ccr_buf_finish(sql);
    if (sel->since_ms != CCR_NONE) {
        sqlite3_bind_int64(s, 1, sel->since_ms);
    }
    return s;
}

int ccr_store_count_records(struct ccr_store *st, const struct ccr_record_selection *sel,
                            int64_t *n)
{
    struct ccr_buf sql = {0};

    ccr_buf_printf(&sql, "SELECT (SELECT count(*) FROM events e");
    where(&sql, "e", sel);
    ccr_buf_printf(&sql, ") + (SELECT count(*) FROM metric_points p");
    where(&sql, "p", sel);
    ccr_buf_printf(&sql, ")");
    sqlite3_stmt *s = prepare(ccr_store_db(st), &sql, sel);
    if (s == NULL) {
        return -EIO;
    }
    int rc = sqlite3_step(s) == SQLITE_ROW ? 0 : -EIO;
    *n = rc == 0 ? sqlite3_column_int64(s, 0) : 0;
    sqlite3_finalize(s);
    return rc;
}

static const char *text(sqlite3_stmt *s, int i)
{
    return (const char *)sqlite3_column_text(s, i);
}

/* NULL columns read as CCR_NONE, as everywhere in the store's row types. */
static int64_t int_or_none(sqlite3_stmt *s, int i)
{
    return sqlite3_column_type(s, i) == SQLITE_NULL ? CCR_NONE : sqlite3_column_int64(s, i);
}

/* Runs one of the two walks; points adds the metric columns from index 6. */
static int walk(sqlite3 *db, sqlite3_stmt *s, bool points, ccr_stored_record_cb cb, void *ctx)
{
    int rc;

    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct ccr_stored_record r = {
            .is_point = points,
            .run_id = sqlite3_column_int64(s, 0),
            .resource_id = int_or_none(s, 1),
            .resource_json = text(s, 2),
            .name = text(s, 3),
            .time_ns = sqlite3_column_int64(s, 4),
            .attrs_json = text(s, 5),
            .start_ns = CCR_NONE,
        };
        if (points) {
            r.unit = text(s, 6);
            r.kind = text(s, 7);
            r.temporality = sqlite3_column_int(s, 8);
            r.monotonic = sqlite3_column_int(s, 9);
            r.start_ns = int_or_none(s, 10);
            r.value = sqlite3_column_double(s, 11);
        }
        int stop = cb(&r, ctx);
        if (stop < 0) {
            sqlite3_finalize(s);
            return stop;
        }
    }
    if (rc != SQLITE_DONE) {
        ccr_log_error("store", "backfill query: %s", sqlite3_errmsg(db));
    }
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : -EIO;
}

int ccr_store_walk_records(struct ccr_store *st, const struct ccr_record_selection *sel,
                           ccr_stored_record_cb cb, void *ctx)
{
    sqlite3 *db = ccr_store_db(st);
    struct ccr_buf sql = {0};

    /*
     * Ordering by resource keeps the records of one resource together, so
     * the backfill builds few, full requests rather than many small ones.
     */
    ccr_buf_printf(&sql, "SELECT e.run_id, e.resource_id, r.attrs, e.name, e.time_ns, e.attrs "
                         "FROM events e LEFT JOIN resources r ON r.id = e.resource_id");
    where(&sql, "e", sel);
    ccr_buf_printf(&sql, " ORDER BY e.run_id, e.resource_id, e.time_ns, e.seq, e.id");
    sqlite3_stmt *s = prepare(db, &sql, sel);
    int rc = s != NULL ? walk(db, s, false, cb, ctx) : -EIO;
    if (rc < 0) {
        return rc;
    }
    ccr_buf_printf(&sql, "SELECT p.run_id, p.resource_id, r.attrs, p.name, p.time_ns, p.attrs, "
                         "p.unit, p.kind, p.temporality, p.monotonic, p.start_ns, p.value "
                         "FROM metric_points p LEFT JOIN resources r ON r.id = p.resource_id");
    where(&sql, "p", sel);
    ccr_buf_printf(&sql, " ORDER BY p.run_id, p.resource_id, p.name, p.time_ns, p.id");
    s = prepare(db, &sql, sel);
    return s != NULL ? walk(db, s, true, cb, ctx) : -EIO;
}
