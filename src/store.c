/* SPDX-License-Identifier: MIT */
/* The SQLite history: schema and migrations, inserts, and the run summary queries. */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <sqlite3.h>

#include "log.h"
#include "store-private.h"
#include "store-views.h"
#include "util.h"

/* Long enough to ride out another ccrun committing; short enough never to hold the child. */
#define CCR_STORE_BUSY_MS 1000
/*
 * Opening may wait longer: eight ccruns starting at once on two busy cores
 * were seen to keep one out for over a second, and a history not opened is
 * a run not recorded.
 */
#define CCR_STORE_OPEN_BUSY_MS 5000

/*
 * Each entry migrates the schema from version i to i + 1. Released entries are
 * never edited: a change to the schema is a new entry.
 */
static const char *const migrations[] = {
    "CREATE TABLE runs ("
    "  id INTEGER PRIMARY KEY,"
    "  command TEXT NOT NULL,"
    "  cwd TEXT NOT NULL,"
    "  started_ms INTEGER NOT NULL,"
    "  ended_ms INTEGER,"
    "  exit_code INTEGER,"
    "  signal INTEGER,"
    "  program TEXT,"
    "  program_version TEXT);"
    "CREATE TABLE sessions ("
    "  run_id INTEGER NOT NULL,"
    "  session_id TEXT NOT NULL,"
    "  first_ns INTEGER,"
    "  PRIMARY KEY (run_id, session_id)) WITHOUT ROWID;"
    "CREATE TABLE resources ("
    "  id INTEGER PRIMARY KEY,"
    "  attrs TEXT NOT NULL UNIQUE);"
    "CREATE TABLE events ("
    "  id INTEGER PRIMARY KEY,"
    "  run_id INTEGER NOT NULL,"
    "  resource_id INTEGER,"
    "  name TEXT NOT NULL,"
    "  time_ns INTEGER NOT NULL,"
    "  session_id TEXT,"
    "  seq INTEGER,"
    "  prompt_id TEXT,"
    "  model TEXT,"
    "  query_source TEXT,"
    "  cost_usd REAL,"
    "  input_tokens INTEGER,"
    "  output_tokens INTEGER,"
    "  cache_read_tokens INTEGER,"
    "  cache_creation_tokens INTEGER,"
    "  duration_ms INTEGER,"
    "  tool_name TEXT,"
    "  success INTEGER,"
    "  decision TEXT,"
    "  source TEXT,"
    "  error TEXT,"
    "  status_code INTEGER,"
    "  prompt_length INTEGER,"
    "  prompt TEXT,"
    "  attrs TEXT NOT NULL);"
    "CREATE INDEX events_run_name ON events (run_id, name);"
    "CREATE UNIQUE INDEX events_delivery ON events (run_id, session_id, seq, time_ns);"
    "CREATE TABLE metric_points ("
    "  id INTEGER PRIMARY KEY,"
    "  run_id INTEGER NOT NULL,"
    "  resource_id INTEGER,"
    "  session_id TEXT,"
    "  name TEXT NOT NULL,"
    "  unit TEXT,"
    "  kind TEXT NOT NULL,"
    "  temporality INTEGER NOT NULL,"
    "  monotonic INTEGER NOT NULL,"
    "  start_ns INTEGER,"
    "  time_ns INTEGER NOT NULL,"
    "  value REAL NOT NULL,"
    "  attrs TEXT NOT NULL);"
    "CREATE INDEX metric_points_run_name ON metric_points (run_id, name);",

    /* Version 2: ccrun's own re-pricing next to the cost Claude Code reported. */
    "ALTER TABLE events ADD COLUMN priced_cost_usd REAL;"
    "ALTER TABLE events ADD COLUMN cost_estimated INTEGER;"
    "ALTER TABLE runs ADD COLUMN api_base_url TEXT;",

    /* Version 3: `--since` finds runs by start time, `show` sessions by id prefix. */
    "CREATE INDEX runs_started ON runs (started_ms);"
    "CREATE INDEX sessions_session ON sessions (session_id);",

    /* Version 4: spans, and metric points stored once per delivery. */
    /*
     * Spans, one per (run, trace, span) so a redelivered body is stored
     * once; and metric points made unique by series (resource, name,
     * attributes) plus times, after dropping the duplicates older versions
     * may have stored. NULLs never compare equal in an index, hence the
     * coalesce.
     */
    "CREATE TABLE spans ("
    "  id INTEGER PRIMARY KEY,"
    "  run_id INTEGER NOT NULL,"
    "  resource_id INTEGER,"
    "  session_id TEXT,"
    "  trace_id TEXT NOT NULL,"
    "  span_id TEXT NOT NULL,"
    "  parent_span_id TEXT,"
    "  name TEXT NOT NULL,"
    "  kind INTEGER NOT NULL,"
    "  start_ns INTEGER NOT NULL,"
    "  end_ns INTEGER NOT NULL,"
    "  status_code INTEGER NOT NULL,"
    "  status_message TEXT,"
    "  attrs TEXT NOT NULL);"
    "CREATE UNIQUE INDEX spans_delivery ON spans (run_id, trace_id, span_id);"
    "CREATE INDEX spans_run_name ON spans (run_id, name);"
    "DELETE FROM metric_points WHERE id NOT IN (SELECT min(id) FROM metric_points"
    "  GROUP BY run_id, coalesce(resource_id, -1), name, attrs, coalesce(start_ns, -1),"
    "  time_ns);"
    "CREATE UNIQUE INDEX metric_points_delivery ON metric_points (run_id,"
    "  coalesce(resource_id, -1), name, attrs, coalesce(start_ns, -1), time_ns);",

    /*
     * Version 5: metric points told apart by a 64-bit hash of their series
     * instead of its text, time first so that new points append to the index
     * rather than land all over it. Points stored before have no hash; they
     * were de-duplicated by the index this replaces.
     */
    "ALTER TABLE metric_points ADD COLUMN series INTEGER;"
    "DROP INDEX metric_points_delivery;"
    "CREATE UNIQUE INDEX metric_points_series ON metric_points (run_id, time_ns, series,"
    "  coalesce(start_ns, -1));",
};

