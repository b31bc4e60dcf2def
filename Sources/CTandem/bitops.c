/*
 * Bit operations over byte strings: the inner loops of BITCOUNT, BITPOS and BITOP.
 *
 * These run over whole bitmaps (a 64 MB BITCOUNT is half a billion bits), so they work a
 * machine word at a time. Counting uses the CPU's POPCNT instruction where it exists: the
 * default x86-64 target has no POPCNT, so the counting loop is compiled twice, once for the
 * baseline and once with the instruction allowed, and the choice is made once at start-up
 * from CPUID (__builtin_cpu_supports). Everything else is plain C the compiler vectorises.
 *
 * Bit numbering is Redis's: bit 0 is the most significant bit of byte 0.
 */
#include "csystem.h"
#include <string.h>

static uint64_t count_words_generic(const uint8_t *p, size_t n) {
    uint64_t total = 0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        total += (uint64_t)__builtin_popcountll(w);
    }
    for (; i < n; i++) total += (uint64_t)__builtin_popcount(p[i]);
    return total;
}

#if defined(__x86_64__)
__attribute__((target("popcnt")))
static uint64_t count_words_popcnt(const uint8_t *p, size_t n) {
    /* Four independent sums: POPCNT has a latency of 3 cycles and a throughput of 1. */
    uint64_t a = 0, b = 0, c = 0, d = 0;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        uint64_t w[4];
        memcpy(w, p + i, 32);
        a += (uint64_t)__builtin_popcountll(w[0]);
        b += (uint64_t)__builtin_popcountll(w[1]);
        c += (uint64_t)__builtin_popcountll(w[2]);
        d += (uint64_t)__builtin_popcountll(w[3]);
    }
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        a += (uint64_t)__builtin_popcountll(w);
    }
    for (; i < n; i++) a += (uint64_t)__builtin_popcount(p[i]);
    return a + b + c + d;
}
#endif

static uint64_t (*count_words)(const uint8_t *, size_t) = count_words_generic;

__attribute__((constructor))
static void choose_popcount(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("popcnt")) count_words = count_words_popcnt;
#endif
}

uint64_t tandem_popcount(const void *data, size_t len) {
    return count_words((const uint8_t *)data, len);
}

/* The first byte at or after `from` that is not `skip`, or `len` when there is none. */
size_t tandem_find_byte_not(const void *data, size_t from, size_t len, uint8_t skip) {
    const uint8_t *p = (const uint8_t *)data;
    uint64_t pattern = 0x0101010101010101ULL * skip;
    size_t i = from;
    while (i < len && (i & 7) != 0) {
        if (p[i] != skip) return i;
        i++;
    }
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        if (w != pattern) break;
    }
    for (; i < len; i++) {
        if (p[i] != skip) return i;
    }
    return len;
}

/* dst[0..<len] = op over the sources, each zero-padded to len (srclen[k] bytes long). */
void tandem_bitop(int op, uint8_t *dst, size_t len, const uint8_t *const *src, const size_t *srclen, size_t count) {
    if (op == TANDEM_BITOP_NOT) {
        size_t n = srclen[0];
        for (size_t i = 0; i < n; i++) dst[i] = (uint8_t)~src[0][i];
        for (size_t i = n; i < len; i++) dst[i] = 0xFF;
        return;
    }
    /* The first source, then each other one folded in; past a source's end it reads as zero. */
    size_t n0 = srclen[0] < len ? srclen[0] : len;
    if (n0) memcpy(dst, src[0], n0);
    if (len > n0) memset(dst + n0, 0, len - n0);
    for (size_t k = 1; k < count; k++) {
        const uint8_t *s = src[k];
        size_t n = srclen[k] < len ? srclen[k] : len;
        switch (op) {
        case TANDEM_BITOP_AND:
            for (size_t i = 0; i < n; i++) dst[i] &= s[i];
            if (len > n) memset(dst + n, 0, len - n);
            break;
        case TANDEM_BITOP_OR:
            for (size_t i = 0; i < n; i++) dst[i] |= s[i];
            break;
        case TANDEM_BITOP_XOR:
            for (size_t i = 0; i < n; i++) dst[i] ^= s[i];
            break;
        }
    }
}
