/*
 * lua_cmsgpack.c - MessagePack encoder/decoder for Lua 5.1, written from
 * scratch for Tandem so that scripts see the same `cmsgpack` API, bytes and
 * error messages as the library embedded in redis-server 7.0.
 *
 * API (global table `cmsgpack`):
 *   cmsgpack.pack(v1, ...)                  -> concatenated encodings
 *   cmsgpack.unpack(s)                      -> every value in s
 *   cmsgpack.unpack_one(s [, offset])       -> next_offset, value
 *   cmsgpack.unpack_limit(s, n [, offset])  -> next_offset, up to n values
 * next_offset is -1 once the whole input has been consumed.
 *
 * Encoding rules (all checked against redis-server 7.0.15):
 *  - a number with an integral value in [-2^63, 2^63) becomes the shortest
 *    MessagePack integer (fixint, u8..u64 for >= 0, i8..i64 for < 0);
 *    any other number becomes float32 when converting it to float and back
 *    is exact (this includes +-inf), otherwise float64;
 *  - strings use fixstr / str8 / str16 / str32 (never the bin family);
 *  - a table whose keys are exactly the numbers 1..n is an array (the empty
 *    table is an empty array), anything else is a map emitted in lua_next()
 *    order; tables nested deeper than 16 levels, functions, userdata and
 *    threads are written as nil.
 * Decoding yields Lua numbers for every integer/float kind, strings for the
 * str family and tables for arrays/maps; the bin and ext families and 0xc1
 * are rejected as "Bad data format in input.", truncated input as
 * "Missing bytes in input.".
 *
 * Design
 * ------
 * Encoding walks the value recursively and appends to a heap buffer
 * (ByteSink) owned by the current pack() call.  The walker never raises a
 * Lua error itself: when the Lua stack budget is exhausted it returns the
 * description of the failed check, the caller frees the buffer and only then
 * raises "stack overflow (...)".  The stack budget is reproduced slot for
 * slot (one placeholder per already-encoded argument, the same luaL/
 * lua_checkstack sizes at the same points) because redis' limits on huge
 * argument lists and deep structures are observable.
 * Decoding uses a read cursor (ByteSource) that validates the remaining
 * length before every read and records the first failure; values are
 * pushed straight onto the Lua stack.
 *
 * There is no global mutable state.
 */

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lua5.1/lua.h>
#include <lua5.1/lauxlib.h>

#define MP_MAX_DEPTH 16 /* tables at this depth are encoded as nil */

/* ---------------------------------------------------------------- output */

typedef struct {
    unsigned char *bytes;
    size_t used;
    size_t capacity;
    int failed; /* an allocation failed; contents are unreliable */
} ByteSink;

static void sink_put(ByteSink *s, const void *src, size_t n) {
    if (s->failed)
        return;
    if (n > s->capacity - s->used) {
        size_t want = s->capacity ? s->capacity : 64;
        unsigned char *grown;
        while (want - s->used < n) {
            if (want > SIZE_MAX / 2) {
                s->failed = 1;
                return;
            }
            want *= 2;
        }
        grown = realloc(s->bytes, want);
        if (grown == NULL) {
            s->failed = 1;
            return;
        }
        s->bytes = grown;
        s->capacity = want;
    }
    memcpy(s->bytes + s->used, src, n);
    s->used += n;
}

/* Writes a one byte tag followed by `width` big-endian bytes of `v`. */
static void sink_tagged(ByteSink *s, unsigned tag, uint64_t v, int width) {
    unsigned char tmp[9];
    int k;
    tmp[0] = (unsigned char)tag;
    for (k = width; k >= 1; k--) {
        tmp[k] = (unsigned char)(v & 0xffu);
        v >>= 8;
    }
    sink_put(s, tmp, (size_t)width + 1);
}

