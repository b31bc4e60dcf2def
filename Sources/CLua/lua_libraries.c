/*
 * The library set of Redis 7.0's scripting engine. Each library is opened by calling its
 * luaopen_ function through Lua (as luaL_openlibs does), so a library that registers a
 * global table gets it. io, os and package are left out on purpose: scripts must not touch
 * files, the clock or the module loader.
 */
#include "clua.h"

/* Some libraries register their global themselves, others (Debian's lua-cjson) only return
 * their table: the global is set here either way. */
static void open_library(lua_State *L, lua_CFunction open, const char *name) {
    lua_pushcfunction(L, open);
    lua_pushstring(L, name);
    lua_call(L, 1, 1);
    if (name[0] != '\0' && lua_istable(L, -1)) {
        lua_setglobal(L, name);
    } else {
        lua_pop(L, 1);
    }
}

void tandem_lua_open_libraries(lua_State *L) {
    open_library(L, luaopen_base, "");
    open_library(L, luaopen_table, LUA_TABLIBNAME);
    open_library(L, luaopen_string, LUA_STRLIBNAME);
    open_library(L, luaopen_math, LUA_MATHLIBNAME);
    open_library(L, luaopen_debug, LUA_DBLIBNAME);
    open_library(L, luaopen_cjson, "cjson");
    open_library(L, luaopen_bit, "bit");
    open_library(L, luaopen_struct, "struct");
    open_library(L, luaopen_cmsgpack, "cmsgpack");
}

/* MARK: - Swift callbacks (see clua.h) */

static int call_swift_function(lua_State *L) {
    tandem_lua_swift_function fn = (tandem_lua_swift_function)lua_touserdata(L, lua_upvalueindex(1));
    int results = fn(L);
    if (results < 0) return lua_error(L);
    return results;
}

void tandem_lua_push_swift_function(lua_State *L, tandem_lua_swift_function fn) {
    lua_pushlightuserdata(L, (void *)fn);
    lua_pushcclosure(L, call_swift_function, 1);
}

/* The hook's Swift function lives in the registry (a hook gets no upvalues). */
static const char *hook_key = "tandem.count_hook";

static void count_hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    lua_getfield(L, LUA_REGISTRYINDEX, hook_key);
    tandem_lua_swift_function fn = (tandem_lua_swift_function)lua_touserdata(L, -1);
    lua_pop(L, 1);
    if (fn != NULL && fn(L) != 0) lua_error(L);
}

void tandem_lua_set_count_hook(lua_State *L, tandem_lua_swift_function fn, int count) {
    if (fn != NULL) {
        lua_pushlightuserdata(L, (void *)fn);
        lua_setfield(L, LUA_REGISTRYINDEX, hook_key);
    }
    tandem_lua_enable_count_hook(L, count);
}

void tandem_lua_enable_count_hook(lua_State *L, int count) {
    if (count <= 0) {
        lua_sethook(L, NULL, 0, 0);
    } else {
        lua_sethook(L, count_hook, LUA_MASKCOUNT, count);
    }
}