#define CCR_SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

enum stmt_id {
    STMT_BEGIN,
    STMT_COMMIT,
    STMT_ROLLBACK,
    STMT_RUN_START,
    STMT_RUN_END,
    STMT_RUN_PROGRAM,
    STMT_RESOURCE_ADD,
    STMT_RESOURCE_GET,
    STMT_SESSION,
    STMT_EVENT,
    STMT_POINT,
    STMT_SPAN,
    STMT_COUNT,
};

static const char *const stmt_sql[STMT_COUNT] = {
    [STMT_BEGIN] = "BEGIN IMMEDIATE",
    [STMT_COMMIT] = "COMMIT",
    [STMT_ROLLBACK] = "ROLLBACK",
    [STMT_RUN_START] = "INSERT INTO runs (command, cwd, started_ms, api_base_url)"
                       " VALUES (?, ?, ?, ?)",
    [STMT_RUN_END] = "UPDATE runs SET ended_ms = ?, exit_code = ?, signal = ? WHERE id = ?",
    [STMT_RUN_PROGRAM] = "UPDATE runs SET program = ?, program_version = ?"
                         " WHERE id = ? AND program IS NULL",
    [STMT_RESOURCE_ADD] = "INSERT OR IGNORE INTO resources (attrs) VALUES (?)",
    [STMT_RESOURCE_GET] = "SELECT id FROM resources WHERE attrs = ?",
    [STMT_SESSION] = "INSERT OR IGNORE INTO sessions (run_id, session_id, first_ns)"
                     " VALUES (?, ?, ?)",
    [STMT_EVENT] = "INSERT OR IGNORE INTO events (run_id, resource_id, name, time_ns,"
                   " session_id, seq, prompt_id, model, query_source, cost_usd,"
                   " input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens,"
                   " duration_ms, tool_name, success, decision, source, error, status_code,"
                   " prompt_length, prompt, attrs, priced_cost_usd, cost_estimated)"
                   " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
                   " ?, ?, ?, ?, ?)",
    [STMT_POINT] = "INSERT OR IGNORE INTO metric_points (run_id, resource_id, session_id,"
                   " name, unit,"
                   " kind, temporality, monotonic, start_ns, time_ns, value, attrs, series)"
                   " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [STMT_SPAN] = "INSERT OR IGNORE INTO spans (run_id, resource_id, session_id, trace_id,"
                  " span_id, parent_span_id, name, kind, start_ns, end_ns, status_code,"
                  " status_message, attrs) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
};

struct ccr_store {
    sqlite3 *db;
    sqlite3_stmt *stmt[STMT_COUNT];
    int busy_ms; /* how long a statement waits for another process's lock */
    ccr_store_checkpoint_cb checkpoint; /* or NULL: SQLite checkpoints in the commit */
    void *checkpoint_ctx;
};

static int fail(struct ccr_store *st, const char *what)
{
    ccr_log_error("store", "%s: %s", what, sqlite3_errmsg(st->db));
    return -EIO;
}

static sqlite3_stmt *prepared(struct ccr_store *st, enum stmt_id id)
{
    if (st->stmt[id] == NULL &&
        sqlite3_prepare_v3(st->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &st->stmt[id],
                           NULL) != SQLITE_OK) {
        fail(st, "prepare");
        return NULL;
    }
    return st->stmt[id];
}

/* Runs a statement that returns no rows and resets it. */
static int step_done(struct ccr_store *st, sqlite3_stmt *s, const char *what)
{
    int rc = sqlite3_step(s);
    int ret = 0;

    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        ret = fail(st, what);
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return ret;
}

static int exec_stmt(struct ccr_store *st, enum stmt_id id, const char *what)
{
    sqlite3_stmt *s = prepared(st, id);
    return s != NULL ? step_done(st, s, what) : -EIO;
}

static int get_user_version(sqlite3 *db)
{
    sqlite3_stmt *s;
    int v = -1;

    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL) == SQLITE_OK) {
        if (sqlite3_step(s) == SQLITE_ROW) {
            v = sqlite3_column_int(s, 0);
        }
        sqlite3_finalize(s);
    }
    return v;
}

