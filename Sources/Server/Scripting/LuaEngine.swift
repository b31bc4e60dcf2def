/*
 * LuaEngine: the one Lua 5.1 VM of EVAL scripts — Redis 7.0's script_lua.c and eval.c state.
 *
 * The VM is created at start-up and reused by every script (SCRIPT FLUSH makes a new one), as
 * Redis does: creating a VM per call would cost more than most scripts. Scripts are cached by
 * the SHA1 of their body; a compiled script is a Lua function kept in the registry (luaL_ref),
 * so EVALSHA finds it with one dictionary lookup on a 20-byte key and one rawgeti.
 *
 * The sandbox. Redis patches its Lua with read-only tables; Debian's Lua has none, so the same
 * guarantees come from proxies: the globals seen by scripts (LUA_GLOBALSINDEX) are an empty
 * table whose metatable reads through to the real globals and refuses writes ("Attempt to
 * modify a readonly table"), and each library table (redis, string, cjson, ...) is replaced by
 * such a proxy. Reading a global that does not exist raises "Script attempted to access
 * nonexistent global variable". The functions that could see through or change a proxy
 * (setmetatable, rawset, rawget, next, pairs) are wrapped so they treat a proxy as the
 * read-only table it stands for. Only Redis 7.0's allow-listed globals remain (no io, os,
 * package, require, dofile, loadfile, print, getfenv, setfenv, newproxy, debug), and
 * loadstring refuses binary chunks. KEYS and ARGV are written into the real globals for each
 * call, past the proxy.
 *
 * Errors. A script error becomes a table {err=..., source=..., line=...} through the message
 * handler (__redis__err__handler, as 7.0), so the reply can name the script and line:
 * "ERR user_script:1: boom script: <sha>, on @user_script:1."
 */
import CLua
import CTandem
import Glibc
import Platform

/// A script's SHA1, the cache key (no String per EVALSHA).
struct ScriptSHA: Hashable {
    var high: UInt64 = 0
    var middle: UInt64 = 0
    var low: UInt32 = 0

    init() {}

    init(digest: UnsafePointer<UInt8>) {
        for i in 0..<8 { high = high << 8 | UInt64(digest[i]) }
        for i in 8..<16 { middle = middle << 8 | UInt64(digest[i]) }
        for i in 16..<20 { low = low << 8 | UInt32(digest[i]) }
    }

    /// From 40 hex digits in either case; nil for anything else.
    init?(hex: ByteView) {
        if hex.count != 40 { return nil }
        var words: (UInt64, UInt64, UInt64) = (0, 0, 0)
        for i in 0..<40 {
            guard let d = Self.nibble(hex[i]) else { return nil }
            switch i {
            case 0..<16: words.0 = words.0 << 4 | UInt64(d)
            case 16..<32: words.1 = words.1 << 4 | UInt64(d)
            default: words.2 = words.2 << 4 | UInt64(d)
            }
        }
        (high, middle, low) = (words.0, words.1, UInt32(words.2))
    }

    static func of(_ body: ByteView) -> ScriptSHA {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { out in
            tandem_sha1(body.base, body.count, out.baseAddress!)
            return ScriptSHA(digest: out.baseAddress!)
        }
    }

    static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: return c - 48
        case 97...102: return c - 87
        case 65...70: return c - 55
        default: return nil
        }
    }

    /// Lower-case hex, as Redis prints it.
    var hex: String {
        func digits(_ v: UInt64, _ n: Int) -> String {
            let s = String(v, radix: 16)
            return String(repeating: "0", count: n - s.count) + s
        }
        return digits(high, 16) + digits(middle, 16) + digits(UInt64(low), 8)
    }
}

/// The shebang flags of a script (`#!lua flags=no-writes,...`).
struct ScriptFlags: OptionSet {
    let rawValue: UInt8
    /// No shebang: Redis 7.0's compatibility mode for scripts written before flags existed.
    static let compatibilityMode = ScriptFlags(rawValue: 1 << 0)
    static let noWrites = ScriptFlags(rawValue: 1 << 1)
    static let allowOOM = ScriptFlags(rawValue: 1 << 2)
    static let allowStale = ScriptFlags(rawValue: 1 << 3)
    static let noCluster = ScriptFlags(rawValue: 1 << 4)
    static let allowCrossSlotKeys = ScriptFlags(rawValue: 1 << 5)

