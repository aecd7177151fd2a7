/* SPDX-License-Identifier: MIT */
/* The wrapper: record a command's telemetry while it runs, then summarise it. */
#include "cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>
#include <uv.h>

#include "batch.h"
#include "budget.h"
#include "checkpoint.h"
#include "config.h"
#include "forward.h"
#include "guard.h"
#include "ingest.h"
#include "launch.h"
#include "log.h"
#include "privacy.h"
#include "project.h"
#include "receiver.h"
#include "record.h"
#include "report.h"
#include "store.h"
#include "util.h"

/* How long a request still arriving when the child exits may take to finish. */
#define CCR_DRAIN_GRACE_MS 500
/* Requests the history could not take at once are kept for one more try, up to this much. */
#define CCR_HELD_MAX (32u << 20)
/* The last try waits this long for another process's lock. */
#define CCR_LAST_TRY_BUSY_MS 5000
/*
 * With a budget, the child exports its log events this often, so that a
 * hook waiting near a limit gets fresh figures soon. A busy child (a TUI
 * redrawing on two shared cores) was seen to export 500 ms late, hence the
 * longest wait of three intervals.
 */
#define CCR_BUDGET_LOGS_MS 200
#define CCR_BUDGET_WAIT_MS (3 * CCR_BUDGET_LOGS_MS + 100)

/* A request that could not be stored when it came (history locked, disk full). */
struct held {
    struct held *next;
    struct ccr_request *req;
};

struct run {
    uv_loop_t loop;
    struct ccr_opts opts;
    struct ccr_project project;
    struct ccr_store *store;
    struct ccr_recorder rec;
    struct ccr_batch batch;
    struct ccr_checkpointer ckpt;
    struct ccr_receiver *rx;
    struct ccr_launch launch;
    struct ccr_privacy privacy;
    struct ccr_config config;
    struct ccr_prices flag_prices;
    const char *prompts_flag;
    const char *details_flag;
    int64_t run_id;
    uint64_t child_exit_ns;
    struct held *held;
    struct held **held_tail;
    size_t held_bytes;
    unsigned long failed; /* requests answered 500 because storing failed */
    struct ccr_forwarding fwd;
    const char *forward_flag;
    const char *forward_deadline;
    bool no_forward;
    const char *budget_flag;
    const char *budget_day_flag;
    bool budget_hard_flag;
    struct ccr_budget budget;
    struct ccr_guard guard;
    bool guarded;    /* the guard is set up */
    bool budget_refused; /* the configured budget is not a valid amount */
    bool print_mode; /* claude -p */
    int status_line; /* --statusline 1, --no-statusline 0, else -1 */
    char *token;     /* the receiver's token, kept for scrubbing held requests after it is gone */
};

/* Keeps a copy of a request the history refused, for one more try at the end. */
static void hold(struct run *r, const struct ccr_request *req)
{
    if (r->held_bytes + req->len > CCR_HELD_MAX) {
        return;
    }
    struct held *h = ccr_xcalloc(1, sizeof(*h));
    h->req = ccr_request_dup(req);
    h->req->peer = "held";
    h->req->id = 0;
    *r->held_tail = h;
    r->held_tail = &h->next;
    r->held_bytes += req->len;
}

static bool on_request(void *ctx, const struct ccr_request *req, struct ccr_reply *reply)
{
    struct run *r = ctx;
    return ccr_batch_add(&r->batch, req, reply);
}

/* Told of each request once committed (200) or refused. */
static void on_stored(void *ctx, const struct ccr_request *req, int status)
{
    struct run *r = ctx;

    if (r->guarded && status == 200 && req->signal == CCR_SIGNAL_LOGS) {
        ccr_guard_logs_arrived(&r->guard);
    }
    if (status == 500) {
        r->failed++;
        hold(r, req);
    }
}

/*
 * The last try for held requests, after the child is gone, waiting longer
 * for a lock. Says what became of them: nothing ccrun answered stays untold.
 */