static void put_integer(ByteSink *s, int64_t v) {
    if (v >= 0) {
        uint64_t u = (uint64_t)v;
        if (u < 0x80)
            sink_tagged(s, (unsigned)u, 0, 0);
        else if (u <= 0xff)
            sink_tagged(s, 0xcc, u, 1);
        else if (u <= 0xffff)
            sink_tagged(s, 0xcd, u, 2);
        else if (u <= 0xffffffffu)
            sink_tagged(s, 0xce, u, 4);
        else
            sink_tagged(s, 0xcf, u, 8);
    } else {
        uint64_t raw = (uint64_t)v;
        if (v >= -32)
            sink_tagged(s, (unsigned)(raw & 0xffu), 0, 0);
        else if (v >= INT8_MIN)
            sink_tagged(s, 0xd0, raw, 1);
        else if (v >= INT16_MIN)
            sink_tagged(s, 0xd1, raw, 2);
        else if (v >= INT32_MIN)
            sink_tagged(s, 0xd2, raw, 4);
        else
            sink_tagged(s, 0xd3, raw, 8);
    }
}

static void put_number(ByteSink *s, lua_Number n) {
    if (n >= -9223372036854775808.0 && n < 9223372036854775808.0 &&
        floor(n) == n) {
        put_integer(s, (int64_t)n);
    } else {
        float f = (float)n;
        if ((double)f == (double)n) {
            uint32_t bits;
            memcpy(&bits, &f, sizeof bits);
            sink_tagged(s, 0xca, bits, 4);
        } else {
            double d = (double)n;
            uint64_t bits;
            memcpy(&bits, &d, sizeof bits);
            sink_tagged(s, 0xcb, bits, 8);
        }
    }
}

static void put_string(ByteSink *s, const char *str, size_t len) {
    if (len < 32)
        sink_tagged(s, 0xa0u | (unsigned)len, 0, 0);
    else if (len <= 0xff)
        sink_tagged(s, 0xd9, len, 1);
    else if (len <= 0xffff)
        sink_tagged(s, 0xda, len, 2);
    else
        sink_tagged(s, 0xdb, (uint32_t)len, 4);
    sink_put(s, str, len);
}

/* Header for a container: fix form below 16 entries, then 16/32 bits. */
static void put_container(ByteSink *s, unsigned fix, unsigned tag16,
                          size_t count) {
    if (count < 16)
        sink_tagged(s, fix | (unsigned)count, 0, 0);
    else if (count <= 0xffff)
        sink_tagged(s, tag16, count, 2);
    else
        sink_tagged(s, tag16 + 1, (uint32_t)count, 4);
}

/*
 * Is the table on top of the stack a sequence 1..n?  Stores the number of
 * keys in *count.  Uses two stack slots (nil/key and value).
 */
static int is_sequence(lua_State *L, size_t *count) {
    lua_Number largest = 0;
    size_t keys = 0;
    int sequence = 1;
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_Number k;
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TNUMBER) {
            sequence = 0;
            lua_pop(L, 1);
            break;
        }
        k = lua_tonumber(L, -1);
        if (!(k > 0) || floor(k) != k) {
            sequence = 0;
            lua_pop(L, 1);
            break;
        }
        keys++;
        if (k > largest)
            largest = k;
    }
    *count = keys;
    return sequence && largest == (lua_Number)keys;
}

static const char *encode_top(lua_State *L, ByteSink *s, int depth);

/* Encodes the table on top of the stack (left in place). */
static const char *encode_table(lua_State *L, ByteSink *s, int depth) {
    size_t count;
    const char *err;

    if (!lua_checkstack(L, 2))
        return "in function table_is_an_array";
    if (is_sequence(L, &count)) {
        size_t i;
        if (!lua_checkstack(L, 1))
            return "in function mp_encode_lua_table_as_array";
        put_container(s, 0x90, 0xdc, count);
        for (i = 1; i <= count; i++) {
            lua_rawgeti(L, -1, (int)i);
            if ((err = encode_top(L, s, depth + 1)) != NULL)
                return err;
        }
        return NULL;
    }

    if (!lua_checkstack(L, 3))
        return "in function mp_encode_lua_table_as_map";
    count = 0;
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pop(L, 1);
        count++;
    }
    put_container(s, 0x80, 0xde, count);
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pushvalue(L, -2);                 /* key copy, consumed below */
        if ((err = encode_top(L, s, depth + 1)) != NULL)
            return err;
        if ((err = encode_top(L, s, depth + 1)) != NULL) /* the value */
            return err;
    }
    return NULL;
}

