/*
 * Out-of-line parts of CTandem: the used-memory counter, SHA-1, long double helpers and
 * signal handlers. See include/csystem.h for why these live in C.
 */
#define _GNU_SOURCE
#include "csystem.h"
#include <ctype.h>
#include <errno.h>
#include <sys/time.h>
#include <string.h>
#include <execinfo.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <fcntl.h>
#include <openssl/evp.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

uint64_t tandem_hash(const void *data, size_t len, uint64_t seed) {
    return XXH3_64bits_withSeed(data, len, seed);
}

__thread size_t tandem_used_memory_counter __attribute__((tls_model("initial-exec"))) = 0;
int tandem_resize_allowed_flag = 1;
size_t tandem_expand_limit_bytes = 0;

int tandem_accept4(int fd, struct sockaddr *addr, socklen_t *len) {
    return accept4(fd, addr, len, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

void tandem_die_with_parent(void) {
    pid_t parent = getppid();
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(1);
}

int tandem_memfd_create(const char *name) {
    return memfd_create(name, MFD_CLOEXEC);
}

int tandem_punch_hole(int fd, int64_t offset, int64_t length) {
    return fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)offset, (off_t)length);
}

ssize_t tandem_send_with_fds(int sock, const void *buf, size_t len, const int *fds, int nfds) {
    struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
    char control[CMSG_SPACE(sizeof(int) * 8)];
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
    if (nfds < 0 || nfds > 8) { errno = EINVAL; return -1; }
    if (nfds > 0) {
        memset(control, 0, sizeof(control));
        msg.msg_control = control;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
    }
    ssize_t n;
    do { n = sendmsg(sock, &msg, MSG_NOSIGNAL); } while (n < 0 && errno == EINTR);
    return n;
}

ssize_t tandem_recv_with_fds(int sock, void *buf, size_t len, int *fds, int max, int *nfds) {
    struct iovec iov = { .iov_base = buf, .iov_len = len };
    char control[CMSG_SPACE(sizeof(int) * 8)];
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
                          .msg_controllen = sizeof(control) };
    *nfds = 0;
    ssize_t n;
    do { n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC); } while (n < 0 && errno == EINTR);
    if (n < 0) return n;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        int count = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        int *received = (int *)CMSG_DATA(c);
        for (int i = 0; i < count; i++) {
            if (*nfds < max) fds[(*nfds)++] = received[i];
            else close(received[i]);
        }
    }
    return n;
}

void tandem_sha1(const void *data, size_t len, unsigned char out[20]) {
    unsigned int outlen = 20;
    EVP_Digest(data, len, out, &outlen, EVP_sha1(), NULL);
}

void tandem_sha256(const void *data, size_t len, unsigned char out[32]) {
    unsigned int outlen = 32;
    EVP_Digest(data, len, out, &outlen, EVP_sha256(), NULL);
}

#define MAX_LONG_DOUBLE_CHARS 5 * 1024

int tandem_string2ld(const char *s, size_t slen, long double *dp) {
    char buf[MAX_LONG_DOUBLE_CHARS];
    long double value;
    char *eptr;
    if (slen == 0 || slen >= sizeof(buf)) return 0;
    memcpy(buf, s, slen);
    buf[slen] = '\0';
    errno = 0;
    value = strtold(buf, &eptr);
    /* The whole argument must be consumed: an embedded NUL stops strtold early. */
    if (isspace((unsigned char)buf[0]) || eptr[0] != '\0' || (size_t)(eptr - buf) != slen ||
        (errno == ERANGE && (value == HUGE_VAL || value == -HUGE_VAL || fpclassify(value) == FP_ZERO)) ||
        isnan(value))
        return 0;
    if (dp) *dp = value;
    return 1;
}

int tandem_string2d(const char *s, size_t slen, double *dp) {
    char buf[MAX_LONG_DOUBLE_CHARS];
    double value;
    char *eptr;
    if (slen == 0 || slen >= sizeof(buf)) return 0;
    memcpy(buf, s, slen);
    buf[slen] = '\0';
    errno = 0;
    value = strtod(buf, &eptr);
    if (isspace((unsigned char)buf[0]) || eptr[0] != '\0' || (size_t)(eptr - buf) != slen ||
        (errno == ERANGE && (value == HUGE_VAL || value == -HUGE_VAL || fpclassify(value) == FP_ZERO)) ||
        isnan(value))
        return 0;
    if (dp) *dp = value;
    return 1;
}

