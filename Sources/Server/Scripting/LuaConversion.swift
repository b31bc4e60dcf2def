/*
 * LuaConversion: replies to Lua values and Lua values to replies, by Redis 7.0's rules
 * (script_lua.c's redisProtocolToLuaType and luaReplyToRedisReply).
 *
 * Reply → Lua (what redis.call returns): integer → number, bulk → string, null bulk or null
 * array → false, status → {ok=...}, error → {err=...}, array → table. Under redis.setresp(3)
 * also map → {map={...}}, set → {set={member=true}}, null → nil, boolean → true/false,
 * double → {double=n}, big number → {big_number="..."}, verbatim → {verbatim_string={format=,
 * string=}}; attributes are skipped.
 *
 * Lua → reply (what a script returns): string → bulk, number → integer (truncated), true → 1
 * and false → null (RESP3 scripts: booleans), a table with `err` → error, `ok` → status,
 * `double`, `big_number`, `map`, `set`, `verbatim_string` → those RESP3 types (downgraded for
 * RESP2 callers), any other table → array up to its first nil. Tables are read raw: a
 * metatable cannot run code while the reply is built.
 */
import CLua
import Platform
import RESP

/// The error replies a script's result held: those to count in errorstats, and those counted
/// already (a command's error passed on), which still make the script's call a failed one.
struct ReplyErrors {
    var counted: [String] = []
    var uncounted = 0
}

enum LuaConversion {
    // MARK: - Reply → Lua

    /// Pushes the reply starting at `p` (which ends before `end`) and returns where it ends.
    /// Replies come from our own commands, so they are well formed; bounds are checked anyway.
    static func pushReply(_ L: OpaquePointer, _ p: UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>) -> UnsafePointer<UInt8> {
        guard p < end, lua_checkstack(L, 5) != 0 else {
            lua_pushnil(L)
            return end
        }
        let type = p[0]
        var lineEnd = p + 1
        while lineEnd + 1 < end && !(lineEnd[0] == 13 && lineEnd[1] == 10) { lineEnd += 1 }
        let line = ByteView(p + 1, lineEnd - p - 1)
        let next = min(lineEnd + 2, end)
        switch type {
        case 43:  // '+'
            field(L, "ok") { pushBytes(L, line) }
            return next
        case 45:  // '-' (counted in errorstats already, by the command)
            field(L, "err") { pushBytes(L, line) }
            setField(L, "ignore_error_stats_update") { lua_pushboolean(L, 1) }
            return next
        case 58:  // ':'
            lua_pushnumber(L, Double(line.int64 ?? 0))
            return next
        case 36, 61:  // '$', '=' verbatim
            let n = line.int64 ?? -1
            if n < 0 {
                lua_pushboolean(L, 0)
                return next
            }
            let count = min(Int(n), end - next)
            if type == 61 && count >= 4 {
                lua_createtable(L, 0, 1)
                lua_createtable(L, 0, 2)
                pushBytes(L, ByteView(next, 3))
                lua_setfield(L, -2, "format")
                pushBytes(L, ByteView(next + 4, count - 4))
                lua_setfield(L, -2, "string")
                lua_setfield(L, -2, "verbatim_string")
            } else {
                pushBytes(L, ByteView(next, count))
            }
            return min(next + count + 2, end)
        case 42, 62, 126:  // '*', '>' push, '~' set
            let n = line.int64 ?? -1
            if n < 0 {
                lua_pushboolean(L, 0)
                return next
            }
            var at = next
            if type == 126 {
                lua_createtable(L, 0, 1)
                lua_createtable(L, 0, Int32(min(n, 1 << 20)))
                for _ in 0..<n {
                    at = pushReply(L, at, end)
                    lua_pushboolean(L, 1)
                    lua_settable(L, -3)
                }
                lua_setfield(L, -2, "set")
                return at
            }
            lua_createtable(L, Int32(min(n, 1 << 20)), 0)
            for i in 0..<n {
                at = pushReply(L, at, end)
                lua_rawseti(L, -2, Int32(i + 1))
            }
            return at
        case 37:  // '%' map
            let n = line.int64 ?? 0
            var at = next
            lua_createtable(L, 0, 1)
            lua_createtable(L, 0, Int32(min(n, 1 << 20)))
            for _ in 0..<n {
                at = pushReply(L, at, end)
                at = pushReply(L, at, end)
                lua_settable(L, -3)
            }
            lua_setfield(L, -2, "map")
            return at
        case 124:  // '|' attribute: skipped, the value follows
            let n = line.int64 ?? 0
            var at = next
            for _ in 0..<(2 * n) {
                at = pushReply(L, at, end)
                tandem_lua_pop(L, 1)
            }
            return pushReply(L, at, end)
        case 95:  // '_'
            lua_pushnil(L)
            return next
        case 35:  // '#'
            lua_pushboolean(L, line.count > 0 && line[0] == 116 ? 1 : 0)
            return next
        case 44:  // ','
            field(L, "double") { lua_pushnumber(L, Double(line.string) ?? 0) }
            return next
        case 40:  // '('
            field(L, "big_number") { pushBytes(L, line) }
            return next
        default:
            lua_pushnil(L)
            return end
        }
    }

