/*
 * LuaRedisAPI: the `redis` table scripts see — call, pcall, error_reply, status_reply, sha1hex,
 * log, setresp, set_repl, replicate_commands, breakpoint, debug, acl_check_cmd and the
 * constants — and Redis's deterministic math.random.
 *
 * Every function here is a Swift function called through CLua's trampoline: it never raises
 * a Lua error itself (longjmp must not cross Swift frames); it pushes the error value and
 * returns -1, and the trampoline raises it.
 *
 * The functions reach the server through `LuaRedisAPI.server`, set for the duration of a
 * script by ScriptingCommands (a C callback carries no context of its own). Commands run on
 * the script's own client (Redis's lua_client) through the ordinary `call()`, so statistics,
 * the slow log, keyspace effects and propagation are those of any command; the reply the
 * command wrote into that client is converted to Lua and cleared.
 */
import CLua
import CTandem
import Glibc
import Platform

enum LuaRedisAPI {
    /// The server while a script runs (nil otherwise).
    nonisolated(unsafe) static var server: UnsafeMutablePointer<Server>? = nil

    static let logLevels: [(String, Int32)] = [("LOG_DEBUG", 0), ("LOG_VERBOSE", 1), ("LOG_NOTICE", 2), ("LOG_WARNING", 3)]
    static let replicationTargets: [(String, Int32)] = [
        ("REPL_NONE", 0), ("REPL_AOF", 1), ("REPL_SLAVE", 2), ("REPL_REPLICA", 2), ("REPL_ALL", 3),
    ]

    /// Builds the `redis` global (before the sandbox makes it read-only).
    static func register(_ L: OpaquePointer) {
        lua_createtable(L, 0, 32)
        func function(_ name: String, _ f: tandem_lua_swift_function) {
            tandem_lua_push_swift_function(L, f)
            lua_setfield(L, -2, name)
        }
        function("call") { L in LuaRedisAPI.call(L!, raising: true) }
        function("pcall") { L in LuaRedisAPI.call(L!, raising: false) }
        function("error_reply") { L in LuaRedisAPI.replyTable(L!, field: "err") }
        function("status_reply") { L in LuaRedisAPI.replyTable(L!, field: "ok") }
        function("sha1hex") { L in LuaRedisAPI.sha1hex(L!) }
        function("log") { L in LuaRedisAPI.log(L!) }
        function("setresp") { L in LuaRedisAPI.setresp(L!) }
        function("set_repl") { L in LuaRedisAPI.setRepl(L!) }
        function("replicate_commands") { L in
            lua_pushboolean(L, 1)
            return 1
        }
        function("breakpoint") { L in
            lua_pushboolean(L, 0)
            return 1
        }
        function("debug") { _ in 0 }
        function("acl_check_cmd") { L in LuaRedisAPI.aclCheck(L!) }
        for (name, value) in logLevels + replicationTargets {
            lua_pushnumber(L, Double(value))
            lua_setfield(L, -2, name)
        }
        LuaEngine.pushString(L, ServerInfo.redisVersion)
        lua_setfield(L, -2, "REDIS_VERSION")
        lua_pushnumber(L, Double(ServerInfo.redisVersionNumber))
        lua_setfield(L, -2, "REDIS_VERSION_NUM")
        lua_setfield(L, LUA_GLOBALSINDEX, "redis")
    }

    /// math.random and math.randomseed as Redis's (rand48 with Lua's argument rules), so a seeded
    /// sequence matches redis-server's.
    static func replaceMathRandom(_ L: OpaquePointer) {
        lua_getfield(L, LUA_GLOBALSINDEX, "math")
        tandem_lua_push_swift_function(L) { L in LuaRedisAPI.mathRandom(L!) }
        lua_setfield(L, -2, "random")
        tandem_lua_push_swift_function(L) { L in LuaRedisAPI.mathRandomSeed(L!) }
        lua_setfield(L, -2, "randomseed")
        tandem_lua_pop(L, 1)
    }

    /// The count hook of a running script (BusyScripts.swift).
    static let hook: tandem_lua_swift_function = { L in
        guard let server = LuaRedisAPI.server else { return 0 }
        return server.pointee.scriptInterrupt(L!)
    }

    // MARK: - Errors

    /// Pushes {err=message} (what redis.call raises and redis.pcall returns).
    static func pushError(_ L: OpaquePointer, _ message: String) {
        lua_createtable(L, 0, 1)
        LuaEngine.pushString(L, message)
        lua_setfield(L, -2, "err")
    }

