/* SPDX-License-Identifier: MIT */
/* The child's argument vector: when ccrun adds its --settings to Claude Code's. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "launch.h"

static char tmp_dir[] = "/tmp/ccrun-test-launch-XXXXXX";

static size_t argc_of(char **argv)
{
    size_t n = 0;
    while (argv[n] != NULL) {
        n++;
    }
    return n;
}

/* Builds the launch for argv and returns how many arguments would be executed. */
static size_t launched_argc(char *const *argv, char **first_arg)
{
    struct ccr_telemetry tel = {.port = 4318, .token = "00ff"};
    struct ccr_launch l;
    uv_loop_t loop;
    char *warning = NULL;

    uv_loop_init(&loop);
    ccr_launch_init(&l, &loop, argv, &tel, &warning);
    ASSERT_TRUE(warning == NULL);
    free(warning);
    size_t n = argc_of(l.argv);
    *first_arg = strdup(l.argv[1] != NULL ? l.argv[1] : "");
    ccr_launch_finish(&l);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    return n;
}

static void claude_version_runs_as_given(void)
{
    const char *flags[] = {"--version", "-v", "-V"};

    for (size_t i = 0; i < 3; i++) {
        char *argv[] = {(char *)"claude", (char *)flags[i], NULL};
        char *first;
        ASSERT_INT_EQ(launched_argc(argv, &first), 2);
        ASSERT_STR_EQ(first, flags[i]);
        free(first);
    }
}

static void claude_session_gets_settings(void)
{
    char *prompt[] = {(char *)"/usr/bin/claude", (char *)"-p", (char *)"hi", NULL};
    char *version_and_more[] = {(char *)"claude", (char *)"--version", (char *)"-p", NULL};
    char *bare[] = {(char *)"claude", NULL};
    char *first;

    ASSERT_INT_EQ(launched_argc(prompt, &first), 5);
    ASSERT_STR_EQ(first, "--settings");
    free(first);
    ASSERT_INT_EQ(launched_argc(version_and_more, &first), 5);
    ASSERT_STR_EQ(first, "--settings");
    free(first);
    ASSERT_INT_EQ(launched_argc(bare, &first), 3);
    ASSERT_STR_EQ(first, "--settings");
    free(first);
}

int main(void)
{
    if (mkdtemp(tmp_dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    CCR_RUN(claude_version_runs_as_given);
    CCR_RUN(claude_session_gets_settings);
    rmdir(tmp_dir);
    return CCR_TEST_EXIT();
}
