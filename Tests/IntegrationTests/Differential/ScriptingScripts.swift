/*
 * ScriptingScripts.swift — EVAL against redis-server (issue 13): the conversions both ways
 * (RESP2 and RESP3), every redis.* function, the sandbox's refusals and their error texts, the
 * error replies with their script location, SCRIPT LOAD/EXISTS/FLUSH, EVALSHA and NOSCRIPT,
 * EVAL_RO and shebang flags, SELECT inside scripts, the libraries (cjson, bit, struct,
 * cmsgpack — the last two Tandem's own, checked with 253 snippets), well-known script patterns
 * (a lock with a token, a sliding-window rate limiter, a reliable queue move), busy scripts
 * (-BUSY, SCRIPT KILL, UNKILLABLE) and the effects a script replicates to a replica.
 */

import Foundation
import Testing

@Suite struct ScriptingScripts {
    static func eval(_ body: String, _ args: String...) -> Step { Step(.command(["EVAL", body] + args)) }

    static let conversions = Script("lua-conversions", [
        ["SET", "s", "abc"],
        eval("return 'hello'", "0"),
        eval("return _G", "0"),
        eval("local a = {}; setmetatable(a,{__index=function() foo() end}) return a", "0"),
        eval("return 100.5", "0"),
        eval("return -3.99", "0"),
        eval("return true", "0"),
        eval("return false", "0"),
        eval("return nil", "0"),
        eval("return {1,2,3.7,'x',nil,5}", "0"),
        eval("return {1, {2, {3, {'a', {err='nested'}}}}}", "0"),
        eval("return {ok='fine'}", "0"),
        eval("return {err='bad thing'}", "0"),
        eval("return {err='-ERR with dash'}", "0"),
        eval("return redis.status_reply('FINE')", "0"),
        eval("return redis.error_reply('MYERR something')", "0"),
        eval("return redis.error_reply('-x y')", "0"),
        eval("return redis.error_reply(123)", "0"),
        eval("return redis.status_reply()", "0"),
        eval("return {err=123}", "0"),
        eval("return {1, 2, {ok='x'}, {err='E y'}}", "0"),
        eval("local function f() return f() + 1 end return f()", "0"),
        eval("return {xpcall(function() error({err='T'}) end, function(e) return type(e) end)}", "0"),
        eval("return coroutine.wrap(function() redis.call('set', 'co', '1') return redis.call('get', 'co') end)()", "0"),
        eval("return cmsgpack.unpack('\\196')", "0"),
        eval("return cjson.decode('{\"a\":')", "0"),
        eval("return {double=3.14}", "0"),
        eval("return {big_number='123456789012345678901234567890'}", "0"),
        eval("return {map={a=1}}", "0"),
        eval("return {set={a=true}}", "0"),
        eval("return {verbatim_string={format='txt', string='hello'}}", "0"),
        eval("local t = {} t[1] = t return #t", "0"),
        eval("return redis.call('incr', KEYS[1])", "1", "counter"),
        eval("return redis.call('get', 'nokey')", "0"),
        eval("return type(redis.call('get', 'nokey'))", "0"),
        eval("return redis.call('ping')", "0"),
        eval("local r = redis.call('ping'); return type(r) .. ' ' .. r.ok", "0"),
        eval("local r = redis.pcall('incr', 's'); return type(r) .. ' ' .. r.err", "0"),
        eval("redis.call('rpush', 'L', 'a', 'b'); return redis.call('lrange', 'L', 0, -1)", "0"),
        eval("return redis.call('lrange', 'nolist', 0, -1)", "0"),
        eval("return redis.call('hgetall', 'nohash')", "0"),
        eval("redis.call('set', 'n', 3.5); redis.call('set', 'm', 0.1); return {redis.call('get', 'n'), redis.call('get', 'm')}", "0"),
        eval("redis.call('set', 'big', 1e20); return redis.call('get', 'big')", "0"),
        eval("return {KEYS[1], KEYS[2], ARGV[1], ARGV[2], #KEYS, #ARGV}", "2", "k1", "k2", "a1", "a2"),
        .ignore("HELLO", "3"),
        eval("return {double=3.14}", "0"),
        eval("return {map={a=1}}", "0"),
        eval("return {set={a=true}}", "0"),
        eval("return {big_number='123'}", "0"),
        eval("return {verbatim_string={format='txt', string='hello'}}", "0"),
        eval("return true", "0"),
        eval("redis.setresp(3); return true", "0"),
        eval("redis.setresp(3); return false", "0"),
        eval("return nil", "0"),
        .ignore("HELLO", "2"),
        eval("redis.setresp(3); return redis.call('debug', 'protocol', 'map')", "0"),
        eval("redis.setresp(3); return redis.call('debug', 'protocol', 'set')", "0"),
        eval("redis.setresp(3); return redis.call('debug', 'protocol', 'double')", "0"),
        eval("redis.setresp(3); return redis.call('debug', 'protocol', 'bignum')", "0"),
        eval("redis.setresp(3); return redis.call('debug', 'protocol', 'null')", "0"),
        eval("redis.setresp(3); return redis.call('debug', 'protocol', 'true')", "0"),
        eval("redis.setresp(3); return redis.call('debug', 'protocol', 'false')", "0"),
        eval("redis.setresp(3); return redis.call('debug', 'protocol', 'verbatim')", "0"),
        eval("redis.setresp(3); return redis.call('debug', 'protocol', 'attrib')", "0"),
        eval("redis.setresp(3); local r = redis.call('debug', 'protocol', 'map'); return type(r.map)", "0"),
        eval("return redis.call('debug', 'protocol', 'bignum')", "0"),
        eval("redis.setresp(4)", "0"),
    ])

