/*
 * lua_struct.c - the "struct" binary (un)packing library for Lua 5.1, written
 * from scratch for Tandem so that scripts see the same API and the same
 * observable behaviour as the library embedded in redis-server 7.0.
 *
 * API (global table `struct`):
 *   struct.pack(fmt, v1, v2, ...)  -> string
 *   struct.unpack(fmt, s [, i])    -> v1, v2, ..., next_position
 *   struct.size(fmt)               -> number of bytes described by fmt
 *
 * Design
 * ------
 * A format is walked one option character at a time by a small cursor
 * (FmtCursor) that also carries the per-call state: byte order and the
 * maximum alignment.  Three helpers are shared by the three entry points:
 *   option_width()  - how many bytes an option occupies (reads the optional
 *                     decimal count that follows 'i', 'I' and 'c');
 *   pad_before()    - how many padding bytes precede an option at a given
 *                     offset under the current "!n" alignment;
 *   apply_control() - the options that produce no data (' ', '<', '>', '!')
 *                     and the "invalid format option" error.
 * Integers travel through a uint64_t: packing converts the Lua number the way
 * an x86-64 C cast does (see number_to_bits), then emits `width` bytes
 * little-endian first (zero-extended past 8 bytes) and reverses them for big
 * endian; unpacking folds the bytes back into 64 bits and sign-extends widths
 * below 8.  Floats are copied through memcpy and byte-reversed when the
 * requested order differs from the host's.
 *
 * Everything observable by a script was matched against redis-server 7.0.15
 * by experiment: error texts and argument numbers, the way unpack validates
 * its position before every option (so negative positions simply report a
 * short string), 'c0' taking its length from the previously unpacked value,
 * letters that struct.size() silently accepts, and the stack budget of
 * unpack ("too many results").
 *
 * There is no global mutable state; all reads from the data string are
 * bounds-checked before they happen.
 */

#include <ctype.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <lua5.1/lua.h>
#include <lua5.1/lauxlib.h>

#define ST_INT_WIDTH_LIMIT 32 /* widest integer accepted by 'i'/'I' */

/* The strictest alignment any basic C type needs on this host. */
struct st_align_probe {
    char lead;
    union {
        double d;
        void *p;
        lua_Number n;
        long l;
    } body;
};
#define ST_NATIVE_ALIGN ((int)offsetof(struct st_align_probe, body))

typedef struct {
    lua_State *L;
    const char *at;  /* next unread character of the format */
    int big_endian;  /* byte order requested for the following options */
    size_t max_align;/* current "!n" setting (1 = no alignment) */
} FmtCursor;

static int host_is_little(void) {
    const uint16_t probe = 1;
    unsigned char first;
    memcpy(&first, &probe, 1);
    return first == 1;
}

static void cursor_init(FmtCursor *fc, lua_State *L, const char *fmt) {
    fc->L = L;
    fc->at = fmt;
    fc->big_endian = !host_is_little();
    fc->max_align = 1;
}

/* Reads an optional decimal count; `fallback` when no digit follows. */
static int read_count(FmtCursor *fc, int fallback) {
    int value;
    if (!isdigit((unsigned char)*fc->at))
        return fallback;
    value = 0;
    while (isdigit((unsigned char)*fc->at)) {
        int digit = *fc->at - '0';
        if (value > (INT_MAX - digit) / 10)
            luaL_error(fc->L, "integral size overflow");
        value = value * 10 + digit;
        fc->at++;
    }
    return value;
}

/* Bytes occupied by option `opt` (0 for strings and non-data options). */
static size_t option_width(FmtCursor *fc, int opt) {
    switch (opt) {
    case 'b': case 'B': case 'x':
        return 1;
    case 'h': case 'H':
        return sizeof(short);
    case 'l': case 'L':
        return sizeof(long);
    case 'T':
        return sizeof(size_t);
    case 'f':
        return sizeof(float);
    case 'd':
        return sizeof(double);
    case 'i': case 'I': {
        int w = read_count(fc, (int)sizeof(int));
        if (w > ST_INT_WIDTH_LIMIT)
            luaL_error(fc->L, "integral size %d is larger than limit of %d",
                       w, ST_INT_WIDTH_LIMIT);
        return (size_t)w;
    }
    case 'c':
        return (size_t)read_count(fc, 1);
    default:
        return 0;
    }
}

/* Padding needed before an option of `width` bytes placed at `offset`. */
static size_t pad_before(const FmtCursor *fc, size_t offset, int opt,
                         size_t width) {
    size_t a = width;
    if (a <= 1 || opt == 'c')
        return 0;
    if (a > fc->max_align)
        a = fc->max_align;
    return (a - (offset & (a - 1))) & (a - 1);
}