static void retry_held(struct run *r)
{
    unsigned long stored = 0;
    uint64_t deadline = ccr_mono_ns() + (uint64_t)CCR_LAST_TRY_BUSY_MS * 1000000;
    int busy_ms = ccr_store_busy_timeout(r->store);
    char *why = NULL;

    /* One wait for all of them: a lock held for long must not cost it per request. */
    for (struct held *h = r->held, *next; h != NULL; h = next) {
        struct ccr_reply reply;
        uint64_t now = ccr_mono_ns();
        next = h->next;
        ccr_store_set_busy_timeout(r->store, now < deadline
                                                 ? (int)((deadline - now) / 1000000) : 0);
        ccr_ingest(&r->rec, h->req, &reply);
        if (reply.status == 200) {
            stored++;
        } else if (why == NULL) {
            why = ccr_xstrdup(ccr_store_errmsg(r->store));
        }
        ccr_reply_finish(&reply);
        free(h->req);
        free(h);
    }
    r->held = NULL;
    ccr_store_set_busy_timeout(r->store, busy_ms);
    if (r->failed > stored) {
        ccr_cmd_error("warning: %lu request%s from the command could not be stored (%s); the "
                      "figures below miss them", r->failed - stored, r->failed - stored == 1
                      ? "" : "s", why != NULL ? why : "the history refused them");
        ccr_log_error("run", "run %lld: %lu requests lost", (long long)r->run_id,
                      r->failed - stored);
    } else if (stored > 0) {
        ccr_log_warn("run", "run %lld: %lu requests stored on a later try", (long long)r->run_id,
                     stored);
    }
    free(why);
}

static void on_child_exit(struct ccr_launch *l, void *ctx)
{
    struct run *r = ctx;

    r->child_exit_ns = ccr_mono_ns();
    if (r->guarded) {
        ccr_guard_finish(&r->guard);
    }
    if (r->rx != NULL) {
        /* What arrived before the child exited is committed and answered first. */
        ccr_batch_flush(&r->batch);
        ccr_receiver_shutdown(r->rx, CCR_DRAIN_GRACE_MS);
        r->rx = NULL;
    }
    /* A checkpoint is no reason to keep the user waiting; the next run does it. */
    ccr_checkpointer_stop(&r->ckpt);
    /* The child is gone: the queue gets its deadline, the rest waits in the outbox. */
    if (r->fwd.fw != NULL) {
        ccr_forward_close(r->fwd.fw, r->fwd.cfg.deadline_ms, NULL, NULL);
    }
}

/*
 * Forwarding takes the exporter settings the user had before ccrun
 * replaced them in the child's environment, as launch kept them.
 */
static void start_forwarding(struct run *r)
{
    extern char **environ;
    struct ccr_forward_sources src = {
        .env = r->launch.parent_otel != NULL ? r->launch.parent_otel : environ,
        .flag_url = r->forward_flag,
        .flag_deadline = r->forward_deadline,
        .config = &r->config,
        .project_root = r->project.root,
    };
    char *warning = NULL;
    char *cause = NULL;

    if (r->store == NULL || r->no_forward) {
        return;
    }
    if (ccr_forwarding_start(&r->fwd, &r->loop, &src, r->project.dir, true, &warning,
                             &cause) < 0) {
        ccr_cmd_error("not forwarding: %s", cause);
        free(cause);
    }
    if (warning != NULL) {
        ccr_cmd_error("%s", warning);
        free(warning);
    }
    r->rec.forward = r->fwd.fw;
}

/* Each line of the forwarding summary, after the run's own. */
static void report_forwarding(struct run *r)
{
    char *text = ccr_forwarding_summary(&r->fwd, r->opts.quiet);

    for (char *line = text, *next; line != NULL; line = next) {
        next = strchr(line, '\n');
        if (next != NULL) {
            *next++ = '\0';
        }
        ccr_cmd_error("%s", line);
    }
    free(text);
}

/* The command as a JSON array, its arguments under the prompt policy. */
static char *command_json(const struct ccr_privacy *p, char *const *argv)
{
    json_t *arr = json_array();

    for (size_t i = 0; argv[i] != NULL; i++) {
        char *arg = i == 0 ? ccr_xstrdup(argv[i]) : ccr_privacy_argument(p, argv[i]);
        json_t *s = json_string(arg);
        json_array_append_new(arr, s != NULL ? s : json_string("?"));
        free(arg);
    }
    char *text = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    return text;
}