    @Test func conversionsAsRedis() throws {
        try Differential.run(Self.conversions)
    }

    static let errorsAndSandbox = Script("lua-errors-sandbox", serverArgs: ["--enable-debug-command", "yes"], [
        ["SET", "s", "abc"],
        // No way from a metatable back to a writable table.
        eval("getmetatable('').__index = {} return 1", "0"),
        eval("getmetatable('').__index.upper = function() return 'p' end return 1", "0"),
        eval("getmetatable('').x = 1 return 1", "0"),
        eval("local m = getmetatable(_G) m.__index = nil return 1", "0"),
        eval("getmetatable(_G).__index.pwn = 1 return 1", "0"),
        eval("return type(getmetatable(_G).__index)", "0"),
        eval("return getmetatable(string)", "0"),
        eval("return getmetatable('').__index == string", "0"),
        eval("return rawget(getmetatable(''), '__index') == string", "0"),
        eval("return ('x'):upper()", "0"),
        eval("return string.upper('x')", "0"),
        eval("return a", "0"),
        eval("a = 10", "0"),
        eval("return redis.call('incr', 's')", "0"),
        eval("return redis.call('nosuch')", "0"),
        eval("return redis.call('set', 'a')", "0"),
        eval("return redis.call()", "0"),
        eval("return redis.pcall()", "0"),
        eval("return redis.call(1)", "0"),
        eval("return redis.call('get', {})", "0"),
        eval("error('boom')", "0"),
        eval("error({err='MY custom'})", "0"),
        eval("syntax error here", "0"),
        eval("return redis.call('subscribe', 'x')", "0"),
        eval("return redis.call('eval', 'return 1', '0')", "0"),
        eval("return redis.call('multi')", "0"),
        eval("return redis.call('blpop', 'l', '0')", "0"),
        eval("local ok, err = pcall(function() redis.call('nosuchcmd') end); return {type(err), err}", "0"),
        eval("local ok, err = pcall(function() error({err='X y'}) end); return {tostring(ok), err}", "0"),
        eval("setmetatable(_G, {})", "0"),
        eval("local g = getmetatable(_G); g.__index = {}", "0"),
        eval("redis = function() return 1 end", "0"),
        eval("_G = {}", "0"),
        eval("redis.call = function() return 1 end", "0"),
        eval("cjson.encode = function() return 1 end", "0"),
        eval("cmsgpack.pack = function() return 1 end", "0"),
        eval("bit.lshift = function() return 1 end", "0"),
        eval("string.foo = 1", "0"),
        eval("loadfile('x')", "0"),
        eval("dofile('x')", "0"),
        eval("print('x')", "0"),
        eval("return type(os)", "0"),
        eval("return type(io)", "0"),
        eval("return type(require)", "0"),
        eval("return type(getfenv)", "0"),
        eval("return type(newproxy)", "0"),
        eval("return type(debug)", "0"),
        eval("return loadstring(string.dump(function() return 1 end))()", "0"),
        eval("return loadstring('return 1 + 1')()", "0"),
        eval("return rawget(_G, 'redis') ~= nil", "0"),
        eval("local t = {} for k in pairs(_G) do t[#t + 1] = k end table.sort(t) return t", "0"),
        eval("local t = {} for k in pairs(redis) do t[#t + 1] = k end table.sort(t) return t", "0"),
        eval("local t = {} for k in pairs(math) do t[#t + 1] = k end table.sort(t) return t", "0"),
        eval("return {_VERSION, redis.REDIS_VERSION, redis.REDIS_VERSION_NUM}", "0"),
        eval("return redis.sha1hex('Pizza & Mandolino')", "0"),
        eval("return redis.sha1hex('')", "0"),
        eval("return redis.sha1hex()", "0"),
        eval("return redis.log(redis.LOG_WARNING, 'from a script')", "0"),
        eval("return redis.log()", "0"),
        eval("return redis.set_repl(redis.REPL_ALL)", "0"),
        eval("return redis.set_repl(99)", "0"),
        eval("return redis.replicate_commands()", "0"),
        eval("return redis.breakpoint()", "0"),
        eval("return redis.acl_check_cmd('set', 'x', 'y')", "0"),
        eval("return redis.acl_check_cmd('nosuch')", "0"),
        eval("math.randomseed(42); return {tostring(math.random()), math.random(100), math.random(5, 9)}", "0"),
        eval("return cjson.encode({a={1,2,{b='c'}}})", "0"),
        eval("return cjson.encode(cjson.decode('[1,\"2\",3.5,true,null]'))", "0"),
        eval("return cjson.decode('{\"a\":[1,2,{\"b\":null}]}').a[3].b == cjson.null", "0"),
        eval("return {bit.band(7, 3), bit.bor(1, 2), bit.bxor(5, 1), bit.lshift(1, 4), bit.tohex(65535)}", "0"),
        eval("return redis.call('flushdb')", "0"),
        .errorPrefix("EVAL", "return 1", "x"),
        ["EVAL", "return 1", "-1"],
        ["EVAL", "return 1", "3", "a"],
        ["EVAL", "#!lua flags=no-writes\nreturn redis.call('set', 'x', 1)", "0"],
        ["EVAL", "#!lua flags=bogus\nreturn 1", "0"],
        ["EVAL", "#!python\nreturn 1", "0"],
        ["EVAL", "#!lua\nreturn redis.call('set', 'x', 1)", "0"],
        ["EVAL_RO", "return redis.call('get', 'x')", "0"],
        ["EVAL_RO", "return redis.call('set', 'x', 2)", "0"],
        ["EVAL_RO", "#!lua\nreturn 1", "0"],
        ["EVAL_RO", "#!lua flags=no-writes\nreturn redis.call('get', 'x')", "0"],
        ["EVAL_RO", "return redis.call('publish', 'ch', 'msg')", "0"],
        ["EVAL", "#!lua flags=no-writes\nreturn redis.call('publish', 'ch', 'msg')", "0"],
        eval("return redis.call('publish', 'ch', 'msg')", "0"),
    ])

