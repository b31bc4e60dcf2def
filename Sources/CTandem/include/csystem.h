/*
 * CTandem: the few things Swift cannot import from Glibc directly, as tiny static inline
 * functions so the Swift side can inline them.
 *
 *  - epoll, eventfd and accept4 (Glibc's Swift overlay does not export <sys/epoll.h>, and
 *    accept4 needs _GNU_SOURCE).
 *  - An accounted allocator: every byte the keyspace and the client buffers allocate goes
 *    through tandem_malloc/tandem_realloc/tandem_free, which add malloc_usable_size() to a
 *    counter. That counter is INFO's used_memory, as zmalloc does it in Redis. It lives in C
 *    so that Swift code reaching it pays no runtime exclusivity check.
 *  - xxHash (XXH3, from Debian's libxxhash-dev, inlined) for the keyspace hash table.
 *  - long double parsing and formatting, which INCRBYFLOAT needs to match Redis exactly.
 *  - SHA-1 (OpenSSL's libcrypto) for DEBUG DIGEST, SHA-256 for ACL passwords.
 *  - CRC64 (Redis's variant, crc64.c) for RDB files and DUMP payloads.
 *  - A SIGTERM/SIGINT flag that the event loop polls.
 *  - The processor's cycle counter (rdtsc / cntvct_el0), which Platform's CycleClock turns
 *    into a cheap clock for timing commands.
 *  - Acquire/release loads, stores and fences on 64-bit words in shared memory, for the
 *    replication backlog ring (Sources/Replication/BacklogRing.swift), which other
 *    processes read while the primary writes it.
 */
#ifndef TANDEM_CSYSTEM_H
#define TANDEM_CSYSTEM_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <unistd.h>
#include <malloc.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <netinet/in.h>
#include <netinet/tcp.h>


/* MARK: - cycle counter (Platform/CycleClock.swift) */

/* The processor's time-stamp counter; 0 where there is none (CycleClock then reads the
 * kernel's clocks). */
static inline uint64_t tandem_cycle_counter(void) {
#if defined(__x86_64__)
    return __builtin_ia32_rdtsc();
#elif defined(__aarch64__)
    uint64_t v;
    __asm__ volatile("mrs %0, cntvct_el0" : "=r"(v));
    return v;
#else
    return 0;
#endif
}

/* MARK: - epoll */

static inline int tandem_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

static inline int tandem_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t data) {
    struct epoll_event ev;
    ev.events = events;
    ev.data.u64 = data;
    return epoll_ctl(epfd, op, fd, &ev);
}

/* Waits and copies up to `max` ready events into the parallel arrays. */
static inline int tandem_epoll_wait(int epfd, uint32_t *events, uint64_t *data, int max, int timeout_ms) {
    struct epoll_event evs[256];
    if (max > 256) max = 256;
    int n = epoll_wait(epfd, evs, max, timeout_ms);
    for (int i = 0; i < n; i++) {
        events[i] = evs[i].events;
        data[i] = evs[i].data.u64;
    }
    return n;
}

static inline uint32_t tandem_EPOLLIN(void) { return EPOLLIN; }
static inline uint32_t tandem_EPOLLOUT(void) { return EPOLLOUT; }
static inline uint32_t tandem_EPOLLERR(void) { return EPOLLERR; }
static inline uint32_t tandem_EPOLLHUP(void) { return EPOLLHUP; }
static inline uint32_t tandem_EPOLLRDHUP(void) { return EPOLLRDHUP; }