static int migrate(struct ccr_store *st, char **cause)
{
    /* The usual case needs no write lock: another process may hold it. */
    if (get_user_version(st->db) == CCR_SCHEMA_VERSION) {
        return 0;
    }
    if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        /* SQLite's "database is locked" names neither the file nor the wait. */
        *cause = sqlite3_errcode(st->db) == SQLITE_BUSY
                     ? ccr_xasprintf("another process has held the history locked for over "
                                     "%d ms", CCR_STORE_OPEN_BUSY_MS)
                     : ccr_xasprintf("lock history: %s", sqlite3_errmsg(st->db));
        return -EIO;
    }
    int version = get_user_version(st->db);
    if (version > CCR_SCHEMA_VERSION) {
        *cause = ccr_xasprintf("history was written by a newer ccrun (schema %d, this one "
                               "knows %d)", version, CCR_SCHEMA_VERSION);
        goto fail;
    }
    for (int v = version; v < CCR_SCHEMA_VERSION; v++) {
        if (sqlite3_exec(st->db, migrations[v], NULL, NULL, NULL) != SQLITE_OK) {
            *cause = ccr_xasprintf("migrate history to schema %d: %s", v + 1,
                                   sqlite3_errmsg(st->db));
            goto fail;
        }
    }
    char *sql = ccr_xasprintf("PRAGMA user_version = %d", CCR_SCHEMA_VERSION);
    int rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);
    free(sql);
    if (rc != SQLITE_OK || sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        *cause = ccr_xasprintf("write history schema: %s", sqlite3_errmsg(st->db));
        goto fail;
    }
    return 0;
fail:
    sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    return -EIO;
}

static int check_readable(struct ccr_store *st, char **cause)
{
    int version = get_user_version(st->db);

    if (version < 0) {
        *cause = ccr_xasprintf("read history: %s", sqlite3_errmsg(st->db));
        return -EIO;
    }
    if (version == 0) {
        return -ENOENT;
    }
    if (version > CCR_SCHEMA_VERSION) {
        *cause = ccr_xasprintf("history was written by a newer ccrun (schema %d)", version);
        return -EPROTO;
    }
    return 0;
}

/*
 * Every ccrun is a short-lived connection. By default the last one to close
 * checkpoints and deletes the WAL, and the next one creates it again: four
 * fsyncs (WAL, directory, WAL, database), most of the time `ccrun -- true`
 * takes. Keeping the WAL and leaving checkpoints to the automatic ones loses
 * nothing synchronous=NORMAL promises: a commit in the WAL is as safe as one
 * in the database file.
 */
