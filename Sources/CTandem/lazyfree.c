/*
 * lazyfree.c: the lazy-free thread (Redis's bio.c BIO_LAZY_FREE and lazyfree.c counters).
 *
 * UNLINK, FLUSHALL ASYNC and the lazyfree-* directives hand large values to this thread so the
 * event loop does not stall while millions of allocations are freed. It is a plain pthread:
 * no Swift runtime, no Dispatch. Jobs are kept in a FIFO list under one mutex; the thread
 * sleeps on a condition variable when the list is empty.
 *
 * Memory accounting: tandem_free subtracts from a per-thread counter (csystem.h). After each
 * job the thread publishes everything it has freed so far (a negative number) in
 * tandem_lazyfree_memory_delta, which tandem_used_memory() adds to the event loop's counter,
 * so INFO's used_memory falls as the thread works, as Redis's atomic used_memory does.
 *
 * fork(): a snapshot child has no copy of this thread. Values queued at fork time were already
 * unlinked from the keyspace, so the child never reaches them; glibc makes malloc safe
 * across fork.
 */
#define _GNU_SOURCE
#include "csystem.h"
#include <pthread.h>

int64_t tandem_lazyfree_memory_delta = 0;

struct lazyfree_job {
    struct lazyfree_job *next;
    tandem_lazyfree_fn fn;
    void *arg1, *arg2;
    size_t objects;
};

static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t queue_ready = PTHREAD_COND_INITIALIZER;
static pthread_cond_t queue_idle = PTHREAD_COND_INITIALIZER;
static struct lazyfree_job *queue_head, *queue_tail;
static int thread_started, job_running;
static size_t pending_objects, freed_objects;
static __thread int on_lazyfree_thread;

void tandem_lazyfree_progress(void) {
    if (on_lazyfree_thread)
        __atomic_store_n(&tandem_lazyfree_memory_delta, (int64_t)tandem_used_memory_counter, __ATOMIC_RELAXED);
}

static void *lazyfree_main(void *unused) {
    (void)unused;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL); /* signals belong to the event loop */
    on_lazyfree_thread = 1;
    pthread_mutex_lock(&queue_lock);
    for (;;) {
        while (queue_head == NULL) pthread_cond_wait(&queue_ready, &queue_lock);
        struct lazyfree_job *job = queue_head;
        queue_head = job->next;
        if (queue_head == NULL) queue_tail = NULL;
        job_running = 1;
        pthread_mutex_unlock(&queue_lock);

        job->fn(job->arg1, job->arg2);
        __atomic_store_n(&tandem_lazyfree_memory_delta, (int64_t)tandem_used_memory_counter, __ATOMIC_RELAXED);

        pthread_mutex_lock(&queue_lock);
        __atomic_sub_fetch(&pending_objects, job->objects, __ATOMIC_RELAXED);
        __atomic_add_fetch(&freed_objects, job->objects, __ATOMIC_RELAXED);
        job_running = 0;
        free(job);
        if (queue_head == NULL) pthread_cond_broadcast(&queue_idle);
    }
    return NULL;
}

void tandem_lazyfree_submit(tandem_lazyfree_fn fn, void *arg1, void *arg2, size_t objects) {
    struct lazyfree_job *job = malloc(sizeof(*job));
    if (job == NULL) abort();
    job->next = NULL;
    job->fn = fn;
    job->arg1 = arg1;
    job->arg2 = arg2;
    job->objects = objects;
    pthread_mutex_lock(&queue_lock);
    if (!thread_started) {
        pthread_t tid;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, 4 * 1024 * 1024);
        if (pthread_create(&tid, &attr, lazyfree_main, NULL) != 0) {
            /* No thread: free on the spot rather than never. */
            pthread_attr_destroy(&attr);
            pthread_mutex_unlock(&queue_lock);
            free(job);
            fn(arg1, arg2);
            return;
        }
        pthread_attr_destroy(&attr);
        pthread_setname_np(tid, "tandem-lazyfree");
        thread_started = 1;
    }
    __atomic_add_fetch(&pending_objects, objects, __ATOMIC_RELAXED);
    if (queue_tail) queue_tail->next = job; else queue_head = job;
    queue_tail = job;
    pthread_cond_signal(&queue_ready);
    pthread_mutex_unlock(&queue_lock);
}

size_t tandem_lazyfree_pending(void) { return __atomic_load_n(&pending_objects, __ATOMIC_RELAXED); }
size_t tandem_lazyfreed_objects(void) { return __atomic_load_n(&freed_objects, __ATOMIC_RELAXED); }
void tandem_lazyfree_reset_stats(void) { __atomic_store_n(&freed_objects, 0, __ATOMIC_RELAXED); }

void tandem_lazyfree_drain(void) {
    pthread_mutex_lock(&queue_lock);
    while (queue_head != NULL || job_running) pthread_cond_wait(&queue_idle, &queue_lock);
    pthread_mutex_unlock(&queue_lock);
}