static inline int tandem_eventfd(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

/* MARK: - sparse shared memory (the backlog ring) */

/* An anonymous shared-memory file (memfd_create, close-on-exec). Unlike a file in /dev/shm it is
 * not bounded by that mount's size (64 MB in a default Docker container), and it disappears with
 * its last descriptor or mapping. Needs _GNU_SOURCE, so out of line. */
int tandem_memfd_create(const char *name);

/* In a forked helper: SIGKILL when the parent dies (prctl PR_SET_PDEATHSIG), also when it
 * already died between the fork and this call. */
void tandem_die_with_parent(void);

/* Gives the pages of [offset, offset+length) back to the kernel while keeping the file's size
 * (fallocate PUNCH_HOLE|KEEP_SIZE): they read as zeros and are committed again when written. */
int tandem_punch_hole(int fd, int64_t offset, int64_t length);

/* MARK: - sockets */

/* accept4 with SOCK_NONBLOCK|SOCK_CLOEXEC (needs _GNU_SOURCE, so it is out of line). */
int tandem_accept4(int fd, struct sockaddr *addr, socklen_t *len);

/* A connected pair of Unix sockets that keep message boundaries (SOCK_SEQPACKET), close-on-exec:
 * the primary's control channel to a sender worker. */
static inline int tandem_seqpacket_pair(int fds[2]) {
    return socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds);
}

/* sendmsg/recvmsg with descriptors in an SCM_RIGHTS control message (CMSG_* are macros Swift
 * cannot import). Send: returns bytes sent or -1. Receive: returns bytes received (0 at EOF,
 * -1 on error); *nfds is set to the descriptors received (at most max, close-on-exec). */
ssize_t tandem_send_with_fds(int sock, const void *buf, size_t len, const int *fds, int nfds);
ssize_t tandem_recv_with_fds(int sock, void *buf, size_t len, int *fds, int max, int *nfds);

static inline int tandem_socket_stream(int domain) {
    return socket(domain, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
}

static inline int tandem_set_keepalive(int fd, int interval) {
    int yes = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &yes, sizeof(yes)) == -1) return -1;
    if (interval <= 0) return 0;
    int idle = interval;
    int intvl = interval / 3; if (intvl == 0) intvl = 1;
    int cnt = 3;
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
    return 0;
}

static inline int tandem_set_int_option(int fd, int level, int name, int value) {
    return setsockopt(fd, level, name, &value, sizeof(value));
}

/* MARK: - accounted allocator */

/* Per thread: the primary's event loop counts its allocations without atomics; the lazy-free
   thread (below) counts its frees in its own copy and publishes the total it freed, which
   tandem_used_memory() subtracts. */
extern __thread size_t tandem_used_memory_counter __attribute__((tls_model("initial-exec")));
extern int64_t tandem_lazyfree_memory_delta;

static inline void *tandem_malloc(size_t size) {
    void *p = malloc(size);
    if (p == NULL) abort();
    tandem_used_memory_counter += malloc_usable_size(p);
    return p;
}

static inline void *tandem_realloc(void *ptr, size_t size) {
    size_t old = ptr ? malloc_usable_size(ptr) : 0;
    void *p = realloc(ptr, size);
    if (p == NULL) abort();
    tandem_used_memory_counter += malloc_usable_size(p);
    tandem_used_memory_counter -= old;
    return p;
}

static inline void tandem_free(void *ptr) {
    if (ptr == NULL) return;
    tandem_used_memory_counter -= malloc_usable_size(ptr);
    free(ptr);
}

static inline size_t tandem_used_memory(void) {
    return tandem_used_memory_counter + (size_t)__atomic_load_n(&tandem_lazyfree_memory_delta, __ATOMIC_RELAXED);
}
static inline size_t tandem_usable_size(void *ptr) { return malloc_usable_size(ptr); }

/* MARK: - lazy free (lazyfree.c)

   One background thread, started on first use, frees what the event loop hands it (Redis's
   bio lazy-free job queue): a job is a function and two arguments, run in submission order.
   `objects` is how many objects the job frees, for INFO's lazyfree_pending_objects (queued,
   not yet freed) and lazyfreed_objects (freed by the thread since the last CONFIG RESETSTAT).
   The job function must touch no Swift runtime state: it walks raw memory and calls
   tandem_free. */