    /// Pushes a table with one field `name` set by `value`.
    static func field(_ L: OpaquePointer, _ name: StaticString, _ value: () -> Void) {
        lua_createtable(L, 0, 1)
        setField(L, name, value)
    }

    /// t[name] = value() for the table on top, by rawset (a StaticString key, no C string).
    static func setField(_ L: OpaquePointer, _ name: StaticString, _ value: () -> Void) {
        lua_pushlstring(L, UnsafeRawPointer(name.utf8Start).assumingMemoryBound(to: CChar.self), name.utf8CodeUnitCount)
        value()
        lua_rawset(L, -3)
    }

    static func pushBytes(_ L: OpaquePointer, _ v: ByteView) {
        UnsafeRawPointer(v.base).withMemoryRebound(to: CChar.self, capacity: max(v.count, 1)) {
            lua_pushlstring(L, $0, v.count)
        }
    }

    // MARK: - Lua → reply

    /// What the value on top of the stack becomes in `reply` (the value stays). `scriptResp3`
    /// is the script's redis.setresp, `clientResp3` the caller's protocol. Returns the error
    /// text when the value is an error table (the caller writes and counts it).
    static func writeReply(_ L: OpaquePointer, into reply: inout ReplyBuffer, scriptResp3: Bool, clientResp3: Bool,
                           errors: inout ReplyErrors, depth: Int = 0) {
        // Redis stops where Lua's stack runs out; the nesting is also bounded here so a table
        // that contains itself cannot exhaust the C stack either.
        if depth >= maxDepth || lua_checkstack(L, 4) == 0 {
            reply.append("-ERR reached lua stack limit\r\n" as StaticString)
            errors.counted.append("ERR")
            return
        }
        switch lua_type(L, -1) {
        case LUA_TSTRING:
            var n = 0
            let p = lua_tolstring(L, -1, &n)!
            UnsafeRawPointer(p).withMemoryRebound(to: UInt8.self, capacity: max(n, 1)) { reply.appendBulk($0, n) }
        case LUA_TBOOLEAN:
            let truth = lua_toboolean(L, -1) != 0
            if !scriptResp3 {
                if truth { reply.appendInteger(1) } else { reply.appendNull(resp3: clientResp3) }
            } else if clientResp3 {
                reply.append(truth ? "#t\r\n" as StaticString : "#f\r\n" as StaticString)
            } else {
                reply.appendInteger(truth ? 1 : 0)
            }
        case LUA_TNUMBER:
            reply.appendInteger(truncatedInteger(lua_tonumber(L, -1)))
        case LUA_TTABLE:
            writeTable(L, into: &reply, scriptResp3: scriptResp3, clientResp3: clientResp3, errors: &errors, depth: depth + 1)
        default:
            reply.appendNull(resp3: clientResp3)
        }
    }

    /// (long long)n as C converts it; values beyond the range saturate instead of trapping.
    static func truncatedInteger(_ n: Double) -> Int64 {
        if n.isNaN { return Int64.min }
        if n >= 9.2233720368547758e18 { return Int64.min }
        if n <= -9.2233720368547758e18 { return Int64.min }
        return Int64(n)
    }

    static let maxDepth = 1000

