/* SPDX-License-Identifier: MIT */
/* Locating the project root and preparing .ccrun/ inside it. */
#include "project.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

/*
 * Walking up for .git gives the same answer as `git rev-parse
 * --show-toplevel` for repositories, worktrees and submodules (where .git is
 * a file), without the cost of starting git on every run.
 */
static char *git_top_level(const char *start)
{
    char *dir = ccr_xstrdup(start);

    for (;;) {
        char *probe = ccr_xasprintf("%s/.git", dir);
        struct stat st;
        int found = lstat(probe, &st) == 0;
        free(probe);
        if (found) {
            return dir;
        }
        char *slash = strrchr(dir, '/');
        if (slash == NULL || slash == dir) {
            free(dir);
            return NULL;
        }
        *slash = '\0';
    }
}

int ccr_project_find(const char *dir, struct ccr_project *p, char **cause)
{
    char *root = NULL;

    memset(p, 0, sizeof(*p));
    if (dir == NULL || dir[0] == '\0') {
        dir = getenv("CCRUN_DIR");
    }
    if (dir != NULL && dir[0] != '\0') {
        root = realpath(dir, NULL);
        if (root == NULL) {
            int err = errno;
            *cause = ccr_xasprintf("project directory %s: %s", dir, strerror(err));
            return -err;
        }
    } else {
        char *cwd = getcwd(NULL, 0);
        if (cwd == NULL) {
            int err = errno;
            *cause = ccr_xasprintf("current directory: %s", strerror(err));
            return -err;
        }
        root = git_top_level(cwd);
        if (root == NULL) {
            root = cwd;
        } else {
            free(cwd);
        }
    }
    p->root = root;
    p->dir = ccr_xasprintf("%s/.ccrun", root);
    p->db_path = ccr_xasprintf("%s/history.db", p->dir);
    return 0;
}

static int write_gitignore(const char *dir, char **cause)
{
    char *path = ccr_xasprintf("%s/.gitignore", dir);
    int rc = 0;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

    if (fd < 0) {
        if (errno != EEXIST) {
            rc = -errno;
            *cause = ccr_xasprintf("create %s: %s", path, strerror(-rc));
        }
        goto out;
    }
    if (write(fd, "*\n", 2) != 2) {
        rc = -EIO;
        *cause = ccr_xasprintf("write %s: %s", path, strerror(errno));
    }
    close(fd);
out:
    free(path);
    return rc;
}

int ccr_project_prepare(const struct ccr_project *p, char **cause)
{
    struct stat st;

    if (mkdir(p->dir, 0700) < 0 && errno != EEXIST) {
        int err = errno;
        *cause = ccr_xasprintf("create %s: %s", p->dir, strerror(err));
        return -err;
    }
    /*
     * A link or another user's directory could send the history, and the
     * key that protects its hashes, somewhere the user does not control.
     */
    if (lstat(p->dir, &st) < 0 || S_ISLNK(st.st_mode)) {
        *cause = ccr_xasprintf("%s is a symbolic link; ccrun uses only a real directory", p->dir);
        return -ELOOP;
    }
    if (!S_ISDIR(st.st_mode)) {
        *cause = ccr_xasprintf("%s is not a directory", p->dir);
        return -ENOTDIR;
    }
    if (st.st_uid != geteuid()) {
        *cause = ccr_xasprintf("%s belongs to another user (uid %ld)", p->dir, (long)st.st_uid);
        return -EPERM;
    }
    if ((st.st_mode & 07777) != 0700 && chmod(p->dir, 0700) < 0) {
        int err = errno;
        *cause = ccr_xasprintf("make %s private: %s", p->dir, strerror(err));
        return -err;
    }
    return write_gitignore(p->dir, cause);
}

int ccr_project_check(const struct ccr_project *p, char **cause)
{
    struct stat st;

    if (lstat(p->dir, &st) == 0 && !S_ISDIR(st.st_mode)) {
        *cause = ccr_xasprintf("%s is not a directory, so ccrun keeps no history there",
                               p->dir);
        return -ENOTDIR;
    }
    return 0;
}

void ccr_project_finish(struct ccr_project *p)
{
    free(p->root);
    free(p->dir);
    free(p->db_path);
    memset(p, 0, sizeof(*p));
}
