/* SPDX-License-Identifier: MIT */
/* The project a run belongs to and its private .ccrun/ directory. */
#ifndef CCR_PROJECT_H
#define CCR_PROJECT_H

struct ccr_project {
    char *root;    /* absolute project directory */
    char *dir;     /* root + "/.ccrun" */
    char *db_path; /* dir + "/history.db" */
};

/*
 * Finds the project: dir when it is not NULL, otherwise CCRUN_DIR when set,
 * otherwise the nearest ancestor of the current directory holding .git, or
 * the current directory itself. Nothing is created. Returns 0, or a negative
 * errno with *cause set (allocated, the caller frees).
 */
int ccr_project_find(const char *dir, struct ccr_project *p, char **cause);

/*
 * Creates .ccrun/ (mode 0700) with a .gitignore holding "*" when missing.
 * Returns 0, or a negative errno with *cause set.
 */
int ccr_project_prepare(const struct ccr_project *p, char **cause);

/*
 * For readers: -ENOTDIR with *cause set when .ccrun exists but is not a
 * directory (so "no runs" would mislead), else 0.
 */
int ccr_project_check(const struct ccr_project *p, char **cause);

void ccr_project_finish(struct ccr_project *p);

#endif
