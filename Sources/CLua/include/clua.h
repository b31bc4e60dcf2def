/*
 * CLua: Debian's Lua 5.1 (the dialect Redis embeds) with the libraries Redis scripts expect —
 * lua-cjson and lua-bitop from Debian, `struct` and `cmsgpack` written here (Debian has no
 * package with Redis's API) — plus the few helpers Swift needs where Lua's API is a macro.
 */
#ifndef TANDEM_CLUA_H
#define TANDEM_CLUA_H

#include <lua5.1/lua.h>
#include <lua5.1/lauxlib.h>
#include <lua5.1/lualib.h>

int luaopen_cjson(lua_State *L);
int luaopen_bit(lua_State *L);
int luaopen_struct(lua_State *L);
int luaopen_cmsgpack(lua_State *L);

/* Opens the libraries Redis 7.0 gives scripts (base, table, string, math, debug, cjson, bit,
 * struct, cmsgpack), each as Redis's luaLoadLib does; not io, os or package. */
void tandem_lua_open_libraries(lua_State *L);

/* Lua's macros, as functions Swift can call. */
static inline void tandem_lua_pop(lua_State *L, int n) { lua_settop(L, -(n) - 1); }
static inline void tandem_lua_newtable(lua_State *L) { lua_createtable(L, 0, 0); }
static inline void tandem_lua_pushcfunction(lua_State *L, lua_CFunction f) { lua_pushcclosure(L, f, 0); }
static inline int tandem_lua_upvalueindex(int i) { return LUA_GLOBALSINDEX - i; }

/* lua_error never returns (longjmp); Swift cannot express that, so callers return its value. */
static inline int tandem_lua_raise(lua_State *L) { return lua_error(L); }


/* Swift callbacks. Lua reports errors with longjmp, which must never cross Swift frames, so a
 * Swift function never raises: it pushes the error value and returns a negative count, and the
 * C trampoline raises it once the Swift frame is gone. */
typedef int (*tandem_lua_swift_function)(lua_State *L);

/* Pushes a Lua function that calls `fn` (through the trampoline above). */
void tandem_lua_push_swift_function(lua_State *L, tandem_lua_swift_function fn);

/* Installs a count hook every `count` instructions that calls `fn`; a non-zero result raises the
 * value `fn` left on the stack (how a busy script is killed). count 0 removes the hook. */
void tandem_lua_set_count_hook(lua_State *L, tandem_lua_swift_function fn, int count);

/* Turns the hook installed above on every `count` instructions, or off (0). */
void tandem_lua_enable_count_hook(lua_State *L, int count);

#endif