    /// Raises {err="ERR <message>"}: how the redis.* functions report misuse (no position;
    /// the reply names the script's line).
    static func raise(_ L: OpaquePointer, _ message: String) -> Int32 {
        pushError(L, "ERR " + message)
        return -1
    }

    /// Raises `message` with the caller's position, as luaL_error (math.random's argument checks).
    static func raiseWithPosition(_ L: OpaquePointer, _ message: String) -> Int32 {
        luaL_where(L, 1)
        LuaEngine.pushString(L, message)
        lua_concat(L, 2)
        return -1
    }

    // MARK: - redis.call / redis.pcall

    static func call(_ L: OpaquePointer, raising: Bool) -> Int32 {
        guard let server else {
            pushError(L, "ERR redis.call is only available inside a script")
            return raising ? -1 : 1
        }
        let argc = Int(lua_gettop(L))
        if argc == 0 {
            pushError(L, "ERR Please specify at least one argument for this redis lib call")
            return raising ? -1 : 1
        }
        let lc = server.pointee.scriptClient
        if argc > lc.pointee.argvCapacity {
            lc.pointee.argv.deallocate()
            lc.pointee.argvCapacity = max(argc, lc.pointee.argvCapacity * 2)
            lc.pointee.argv = .allocate(capacity: lc.pointee.argvCapacity)
        }
        for i in 1...argc {
            let type = lua_type(L, Int32(i))
            if type == LUA_TNUMBER {
                // Redis 7.0 formats numbers with %.17g (Lua's own tostring keeps 14 digits).
                pushNumberArgument(L, lua_tonumber(L, Int32(i)))
                lua_replace(L, Int32(i))
            } else if type != LUA_TSTRING {
                pushError(L, "ERR Lua redis lib command arguments must be strings or integers")
                return raising ? -1 : 1
            }
            var n = 0
            let p = lua_tolstring(L, Int32(i), &n)!
            lc.pointee.argv[i - 1] = ByteView(UnsafeRawPointer(p).assumingMemoryBound(to: UInt8.self), n)
        }
        lc.pointee.argc = argc
        let refusal = server.pointee.runCommandFromScript(lc)
        lc.pointee.argc = 0
        // The arguments are done with: popping them leaves room for the reply however many
        // there were (Lua's C stack holds at most 8000 values).
        lua_settop(L, 0)
        if let refusal {
            pushError(L, refusal)
            return raising ? -1 : 1
        }
        let reply = lc.pointee.reply.base
        let isError = lc.pointee.reply.count > 0 && reply[0] == 45
        _ = LuaConversion.pushReply(L, reply, reply + lc.pointee.reply.count)
        lc.pointee.reply.clear()
        // An error table carries ignore_error_stats_update (LuaConversion.pushReply): the
        // command that failed counted it.
        if isError && raising { return -1 }
        return 1
    }