static void keep_wal(struct ccr_store *st)
{
    int on = 1;

    sqlite3_file_control(st->db, "main", SQLITE_FCNTL_PERSIST_WAL, &on);
    sqlite3_db_config(st->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
}

int ccr_store_open(const char *path, bool readonly, struct ccr_store **out, char **cause)
{
    struct ccr_store *st = ccr_xcalloc(1, sizeof(*st));
    int flags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    int rc;

    *out = NULL;
    if (!readonly) {
        /* SQLite gives the -wal and -shm files the mode of the database. */
        int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0) {
            fchmod(fd, 0600);
            close(fd);
        }
    }
    /* A link in place of the history could send it out of .ccrun/: refuse to follow one. */
    rc = sqlite3_open_v2(path, &st->db, flags | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW, NULL);
    if (rc != SQLITE_OK) {
        if (readonly && rc == SQLITE_CANTOPEN) {
            rc = -ENOENT;
            goto fail;
        }
        *cause = ccr_xasprintf("open %s: %s", path,
                               st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
        rc = -EIO;
        goto fail;
    }
    sqlite3_busy_timeout(st->db, CCR_STORE_OPEN_BUSY_MS);
    if (!readonly) {
        /*
         * WAL with synchronous=NORMAL commits without an fsync: a power cut
         * may lose the last transactions but never corrupts the file. A log
         * that starts over is cut back to 16 MiB, or its peak would stay on
         * disk.
         */
        if (sqlite3_exec(st->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                                 " PRAGMA journal_size_limit=16777216", NULL,
                         NULL, NULL) != SQLITE_OK) {
            *cause = ccr_xasprintf("open %s: %s", path, sqlite3_errmsg(st->db));
            rc = -EIO;
            goto fail;
        }
        keep_wal(st);
        rc = migrate(st, cause);
    } else {
        rc = check_readable(st, cause);
    }
    if (rc < 0) {
        goto fail;
    }
    ccr_store_set_busy_timeout(st, CCR_STORE_BUSY_MS);
    *out = st;
    return 0;
fail:
    ccr_store_close(st);
    return rc;
}

void ccr_store_close(struct ccr_store *st)
{
    if (st == NULL) {
        return;
    }
    for (int i = 0; i < STMT_COUNT; i++) {
        sqlite3_finalize(st->stmt[i]);
    }
    sqlite3_close(st->db);
    free(st);
}

int ccr_store_busy_timeout(const struct ccr_store *st)
{
    return st->busy_ms;
}

void ccr_store_set_busy_timeout(struct ccr_store *st, int ms)
{
    st->busy_ms = ms;
    sqlite3_busy_timeout(st->db, ms);
}

const char *ccr_store_errmsg(struct ccr_store *st)
{
    return sqlite3_errmsg(st->db);
}

int ccr_store_begin(struct ccr_store *st)
{
    return exec_stmt(st, STMT_BEGIN, "begin");
}

int ccr_store_try_begin(struct ccr_store *st, int busy_ms)
{
    sqlite3_stmt *s = prepared(st, STMT_BEGIN);

    if (s == NULL) {
        return -EIO;
    }
    sqlite3_busy_timeout(st->db, busy_ms);
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    sqlite3_busy_timeout(st->db, st->busy_ms);
    if (rc == SQLITE_DONE) {
        return 0;
    }
    if (rc == SQLITE_BUSY) {
        return -EBUSY;
    }
    return fail(st, "begin");
}

int ccr_store_commit(struct ccr_store *st)
{
    return exec_stmt(st, STMT_COMMIT, "commit");
}

void ccr_store_rollback(struct ccr_store *st)
{
    if (!sqlite3_get_autocommit(st->db)) {
        exec_stmt(st, STMT_ROLLBACK, "rollback");
    }
}

/* SQLite's own threshold for a checkpoint, in pages of the log. */
#define CHECKPOINT_PAGES CCR_STORE_CHECKPOINT_PAGES

static int on_wal_commit(void *arg, sqlite3 *db, const char *name, int pages)
{
    struct ccr_store *st = arg;

    if (st->checkpoint != NULL && st->checkpoint(st->checkpoint_ctx, pages)) {
        /*
         * In the commit, on this connection, what the worker left. RESTART
         * also makes the next writer start the log over (without it, other
         * processes writing all the while keep the log growing); with no
         * wait for other writers or readers, it copies what it can when
         * they are busy.
         */
        sqlite3_busy_timeout(db, 0);
        sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_RESTART, NULL, NULL);
        sqlite3_busy_timeout(db, st->busy_ms);
    }
    return SQLITE_OK;
}

void ccr_store_set_checkpointer(struct ccr_store *st, ccr_store_checkpoint_cb cb, void *ctx)
{
    st->checkpoint = cb;
    st->checkpoint_ctx = ctx;
    if (cb != NULL) {
        sqlite3_wal_hook(st->db, on_wal_commit, st); /* in place of SQLite's checkpoints */
    } else {
        sqlite3_wal_autocheckpoint(st->db, CHECKPOINT_PAGES);
    }
}

bool ccr_store_in_transaction(struct ccr_store *st)
{
    return !sqlite3_get_autocommit(st->db);
}

static void bind_text(sqlite3_stmt *s, int i, const char *v)
{
    if (v != NULL) {
        sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
    } else {
        sqlite3_bind_null(s, i);
    }
}

static void bind_int(sqlite3_stmt *s, int i, int64_t v)
{
    if (v != CCR_NONE) {
        sqlite3_bind_int64(s, i, v);
    } else {
        sqlite3_bind_null(s, i);
    }
}

static void bind_double(sqlite3_stmt *s, int i, double v)
{
    if (!isnan(v)) {
        sqlite3_bind_double(s, i, v);
    } else {
        sqlite3_bind_null(s, i);
    }
}

int ccr_store_run_start(struct ccr_store *st, const char *command_json, const char *cwd,
                        int64_t started_ms, const char *api_base_url, int64_t *run_id)
{
    sqlite3_stmt *s = prepared(st, STMT_RUN_START);

    if (s == NULL) {
        return -EIO;
    }
    bind_text(s, 1, command_json);
    bind_text(s, 2, cwd);
    bind_int(s, 3, started_ms);
    bind_text(s, 4, api_base_url);
    int rc = step_done(st, s, "add run");
    if (rc == 0) {
        *run_id = sqlite3_last_insert_rowid(st->db);
    }
    return rc;
}

