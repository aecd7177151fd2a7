/* SPDX-License-Identifier: MIT */
/*
 * The per-project configuration file, .ccrun/config, in INI form (read with
 * inih):
 *
 *     [privacy]
 *     prompts = hash          ; keep | hash | drop
 *     tool_details = hash     ; keep | hash | drop
 */
#ifndef CCR_CONFIG_H
#define CCR_CONFIG_H

struct ccr_config {
    char *prompts;      /* NULL when not set */
    char *tool_details; /* NULL when not set */
};

/*
 * Reads dir/config into c. A missing file is no error. Unknown sections or
 * keys are skipped and described in *warning (allocated) when set. Returns
 * 0, or a negative errno with *cause set when the file cannot be parsed.
 */
int ccr_config_load(const char *dir, struct ccr_config *c, char **warning, char **cause);
void ccr_config_finish(struct ccr_config *c);

#endif
