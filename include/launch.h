/* SPDX-License-Identifier: MIT */
/*
 * The wrapped command: its environment and arguments with telemetry pointed
 * at the receiver, the spawn, signal forwarding and the exit status.
 */
#ifndef CCR_LAUNCH_H
#define CCR_LAUNCH_H

#include <stdbool.h>

#include <jansson.h>
#include <uv.h>

/* Where the child's telemetry goes; NULL fields mean "run without telemetry". */
struct ccr_telemetry {
    int port;
    const char *token;
    bool log_prompts;         /* OTEL_LOG_USER_PROMPTS for the child */
    bool log_tool_details;    /* OTEL_LOG_TOOL_DETAILS for the child */
    unsigned logs_interval_ms; /* OTEL_LOGS_EXPORT_INTERVAL; 0 means 1000 */
    /*
     * More settings for a command named claude (borrowed; may be NULL): its
     * "env" joins the telemetry variables, its "hooks" are appended to the
     * user's own hook arrays, and its "statusLine" replaces the user's, whose
     * command is then passed on in CCRUN_STATUSLINE_NEXT.
     */
    json_t *settings;
};

/* Signals ccrun catches until it exits: two ignored, the rest passed on while the child runs. */
#define CCR_LAUNCH_SIGNALS 9

struct ccr_launch;
typedef void (*ccr_launch_exit_cb)(struct ccr_launch *l, void *ctx);

struct ccr_launch {
    uv_loop_t *loop;
    uv_process_t process;
    uv_signal_t signals[CCR_LAUNCH_SIGNALS];
    bool stdio_closed[3]; /* ccrun itself started with this stream closed */
    char **argv; /* what is executed, possibly with --settings added */
    char **env;
    char *settings_dir;  /* the private tmpfs directory holding it */
    char *settings_path; /* the private settings file, removed at exit */
    ccr_launch_exit_cb on_exit;
    void *ctx;
    bool running;
    int exit_status; /* the child's status, or 128 + its signal */
    int term_signal;
    char **parent_otel; /* the parent's own OTEL_* variables, kept for forwarding */
};

/*
 * Prepares argv and the environment. With tel->token set, the child gets
 * ccrun's telemetry variables whatever the parent held, and a command named
 * claude also gets them through --settings (merged with any --settings the
 * user gave), since Claude Code's settings files could otherwise override
 * the environment. Warnings for the user go to *warning (allocated) when set.
 */
void ccr_launch_init(struct ccr_launch *l, uv_loop_t *loop, char *const *argv,
                     const struct ccr_telemetry *tel, char **warning);

/*
 * Spawns the child with stdio inherited (a stream that l->stdio_closed marks
 * gets /dev/null) and starts passing SIGTERM, SIGHUP, SIGUSR1, SIGUSR2,
 * SIGALRM, SIGTSTP and SIGCONT on to it (SIGINT and SIGQUIT reach the child
 * from the terminal; ccrun ignores them). SIGTERM and SIGHUP are followed by
 * SIGCONT, so that a stopped child acts on them; after passing SIGTSTP on,
 * ccrun stops too. on_exit runs once the child is gone and its process handle
 * is closing. The signal handles stay, unreferenced and passing nothing on,
 * until the caller closes them with the loop's other handles. Returns 0, or a
 * negative libuv status (on_exit then never runs).
 */
int ccr_launch_spawn(struct ccr_launch *l, ccr_launch_exit_cb on_exit, void *ctx);

/* The exit status for a spawn failure: 127 when not found, else 126. */
int ccr_launch_spawn_status(int uv_status);

/* Removes the settings file and frees l; the loop must have closed l's handles. */
void ccr_launch_finish(struct ccr_launch *l);

/* True when the command is Claude Code (by the base name of argv[0]). */
bool ccr_launch_is_claude(const char *argv0);
/* Whether argv is a program asked for its version and nothing else (--version, -v, -V). */
bool ccr_launch_only_prints_version(char *const *argv);

#endif