    static let names: [(String, ScriptFlags)] = [
        ("no-writes", .noWrites), ("allow-oom", .allowOOM), ("allow-stale", .allowStale),
        ("no-cluster", .noCluster), ("allow-cross-slot-keys", .allowCrossSlotKeys),
    ]
}

struct CachedScript {
    /// The compiled body, in the registry.
    var function: Int32
    var bodyBytes: Int
    var flags: ScriptFlags
}

/// What the running script or function may do and has done (Redis's scriptRunCtx). One for
/// the server (`Server.scriptRun`): at most one script runs at a time, on either VM.
struct ScriptRun {
    /// A script or function is running (its caller waits for the reply).
    var active = false
    var caller: ClientRef? = nil
    /// EVAL's script, or the function FCALL runs (nil for EVAL).
    var sha = ScriptSHA()
    var functionName: String? = nil
    var flags: ScriptFlags = []
    /// EVAL_RO / EVALSHA_RO, or the no-writes flag.
    var readOnly = false
    var startMicros: Int64 = 0
    /// A write ran: SCRIPT KILL can no longer stop the script (it would leave half a change).
    var wrote = false
    /// Past busy-reply-threshold: other clients get -BUSY.
    var timedOut = false
    var killRequested = false
    /// redis.setresp: the protocol commands answer the script in.
    var resp3 = false
    /// redis.set_repl: where the script's writes go, Redis's PROPAGATE_AOF (1) and
    /// PROPAGATE_REPL (2) bits (REPL_ALL by default).
    var replicationTargets = 3

    var isFunction: Bool { functionName != nil }

    /// The name replies and logs give: the function's, or the script's SHA1.
    var name: String { functionName ?? sha.hex }

    /// The command that stops it (FUNCTION KILL or SCRIPT KILL).
    var killCommand: String { isFunction ? "FUNCTION KILL" : "SCRIPT KILL" }
}

struct LuaEngine: ~Copyable {
    var L: OpaquePointer
    var scripts: [ScriptSHA: CachedScript] = [:]
    var scriptsBodyBytes = 0
    /// The real globals table and __redis__err__handler, in the registry.
    var globalsRef: Int32 = 0
    var errorHandlerRef: Int32 = 0
    var callsSinceGC = 0
    /// redis_math_random's generator: rand48, as redisLrand48 (so math.randomseed(n) gives
    /// Redis's sequence).
    var rand48: UInt64 = 0

    static let gcPeriod = 50

    init() {
        (L, globalsRef, errorHandlerRef) = Self.newSandboxedState(forFunctions: false)
        tandem_lua_set_count_hook(L, LuaRedisAPI.hook, 0)
        rand48 = UInt64(truncatingIfNeeded: Clock.monotonicMicros()) << 16 | 0x330E
    }

    /// Closes the VM (SCRIPT FLUSH, then `init` again).
    func close() { lua_close(L) }

    /// A new VM with the libraries, the redis table and the sandbox (see the top of the file):
    /// the state, the real globals table and __redis__err__handler (registry references).
    /// For Redis Functions the globals also have their load mode (FunctionsEngine.swift).
    static func newSandboxedState(forFunctions: Bool) -> (OpaquePointer, Int32, Int32) {
        let L = luaL_newstate()!
        tandem_lua_open_libraries(L)
        lua_pushvalue(L, LUA_GLOBALSINDEX)
        let globalsRef = luaL_ref(L, LUA_REGISTRYINDEX)
        LuaRedisAPI.register(L)
        LuaRedisAPI.replaceMathRandom(L)
        let status = Self.sandboxCode.withCString { code in
            luaL_loadbuffer(L, code, strlen(code), "@sandbox")
        }
        lua_pushboolean(L, forFunctions ? 1 : 0)
        tandem_lua_push_swift_function(L) { L in FunctionsEngine.registerFunction(L!) }
        guard status == 0, lua_pcall(L, 2, 1, 0) == 0 else {
            let message = String(cString: lua_tolstring(L, -1, nil))
            fatalError("Lua sandbox: \(message)")
        }
        // The proxy of the globals is returned: it becomes the globals of every chunk.
        lua_replace(L, LUA_GLOBALSINDEX)
        lua_getfield(L, LUA_REGISTRYINDEX, "__redis__err__handler")
        let errorHandlerRef = luaL_ref(L, LUA_REGISTRYINDEX)
        return (L, globalsRef, errorHandlerRef)
    }

