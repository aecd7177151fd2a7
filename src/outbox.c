/* SPDX-License-Identifier: MIT */
/* Undelivered batches as private files under .ccrun/outbox/. */
#include "outbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define SUFFIX ".pb"

int ccr_outbox_open(struct ccr_outbox *ob, const char *ccrun_dir, char **cause)
{
    struct stat st;

    ob->dir = ccr_xasprintf("%s/outbox", ccrun_dir);
    ob->lock_fd = -1;
    if (mkdir(ob->dir, 0700) < 0 && errno != EEXIST) {
        int err = errno;
        *cause = ccr_xasprintf("create %s: %s", ob->dir, strerror(err));
        return -err;
    }
    /* The same rule as for .ccrun itself: a link could send the files anywhere. */
    if (lstat(ob->dir, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid()) {
        *cause = ccr_xasprintf("%s is not a directory of this user", ob->dir);
        return -ENOTDIR;
    }
    return 0;
}

void ccr_outbox_finish(struct ccr_outbox *ob)
{
    if (ob->lock_fd >= 0) {
        close(ob->lock_fd);
    }
    free(ob->dir);
    ob->dir = NULL;
    ob->lock_fd = -1;
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return -errno;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/*
 * The name starts with the time in nanoseconds, zero-padded, so sorting
 * names sends the oldest first; the pid and a counter keep names of two
 * processes, or of one quick process, apart.
 */
int ccr_outbox_put(const struct ccr_outbox *ob, enum ccr_signal signal, const uint8_t *body,
                   size_t len, char **path)
{
    static unsigned counter;
    char *name = ccr_xasprintf("%020lld-%d-%u.%s" SUFFIX, (long long)ccr_now_ns(), (int)getpid(),
                               counter++, ccr_signal_name(signal));
    char *tmp = ccr_xasprintf("%s/.tmp-%s", ob->dir, name);
    char *final = ccr_xasprintf("%s/%s", ob->dir, name);
    int rc = 0;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

    if (fd < 0) {
        rc = -errno;
        goto out;
    }
    rc = write_all(fd, body, len);
    if (close(fd) < 0 && rc == 0) {
        rc = -errno;
    }
    if (rc == 0 && rename(tmp, final) < 0) {
        rc = -errno;
    }
    if (rc < 0) {
        unlink(tmp);
    }
out:
    if (rc == 0 && path != NULL) {
        *path = final;
        final = NULL;
    }
    free(name);
    free(tmp);
    free(final);
    return rc;
}

/*
 * flock rather than a lock file's existence: the kernel drops it when the
 * process dies, so a crashed ccrun never leaves the outbox stuck.
 */
bool ccr_outbox_claim(struct ccr_outbox *ob)
{
    if (ob->lock_fd >= 0) {
        return true;
    }
    char *path = ccr_xasprintf("%s/.lock", ob->dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    free(path);
    if (fd < 0) {
        return false;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        close(fd);
        return false;
    }
    ob->lock_fd = fd;
    return true;
}

/* Temporary files start with a dot and the lock is .lock: neither is a batch. */
static int is_batch(const struct dirent *d)
{
    size_t n = strlen(d->d_name);
    return d->d_name[0] != '.' && n > strlen(SUFFIX) &&
           strcmp(d->d_name + n - strlen(SUFFIX), SUFFIX) == 0;
}

size_t ccr_outbox_list(const struct ccr_outbox *ob, char ***paths)
{
    struct dirent **list = NULL;
    int n = scandir(ob->dir, &list, is_batch, alphasort);
    size_t k = 0;

    *paths = ccr_xcalloc(n > 0 ? (size_t)n + 1 : 1, sizeof(char *));
    for (int i = 0; i < n; i++) {
        (*paths)[k++] = ccr_xasprintf("%s/%s", ob->dir, list[i]->d_name);
        free(list[i]);
    }
    free(list);
    return k;
}

/* The signal named in a file name "<time>-<pid>-<n>.<signal>.pb". */
static bool signal_of(const char *path, enum ccr_signal *signal)
{
    static const enum ccr_signal all[] = {CCR_SIGNAL_LOGS, CCR_SIGNAL_METRICS,
                                          CCR_SIGNAL_TRACES};

    for (size_t i = 0; i < 3; i++) {
        char *tail = ccr_xasprintf(".%s" SUFFIX, ccr_signal_name(all[i]));
        size_t n = strlen(path), t = strlen(tail);
        bool match = n > t && strcmp(path + n - t, tail) == 0;
        free(tail);
        if (match) {
            *signal = all[i];
            return true;
        }
    }
    return false;
}

int ccr_outbox_read(const char *path, enum ccr_signal *signal, struct ccr_buf *body)
{
    uint8_t chunk[65536];
    int rc = 0;

    if (!signal_of(path, signal)) {
        return -EINVAL;
    }
    /* A link planted in the outbox must not make ccrun send another file upstream. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        return -errno;
    }
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            rc = -errno;
            break;
        }
        if (n == 0) {
            break;
        }
        ccr_buf_append(body, chunk, (size_t)n);
    }
    close(fd);
    return rc;
}

void ccr_outbox_remove(const char *path)
{
    unlink(path);
}
