/*
 * eviction-loadgen.c -- the read-through cache client bench/eviction runs (one connection).
 *
 *   eviction-loadgen <port> <seconds> <keyspace> <pipeline> <value-bytes> <seed>
 *
 * Loop until <seconds> pass: GET a batch of <pipeline> keys drawn from a scrambled Zipfian
 * distribution (theta 0.99, YCSB's generator: Gray et al., "Quickly generating billion-record
 * synthetic databases") over <keyspace> keys, then SET every key that missed (read-through),
 * pipelined too. Each batch's GET round trip is one latency sample.
 *
 * Prints one line: gets hits sets errors, then the latency histogram as "us:count" pairs
 * (1 us buckets below 1 ms, 100 us buckets below 100 ms, then one overflow bucket), which the
 * driver merges across clients for percentiles.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define FINE 1000            /* 1 us buckets up to 1 ms */
#define COARSE 1000          /* 100 us buckets up to 100 ms */
static uint64_t histogram[FINE + COARSE + 1];

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t rng;
static double uniform(void) {
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (rng >> 11) * (1.0 / 9007199254740992.0);
}

/* YCSB's ZipfianGenerator, then FNV scrambling so the hot keys are spread over the keyspace. */
static double zipf_theta = 0.99, zipf_alpha, zipf_zetan, zipf_eta;
static long zipf_n;
static void zipf_init(long n) {
    double zeta2 = 0;
    zipf_n = n;
    zipf_zetan = 0;
    for (long i = 1; i <= n; i++) zipf_zetan += 1.0 / pow((double)i, zipf_theta);
    for (long i = 1; i <= 2; i++) zeta2 += 1.0 / pow((double)i, zipf_theta);
    zipf_alpha = 1.0 / (1.0 - zipf_theta);
    zipf_eta = (1 - pow(2.0 / n, 1 - zipf_theta)) / (1 - zeta2 / zipf_zetan);
}
static long zipf_next(void) {
    double u = uniform(), uz = u * zipf_zetan;
    long rank;
    if (uz < 1.0) rank = 0;
    else if (uz < 1.0 + pow(0.5, zipf_theta)) rank = 1;
    else rank = (long)(zipf_n * pow(zipf_eta * u - zipf_eta + 1, zipf_alpha));
    uint64_t h = 14695981039346656037ULL;
    for (int i = 0; i < 8; i++) { h ^= (rank >> (i * 8)) & 0xff; h *= 1099511628211ULL; }
    return (long)(h % (uint64_t)zipf_n);
}

static int fd;
static char in[1 << 20];
static size_t in_len, in_pos;

static void send_all(const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w <= 0) { perror("write"); exit(1); }
        p += w; n -= (size_t)w;
    }
}

static int next_byte(void) {
    if (in_pos == in_len) {
        ssize_t r = read(fd, in, sizeof in);
        if (r <= 0) { perror("read"); exit(1); }
        in_len = (size_t)r; in_pos = 0;
    }
    return (unsigned char)in[in_pos++];
}

/* Reads one reply line; returns its type byte and the integer after it (bulk length). */
static int read_reply(long *len) {
    int type = next_byte(), c, neg = 0;
    long v = 0;
    while ((c = next_byte()) != '\r') {
        if (c == '-') neg = 1; else if (c >= '0' && c <= '9') v = v * 10 + (c - '0');
    }
    next_byte(); /* \n */
    *len = neg ? -v : v;
    if (type == '$' && *len >= 0) for (long i = 0; i < *len + 2; i++) next_byte();
    return type;
}

int main(int argc, char **argv) {
    if (argc != 7) { fprintf(stderr, "usage: %s port seconds keyspace pipeline value-bytes seed\n", argv[0]); return 2; }
    int port = atoi(argv[1]), pipeline = atoi(argv[4]), vsize = atoi(argv[5]);
    double seconds = atof(argv[2]);
    rng = strtoull(argv[6], NULL, 10) * 2654435761ULL + 1;
    zipf_init(atol(argv[3]));
    fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) { perror("connect"); return 1; }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    char *value = malloc(vsize + 1);
    memset(value, 'v', vsize);
    char *out = malloc((size_t)pipeline * (vsize + 128));
    long keys[4096];
    uint64_t gets = 0, hits = 0, sets = 0, errors = 0;
    double end = now() + seconds;
    while (now() < end) {
        size_t o = 0;
        for (int i = 0; i < pipeline; i++) {
            keys[i] = zipf_next();
            char k[32];
            int kl = snprintf(k, sizeof k, "key:%ld", keys[i]);
            o += sprintf(out + o, "*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n", kl, k);
        }
        double t = now();
        send_all(out, o);
        int missed[4096], nmiss = 0;
        for (int i = 0; i < pipeline; i++) {
            long len;
            int type = read_reply(&len);
            gets++;
            if (type == '$' && len >= 0) hits++;
            else if (type == '$') missed[nmiss++] = i;
            else errors++;
        }
        long us = (long)((now() - t) * 1e6);
        if (us < FINE) histogram[us]++;
        else if (us < FINE + COARSE * 100) histogram[FINE + (us - FINE) / 100]++;
        else histogram[FINE + COARSE]++;
        if (nmiss == 0) continue;
        o = 0;
        for (int j = 0; j < nmiss; j++) {
            char k[32];
            int kl = snprintf(k, sizeof k, "key:%ld", keys[missed[j]]);
            o += sprintf(out + o, "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n", kl, k, vsize);
            memcpy(out + o, value, vsize); o += vsize;
            memcpy(out + o, "\r\n", 2); o += 2;
        }
        send_all(out, o);
        for (int j = 0; j < nmiss; j++) {
            long len;
            if (read_reply(&len) != '+') errors++;
            sets++;
        }
    }
    printf("%llu %llu %llu %llu", (unsigned long long)gets, (unsigned long long)hits, (unsigned long long)sets,
           (unsigned long long)errors);
    for (int i = 0; i <= FINE + COARSE; i++) {
        if (!histogram[i]) continue;
        long us = i < FINE ? i : i < FINE + COARSE ? FINE + (i - FINE) * 100 : 100000 + FINE;
        printf(" %ld:%llu", us, (unsigned long long)histogram[i]);
    }
    printf("\n");
    return 0;
}