int tandem_ld2string(char *buf, size_t len, long double value) {
    size_t l = 0;
    if (isinf(value)) {
        if (len < 5) return 0;
        if (value > 0) { memcpy(buf, "inf", 3); l = 3; }
        else { memcpy(buf, "-inf", 4); l = 4; }
    } else {
        int n = snprintf(buf, len, "%.17Lf", value);
        if (n < 0 || (size_t)n >= len) return 0;
        l = (size_t)n;
        if (strchr(buf, '.') != NULL) {
            char *p = buf + l - 1;
            while (*p == '0') { p--; l--; }
            if (*p == '.') l--;
        }
        if (l == 2 && buf[0] == '-' && buf[1] == '0') { buf[0] = '0'; l = 1; }
    }
    buf[l] = '\0';
    return (int)l;
}

int tandem_d2string(char *buf, size_t len, double value) {
    if (isinf(value)) {
        if (value > 0) { memcpy(buf, "inf", 4); return 3; }
        memcpy(buf, "-inf", 5); return 4;
    }
    int n = snprintf(buf, len, "%.17g", value);
    return n < 0 ? 0 : n;
}

int tandem_incrbyfloat(const char *value, size_t vlen, const char *incr, size_t ilen,
                       char *buf, size_t buflen, size_t *outlen) {
    long double v = 0, i = 0;
    if (value != NULL && !tandem_string2ld(value, vlen, &v)) return 1;
    if (!tandem_string2ld(incr, ilen, &i)) return 1;
    v += i;
    if (isnan(v) || isinf(v)) return 2;
    int l = tandem_ld2string(buf, buflen, v);
    if (l == 0) return 1;
    *outlen = (size_t)l;
    return 0;
}

static volatile sig_atomic_t shutdown_signal = 0;
/* "temp-<pid>.rdb", the file a shutdown's final save writes (relative to dir). */
static char shutdown_temp_file[64];

/* A second SIGINT while a shutdown is under way (its final save may take long) means "now":
 * the half-written dump is removed and the process exits at once, as Redis does. Only
 * async-signal-safe calls here. */
static void on_shutdown_signal(int sig) {
    if (shutdown_signal != 0 && sig == SIGINT) {
        static const char msg[] = "You insist... exiting now.\n";
        ssize_t ignored = write(STDERR_FILENO, msg, sizeof(msg) - 1);
        (void)ignored;
        unlink(shutdown_temp_file);
        _exit(1);
    }
    shutdown_signal = sig;
}