typedef void (*tandem_lazyfree_fn)(void *arg1, void *arg2);
void tandem_lazyfree_submit(tandem_lazyfree_fn fn, void *arg1, void *arg2, size_t objects);
size_t tandem_lazyfree_pending(void);
size_t tandem_lazyfreed_objects(void);
void tandem_lazyfree_reset_stats(void);
/* Waits until every submitted job ran (tests, DEBUG). */
void tandem_lazyfree_drain(void);
/* Called now and then by long freeing loops: on the lazy-free thread it publishes what has been
   freed so far (used_memory falls during a long job, not only at its end); elsewhere it does
   nothing. */
void tandem_lazyfree_progress(void);

/* MARK: - append-only file I/O (aof_io.c)

   One background thread, started on first use, for the AOF's slow calls (Redis's bio fsync
   and close jobs): fdatasync with appendfsync everysec, fsync-and-close of the incremental
   file a rewrite switched away from, and the last close of a file whose name
   tandem_unlink_async removed at once (history files: freeing a big file's blocks is slow). */
void tandem_aof_fsync_async(int fd);
void tandem_aof_fsync_and_close_async(int fd);
void tandem_unlink_async(const char *path);
/* An fsync job is queued or running (the event loop postpones its next AOF write). */
int tandem_aof_fsync_in_progress(void);
/* 0, or the errno of the last background fsync, which failed. */
int tandem_aof_fsync_errno(void);
void tandem_aof_fsync_clear_errno(void);
/* Waits until every queued job ran (DEBUG, shutdown, tests). */
void tandem_aof_io_drain(void);

/* MARK: - hash table resizing */

/* Cleared while a fork child exists: every hash table (keyspace and the tables inside hashes,
   sets and sorted sets) then stops resizing, as Redis's dict_can_resize does. */
extern int tandem_resize_allowed_flag;
static inline int tandem_resize_allowed(void) { return tandem_resize_allowed_flag; }
static inline void tandem_set_resize_allowed(int v) { tandem_resize_allowed_flag = v; }

/* maxmemory for table growth (0: none): a keyspace table at a load factor up to 1.618 does not
 * grow when its new bucket array would take memory past this, as Redis's dictExpandAllowed. */
extern size_t tandem_expand_limit_bytes;
static inline size_t tandem_expand_limit(void) { return tandem_expand_limit_bytes; }
static inline void tandem_set_expand_limit(size_t v) { tandem_expand_limit_bytes = v; }

/* MARK: - hashing */

/* XXH3 with a seed. Out of line: xxhash.h pulls in SIMD intrinsics headers that clash
   with Glibc's module map when included from a Swift-imported header. */
uint64_t tandem_hash(const void *data, size_t len, uint64_t seed);

/* SHA-1 of a buffer into out[20]. */
void tandem_sha1(const void *data, size_t len, unsigned char out[20]);
/* SHA-256 for ACL password hashes. */
void tandem_sha256(const void *data, size_t len, unsigned char out[32]);

/* Redis's CRC64 (Jones polynomial, reflected, no final xor) of `len` bytes, continuing from
   `crc` (0 to start). crc64(crc64(0, a), b) == crc64(0, a + b). See crc64.c. */
uint64_t tandem_crc64(uint64_t crc, const void *data, size_t len);

/* MARK: - long double (INCRBYFLOAT) */

/* Parses a long double the way Redis's string2ld does. Returns 1 on success. */
int tandem_string2ld(const char *s, size_t len, long double *out);
/* Formats like Redis's ld2string in human-friendly mode. Returns the length, 0 on error. */
int tandem_ld2string(char *buf, size_t len, long double value);
/* Parses a double the way Redis's string2d does. Returns 1 on success. */
int tandem_string2d(const char *s, size_t len, double *out);
/* Formats a double as Redis's addReplyDouble does in RESP2 ("%.17g"). */
int tandem_d2string(char *buf, size_t len, double value);

/* Adds a long double increment to a value held as text; 0 on success, 1 bad value,
   2 NaN or infinity. The result is written to buf. */
int tandem_incrbyfloat(const char *value, size_t vlen, const char *incr, size_t ilen,
                       char *buf, size_t buflen, size_t *outlen);