/* The budget from the flags and the configuration; false after saying why it is refused. */
static bool settle_budget(struct run *r)
{
    char *cause = NULL;

    if (ccr_budget_settle(&r->budget, r->budget_flag, r->budget_day_flag, r->budget_hard_flag,
                          r->config.budget_run, r->config.budget_day, r->config.budget_hard,
                          &cause) < 0) {
        ccr_cmd_error("%s", cause);
        fprintf(stderr, "ccrun: hint: fix the value or pass --budget USD\n");
        free(cause);
        return false;
    }
    return true;
}

/* Reads the configuration files and settles the privacy policy and the prices. */
static void configure(struct run *r)
{
    const char *parent = getenv("OTEL_LOG_USER_PROMPTS");
    enum ccr_mode prompts = parent != NULL && strcmp(parent, "1") == 0 ? CCR_MODE_KEEP
                                                                        : CCR_MODE_HASH;

    ccr_cmd_load_config(r->project.dir, &r->config);
    if (!settle_budget(r)) {
        r->budget_refused = true;
    }
    r->privacy.prompts = ccr_cmd_privacy_mode(r->prompts_flag, "CCRUN_PROMPTS",
                                              r->config.prompts, prompts, "prompt");
    r->privacy.tool_details = ccr_cmd_privacy_mode(r->details_flag, "CCRUN_TOOL_DETAILS",
                                                   r->config.tool_details, CCR_MODE_HASH,
                                                   "tool-details");
    for (size_t i = 0; i < r->flag_prices.n; i++) {
        ccr_prices_put(&r->config.prices, &r->flag_prices.entries[i]);
    }
    r->flag_prices.n = 0;
}

/*
 * ccrun's status line shows the run's live figures in Claude Code's footer,
 * chained after the user's own when there is one. It is on unless
 * --no-statusline or `line = no` under [status] turns it off.
 */
static bool want_status_line(const struct run *r)
{
    const char *file = r->config.status_line;

    if (r->status_line >= 0) {
        return r->status_line == 1;
    }
    if (file != NULL) {
        return strcmp(file, "yes") == 0 || strcmp(file, "true") == 0 || strcmp(file, "1") == 0;
    }
    return true;
}

static void on_over_budget(void *ctx)
{
    struct run *r = ctx;

    if (r->launch.running) {
        uv_process_kill(&r->launch.process, SIGTERM);
    }
}

static char *self_path(void)
{
    char buf[4096];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);

    if (n <= 0) {
        return ccr_xstrdup("ccrun");
    }
    buf[n] = '\0';
    return ccr_xstrdup(buf);
}

/*
 * Routes ccrun's hooks and live figures on the receiver, and for Claude
 * Code adds the hooks, the status line and, in print mode, its own
 * --max-budget-usd with what is left.
 */
static void start_guard(struct run *r, char *const *cmd, struct ccr_telemetry *tel,
                        char ***argv)
{
    if (ccr_budget_active(&r->budget)) {
        r->budget.day_before_usd = isnan(r->budget.day_usd) ? 0
                                                            : ccr_guard_spent_today(r->store);
        tel->logs_interval_ms = CCR_BUDGET_LOGS_MS;
    }
    ccr_guard_init(&r->guard, &r->loop, r->rx, r->store, r->run_id, &r->budget,
                   CCR_BUDGET_WAIT_MS, on_over_budget, r);
    r->guarded = true;
    ccr_guard_publish(&r->guard, r->project.dir, tel->port, tel->token);
    if (!ccr_launch_is_claude(cmd[0])) {
        /* Hooks go in through claude's --settings; any other command can only be ended. */
        if (ccr_budget_active(&r->budget) && !r->budget.hard) {
            ccr_cmd_error("warning: %s is not claude: the budget is only shown, not enforced; "
                          "add --budget-hard to end it once over", cmd[0]);
        }
        return;
    }
    char *self = self_path();
    tel->settings = ccr_guard_settings(&r->guard, tel->port, tel->token, self,
                                       want_status_line(r));
    free(self);
    r->print_mode = ccr_guard_print_argv(cmd, ccr_budget_remaining(&r->budget, 0), argv);
}

static void free_strv(char **v)
{
    for (size_t i = 0; v != NULL && v[i] != NULL; i++) {
        free(v[i]);
    }
    free(v);
}

/*
 * In print mode a prompt blocked by a hook exits 0, so ccrun's own status
 * says when the budget stopped the run: a blocked prompt, an ended turn, a
 * hard stop, or Claude Code failing with the spend at the limit (its own
 * --max-budget-usd).
 */