    static let sandboxCode = """
        local for_functions, register_function = ...
        local G = _G
        local real_setmetatable, real_getmetatable = setmetatable, getmetatable
        local real_rawset, real_rawget, real_next, real_type, real_error = rawset, rawget, next, type, error
        local real_loadstring, real_load, real_tostring = loadstring, load, tostring
        local dbg = debug

        -- Redis 7.0's message handler: keeps the place of the error for the reply.
        -- The place is the script's: C functions and this sandbox's own guards are skipped.
        local function err_handler(err)
            local level = 2
            local i = dbg.getinfo(level, 'nSl')
            while i and (i.what == 'C' or i.what == 'tail' or i.source == '@sandbox') do
                level = level + 1
                i = dbg.getinfo(level, 'nSl')
            end
            if real_type(err) ~= 'table' then err = {err = 'ERR ' .. real_tostring(err)} end
            if i then
                err['source'] = i.source
                err['line'] = i.currentline
            end
            return err
        end
        debug.getregistry()['__redis__err__handler'] = err_handler
        G.__redis__err__handler = err_handler

        -- Only Redis 7.0's globals.
        local allowed = {
            ARGV = 1, KEYS = 1, _G = 1, _VERSION = 1, __redis__err__handler = 1, assert = 1, bit = 1,
            cjson = 1, cmsgpack = 1, collectgarbage = 1, coroutine = 1, error = 1, gcinfo = 1,
            getmetatable = 1, ipairs = 1, load = 1, loadstring = 1, math = 1, next = 1, pairs = 1,
            pcall = 1, rawequal = 1, rawget = 1, rawset = 1, redis = 1, select = 1, setmetatable = 1,
            string = 1, struct = 1, table = 1, tonumber = 1, tostring = 1, type = 1, unpack = 1,
            xpcall = 1,
        }
        local names = {}
        for k in real_next, G do names[#names + 1] = k end
        for _, k in ipairs(names) do
            if not allowed[k] then G[k] = nil end
        end

        local proxies = real_setmetatable({}, {__mode = 'k'})
        local function readonly() real_error('Attempt to modify a readonly table', 2) end
        -- What getmetatable() shows of a proxy's metatable: a read-only view whose __index is
        -- the proxy again, never the table behind it (which would be writable).
        local function metatable_view(mt, self)
            return real_setmetatable({}, {
                __index = function(_, k) if k == '__index' then return self end return mt[k] end,
                __newindex = readonly, __metatable = false})
        end
        local function protect(t)
            local p = {}
            local mt = {__index = t, __newindex = readonly}
            mt.__metatable = metatable_view(mt, p)
            real_setmetatable(p, mt)
            proxies[p] = t
            return p, mt
        end

        -- getmetatable of a library shows nothing and of the globals a view whose __index is a
        -- function, as Redis's read-only tables do: no way back to a writable table.
        local global_views = real_setmetatable({}, {__mode = 'k'})
        G.getmetatable = function(t)
            if proxies[t] then return global_views[t] end
            return real_getmetatable(t)
        end
        -- Raised without a position, as Redis's C checks do.
        G.setmetatable = function(t, m)
            if proxies[t] then real_error('Attempt to modify a readonly table', 0) end
            return real_setmetatable(t, m)
        end
        G.rawset = function(t, k, v)
            if proxies[t] then real_error('Attempt to modify a readonly table', 0) end
            return real_rawset(t, k, v)
        end
        -- Redis 7.0's pcall: an error table caught by a script reads as its message.
        local real_pcall = pcall
        local function pcall_result(ok, ...)
            if ok then return true, ... end
            local e = ...
            if real_type(e) == 'table' then
                local message = e.err
                if real_type(message) == 'string' or real_type(message) == 'number' then e = message end
            end
            return false, e
        end
        G.pcall = function(...) return pcall_result(real_pcall(...)) end
        G.rawget = function(t, k) return real_rawget(proxies[t] or t, k) end
        G.next = function(t, k) return real_next(proxies[t] or t, k) end
        G.pairs = function(t) return real_next, proxies[t] or t, nil end
        -- No binary chunks: they could break the VM.
        G.loadstring = function(s, name)
            if real_type(s) == 'string' and s:byte(1) == 27 then return nil, 'binary chunks are not allowed' end
            return real_loadstring(s, name)
        end
        G.load = function(f, name)
            local parts = {}
            while true do
                local piece = f()
                if piece == nil or piece == '' then break end
                parts[#parts + 1] = piece
            end
            return G.loadstring(table.concat(parts), name)
        end

        for _, lib in ipairs({'redis', 'string', 'math', 'table', 'coroutine', 'bit', 'cjson', 'struct', 'cmsgpack'}) do
            if real_type(G[lib]) == 'table' then G[lib] = protect(G[lib]) end
        end
        -- Strings' methods come from the string library: their metatable reads through the
        -- proxy and shows itself read-only, so ('x'):upper() cannot be redefined for others.
        local string_mt = real_getmetatable('')
        string_mt.__index = G.string
        string_mt.__metatable = metatable_view(string_mt, G.string)
        proxies[string_mt.__metatable] = string_mt
        real_setmetatable(G, {__index = function(_, name)
            real_error("Script attempted to access nonexistent global variable '" .. real_tostring(name) .. "'", 2)
        end})
        local globals, globals_mt = protect(G)
        global_views[globals] = metatable_view(globals_mt, function(_, k) return globals[k] end)
        G._G = globals
        if not for_functions then return globals end

        -- Redis Functions: one globals table for a library's code and its functions, reading
        -- through to the load-time API while FUNCTION LOAD runs the library's code and to the
        -- globals above when a function is called (Redis 7.0's LIBRARY_API / GLOBALS_API).
        local function nonexistent(_, name)
            real_error("Script attempted to access nonexistent global variable '" .. real_tostring(name) .. "'", 2)
        end
        local real_redis = proxies[G.redis]
        local library_api = {register_function = register_function, log = real_redis.log,
            REDIS_VERSION = real_redis.REDIS_VERSION, REDIS_VERSION_NUM = real_redis.REDIS_VERSION_NUM}
        for _, level in ipairs({'LOG_DEBUG', 'LOG_VERBOSE', 'LOG_NOTICE', 'LOG_WARNING'}) do
            library_api[level] = real_redis[level]
        end
        real_setmetatable(library_api, {__index = nonexistent})
        local load_globals = real_setmetatable({redis = protect(library_api)}, {__index = nonexistent})
        local shared = {}
        local shared_mt = {__index = G, __newindex = readonly}
        shared_mt.__metatable = metatable_view(shared_mt, shared)
        global_views[shared] = metatable_view(shared_mt, function(_, k) return shared[k] end)
        real_setmetatable(shared, shared_mt)
        proxies[shared] = G
        G._G = shared
        dbg.getregistry()['__tandem_loading'] = function(on)
            if on then shared_mt.__index = load_globals else shared_mt.__index = G end
        end
        return shared
        """