    static func pushNumberArgument(_ L: OpaquePointer, _ n: Double) {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 64) { buf in
            lua_pushlstring(L, buf.baseAddress, Int(tandem_d2string(buf.baseAddress, 64, n)))
        }
    }

    // MARK: - The other functions

    /// redis.error_reply / redis.status_reply: {err=...} / {ok=...}; a leading "-" of an error
    /// is dropped.
    static func replyTable(_ L: OpaquePointer, field: String) -> Int32 {
        if lua_gettop(L) != 1 || lua_type(L, 1) != LUA_TSTRING {
            // Returned, not raised, as Redis does: the script's reply becomes this error.
            pushError(L, "ERR wrong number or type of arguments")
            return 1
        }
        var text = LuaEngine.string(L, 1) ?? ""
        if field == "err" && text.hasPrefix("-") { text.removeFirst() }
        lua_createtable(L, 0, 1)
        LuaEngine.pushString(L, text)
        lua_setfield(L, -2, field)
        return 1
    }

    static func sha1hex(_ L: OpaquePointer) -> Int32 {
        if lua_gettop(L) != 1 { return raise(L, "wrong number of arguments") }
        var n = 0
        guard let p = lua_tolstring(L, 1, &n) else { return raise(L, "wrong number of arguments") }
        let sha = ScriptSHA.of(ByteView(UnsafeRawPointer(p).assumingMemoryBound(to: UInt8.self), n))
        LuaEngine.pushString(L, sha.hex)
        return 1
    }

    static func log(_ L: OpaquePointer) -> Int32 {
        let argc = lua_gettop(L)
        if argc < 2 { return raise(L, "redis.log() requires two arguments or more.") }
        if lua_type(L, 1) != LUA_TNUMBER { return raise(L, "First argument must be a number (log level).") }
        let level = Int(lua_tonumber(L, 1))
        if level < 0 || level > 3 { return raise(L, "Invalid debug level.") }
        var parts: [String] = []
        for i in 2...argc {
            if let s = LuaEngine.string(L, i) { parts.append(s) }
        }
        let message = parts.joined(separator: " ")
        switch level {
        case 0: Log.debug(message)
        case 1: Log.verbose(message)
        case 2: Log.notice(message)
        default: Log.warning(message)
        }
        return 0
    }

    static func setresp(_ L: OpaquePointer) -> Int32 {
        if lua_gettop(L) != 1 { return raise(L, "redis.setresp() requires one argument.") }
        let version = Int(lua_tonumber(L, 1))
        if version != 2 && version != 3 { return raise(L, "RESP version must be 2 or 3.") }
        server?.pointee.scriptRun.pointee.resp3 = version == 3
        return 0
    }

    static func setRepl(_ L: OpaquePointer) -> Int32 {
        if lua_gettop(L) != 1 { return raise(L, "redis.set_repl() requires one argument.") }
        let flags = Int(lua_tonumber(L, 1))
        if flags & ~3 != 0 { return raise(L, "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.") }
        server?.pointee.scriptRun.pointee.replicationTargets = flags
        return 0
    }

    /// redis.acl_check_cmd(command, args...): whether the script's caller may run it.
    static func aclCheck(_ L: OpaquePointer) -> Int32 {
        guard let server else { return 0 }
        let argc = Int(lua_gettop(L))
        if argc < 1 { return raise(L, "Please specify at least one argument for this redis lib call") }
        var args: [ByteView] = []
        for i in 1...argc {
            var n = 0
            guard lua_type(L, Int32(i)) == LUA_TSTRING || lua_type(L, Int32(i)) == LUA_TNUMBER,
                let p = lua_tolstring(L, Int32(i), &n)
            else { return raise(L, "Lua redis lib command arguments must be strings or integers") }
            args.append(ByteView(UnsafeRawPointer(p).assumingMemoryBound(to: UInt8.self), n))
        }
        var index = server.pointee.commands.find(args[0])
        if index >= 0 && server.pointee.commands.isSubcommandEntry[index] { index = -1 }
        if index >= 0 && server.pointee.commands.hasSubcommands[index] && argc >= 2 {
            index = server.pointee.commands.findSubcommand(parent: index, args[1])
        }
        if index < 0 { return raise(L, "Invalid command passed to redis.acl_check_cmd()") }
        let allowed = server.pointee.scriptCallerMay(index, argc: argc) { args[$0] }
        lua_pushboolean(L, allowed ? 1 : 0)
        return 1
    }

    // MARK: - math.random

    static func mathRandom(_ L: OpaquePointer) -> Int32 {
        guard let server else { return 0 }
        let raw = server.pointee.scripting.pointee.nextRandom()
        let r = Double(raw % Int32.max) / Double(Int32.max)
        switch lua_gettop(L) {
        case 0:
            lua_pushnumber(L, r)
        case 1:
            let u = Int(lua_tonumber(L, 1))
            if u < 1 { return raiseWithPosition(L, "bad argument #1 to 'random' (interval is empty)") }
            lua_pushnumber(L, (r * Double(u)).rounded(.down) + 1)
        case 2:
            let l = Int(lua_tonumber(L, 1))
            let u = Int(lua_tonumber(L, 2))
            if l > u { return raiseWithPosition(L, "bad argument #2 to 'random' (interval is empty)") }
            lua_pushnumber(L, (r * Double(u - l + 1)).rounded(.down) + Double(l))
        default:
            return raiseWithPosition(L, "wrong number of arguments")
        }
        return 1
    }

    static func mathRandomSeed(_ L: OpaquePointer) -> Int32 {
        guard let server else { return 0 }
        server.pointee.scripting.pointee.seedRandom(Int32(truncatingIfNeeded: Int(lua_tonumber(L, 1))))
        return 0
    }
}