static int budget_status(struct run *r, int status)
{
    struct ccr_live live;

    if (!r->guarded || !r->print_mode || !ccr_budget_active(&r->budget)) {
        return status;
    }
    ccr_guard_live(&r->guard, &live);
    bool over = ccr_budget_level(&r->budget, ccr_guard_spent(&r->guard)) == CCR_BUDGET_OVER;
    if (live.prompts_blocked > 0 || live.turns_ended > 0 || live.hard_stopped ||
        (status != 0 && over)) {
        return CCR_EXIT_BUDGET;
    }
    return status;
}

/*
 * Everything that lets the run be recorded. Any failure is reported once and
 * leaves r->store NULL: the command then runs exactly as it would without ccrun.
 */
static void start_recording(struct run *r, char *const *argv)
{
    char *cause = NULL;
    char *cwd = getcwd(NULL, 0);
    char *log_path;

    if (ccr_project_find(r->opts.dir, &r->project, &cause) < 0 ||
        ccr_project_prepare(&r->project, &cause) < 0) {
        goto fail;
    }
    log_path = ccr_xasprintf("%s/ccrun.log", r->project.dir);
    ccr_log_open(log_path);
    free(log_path);
    configure(r);
    if (r->budget_refused) {
        free(cwd);
        return;
    }
    if (ccr_privacy_load_key(&r->privacy, r->project.dir, &cause) < 0) {
        goto fail;
    }
    if (ccr_store_open(r->project.db_path, false, &r->store, &cause) < 0) {
        goto fail;
    }
    ccr_checkpointer_start(&r->ckpt, &r->loop, r->store, r->project.db_path);
    char *cmd = command_json(&r->privacy, argv);
    int rc = ccr_store_run_start(r->store, cmd, cwd ? cwd : "", ccr_now_ms(),
                                 getenv("ANTHROPIC_BASE_URL"), &r->run_id);
    free(cmd);
    if (rc < 0) {
        cause = ccr_xasprintf("cannot add the run to %s", r->project.db_path);
        goto fail;
    }
    if (ccr_receiver_start(&r->loop, on_request, r, &r->rx, &cause) < 0) {
        goto fail;
    }
    ccr_recorder_init(&r->rec, r->store, r->run_id);
    r->token = ccr_xstrdup(ccr_receiver_token(r->rx));
    r->privacy.token = r->token;
    r->rec.privacy = &r->privacy;
    r->rec.prices = &r->config.prices;
    ccr_log_info("run", "run %lld: receiving on 127.0.0.1:%d (prompts=%s tool_details=%s)",
                 (long long)r->run_id, ccr_receiver_port(r->rx),
                 ccr_privacy_mode_name(r->privacy.prompts),
                 ccr_privacy_mode_name(r->privacy.tool_details));
    free(cwd);
    return;
fail:
    ccr_cmd_error("not recording this run: %s", cause ? cause : "unknown error");
    if (ccr_budget_active(&r->budget)) {
        fprintf(stderr, "ccrun: warning: the budget cannot be enforced without the history\n");
    }
    fprintf(stderr, "ccrun: hint: the command runs as usual; fix the above or pass --dir\n");
    if (cause != NULL) {
        ccr_log_error("run", "not recording: %s", cause);
    }
    free(cause);
    free(cwd);
    ccr_checkpointer_stop(&r->ckpt);
    ccr_store_close(r->store);
    r->store = NULL;
}

static void finish_recording(struct run *r)
{
    struct ccr_summary s;
    const struct ccr_launch *l = &r->launch;

    if (r->store == NULL) {
        return;
    }
    ccr_log_info("run", "run %lld: command exited with status %d", (long long)r->run_id,
                 l->exit_status);
    ccr_batch_flush(&r->batch);
    if (r->failed > 0) {
        retry_held(r);
    }
    /* exit_status is already 128 + N after signal N: ccrun's own exit status. */
    if (ccr_store_run_end(r->store, r->run_id, ccr_now_ms(), l->exit_status,
                          l->term_signal) < 0) {
        ccr_cmd_error("cannot finish the run record in %s", r->project.db_path);
    }
    if (r->opts.quiet) {
        return;
    }
    if (ccr_store_summary(r->store, r->run_id, &s) < 0) {
        ccr_cmd_error("cannot read the run back from %s", r->project.db_path);
        return;
    }
    ccr_report_text(stderr, &s, ccr_report_use_color(2), &r->config.prices);
    ccr_summary_finish(&s);
    if (r->guarded && ccr_budget_active(&r->budget)) {
        struct ccr_live live;
        ccr_guard_live(&r->guard, &live);
        live.cost_usd = ccr_guard_spent(&r->guard);
        ccr_budget_fill_live(&r->budget, &live);
        ccr_budget_print(stderr, &live, ccr_report_use_color(2));
    }
}