/* Encodes the value on top of the stack and pops it. */
static const char *encode_top(lua_State *L, ByteSink *s, int depth) {
    int t = lua_type(L, -1);
    if (t == LUA_TTABLE && depth >= MP_MAX_DEPTH)
        t = LUA_TNIL;
    switch (t) {
    case LUA_TSTRING: {
        size_t len;
        const char *str = lua_tolstring(L, -1, &len);
        put_string(s, str, len);
        break;
    }
    case LUA_TBOOLEAN:
        sink_tagged(s, lua_toboolean(L, -1) ? 0xc3 : 0xc2, 0, 0);
        break;
    case LUA_TNUMBER:
        put_number(s, lua_tonumber(L, -1));
        break;
    case LUA_TTABLE: {
        const char *err = encode_table(L, s, depth);
        if (err != NULL)
            return err;
        break;
    }
    default: /* nil, functions, userdata, threads */
        sink_tagged(s, 0xc0, 0, 0);
        break;
    }
    lua_pop(L, 1);
    return NULL;
}

static int mp_pack(lua_State *L) {
    int nargs = lua_gettop(L);
    int i;
    ByteSink sink = {NULL, 0, 0, 0};

    if (nargs == 0)
        return luaL_argerror(L, 0, "MessagePack pack needs input.");
    if (!lua_checkstack(L, nargs))
        return luaL_argerror(L, 0, "Too many arguments for MessagePack pack.");

    for (i = 1; i <= nargs; i++) {
        const char *err;
        lua_pushvalue(L, i);
        err = encode_top(L, &sink, 0);
        if (err != NULL) {
            free(sink.bytes);
            return luaL_error(L, "stack overflow (%s)", err);
        }
        /* one slot per encoded argument keeps redis' stack budget */
        lua_pushboolean(L, 0);
    }
    if (sink.failed) {
        free(sink.bytes);
        return luaL_error(L, "not enough memory");
    }
    lua_settop(L, nargs);
    lua_pushlstring(L, sink.used ? (const char *)sink.bytes : "", sink.used);
    free(sink.bytes);
    return 1;
}

/* ----------------------------------------------------------------- input */

enum { SRC_OK = 0, SRC_SHORT = 1, SRC_BAD = 2 };

typedef struct {
    const unsigned char *p;
    size_t left;
    int status;
} ByteSource;

/* Fails (recording SRC_SHORT) unless `n` more bytes are available. */
static int src_has(ByteSource *src, size_t n) {
    if (src->left < n) {
        src->status = SRC_SHORT;
        return 0;
    }
    return 1;
}

static void src_skip(ByteSource *src, size_t n) {
    src->p += n;
    src->left -= n;
}

/* Big-endian unsigned integer of `width` bytes starting `at` bytes in. */
static uint64_t src_be(const ByteSource *src, size_t at, size_t width) {
    uint64_t v = 0;
    size_t k;
    for (k = 0; k < width; k++)
        v = (v << 8) | src->p[at + k];
    return v;
}

static void decode_value(lua_State *L, ByteSource *src);

static void decode_array(lua_State *L, ByteSource *src, uint64_t n) {
    uint64_t i;
    lua_newtable(L);
    luaL_checkstack(L, 1, "in function mp_decode_to_lua_array");
    for (i = 1; i <= n; i++) {
        lua_pushnumber(L, (lua_Number)i);
        decode_value(L, src);
        if (src->status != SRC_OK)
            return;
        lua_rawset(L, -3);
    }
}

static void decode_map(lua_State *L, ByteSource *src, uint64_t n) {
    uint64_t i;
    lua_newtable(L);
    for (i = 0; i < n; i++) {
        decode_value(L, src); /* key */
        if (src->status != SRC_OK)
            return;
        decode_value(L, src); /* value */
        if (src->status != SRC_OK)
            return;
        lua_rawset(L, -3);
    }
}