int ccr_store_run_end(struct ccr_store *st, int64_t run_id, int64_t ended_ms, int exit_code,
                      int signal)
{
    sqlite3_stmt *s = prepared(st, STMT_RUN_END);

    if (s == NULL) {
        return -EIO;
    }
    bind_int(s, 1, ended_ms);
    bind_int(s, 2, exit_code);
    bind_int(s, 3, signal);
    bind_int(s, 4, run_id);
    return step_done(st, s, "end run");
}

int ccr_store_run_program(struct ccr_store *st, int64_t run_id, const char *name,
                          const char *version)
{
    sqlite3_stmt *s = prepared(st, STMT_RUN_PROGRAM);

    if (s == NULL) {
        return -EIO;
    }
    bind_text(s, 1, name);
    bind_text(s, 2, version);
    bind_int(s, 3, run_id);
    return step_done(st, s, "set run program");
}

int ccr_store_resource(struct ccr_store *st, const char *attrs_json, int64_t *id)
{
    sqlite3_stmt *add = prepared(st, STMT_RESOURCE_ADD);
    sqlite3_stmt *get = prepared(st, STMT_RESOURCE_GET);

    if (add == NULL || get == NULL) {
        return -EIO;
    }
    bind_text(add, 1, attrs_json);
    if (step_done(st, add, "add resource") < 0) {
        return -EIO;
    }
    bind_text(get, 1, attrs_json);
    int rc = sqlite3_step(get);
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(get, 0);
    }
    sqlite3_reset(get);
    sqlite3_clear_bindings(get);
    return rc == SQLITE_ROW ? 0 : fail(st, "find resource");
}

int ccr_store_session(struct ccr_store *st, int64_t run_id, const char *session_id,
                      int64_t time_ns)
{
    sqlite3_stmt *s = prepared(st, STMT_SESSION);

    if (s == NULL) {
        return -EIO;
    }
    bind_int(s, 1, run_id);
    bind_text(s, 2, session_id);
    bind_int(s, 3, time_ns);
    return step_done(st, s, "add session");
}

void ccr_event_row_init(struct ccr_event_row *r)
{
    memset(r, 0, sizeof(*r));
    r->run_id = r->resource_id = r->time_ns = r->seq = CCR_NONE;
    r->input_tokens = r->output_tokens = CCR_NONE;
    r->cache_read_tokens = r->cache_creation_tokens = CCR_NONE;
    r->duration_ms = r->success = r->status_code = r->prompt_length = CCR_NONE;
    r->cost_usd = r->priced_cost_usd = NAN;
    r->cost_estimated = CCR_NONE;
}

int ccr_store_event(struct ccr_store *st, const struct ccr_event_row *r)
{
    sqlite3_stmt *s = prepared(st, STMT_EVENT);

    if (s == NULL) {
        return -EIO;
    }
    bind_int(s, 1, r->run_id);
    bind_int(s, 2, r->resource_id);
    bind_text(s, 3, r->name);
    bind_int(s, 4, r->time_ns);
    bind_text(s, 5, r->session_id);
    bind_int(s, 6, r->seq);
    bind_text(s, 7, r->prompt_id);
    bind_text(s, 8, r->model);
    bind_text(s, 9, r->query_source);
    bind_double(s, 10, r->cost_usd);
    bind_int(s, 11, r->input_tokens);
    bind_int(s, 12, r->output_tokens);
    bind_int(s, 13, r->cache_read_tokens);
    bind_int(s, 14, r->cache_creation_tokens);
    bind_int(s, 15, r->duration_ms);
    bind_text(s, 16, r->tool_name);
    bind_int(s, 17, r->success);
    bind_text(s, 18, r->decision);
    bind_text(s, 19, r->source);
    bind_text(s, 20, r->error);
    bind_int(s, 21, r->status_code);
    bind_int(s, 22, r->prompt_length);
    bind_text(s, 23, r->prompt);
    bind_text(s, 24, r->attrs_json);
    bind_double(s, 25, r->priced_cost_usd);
    bind_int(s, 26, r->cost_estimated);
    return step_done(st, s, "add event");
}

/*
 * A metric point's series, (resource, name, attributes), as 64 bits: two
 * series share a hash with odds of 2^-64, and only a collision at the same
 * timestamps would drop a point.
 */