static int parse_options(struct run *r, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"dir", required_argument, NULL, 'C'},
        {"quiet", no_argument, NULL, 'q'},
        {"prompts", required_argument, NULL, 'P'},
        {"tool-details", required_argument, NULL, 'T'},
        {"price", required_argument, NULL, 'R'},
        {"forward", required_argument, NULL, 'F'},
        {"no-forward", no_argument, NULL, 'N'},
        {"forward-deadline", required_argument, NULL, 'D'},
        {"budget", required_argument, NULL, 'B'},
        {"budget-day", required_argument, NULL, 'Y'},
        {"budget-hard", no_argument, NULL, 'H'},
        {"statusline", no_argument, NULL, 'S'},
        {"no-statusline", no_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:C:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'C':
            r->opts.dir = optarg;
            break;
        case 'q':
            r->opts.quiet = 1;
            break;
        case 'P':
        case 'T':
            if (!ccr_privacy_parse_mode(optarg, &(enum ccr_mode){0})) {
                ccr_cmd_error("--%s takes keep, hash or drop, not \"%s\"",
                              c == 'P' ? "prompts" : "tool-details", optarg);
                return 125;
            }
            *(c == 'P' ? &r->prompts_flag : &r->details_flag) = optarg;
            break;
        case 'R': {
            struct ccr_price price;
            char *cause = NULL;
            if (ccr_price_parse_flag(optarg, &price, &cause) < 0) {
                ccr_cmd_error("%s", cause);
                free(cause);
                return 125;
            }
            ccr_prices_put(&r->flag_prices, &price);
            break;
        }
        case 'F':
            r->forward_flag = optarg;
            break;
        case 'N':
            r->no_forward = true;
            break;
        case 'D':
            r->forward_deadline = optarg;
            break;
        case 'B':
        case 'Y':
            if (!ccr_budget_parse_usd(optarg, &(double){0})) {
                ccr_cmd_error("--%s takes a positive amount in USD, not \"%s\"",
                              c == 'B' ? "budget" : "budget-day", optarg);
                return 125;
            }
            *(c == 'B' ? &r->budget_flag : &r->budget_day_flag) = optarg;
            break;
        case 'H':
            r->budget_hard_flag = true;
            break;
        case 'S':
        case 's':
            r->status_line = c == 'S';
            break;
        case 'h':
            ccr_cmd_usage(stdout);
            return 0;
        default:
            if (c == ':') {
                ccr_cmd_error("%s needs a value", argv[optind - 1]);
            } else if (strncmp(argv[optind - 1], "--", 2) == 0 &&
                       strchr(argv[optind - 1], '=') != NULL) {
                ccr_cmd_error("%.*s takes no value", (int)strcspn(argv[optind - 1], "="),
                              argv[optind - 1]);
            } else {
                ccr_cmd_error("unknown option %s", argv[optind - 1]);
            }
            fprintf(stderr, "usage: ccrun [options] [--] COMMAND [ARG...] (see ccrun --help)\n");
            return 125;
        }
    }
    if (optind >= argc) {
        ccr_cmd_error("no command to run");
        fprintf(stderr, "usage: ccrun [options] [--] COMMAND [ARG...] (see ccrun --help)\n");
        return 125;
    }
    return -1;
}

/*
 * A stream ccrun was started without would otherwise be taken by the first
 * descriptor libuv opens and handed to the child in its place. /dev/null
 * holds the slot; the child gets /dev/null there too.
 */
static void hold_stdio(bool closed[3])
{
    for (int fd = 0; fd < 3; fd++) {
        closed[fd] = fcntl(fd, F_GETFD) < 0 && errno == EBADF;
        if (closed[fd]) {
            int null = open("/dev/null", O_RDWR);
            if (null >= 0 && null != fd) {
                dup2(null, fd);
                close(null);
            }
        }
    }
}

