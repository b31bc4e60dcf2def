/*
 * aof_io.c: the append-only file's background thread (Redis's bio.c BIO_AOF_FSYNC and
 * BIO_CLOSE_FILE jobs).
 *
 * With `appendfsync everysec` the event loop writes the AOF buffer itself and hands the
 * fdatasync() to this thread at most once a second, so a slow disk never stalls clients; the
 * loop asks `tandem_aof_io_pending()` before its next write and postpones it (up to two
 * seconds, as Redis) while an fsync runs, because on Linux a write(2) to a file being synced
 * blocks anyway. The thread also closes an old incremental file after syncing it (a rewrite
 * switched files), and the last descriptor of a removed file: tandem_unlink_async removes the
 * name at once (so a file created under the same name next is never touched) and leaves the
 * slow part, freeing a big file's blocks on its last close, to the thread (Redis's bg_unlink).
 *
 * A failed fsync is recorded (its errno) for the event loop, which then refuses writes with
 * -MISCONF as Redis does, until a later fsync succeeds.
 *
 * A plain pthread: no Swift runtime, no Dispatch. Jobs are a FIFO list under one mutex.
 * fork(): a rewrite child has no copy of this thread and never touches its queue.
 */
#define _GNU_SOURCE
#include "csystem.h"
#include <pthread.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { JOB_FSYNC = 1, JOB_FSYNC_AND_CLOSE = 2, JOB_CLOSE = 3 };

struct aof_io_job {
    struct aof_io_job *next;
    int kind;
    int fd;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ready = PTHREAD_COND_INITIALIZER;
static pthread_cond_t idle = PTHREAD_COND_INITIALIZER;
static struct aof_io_job *head, *tail;
static int started, running;
static int pending_fsyncs;      /* fsync jobs queued or running */
static int fsync_errno;         /* 0, or the errno of the last failed fsync */

static void *aof_io_main(void *unused) {
    (void)unused;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL); /* signals belong to the event loop */
    pthread_mutex_lock(&lock);
    for (;;) {
        while (head == NULL) pthread_cond_wait(&ready, &lock);
        struct aof_io_job *job = head;
        head = job->next;
        if (head == NULL) tail = NULL;
        running = 1;
        pthread_mutex_unlock(&lock);

        int err = 0;
        if (job->kind == JOB_FSYNC || job->kind == JOB_FSYNC_AND_CLOSE) {
            /* EBADF/EINVAL: the file was closed meanwhile or cannot be synced (a pipe in
               tests); Redis ignores those too. */
            if (fdatasync(job->fd) == -1 && errno != EBADF && errno != EINVAL) err = errno;
            if (job->kind == JOB_FSYNC_AND_CLOSE) close(job->fd);
        } else if (job->kind == JOB_CLOSE) {
            close(job->fd);
        }

        pthread_mutex_lock(&lock);
        if (job->kind != JOB_CLOSE) {
            pending_fsyncs--;
            __atomic_store_n(&fsync_errno, err, __ATOMIC_RELAXED);
        }
        running = 0;
        free(job);
        if (head == NULL) pthread_cond_broadcast(&idle);
    }
    return NULL;
}

/* Queues a job, starting the thread on first use. Without a thread the job runs here. */
static void submit(int kind, int fd) {
    struct aof_io_job *job = malloc(sizeof(*job));
    if (job == NULL) abort();
    job->next = NULL;
    job->kind = kind;
    job->fd = fd;
    pthread_mutex_lock(&lock);
    if (!started) {
        pthread_t tid;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, 1024 * 1024);
        if (pthread_create(&tid, &attr, aof_io_main, NULL) != 0) {
            pthread_attr_destroy(&attr);
            pthread_mutex_unlock(&lock);
            if (kind != JOB_CLOSE && fdatasync(fd) == -1 && errno != EBADF && errno != EINVAL) fsync_errno = errno;
            if (kind != JOB_FSYNC) close(fd);
            free(job);
            return;
        }
        pthread_attr_destroy(&attr);
        pthread_setname_np(tid, "tandem-aof-io");
        started = 1;
    }
    if (kind != JOB_CLOSE) pending_fsyncs++;
    if (tail) tail->next = job; else head = job;
    tail = job;
    pthread_cond_signal(&ready);
    pthread_mutex_unlock(&lock);
}

void tandem_aof_fsync_async(int fd) { submit(JOB_FSYNC, fd); }
void tandem_aof_fsync_and_close_async(int fd) { submit(JOB_FSYNC_AND_CLOSE, fd); }

void tandem_unlink_async(const char *path) {
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (unlink(path) == -1 || fd == -1) {
        if (fd != -1) close(fd);
        return;
    }
    submit(JOB_CLOSE, fd);
}

int tandem_aof_fsync_in_progress(void) {
    pthread_mutex_lock(&lock);
    int n = pending_fsyncs;
    pthread_mutex_unlock(&lock);
    return n > 0;
}

int tandem_aof_fsync_errno(void) { return __atomic_load_n(&fsync_errno, __ATOMIC_RELAXED); }
void tandem_aof_fsync_clear_errno(void) { __atomic_store_n(&fsync_errno, 0, __ATOMIC_RELAXED); }

void tandem_aof_io_drain(void) {
    pthread_mutex_lock(&lock);
    while (head != NULL || running) pthread_cond_wait(&idle, &lock);
    pthread_mutex_unlock(&lock);
}