    // MARK: - The cache

    /// Compiles `body` (after its shebang line) and caches it; returns the entry or the error
    /// reply text.
    mutating func load(_ body: ByteView, sha: ScriptSHA) -> Result<CachedScript, ScriptError> {
        if let s = scripts[sha] { return .success(s) }
        let flags: ScriptFlags
        let skip: Int
        switch Self.shebang(body) {
        case .failure(let e): return .failure(e)
        case .success(let (f, n)): (flags, skip) = (f, n)
        }
        let status = luaL_loadbuffer(L, UnsafeRawPointer(body.base + skip).assumingMemoryBound(to: CChar.self),
                                     body.count - skip, "@user_script")
        if status != 0 {
            let message = Self.string(L, -1) ?? "unknown error"
            tandem_lua_pop(L, 1)
            return .failure(ScriptError("ERR Error compiling script (new function): \(message)"))
        }
        let entry = CachedScript(function: luaL_ref(L, LUA_REGISTRYINDEX), bodyBytes: body.count, flags: flags)
        scripts[sha] = entry
        scriptsBodyBytes += body.count
        return .success(entry)
    }

    /// `#!lua flags=a,b` on the first line: the flags and the bytes to skip. No shebang is
    /// compatibility mode.
    static func shebang(_ body: ByteView) -> Result<(ScriptFlags, Int), ScriptError> {
        guard body.count >= 2 && body[0] == 35 && body[1] == 33 else { return .success(([.compatibilityMode], 0)) }
        var end = 0
        while end < body.count && body[end] != 10 { end += 1 }
        if end == body.count { return .failure(ScriptError("ERR Invalid script shebang")) }
        let line = ByteView(body.base, end).string
        let words = line.split(separator: " ", omittingEmptySubsequences: true)
        if words.first != "#!lua" {
            return .failure(ScriptError("ERR Unexpected engine in script shebang: \(words.first ?? "")"))
        }
        var flags: ScriptFlags = []
        for word in words.dropFirst() {
            guard word.hasPrefix("flags=") else {
                return .failure(ScriptError("ERR Unknown lua shebang option: \(word)"))
            }
            for name in word.dropFirst(6).split(separator: ",", omittingEmptySubsequences: true) {
                guard let flag = ScriptFlags.names.first(where: { $0.0 == name }) else {
                    return .failure(ScriptError("ERR Unexpected flag in script shebang: \(name)"))
                }
                flags.insert(flag.1)
            }
        }
        return .success((flags, end))
    }