/* MARK: - signals */

void tandem_install_signal_handlers(void);
/* crash-log-enabled: on SIGSEGV, SIGBUS, SIGFPE, SIGILL or SIGABRT, write a crash report with a
 * stack trace to `log_path` (standard output when empty), then die by the same signal. */
void tandem_install_crash_handler(const char *log_path);

/* TCP progress of a socket (tcpinfo.c): bytes the peer acknowledged and bytes still queued to
 * send. -1 for a socket that is not TCP. */
int tandem_tcp_progress(int fd, int64_t *acked, int64_t *queued);

/* watchdog-period: enable installs the SIGALRM handler (logging to the crash handler's log),
 * schedule (re)arms the one-shot timer, disable stops both. */
void tandem_watchdog_enable(void);
void tandem_watchdog_schedule(int period_ms);
void tandem_watchdog_disable(void);
/* DEBUG SEGFAULT. */
void tandem_segfault(void);
/* The signal that asked for shutdown (SIGTERM or SIGINT), or 0. */
int tandem_shutdown_signal(void);
void tandem_clear_shutdown_signal(void);

/* MARK: - shared-memory atomics (backlog ring) */

/* The backlog ring's header lives in a MAP_SHARED mapping that forked or attached processes
   read while the primary writes it. Swift's Synchronization.Atomic cannot be placed on a
   pointer into such a mapping, so the few atomic operations the ring needs are here, on
   plain aligned uint64_t words. BacklogRing.swift says which ordering each access needs
   and why. */

static inline uint64_t tandem_load_acquire_u64(const uint64_t *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static inline uint64_t tandem_load_relaxed_u64(const uint64_t *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }
static inline void tandem_store_release_u64(uint64_t *p, uint64_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
static inline void tandem_store_relaxed_u64(uint64_t *p, uint64_t v) { __atomic_store_n(p, v, __ATOMIC_RELAXED); }

/* Fences for the seqlock-style validation: the writer's release fence keeps its header
   update ahead of the data bytes it then overwrites; the reader's acquire fence keeps its
   data reads ahead of the header re-read that validates them. */
static inline void tandem_fence_acquire(void) { __atomic_thread_fence(__ATOMIC_ACQUIRE); }
static inline void tandem_fence_release(void) { __atomic_thread_fence(__ATOMIC_RELEASE); }

/* MARK: - process */

static inline double tandem_cpu_seconds(int who_children, int sys) {
    struct rusage ru;
    getrusage(who_children ? RUSAGE_CHILDREN : RUSAGE_SELF, &ru);
    struct timeval tv = sys ? ru.ru_stime : ru.ru_utime;
    return (double)tv.tv_sec + (double)tv.tv_usec / 1000000.0;
}

/* MARK: - bit operations (bitops.c) */

/* Set bits in `len` bytes, a word at a time (POPCNT where the CPU has it). */
uint64_t tandem_popcount(const void *data, size_t len);

/* The index of the first byte in [from, len) that differs from `skip`; `len` when none does. */
size_t tandem_find_byte_not(const void *data, size_t from, size_t len, uint8_t skip);

enum { TANDEM_BITOP_AND = 0, TANDEM_BITOP_OR = 1, TANDEM_BITOP_XOR = 2, TANDEM_BITOP_NOT = 3 };

/* dst[0..<len] = the operation over `count` sources, each read as zero past its own length
   (NOT: one source). */
void tandem_bitop(int op, uint8_t *dst, size_t len, const uint8_t *const *src, const size_t *srclen, size_t count);

#endif

/* MARK: - process tuning */

/* prctl(PR_SET_THP_DISABLE, 1): no transparent huge pages for this process and its children
 * (a fork's copy-on-write would copy 2 MB per touched page). 0 on success. */
int tandem_disable_thp(void);

/* Points the process's environment at `env` (Swift imports `environ` read-only); used once, by
 * the process title, after copying the strings elsewhere. */
void tandem_set_environ(char **env);