/* Decodes a string whose length field is `width` bytes after the tag. */
static void decode_sized_string(lua_State *L, ByteSource *src, size_t width) {
    size_t len;
    if (!src_has(src, 1 + width))
        return;
    len = (size_t)src_be(src, 1, width);
    if (!src_has(src, 1 + width + len))
        return;
    lua_pushlstring(L, (const char *)src->p + 1 + width, len);
    src_skip(src, 1 + width + len);
}

/* Decodes a container whose count field is `width` bytes after the tag. */
static void decode_sized_container(lua_State *L, ByteSource *src,
                                   size_t width, int is_map) {
    uint64_t n;
    if (!src_has(src, 1 + width))
        return;
    n = src_be(src, 1, width);
    src_skip(src, 1 + width);
    if (is_map)
        decode_map(L, src, n);
    else
        decode_array(L, src, n);
}

/* Pushes a fixed-size scalar (tag + width bytes). */
static void decode_scalar(lua_State *L, ByteSource *src, int tag) {
    static const unsigned char widths[] = {4, 8, 1, 2, 4, 8, 1, 2, 4, 8};
    size_t width = widths[tag - 0xca];
    uint64_t raw;
    lua_Number value;

    if (!src_has(src, 1 + width))
        return;
    raw = src_be(src, 1, width);
    switch (tag) {
    case 0xca: {
        uint32_t bits = (uint32_t)raw;
        float f;
        memcpy(&f, &bits, sizeof f);
        value = (lua_Number)f;
        break;
    }
    case 0xcb: {
        double d;
        memcpy(&d, &raw, sizeof d);
        value = (lua_Number)d;
        break;
    }
    case 0xcc: case 0xcd: case 0xce:
        value = (lua_Number)raw;
        break;
    case 0xcf: /* redis hands uint64 back as a signed 64-bit value */
        value = (lua_Number)(int64_t)raw;
        break;
    case 0xd0:
        value = (lua_Number)(int8_t)(uint8_t)raw;
        break;
    case 0xd1:
        value = (lua_Number)(int16_t)(uint16_t)raw;
        break;
    case 0xd2:
        value = (lua_Number)(int32_t)(uint32_t)raw;
        break;
    default: /* 0xd3 */
        value = (lua_Number)(int64_t)raw;
        break;
    }
    lua_pushnumber(L, value);
    src_skip(src, 1 + width);
}

/* Decodes one value (src->left > 0 is not required) and pushes it. */
static void decode_value(lua_State *L, ByteSource *src) {
    int tag;
    luaL_checkstack(L, 1,
        "too many return values at once; "
        "use unpack_one or unpack_limit instead.");
    if (!src_has(src, 1))
        return;
    tag = src->p[0];

    if (tag <= 0x7f || tag >= 0xe0) {         /* fixints */
        lua_pushnumber(L, (lua_Number)(tag <= 0x7f ? tag : tag - 0x100));
        src_skip(src, 1);
    } else if (tag <= 0x8f) {                 /* fixmap */
        src_skip(src, 1);
        decode_map(L, src, (uint64_t)(tag & 0x0f));
    } else if (tag <= 0x9f) {                 /* fixarray */
        src_skip(src, 1);
        decode_array(L, src, (uint64_t)(tag & 0x0f));
    } else if (tag <= 0xbf) {                 /* fixstr */
        size_t len = (size_t)(tag & 0x1f);
        if (!src_has(src, 1 + len))
            return;
        lua_pushlstring(L, (const char *)src->p + 1, len);
        src_skip(src, 1 + len);
    } else {
        switch (tag) {
        case 0xc0:
            lua_pushnil(L);
            src_skip(src, 1);
            break;
        case 0xc2: case 0xc3:
            lua_pushboolean(L, tag == 0xc3);
            src_skip(src, 1);
            break;
        case 0xca: case 0xcb: case 0xcc: case 0xcd: case 0xce: case 0xcf:
        case 0xd0: case 0xd1: case 0xd2: case 0xd3:
            decode_scalar(L, src, tag);
            break;
        case 0xd9: decode_sized_string(L, src, 1); break;
        case 0xda: decode_sized_string(L, src, 2); break;
        case 0xdb: decode_sized_string(L, src, 4); break;
        case 0xdc: decode_sized_container(L, src, 2, 0); break;
        case 0xdd: decode_sized_container(L, src, 4, 0); break;
        case 0xde: decode_sized_container(L, src, 2, 1); break;
        case 0xdf: decode_sized_container(L, src, 4, 1); break;
        default: /* 0xc1, bin (0xc4-0xc6), ext (0xc7-0xc9, 0xd4-0xd8) */
            src->status = SRC_BAD;
            break;
        }
    }
}