void tandem_install_signal_handlers(void) {
    snprintf(shutdown_temp_file, sizeof(shutdown_temp_file), "temp-%d.rdb", (int)getpid());
    struct sigaction act;
    memset(&act, 0, sizeof(act));
    sigemptyset(&act.sa_mask);
    act.sa_handler = on_shutdown_signal;
    sigaction(SIGTERM, &act, NULL);
    sigaction(SIGINT, &act, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* ---- Crash report ---- */

static char crash_log_path[4096];

static void crash_write(int fd, const char *s) {
    ssize_t ignored = write(fd, s, strlen(s));
    (void)ignored;
}

static void on_crash_signal(int sig, siginfo_t *info, void *context) {
    (void)context;
    int fd = crash_log_path[0] ? open(crash_log_path, O_WRONLY | O_APPEND | O_CREAT, 0644) : STDOUT_FILENO;
    if (fd < 0) fd = STDERR_FILENO;
    char line[256];
    snprintf(line, sizeof(line),
             "\n\n=== TANDEM BUG REPORT START: Cut & paste starting from here ===\n"
             "%d:M # Tandem (Redis 7.0.15 compatible) crashed by signal: %d, si_code: %d\n",
             (int)getpid(), sig, info ? info->si_code : 0);
    crash_write(fd, line);
    if (info && (sig == SIGSEGV || sig == SIGBUS)) {
        snprintf(line, sizeof(line), "%d:M # Accessing address: %p\n", (int)getpid(), info->si_addr);
        crash_write(fd, line);
    }
    crash_write(fd, "\n------ STACK TRACE ------\n\nBacktrace:\n");
    void *frames[64];
    int n = backtrace(frames, 64);
    backtrace_symbols_fd(frames, n, fd);
    crash_write(fd, "\n=== TANDEM BUG REPORT END. Make sure to include from START to END. ===\n\n");
    if (fd != STDOUT_FILENO && fd != STDERR_FILENO) close(fd);
    /* SA_RESETHAND restored the default action: die by the same signal (core dump, exit status). */
    raise(sig);
}

void tandem_install_crash_handler(const char *log_path) {
    snprintf(crash_log_path, sizeof(crash_log_path), "%s", log_path ? log_path : "");
    /* backtrace() loads libgcc on first use, which is not safe inside a handler: do it now. */
    void *warm[1];
    backtrace(warm, 1);
    struct sigaction act;
    memset(&act, 0, sizeof(act));
    sigemptyset(&act.sa_mask);
    act.sa_flags = SA_SIGINFO | SA_RESETHAND | SA_NODEFER;
    act.sa_sigaction = on_crash_signal;
    sigaction(SIGSEGV, &act, NULL);
    sigaction(SIGBUS, &act, NULL);
    sigaction(SIGFPE, &act, NULL);
    sigaction(SIGILL, &act, NULL);
    sigaction(SIGABRT, &act, NULL);
}

/* The software watchdog (watchdog-period, a debugging aid as in Redis): an interval timer the
 * cron re-arms; if the main thread is stuck longer than the period, SIGALRM logs that and the
 * stack. Installed without SA_RESTART, as Redis's, so a blocking read sees EINTR. */
static void on_watchdog_signal(int sig, siginfo_t *info, void *context) {
    (void)sig; (void)info; (void)context;
    int saved_errno = errno;
    int fd = crash_log_path[0] ? open(crash_log_path, O_WRONLY | O_APPEND | O_CREAT, 0644) : STDOUT_FILENO;
    if (fd < 0) { errno = saved_errno; return; }
    char line[128];
    snprintf(line, sizeof(line), "%d:signal-handler # \n--- WATCHDOG TIMER EXPIRED ---\n", (int)getpid());
    crash_write(fd, line);
    void *frames[64];
    int n = backtrace(frames, 64);
    backtrace_symbols_fd(frames, n, fd);
    crash_write(fd, "--------\n");
    if (fd != STDOUT_FILENO) close(fd);
    errno = saved_errno;
}

void tandem_watchdog_enable(void) {
    struct sigaction act;
    memset(&act, 0, sizeof(act));
    sigemptyset(&act.sa_mask);
    act.sa_flags = SA_SIGINFO | SA_NODEFER;
    act.sa_sigaction = on_watchdog_signal;
    sigaction(SIGALRM, &act, NULL);
}

void tandem_watchdog_schedule(int period_ms) {
    struct itimerval it;
    memset(&it, 0, sizeof(it));
    it.it_value.tv_sec = period_ms / 1000;
    it.it_value.tv_usec = (period_ms % 1000) * 1000;
    setitimer(ITIMER_REAL, &it, NULL);
}

void tandem_watchdog_disable(void) {
    struct itimerval it;
    memset(&it, 0, sizeof(it));
    setitimer(ITIMER_REAL, &it, NULL);
    struct sigaction act;
    memset(&act, 0, sizeof(act));
    sigemptyset(&act.sa_mask);
    act.sa_handler = SIG_IGN;
    sigaction(SIGALRM, &act, NULL);
}

void tandem_segfault(void) {
    volatile int *p = (volatile int *)(uintptr_t)-1;
    *p = 0x45;
}

int tandem_shutdown_signal(void) { return shutdown_signal; }
void tandem_clear_shutdown_signal(void) { shutdown_signal = 0; }

int tandem_disable_thp(void) {
#ifdef PR_SET_THP_DISABLE
    return prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
#else
    return -1;
#endif
}

extern char **environ;

void tandem_set_environ(char **env) {
    environ = env;
}
