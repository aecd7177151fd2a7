/* SPDX-License-Identifier: MIT */
/* ccrun: run a command with its Claude Code telemetry recorded and summarised. */
#include "cmd.h"

int main(int argc, char **argv)
{
    return ccr_cmd_main(argc, argv);
}