/*
 * Shared body of the three unpack functions.  limit == 0 && offset == 0
 * means "decode everything, return no offset" (that is also what
 * unpack_limit(s, 0) does in redis).  Error texts print the numbers with
 * %d exactly as redis does (so the second number of the first message is
 * the input length, and large values are shown truncated to int).
 */
static int unpack_from(lua_State *L, lua_Integer limit, lua_Integer offset) {
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    int everything = (limit == 0 && offset == 0);
    ByteSource src;
    int produced = 0;

    if (offset < 0 || limit < 0)
        return luaL_error(L,
            "Invalid request to unpack with offset of %d and limit of %d.",
            (int)offset, (int)len);
    if ((uint64_t)offset > (uint64_t)len)
        return luaL_error(L, "Start offset %d greater than input length %d.",
                          (int)offset, (int)len);
    if (everything)
        limit = INT_MAX;

    src.p = (const unsigned char *)s + offset;
    src.left = len - (size_t)offset;
    src.status = SRC_OK;

    while (src.left > 0 && produced < limit) {
        decode_value(L, &src);
        if (src.status == SRC_SHORT)
            return luaL_error(L, "Missing bytes in input.");
        if (src.status == SRC_BAD)
            return luaL_error(L, "Bad data format in input.");
        produced++;
    }
    if (everything)
        return produced;

    luaL_checkstack(L, 1, "in function mp_unpack_full");
    lua_pushinteger(L, src.left == 0 ? -1 : (lua_Integer)(int)(len - src.left));
    lua_insert(L, 2); /* only the input string lies below the results */
    return produced + 1;
}

static int mp_unpack(lua_State *L) {
    return unpack_from(L, 0, 0);
}

/* Drops every argument but the first (kept when there is none at all). */
static void keep_only_input(lua_State *L) {
    if (lua_gettop(L) > 1)
        lua_settop(L, 1);
}

static int mp_unpack_one(lua_State *L) {
    lua_Integer offset = luaL_optinteger(L, 2, 0);
    keep_only_input(L);
    return unpack_from(L, 1, offset);
}

static int mp_unpack_limit(lua_State *L) {
    lua_Integer limit = luaL_checkinteger(L, 2);
    lua_Integer offset = luaL_optinteger(L, 3, 0);
    keep_only_input(L);
    return unpack_from(L, limit, offset);
}

int luaopen_cmsgpack(lua_State *L) {
    static const luaL_Reg functions[] = {
        {"pack", mp_pack},
        {"unpack", mp_unpack},
        {"unpack_one", mp_unpack_one},
        {"unpack_limit", mp_unpack_limit},
        {NULL, NULL}
    };
    const luaL_Reg *f;

    lua_newtable(L);
    for (f = functions; f->name != NULL; f++) {
        lua_pushcfunction(L, f->func);
        lua_setfield(L, -2, f->name);
    }
    lua_pushliteral(L, "cmsgpack");
    lua_setfield(L, -2, "_NAME");
    lua_pushliteral(L, "lua-cmsgpack 0.4.0");
    lua_setfield(L, -2, "_VERSION");
    lua_pushliteral(L, "Copyright (C) 2012, Salvatore Sanfilippo");
    lua_setfield(L, -2, "_COPYRIGHT");
    lua_pushliteral(L, "MessagePack C implementation for Lua");
    lua_setfield(L, -2, "_DESCRIPTION");

    lua_pushvalue(L, -1);
    lua_setglobal(L, "cmsgpack");
    return 1;
}
