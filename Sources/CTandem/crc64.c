/*
 * CRC64 as Redis computes it: the checksum at the end of every RDB file (and of every DUMP
 * payload, and of the RDB a master streams to a replica). A file Tandem writes must carry the
 * checksum Redis expects, or redis-server refuses to load it; a file Redis writes must check
 * out here, or Tandem refuses it.
 *
 * The variant is "CRC-64/Jones": polynomial 0xad93d23594c935a9, processed bit-reflected
 * (least significant bit first), initial value 0, no final xor. Its check value, the CRC of
 * the nine bytes "123456789", is 0xe9c6d914c4b8d9ca.
 *
 * Why a table, and why eight of them: a snapshot checksums every byte it writes, so this runs
 * over gigabytes. The bit-at-a-time definition costs 8 shifts per byte; one 256-entry table
 * makes it one lookup per byte; eight tables ("slice-by-8") fold eight bytes per step with
 * eight independent lookups, which the CPU overlaps — several GB/s, as Redis's crcspeed gets.
 *
 * table[0][b] is the CRC of the single byte b. table[k][b] is the CRC of b followed by k zero
 * bytes, i.e. table[0] advanced k more bytes. Reading eight bytes as one little-endian word and
 * xoring it into the running CRC then needs one lookup per byte position, each with the table
 * that accounts for how many bytes still follow it in the word. The word load assumes a
 * little-endian machine (x86-64 and arm64 Linux); a big-endian build fails below.
 *
 * The tables are built once, before main, by a constructor: 16 KiB, a few microseconds.
 */
#include "csystem.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "crc64.c folds 8 bytes as a little-endian word; add a byte-swapping path for big-endian"
#endif

/* 0xad93d23594c935a9 with its 64 bits in reverse order: the polynomial of the reflected form. */
#define CRC64_JONES_REFLECTED 0x95ac9329ac4bc9b5ULL

static uint64_t crc64_table[8][256];

__attribute__((constructor)) static void crc64_init_tables(void) {
    for (int b = 0; b < 256; b++) {
        uint64_t crc = (uint64_t)b;
        for (int bit = 0; bit < 8; bit++)
            crc = (crc & 1) ? (crc >> 1) ^ CRC64_JONES_REFLECTED : crc >> 1;
        crc64_table[0][b] = crc;
    }
    for (int b = 0; b < 256; b++) {
        uint64_t crc = crc64_table[0][b];
        for (int k = 1; k < 8; k++) {
            crc = crc64_table[0][crc & 0xff] ^ (crc >> 8);
            crc64_table[k][b] = crc;
        }
    }
}

static inline uint64_t crc64_byte(uint64_t crc, uint8_t b) {
    return crc64_table[0][(crc ^ b) & 0xff] ^ (crc >> 8);
}

uint64_t tandem_crc64(uint64_t crc, const void *data, size_t len) {
    const uint8_t *p = data;
    /* Single bytes up to an 8-byte boundary, so the word loads below are aligned. */
    while (len > 0 && ((uintptr_t)p & 7) != 0) {
        crc = crc64_byte(crc, *p++);
        len--;
    }
    while (len >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        crc ^= word;
        crc = crc64_table[7][crc & 0xff] ^
              crc64_table[6][(crc >> 8) & 0xff] ^
              crc64_table[5][(crc >> 16) & 0xff] ^
              crc64_table[4][(crc >> 24) & 0xff] ^
              crc64_table[3][(crc >> 32) & 0xff] ^
              crc64_table[2][(crc >> 40) & 0xff] ^
              crc64_table[1][(crc >> 48) & 0xff] ^
              crc64_table[0][crc >> 56];
        p += 8;
        len -= 8;
    }
    while (len > 0) {
        crc = crc64_byte(crc, *p++);
        len--;
    }
    return crc;
}