    static func writeTable(_ L: OpaquePointer, into reply: inout ReplyBuffer, scriptResp3: Bool, clientResp3: Bool,
                           errors: inout ReplyErrors, depth: Int) {
        // {err=...}: an error reply; {ok=...}: a status.
        if rawField(L, "err") == LUA_TSTRING {
            let text = sanitized(LuaEngine.string(L, -1) ?? "")
            tandem_lua_pop(L, 1)
            reply.append("-")
            reply.append(text)
            reply.append("\r\n" as StaticString)
            // A command's error that redis.pcall returned was counted when the command failed.
            let counted = rawField(L, "ignore_error_stats_update") == LUA_TBOOLEAN
            tandem_lua_pop(L, 1)
            if counted { errors.uncounted += 1 } else { errors.counted.append(text) }
            return
        }
        tandem_lua_pop(L, 1)
        if rawField(L, "ok") == LUA_TSTRING {
            let text = sanitized(LuaEngine.string(L, -1) ?? "")
            tandem_lua_pop(L, 1)
            reply.append("+")
            reply.append(text)
            reply.append("\r\n" as StaticString)
            return
        }
        tandem_lua_pop(L, 1)
        if rawField(L, "double") == LUA_TNUMBER {
            reply.appendDouble(lua_tonumber(L, -1), resp3: clientResp3)
            tandem_lua_pop(L, 1)
            return
        }
        tandem_lua_pop(L, 1)
        if rawField(L, "big_number") == LUA_TSTRING {
            let text = sanitized(LuaEngine.string(L, -1) ?? "")
            tandem_lua_pop(L, 1)
            if clientResp3 {
                reply.append("(" + text + "\r\n")
            } else {
                reply.appendBulk(text)
            }
            return
        }
        tandem_lua_pop(L, 1)
        if rawField(L, "map") == LUA_TTABLE {
            let header = reply.reserveDeferredHeader()
            var pairs = 0
            lua_pushnil(L)
            while lua_next(L, -2) != 0 {
                lua_pushvalue(L, -2)  // the key, on top
                writeReply(L, into: &reply, scriptResp3: scriptResp3, clientResp3: clientResp3, errors: &errors, depth: depth)
                tandem_lua_pop(L, 1)
                writeReply(L, into: &reply, scriptResp3: scriptResp3, clientResp3: clientResp3, errors: &errors, depth: depth)
                tandem_lua_pop(L, 1)
                pairs += 1
            }
            tandem_lua_pop(L, 1)
            if clientResp3 {
                reply.patchHeader(at: header, prefix: 37, pairs)
            } else {
                reply.patchHeader(at: header, prefix: 42, pairs * 2)
            }
            return
        }
        tandem_lua_pop(L, 1)
        if rawField(L, "set") == LUA_TTABLE {
            let header = reply.reserveDeferredHeader()
            var members = 0
            lua_pushnil(L)
            while lua_next(L, -2) != 0 {
                tandem_lua_pop(L, 1)
                lua_pushvalue(L, -1)
                writeReply(L, into: &reply, scriptResp3: scriptResp3, clientResp3: clientResp3, errors: &errors, depth: depth)
                tandem_lua_pop(L, 1)
                members += 1
            }
            tandem_lua_pop(L, 1)
            reply.patchHeader(at: header, prefix: clientResp3 ? 126 : 42, members)
            return
        }
        tandem_lua_pop(L, 1)
        if rawField(L, "verbatim_string") == LUA_TTABLE {
            lua_getfield(L, -1, "format")
            let format = LuaEngine.string(L, -1)
            lua_getfield(L, -2, "string")
            let text = LuaEngine.string(L, -1)
            tandem_lua_pop(L, 3)
            if let format, let text, format.utf8.count == 3 {
                if clientResp3 {
                    reply.append("=\(text.utf8.count + 4)\r\n\(format):\(text)\r\n")
                } else {
                    reply.appendBulk(text)
                }
                return
            }
            reply.appendNull(resp3: clientResp3)
            return
        }
        tandem_lua_pop(L, 1)
        // An array, up to the first nil.
        let header = reply.reserveDeferredHeader()
        var j: Int32 = 1
        while true {
            lua_rawgeti(L, -1, j)
            if lua_type(L, -1) == LUA_TNIL {
                tandem_lua_pop(L, 1)
                break
            }
            writeReply(L, into: &reply, scriptResp3: scriptResp3, clientResp3: clientResp3, errors: &errors, depth: depth)
            tandem_lua_pop(L, 1)
            j += 1
        }
        reply.patchHeader(at: header, prefix: 42, Int(j - 1))
    }

    /// Pushes t[name] of the table on top, read raw; returns its type.
    @inline(__always)
    static func rawField(_ L: OpaquePointer, _ name: StaticString) -> Int32 {
        lua_pushlstring(L, UnsafeRawPointer(name.utf8Start).assumingMemoryBound(to: CChar.self), name.utf8CodeUnitCount)
        lua_rawget(L, -2)
        return lua_type(L, -1)
    }

    /// Status and error texts cannot hold line breaks (Redis turns them into spaces).
    /// CR and LF each become a space (Redis's sdsmapchars), byte by byte: as a Swift Character
    /// "\r\n" is one, and would become one space instead of two.
    static func sanitized(_ s: String) -> String {
        guard s.utf8.contains(where: { $0 == 13 || $0 == 10 }) else { return s }
        return String(decoding: s.utf8.map { $0 == 13 || $0 == 10 ? 32 : $0 }, as: UTF8.self)
    }
}