    @Test func errorsAndSandboxAsRedis() throws {
        try Differential.run(Self.errorsAndSandbox)
    }

    static let cacheAndDatabases = Script("lua-cache-select", [
        ["SCRIPT", "LOAD", "return 'loaded'"],
        ["EVALSHA", "b534286061d4b9e4026607613b95c06c06015ae8", "0"],
        ["EVALSHA", "B534286061D4B9E4026607613B95C06C06015AE8", "0"],
        ["EVALSHA", "ffffffffffffffffffffffffffffffffffffffff", "0"],
        ["EVALSHA", "short", "0"],
        ["EVALSHA_RO", "b534286061d4b9e4026607613b95c06c06015ae8", "0"],
        ["SCRIPT", "EXISTS", "b534286061d4b9e4026607613b95c06c06015ae8", "ffffffffffffffffffffffffffffffffffffffff", "x"],
        ["SCRIPT", "LOAD", "syntax error"],
        ["SCRIPT", "FLUSH"],
        ["SCRIPT", "EXISTS", "b534286061d4b9e4026607613b95c06c06015ae8"],
        ["SCRIPT", "FLUSH", "ASYNC"],
        ["SCRIPT", "FLUSH", "BOGUS"],
        ["SCRIPT", "KILL"],
        ["SCRIPT", "HELP"],
        ["SCRIPT", "BOGUS"],
        ["SELECT", "3"],
        ["SET", "here", "3"],
        eval("return redis.call('get', 'here')", "0"),
        eval("redis.call('select', 5); return redis.call('set', 'there', '5')", "0"),
        ["GET", "there"],
        ["SELECT", "5"],
        ["GET", "there"],
        ["SADD", "myset", "c", "b", "a", "aa"],
        eval("return redis.call('sort', KEYS[1], 'by', '_')", "1", "myset"),
        eval("local a = {} for i=1,7999 do a[i] = 1 end return redis.call('lpush', 'l', unpack(a))", "0"),
        eval("return redis.call('lrem', 'l', 0, 1)", "0"),
        .sorted("COMMAND", "GETKEYS", "EVAL", "return 1", "2", "a", "b", "c"),
        ["COMMAND", "GETKEYS", "EVAL", "return 1", "0"],
        ["COMMAND", "INFO", "eval", "evalsha_ro", "script|load"],
    ])