static void close_walk(uv_handle_t *h, void *arg)
{
    if (!uv_is_closing(h)) {
        uv_close(h, NULL);
    }
}

int ccr_cmd_run(int argc, char **argv)
{
    struct run r = {0};

    r.held_tail = &r.held;
    r.status_line = -1;
    char *warning = NULL;
    int status = parse_options(&r, argc, argv);

    if (status >= 0) {
        ccr_prices_finish(&r.flag_prices);
        return status;
    }
    char **cmd = argv + optind;
    /*
     * Claude Code printing its version sends no telemetry: there is no run
     * to record, so it runs in ccrun's place, as fast as without ccrun.
     */
    if (ccr_launch_is_claude(cmd[0]) && ccr_launch_only_prints_version(cmd)) {
        ccr_prices_finish(&r.flag_prices);
        execvp(cmd[0], cmd);
        int err = errno;
        ccr_cmd_error("cannot run %s: %s", cmd[0], strerror(err));
        return err == ENOENT ? 127 : 126;
    }
    bool closed[3];
    hold_stdio(closed);
    /* A summary written to a closed pipe must not kill ccrun before it exits with the
     * child's status; the child gets default dispositions back from libuv. */
    signal(SIGPIPE, SIG_IGN);
    /*
     * Under a file size limit (ulimit -f) a growing history would kill ccrun
     * with SIGXFSZ and leave the command without its parent. Ignored, the
     * write fails like one to a full disk and the run goes on; libuv gives
     * the child the default dispositions back.
     */
    signal(SIGXFSZ, SIG_IGN);
    uv_loop_init(&r.loop);
    ccr_budget_init(&r.budget); /* none until the configuration says otherwise */
    ccr_batch_init(&r.batch, &r.loop, &r.rec, on_stored, &r);
    start_recording(&r, cmd);
    if (r.budget_refused) {
        status = 125;
        goto out;
    }

    struct ccr_telemetry tel = {0};
    char **budget_argv = NULL;
    if (r.store != NULL) {
        tel.port = ccr_receiver_port(r.rx);
        tel.token = ccr_receiver_token(r.rx);
        tel.log_prompts = r.privacy.prompts != CCR_MODE_DROP;
        tel.log_tool_details = r.privacy.tool_details != CCR_MODE_DROP;
        start_guard(&r, cmd, &tel, &budget_argv);
    }
    ccr_launch_init(&r.launch, &r.loop, budget_argv != NULL ? budget_argv : cmd, &tel, &warning);
    json_decref(tel.settings);
    free_strv(budget_argv);
    memcpy(r.launch.stdio_closed, closed, sizeof(closed));
    start_forwarding(&r);
    if (warning != NULL) {
        ccr_cmd_error("%s", warning);
        free(warning);
    }
    int rc = ccr_launch_spawn(&r.launch, on_child_exit, &r);
    if (rc < 0) {
        ccr_cmd_error("cannot run %s: %s", cmd[0], uv_strerror(rc));
        r.launch.exit_status = ccr_launch_spawn_status(rc);
        on_child_exit(&r.launch, &r);
    }
    uv_run(&r.loop, UV_RUN_DEFAULT);

    status = r.launch.exit_status;
    finish_recording(&r);
    report_forwarding(&r);
    status = budget_status(&r, status);
    if (getenv("CCRUN_TIMING") != NULL && r.child_exit_ns != 0) {
        fprintf(stderr, "ccrun: end of run took %.3f ms\n",
                (double)(ccr_mono_ns() - r.child_exit_ns) / 1e6);
    }
out:
    ccr_recorder_finish(&r.rec);
    ccr_store_close(r.store);
    uv_walk(&r.loop, close_walk, NULL);
    uv_run(&r.loop, UV_RUN_DEFAULT);
    uv_loop_close(&r.loop);
    ccr_checkpointer_finish(&r.ckpt);
    ccr_launch_finish(&r.launch);
    ccr_project_finish(&r.project);
    ccr_forwarding_finish(&r.fwd);
    ccr_config_finish(&r.config);
    ccr_prices_finish(&r.flag_prices);
    if (r.token != NULL) {
        sodium_memzero(r.token, strlen(r.token));
        free(r.token);
    }
    ccr_log_close();
    return status;
}