/* Options that carry no data, plus the error for unknown characters. */
static void apply_control(FmtCursor *fc, int opt) {
    switch (opt) {
    case ' ':
        break;
    case '>':
        fc->big_endian = 1;
        break;
    case '<':
        fc->big_endian = 0;
        break;
    case '!': {
        int a = read_count(fc, ST_NATIVE_ALIGN);
        if (a <= 0 || (a & (a - 1)) != 0)
            luaL_error(fc->L, "alignment %d is not a power of 2", a);
        fc->max_align = (size_t)a;
        break;
    }
    default:
        luaL_argerror(fc->L, 1,
                      lua_pushfstring(fc->L, "invalid format option '%c'", opt));
    }
}

/*
 * Lua number -> 64 raw bits, reproducing what the x86-64 double->integer
 * instructions give for a C cast (out-of-range and NaN included), without
 * relying on undefined behaviour.
 */
static uint64_t number_to_bits(lua_Number n) {
    const uint64_t indefinite = UINT64_C(1) << 63;
    if (n != n)
        return indefinite;
    if (n < 9223372036854775808.0) {
        if (n >= -9223372036854775808.0)
            return (uint64_t)(int64_t)n;
        return indefinite;
    }
    if (n < 18446744073709551616.0)
        return (uint64_t)n;
    return 0;
}

/* Copies `len` bytes, reversing them when the byte orders differ. */
static void copy_ordered(unsigned char *dst, const unsigned char *src,
                         size_t len, int want_big) {
    size_t k;
    if (want_big == !host_is_little()) {
        memcpy(dst, src, len);
        return;
    }
    for (k = 0; k < len; k++)
        dst[k] = src[len - 1 - k];
}

static void emit_integer(luaL_Buffer *out, uint64_t bits, size_t width,
                         int big) {
    unsigned char le[ST_INT_WIDTH_LIMIT];
    size_t k;
    for (k = 0; k < width; k++) {
        le[k] = (unsigned char)(bits & 0xffu);
        bits >>= 8;
    }
    for (k = 0; k < width; k++)
        luaL_addchar(out, (char)(big ? le[width - 1 - k] : le[k]));
}

static lua_Number fetch_integer(const unsigned char *src, size_t width,
                                int big, int is_signed) {
    uint64_t acc = 0;
    size_t k;
    for (k = 0; k < width; k++)
        acc = (acc << 8) | src[big ? k : width - 1 - k];
    if (!is_signed)
        return (lua_Number)acc;
    if (width > 0 && width < 8) {
        uint64_t sign = UINT64_C(1) << (width * 8 - 1);
        acc = (acc ^ sign) - sign;
    }
    return (lua_Number)(int64_t)acc;
}

static int st_pack(lua_State *L) {
    FmtCursor fc;
    luaL_Buffer out;
    int arg = 2;
    size_t written = 0;

    cursor_init(&fc, L, luaL_checkstring(L, 1));
    /* A nil just above the arguments: a missing value reads as nil and the
       buffer's own stack pieces can never be mistaken for arguments. */
    lua_pushnil(L);
    luaL_buffinit(L, &out);

    while (*fc.at != '\0') {
        int opt = (unsigned char)*fc.at++;
        size_t width = option_width(&fc, opt);
        size_t pad = pad_before(&fc, written, opt, width);
        written += pad;
        while (pad-- > 0)
            luaL_addchar(&out, '\0');

        switch (opt) {
        case 'b': case 'B': case 'h': case 'H': case 'l': case 'L':
        case 'T': case 'i': case 'I': {
            lua_Number n = luaL_checknumber(L, arg++);
            emit_integer(&out, number_to_bits(n), width, fc.big_endian);
            break;
        }
        case 'x':
            luaL_addchar(&out, '\0');
            break;
        case 'f': {
            float f = (float)luaL_checknumber(L, arg++);
            unsigned char raw[sizeof f];
            copy_ordered(raw, (const unsigned char *)&f, sizeof f,
                         fc.big_endian);
            luaL_addlstring(&out, (const char *)raw, sizeof f);
            break;
        }
        case 'd': {
            double d = (double)luaL_checknumber(L, arg++);
            unsigned char raw[sizeof d];
            copy_ordered(raw, (const unsigned char *)&d, sizeof d,
                         fc.big_endian);
            luaL_addlstring(&out, (const char *)raw, sizeof d);
            break;
        }
        case 'c': case 's': {
            size_t len;
            const char *str = luaL_checklstring(L, arg++, &len);
            if (width == 0)
                width = len;
            /* redis reports this one against the following argument */
            luaL_argcheck(L, len >= width, arg, "string too short");
            luaL_addlstring(&out, str, width);
            if (opt == 's') {
                luaL_addchar(&out, '\0');
                width++;
            }
            break;
        }
        default:
            apply_control(&fc, opt);
            break;
        }
        written += width;
    }
    luaL_pushresult(&out);
    return 1;
}