static int64_t series_hash(const struct ccr_point_row *r)
{
    crypto_generichash_state st;
    unsigned char h[crypto_generichash_BYTES_MIN];
    unsigned char res[8];
    uint64_t v = (uint64_t)r->resource_id;
    int64_t out;

    for (int i = 0; i < 8; i++) {
        res[i] = (unsigned char)(v >> (8 * i));
    }
    crypto_generichash_init(&st, NULL, 0, sizeof(h));
    crypto_generichash_update(&st, res, sizeof(res));
    crypto_generichash_update(&st, (const unsigned char *)r->name, strlen(r->name) + 1);
    crypto_generichash_update(&st, (const unsigned char *)r->attrs_json,
                              strlen(r->attrs_json));
    crypto_generichash_final(&st, h, sizeof(h));
    memcpy(&out, h, sizeof(out));
    return out;
}

int ccr_store_point(struct ccr_store *st, const struct ccr_point_row *r)
{
    sqlite3_stmt *s = prepared(st, STMT_POINT);

    if (s == NULL) {
        return -EIO;
    }
    bind_int(s, 1, r->run_id);
    bind_int(s, 2, r->resource_id);
    bind_text(s, 3, r->session_id);
    bind_text(s, 4, r->name);
    bind_text(s, 5, r->unit);
    bind_text(s, 6, r->kind);
    sqlite3_bind_int(s, 7, r->temporality);
    sqlite3_bind_int(s, 8, r->monotonic);
    bind_int(s, 9, r->start_ns);
    bind_int(s, 10, r->time_ns);
    sqlite3_bind_double(s, 11, r->value);
    bind_text(s, 12, r->attrs_json);
    sqlite3_bind_int64(s, 13, series_hash(r));
    return step_done(st, s, "add metric point");
}

int ccr_store_span(struct ccr_store *st, const struct ccr_span_row *r)
{
    sqlite3_stmt *s = prepared(st, STMT_SPAN);

    if (s == NULL) {
        return -EIO;
    }
    bind_int(s, 1, r->run_id);
    bind_int(s, 2, r->resource_id);
    bind_text(s, 3, r->session_id);
    bind_text(s, 4, r->trace_id);
    bind_text(s, 5, r->span_id);
    bind_text(s, 6, r->parent_span_id);
    bind_text(s, 7, r->name);
    sqlite3_bind_int(s, 8, r->kind);
    bind_int(s, 9, r->start_ns);
    bind_int(s, 10, r->end_ns);
    sqlite3_bind_int(s, 11, r->status_code);
    bind_text(s, 12, r->status_message);
    bind_text(s, 13, r->attrs_json);
    return step_done(st, s, "add span");
}

static char *column_strdup(sqlite3_stmt *s, int i)
{
    const unsigned char *v = sqlite3_column_text(s, i);
    return v != NULL ? ccr_xstrdup((const char *)v) : NULL;
}

static int64_t column_int(sqlite3_stmt *s, int i)
{
    return sqlite3_column_type(s, i) == SQLITE_NULL ? CCR_NONE : sqlite3_column_int64(s, i);
}

typedef void (*row_cb)(sqlite3_stmt *s, struct ccr_summary *sum);

/* Runs a query over one run (bound as ?1) and hands each row to cb. */
static int for_rows(struct ccr_store *st, const char *sql, int64_t run_id, row_cb cb,
                    struct ccr_summary *sum)
{
    sqlite3_stmt *s;
    int rc;

    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
        return fail(st, "prepare query");
    }
    sqlite3_bind_int64(s, 1, run_id);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        cb(s, sum);
    }
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : fail(st, "query");
}

static void on_run_row(sqlite3_stmt *s, struct ccr_summary *sum)
{
    sum->command_json = column_strdup(s, 0);
    sum->cwd = column_strdup(s, 1);
    sum->started_ms = column_int(s, 2);
    sum->ended_ms = column_int(s, 3);
    sum->exit_code = column_int(s, 4);
    sum->signal = column_int(s, 5);
    sum->program = column_strdup(s, 6);
    sum->program_version = column_strdup(s, 7);
    sum->api_base_url = column_strdup(s, 8);
}

static void on_session_row(sqlite3_stmt *s, struct ccr_summary *sum)
{
    sum->sessions = ccr_xrealloc(sum->sessions, (sum->n_sessions + 1) * sizeof(char *));
    sum->sessions[sum->n_sessions++] = column_strdup(s, 0);
}

static void on_totals_row(sqlite3_stmt *s, struct ccr_summary *sum)
{
    sum->api_requests = sqlite3_column_int64(s, 0);
    sum->cost_usd = sqlite3_column_double(s, 1);
    for (int i = 0; i < 4; i++) {
        sum->tokens[i] = sqlite3_column_int64(s, 2 + i);
    }
    sum->api_duration_ms = sqlite3_column_int64(s, 6);
    sum->api_errors = sqlite3_column_int64(s, 7);
    sum->events = sqlite3_column_int64(s, 8);
    sum->reported_cost_usd = sqlite3_column_double(s, 9);
    sum->priced_requests = sqlite3_column_int64(s, 10);
    sum->estimated_requests = sqlite3_column_int64(s, 11);
    sum->unknown_cost_requests = sqlite3_column_int64(s, 12);
    sum->interrupted_tools = sqlite3_column_int64(s, 13);
}