    @Test func cacheSelectAndKeysAsRedis() throws {
        try Differential.run(Self.cacheAndDatabases)
    }

    static let rateLimiter = """
        local now = tonumber(ARGV[1]) local window = tonumber(ARGV[2]) local limit = tonumber(ARGV[3])
        redis.call('zremrangebyscore', KEYS[1], 0, now - window)
        local count = redis.call('zcard', KEYS[1])
        if count < limit then redis.call('zadd', KEYS[1], now, ARGV[4]) redis.call('pexpire', KEYS[1], window) return 1 end
        return 0
        """

    /// The well-known patterns applications run.
    static let patterns = Script("lua-patterns", [
        // A lock with a token: release only if we hold it; extend only if we hold it.
        ["SET", "lock", "token-1", "NX", "PX", "30000"],
        eval("if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end", "1", "lock", "token-2"),
        eval("if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end", "1", "lock", "token-1", "60000"),
        eval("if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end", "1", "lock", "token-1"),
        // A sliding-window rate limiter on a sorted set.
        eval(rateLimiter, "1", "rl", "1000", "100", "2", "a"),
        eval(rateLimiter, "1", "rl", "1010", "100", "2", "b"),
        eval(rateLimiter, "1", "rl", "1020", "100", "2", "c"),
        ["ZRANGE", "rl", "0", "-1", "WITHSCORES"],
        // A reliable queue: move the oldest job to the processing list and stamp it.
        ["RPUSH", "jobs", "j1", "j2", "j3"],
        eval("local job = redis.call('lmove', KEYS[1], KEYS[2], 'LEFT', 'RIGHT') if job then redis.call('hset', KEYS[3], job, ARGV[1]) end return job", "3", "jobs", "processing", "started", "1700000000"),
        eval("local job = redis.call('lmove', KEYS[1], KEYS[2], 'LEFT', 'RIGHT') if job then redis.call('hset', KEYS[3], job, ARGV[1]) end return job", "3", "jobs", "processing", "started", "1700000001"),
        ["LRANGE", "processing", "0", "-1"],
        ["HGETALL", "started"],
        // DECR if greater than.
        ["SET", "mykey", "5"],
        eval("local c = tonumber(redis.call('get', KEYS[1])) if c > tonumber(ARGV[1]) then return redis.call('decr', KEYS[1]) end return c", "1", "mykey", "3"),
        // MULTI around EVAL.
        ["MULTI"],
        eval("return redis.call('incr', 'tx')", "0"),
        eval("return redis.call('incr', 's-not-int')", "0"),
        ["EXEC"],
    ])