static int st_unpack(lua_State *L) {
    FmtCursor fc;
    size_t dlen, pos;
    const char *fmt = luaL_checkstring(L, 1);
    const unsigned char *data =
        (const unsigned char *)luaL_checklstring(L, 2, &dlen);
    lua_Integer first = luaL_optinteger(L, 3, 1);
    int results = 0;

    luaL_argcheck(L, first != 0, 3, "offset must be 1 or greater");
    pos = (size_t)first - 1; /* wraps for negative positions, as in redis */
    cursor_init(&fc, L, fmt);

    while (*fc.at != '\0') {
        int opt = (unsigned char)*fc.at++;
        size_t width = option_width(&fc, opt);
        size_t start = pos + pad_before(&fc, pos, opt, width);

        luaL_argcheck(L, pos <= dlen && start <= dlen && width <= dlen - start,
                      2, "data string too short");
        pos = start;
        luaL_checkstack(L, 2, "too many results");

        switch (opt) {
        case 'b': case 'h': case 'l': case 'i':
            lua_pushnumber(L, fetch_integer(data + pos, width, fc.big_endian, 1));
            results++;
            break;
        case 'B': case 'H': case 'L': case 'T': case 'I':
            lua_pushnumber(L, fetch_integer(data + pos, width, fc.big_endian, 0));
            results++;
            break;
        case 'x':
            break;
        case 'f': {
            float f;
            unsigned char raw[sizeof f];
            copy_ordered(raw, data + pos, sizeof f, fc.big_endian);
            memcpy(&f, raw, sizeof f);
            lua_pushnumber(L, (lua_Number)f);
            results++;
            break;
        }
        case 'd': {
            double d;
            unsigned char raw[sizeof d];
            copy_ordered(raw, data + pos, sizeof d, fc.big_endian);
            memcpy(&d, raw, sizeof d);
            lua_pushnumber(L, (lua_Number)d);
            results++;
            break;
        }
        case 'c':
            if (width == 0) {
                /* "c0": the length is the value unpacked just before */
                if (results == 0 || !lua_isnumber(L, -1))
                    luaL_error(L, "format 'c0' needs a previous size");
                width = (size_t)number_to_bits(lua_tonumber(L, -1));
                lua_pop(L, 1);
                results--;
                luaL_argcheck(L, width <= dlen - pos, 2, "data string too short");
            }
            lua_pushlstring(L, (const char *)data + pos, width);
            results++;
            break;
        case 's': {
            const unsigned char *nul = memchr(data + pos, '\0', dlen - pos);
            if (nul == NULL)
                luaL_error(L, "unfinished string in data");
            width = (size_t)(nul - (data + pos));
            lua_pushlstring(L, (const char *)data + pos, width);
            results++;
            width++; /* the terminator is consumed too */
            break;
        }
        default:
            apply_control(&fc, opt);
            break;
        }
        pos += width;
    }
    lua_pushinteger(L, (lua_Integer)(pos + 1));
    return results + 1;
}

static int st_size(lua_State *L) {
    FmtCursor fc;
    size_t total = 0;

    cursor_init(&fc, L, luaL_checkstring(L, 1));
    while (*fc.at != '\0') {
        int opt = (unsigned char)*fc.at++;
        size_t width = option_width(&fc, opt);
        total += pad_before(&fc, total, opt, width);
        if (opt == 's')
            luaL_argerror(L, 1, "option 's' has no fixed size");
        else if (opt == 'c' && width == 0)
            luaL_argerror(L, 1, "option 'c0' has no fixed size");
        /* letters and digits without a meaning simply count as 0 bytes */
        if (!isalnum(opt))
            apply_control(&fc, opt);
        total += width;
    }
    lua_pushinteger(L, (lua_Integer)total);
    return 1;
}

static const luaL_Reg st_functions[] = {
    {"pack", st_pack},
    {"unpack", st_unpack},
    {"size", st_size},
    {NULL, NULL}
};

int luaopen_struct(lua_State *L) {
    luaL_register(L, "struct", st_functions);
    return 1;
}