    // MARK: - Stack helpers

    /// The string at `index` (numbers converted), nil for other types.
    static func string(_ L: OpaquePointer, _ index: Int32) -> String? {
        var n = 0
        guard let p = lua_tolstring(L, index, &n) else { return nil }
        return String(decoding: UnsafeRawBufferPointer(start: p, count: n), as: UTF8.self)
    }

    static func pushString(_ L: OpaquePointer, _ s: String) {
        var s = s
        s.withUTF8 { b in
            b.withMemoryRebound(to: CChar.self) { lua_pushlstring(L, $0.baseAddress, $0.count) }
        }
    }

    /// A step of the collector every `gcPeriod` calls, as Redis does after scripts: a VM that
    /// only ever allocates would otherwise wait for Lua's own pace.
    static func collectGarbageStep(_ L: OpaquePointer, calls: inout Int) {
        calls += 1
        if calls >= gcPeriod {
            lua_gc(L, LUA_GCSTEP, Int32(gcPeriod))
            calls = 0
        }
    }

    /// The VM's heap (INFO used_memory_lua).
    var memoryBytes: Int { Int(lua_gc(L, LUA_GCCOUNT, 0)) * 1024 + Int(lua_gc(L, LUA_GCCOUNTB, 0)) }

    /// The cached bodies and their table entries (INFO used_memory_scripts_eval).
    var scriptsMemoryBytes: Int { scriptsBodyBytes + scripts.count * (MemoryLayout<ScriptSHA>.stride + MemoryLayout<CachedScript>.stride + 16) }

    /// Redis's redisLrand48 step: the top 31 bits of the next rand48 state.
    mutating func nextRandom() -> Int32 {
        rand48 = (rand48 &* 0x5DEECE66D &+ 0xB) & 0xFFFF_FFFF_FFFF
        return Int32(truncatingIfNeeded: rand48 >> 17)
    }

    mutating func seedRandom(_ seed: Int32) {
        rand48 = UInt64(UInt32(bitPattern: seed)) << 16 | 0x330E
    }
}

/// An error reply text ("ERR ...", "NOSCRIPT ...") of the scripting layer.
struct ScriptError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}