    @Test func wellKnownPatternsAsRedis() throws {
        try Differential.run(Self.patterns)
    }

    /// INFO errorstats and commandstats after scripts that fail in every way: a command's error
    /// raised by redis.call or returned by redis.pcall is counted once (by the command) yet makes
    /// the EVAL a failed call; errors the script makes itself are counted for it.
    static let errorAccounting = Script("lua-errorstats", [
        ["CONFIG", "RESETSTAT"],
        ["SET", "s", "abc"],
        eval("return redis.call('incr', 's')", "0"),
        eval("return redis.pcall('incr', 's')", "0"),
        eval("return {err='MY x'}", "0"),
        eval("error('boom')", "0"),
        eval("return redis.call('nosuch')", "0"),
        eval("return {1, redis.pcall('incr', 's'), {err='N y'}}", "0"),
        ["EVALSHA", "ffffffffffffffffffffffffffffffffffffffff", "0"],
        .probe("errorstats and commandstats") { c in try IntrospectionScripts.errorCounters(c) },
    ])

    @Test func errorAccountingAsRedis() throws {
        try Differential.run(Self.errorAccounting)
    }

    /// Scripts that crash or wedge other servers (redis-server 7.0.15 dies on `error({})`) get an
    /// error reply here, and the server goes on.
    @Test func hostileScriptsNeverCrash() throws {
        let server = try ServerProcess.start(.tandem)
        defer { server.stop() }
        let c = try server.connect()
        let hostile = [
            "error({})", "error()", "error(nil)", "error({err={}})", "error(setmetatable({}, {__index=function() error('x') end}))",
            "local function f() return f() + 1 end return f()",
            "local t = {} for i = 1, 200000 do t[i] = i end return t", "return string.rep('x', 1000000)",
            "return redis.call(string.rep('x', 100000))", "return loadstring(string.dump(function() end))",
            "\u{0}\u{1}\u{2} binary", String(repeating: "-- comment\n", count: 100_000) + "return 1",
            "return redis.call('eval', 'return 1', '0')", "return setmetatable({}, {__index = function() while true do end end})",
        ]
        for script in hostile {
            _ = try c.callValue("EVAL", script, "0")
            #expect(try c.callValue("PING") == .simple("PONG"), "after \(script.prefix(60))")
        }
    }

    /// Tandem's struct and cmsgpack modules against Redis's, one EVAL per snippet.
    @Test func structAndMsgpackMatchRedis() throws {
        let dir = ServerFlavour.packageRoot + "/Tests/IntegrationTests/Fixtures/lua"
        let prelude = try String(contentsOfFile: dir + "/prelude.lua", encoding: .utf8)
        let lines = try String(contentsOfFile: dir + "/snippets.txt", encoding: .utf8).split(separator: "\n")
        let steps = lines.filter { !$0.isEmpty && !$0.hasPrefix("#") }.map { line in
            Step(.command(["EVAL", prelude + "return __run(function()\n" + line + "\nend)\n", "0"]))
        }
        #expect(steps.count > 200)
        try Differential.run(Script("lua-struct-cmsgpack", steps))
    }
}
