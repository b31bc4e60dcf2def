/*
 * Out-of-line parts of CSystem: the used-memory counter, SHA-1, long double helpers and
 * signal handlers. See include/csystem.h for why these live in C.
 */
#define _GNU_SOURCE
#include "csystem.h"
#include <ctype.h>
#include <openssl/evp.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

uint64_t tandem_hash(const void *data, size_t len, uint64_t seed) {
    return XXH3_64bits_withSeed(data, len, seed);
}

size_t tandem_used_memory_counter = 0;
int tandem_resize_allowed_flag = 1;

int tandem_accept4(int fd, struct sockaddr *addr, socklen_t *len) {
    return accept4(fd, addr, len, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

void tandem_sha1(const void *data, size_t len, unsigned char out[20]) {
    unsigned int outlen = 20;
    EVP_Digest(data, len, out, &outlen, EVP_sha1(), NULL);
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

static void on_shutdown_signal(int sig) { shutdown_signal = sig; }

void tandem_install_signal_handlers(void) {
    struct sigaction act;
    memset(&act, 0, sizeof(act));
    sigemptyset(&act.sa_mask);
    act.sa_handler = on_shutdown_signal;
    sigaction(SIGTERM, &act, NULL);
    sigaction(SIGINT, &act, NULL);
    signal(SIGPIPE, SIG_IGN);
}

int tandem_shutdown_signal(void) { return shutdown_signal; }
void tandem_clear_shutdown_signal(void) { shutdown_signal = 0; }