static void on_model_row(sqlite3_stmt *s, struct ccr_summary *sum)
{
    sum->models = ccr_xrealloc(sum->models, (sum->n_models + 1) * sizeof(*sum->models));
    struct ccr_model_total *m = &sum->models[sum->n_models++];
    const unsigned char *name = sqlite3_column_text(s, 0);

    m->model = ccr_xstrdup(name != NULL ? (const char *)name : "unknown");
    m->requests = sqlite3_column_int64(s, 1);
    m->cost_usd = sqlite3_column_double(s, 2);
    for (int i = 0; i < 4; i++) {
        m->tokens[i] = sqlite3_column_int64(s, 3 + i);
    }
    m->reported_cost_usd = sqlite3_column_double(s, 7);
    m->priced_requests = sqlite3_column_int64(s, 8);
    m->unknown_cost_requests = sqlite3_column_int64(s, 9);
}

static void on_tool_row(sqlite3_stmt *s, struct ccr_summary *sum)
{
    sum->tools = ccr_xrealloc(sum->tools, (sum->n_tools + 1) * sizeof(*sum->tools));
    struct ccr_tool_total *t = &sum->tools[sum->n_tools++];

    t->name = column_strdup(s, 0);
    t->calls = sqlite3_column_int64(s, 1);
    t->succeeded = sqlite3_column_int64(s, 2);
    t->failed = sqlite3_column_int64(s, 3);
    t->rejected = sqlite3_column_int64(s, 4);
    t->duration_ms = sqlite3_column_int64(s, 5);
}

static void on_prompt_row(sqlite3_stmt *s, struct ccr_summary *sum)
{
    sum->prompts = ccr_xrealloc(sum->prompts, (sum->n_prompts + 1) * sizeof(*sum->prompts));
    struct ccr_prompt *p = &sum->prompts[sum->n_prompts++];

    p->prompt_id = column_strdup(s, 0);
    p->length = column_int(s, 1);
    p->text = column_strdup(s, 2);
    p->command = column_strdup(s, 3);
    p->hash = column_strdup(s, 4);
}

static void on_lines_row(sqlite3_stmt *s, struct ccr_summary *sum)
{
    const unsigned char *type = sqlite3_column_text(s, 0);
    double v = sqlite3_column_double(s, 1);

    if (!(fabs(v) < 1e15)) {
        return; /* no real change is this large: a hostile or broken point */
    }
    int64_t n = (int64_t)llround(v);

    if (type != NULL && strcmp((const char *)type, "added") == 0) {
        sum->lines_added += n;
    } else if (type != NULL && strcmp((const char *)type, "removed") == 0) {
        sum->lines_removed += n;
    }
}

static void on_count_row(sqlite3_stmt *s, struct ccr_summary *sum)
{
    sum->metric_points = sqlite3_column_int64(s, 0);
}

/*
 * Delta points add up; a cumulative series repeats its running total, so
 * only its newest point counts.
 */
#define LINES_SQL                                                                         \
    "SELECT json_extract(attrs, '$.type'), total(value) FROM ("                           \
    " SELECT attrs, value FROM metric_points"                                            \
    "  WHERE run_id = ?1 AND name = 'claude_code.lines_of_code.count' AND temporality <> 2" \
    " UNION ALL"                                                                          \
    " SELECT attrs, value FROM (SELECT attrs, value, max(time_ns) FROM metric_points"     \
    "  WHERE run_id = ?1 AND name = 'claude_code.lines_of_code.count' AND temporality = 2" \
    "  GROUP BY session_id, attrs)) GROUP BY 1"

static const struct {
    const char *sql;
    row_cb cb;
} summary_queries[] = {
    {"SELECT command, cwd, started_ms, ended_ms, exit_code, signal, program,"
     " program_version, api_base_url FROM runs WHERE id = ?1",
     on_run_row},
    {"SELECT session_id FROM sessions WHERE run_id = ?1 ORDER BY first_ns, session_id",
     on_session_row},
    {"SELECT sum(name = 'api_request'),"
     " total(CASE WHEN name = 'api_request' THEN coalesce(priced_cost_usd, cost_usd) END),"
     " coalesce(sum(CASE WHEN name = 'api_request' THEN input_tokens END), 0),"
     " coalesce(sum(CASE WHEN name = 'api_request' THEN output_tokens END), 0),"
     " coalesce(sum(CASE WHEN name = 'api_request' THEN cache_read_tokens END), 0),"
     " coalesce(sum(CASE WHEN name = 'api_request' THEN cache_creation_tokens END), 0),"
     " coalesce(sum(CASE WHEN name IN ('api_request', 'api_error') THEN duration_ms END), 0),"
     " sum(name = 'api_error'), count(*),"
     " total(CASE WHEN name = 'api_request' THEN cost_usd END),"
     " sum(name = 'api_request' AND priced_cost_usd IS NOT NULL),"
     " sum(name = 'api_request' AND cost_estimated = 1),"
     " sum(name = 'api_request' AND priced_cost_usd IS NULL AND cost_usd IS NULL),"
     " sum(name = 'tool_result' AND success = 0 AND error IS NULL)"
     " FROM events WHERE run_id = ?1",
     on_totals_row},
    {"SELECT model, count(*), total(coalesce(priced_cost_usd, cost_usd)),"
     " coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0),"
     " coalesce(sum(cache_read_tokens), 0), coalesce(sum(cache_creation_tokens), 0),"
     " total(cost_usd), count(priced_cost_usd),"
     " sum(priced_cost_usd IS NULL AND cost_usd IS NULL)"
     " FROM events WHERE run_id = ?1 AND name = 'api_request'"
     " GROUP BY model ORDER BY 3 DESC, 1",
     on_model_row},
    {"SELECT tool_name, sum(name = 'tool_result'),"
     " sum(name = 'tool_result' AND success = 1), sum(name = 'tool_result' AND success = 0),"
     " sum(name = 'tool_decision' AND decision = 'reject'),"
     " coalesce(sum(CASE WHEN name = 'tool_result' THEN duration_ms END), 0)"
     " FROM events WHERE run_id = ?1 AND name IN ('tool_result', 'tool_decision')"
     " AND tool_name IS NOT NULL GROUP BY tool_name ORDER BY 2 DESC, 1",
     on_tool_row},
    {"SELECT prompt_id, prompt_length, prompt, json_extract(attrs, '$.command_name'),"
     " json_extract(attrs, '$.prompt_hash') FROM events"
     " WHERE run_id = ?1 AND name = 'user_prompt' ORDER BY time_ns, seq",
     on_prompt_row},
    {LINES_SQL, on_lines_row},
    {"SELECT count(*) FROM metric_points WHERE run_id = ?1", on_count_row},
};

int ccr_store_last_run(struct ccr_store *st, int64_t *run_id)
{
    sqlite3_stmt *s;
    int rc;

    if (sqlite3_prepare_v2(st->db, "SELECT max(id) FROM runs", -1, &s, NULL) != SQLITE_OK) {
        return fail(st, "prepare query");
    }
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) {
        *run_id = sqlite3_column_int64(s, 0);
        rc = 0;
    } else {
        rc = rc == SQLITE_ROW ? -ENOENT : fail(st, "query");
    }
    sqlite3_finalize(s);
    return rc;
}

int ccr_store_summary(struct ccr_store *st, int64_t run_id, struct ccr_summary *s)
{
    memset(s, 0, sizeof(*s));
    s->run_id = run_id;
    s->started_ms = CCR_NONE;
    /* One read transaction, so the figures agree with each other. */
    sqlite3_exec(st->db, "BEGIN", NULL, NULL, NULL);
    for (size_t i = 0; i < sizeof(summary_queries) / sizeof(summary_queries[0]); i++) {
        int rc = for_rows(st, summary_queries[i].sql, run_id, summary_queries[i].cb, s);
        if (rc == 0 && i == 0 && s->started_ms == CCR_NONE) {
            rc = -ENOENT;
        }
        if (rc < 0) {
            sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
            ccr_summary_finish(s);
            return rc;
        }
    }
    if (ccr_store_metric_cost(st, run_id, &s->metrics_cost_usd) < 0) {
        s->metrics_cost_usd = NAN;
    }
    sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
    return 0;
}

void ccr_summary_finish(struct ccr_summary *s)
{
    free(s->command_json);
    free(s->cwd);
    free(s->program);
    free(s->program_version);
    free(s->api_base_url);
    for (size_t i = 0; i < s->n_sessions; i++) {
        free(s->sessions[i]);
    }
    free(s->sessions);
    for (size_t i = 0; i < s->n_models; i++) {
        free(s->models[i].model);
    }
    free(s->models);
    for (size_t i = 0; i < s->n_tools; i++) {
        free(s->tools[i].name);
    }
    free(s->tools);
    for (size_t i = 0; i < s->n_prompts; i++) {
        free(s->prompts[i].prompt_id);
        free(s->prompts[i].text);
        free(s->prompts[i].command);
        free(s->prompts[i].hash);
    }
    free(s->prompts);
    memset(s, 0, sizeof(*s));
}

sqlite3 *ccr_store_db(struct ccr_store *st)
{
    return st->db;
}
