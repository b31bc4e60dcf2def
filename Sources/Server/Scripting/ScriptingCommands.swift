/*
 * Scripting commands — Redis 7.0's eval.c: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT
 * LOAD|EXISTS|FLUSH|KILL|DEBUG|HELP, and the run of a script or function that EVAL and FCALL
 * share (FunctionCommands.swift has FCALL and FUNCTION).
 *
 * A script runs on the one VM of LuaEngine with `LuaRedisAPI.server` pointing at the server;
 * while it runs the server is reached only through that pointer (withUnsafeMutablePointer), so
 * the commands a script calls change the same server the EVAL returns to.
 *
 * Replication is by effects, as 7.0 does: the script itself never propagates; each write it
 * runs propagates through call(), and the batch of one EVAL is wrapped in MULTI/EXEC when it
 * holds more than one command (Propagation.swift). SCRIPT LOAD is not propagated.
 *
 * Time inside a script is frozen at its start (call() takes the time only for the outermost
 * command), so keys that expire during a long script expire for it all at once, as in Redis.
 */
import CLua
import Keyspace
import Platform
import RESP

enum ScriptingCommand: UInt8 {
    case eval, evalsha, evalRO, evalshaRO
    case scriptLoad, scriptExists, scriptFlush, scriptKill, scriptDebug, scriptHelp
    case fcall, fcallRO
    case functionLoad, functionDelete, functionDump, functionRestore, functionFlush, functionList, functionStats
    case functionKill, functionHelp
}

enum ScriptingCommands {
    static let evalFlags: CommandFlags = [.noscript, .stale, .skipMonitor, .noMandatoryKeys, .movableKeys]

    static let specs: [CommandSpec] = evalSpecs + FunctionCommands.specs

    static let evalSpecs: [CommandSpec] = [
        .init("eval", .scripting(.eval), -3, evalFlags, "scripting", "2.6.0", "Execute a Lua script server side"),
        .init("evalsha", .scripting(.evalsha), -3, evalFlags, "scripting", "2.6.0",
              "Execute a Lua script server side"),
        .init("eval_ro", .scripting(.evalRO), -3, evalFlags.union(.readonly), "scripting", "7.0.0",
              "Execute a read-only Lua script server side"),
        .init("evalsha_ro", .scripting(.evalshaRO), -3, evalFlags.union(.readonly), "scripting", "7.0.0",
              "Execute a read-only Lua script server side"),
        .init("script", .container, -2, [.container], "scripting", "2.6.0", "A container for Lua scripts management commands"),
        .init("script|load", .scripting(.scriptLoad), 3, [.noscript, .stale], "scripting", "2.6.0",
              "Load the specified Lua script into the script cache."),
        .init("script|exists", .scripting(.scriptExists), -3, [.noscript], "scripting", "2.6.0",
              "Check existence of scripts in the script cache."),
        .init("script|flush", .scripting(.scriptFlush), -2, [.noscript], "scripting", "2.6.0",
              "Remove all the scripts from the script cache."),
        .init("script|kill", .scripting(.scriptKill), 2, [.noscript, .allowBusy], "scripting", "2.6.0",
              "Kill the script currently in execution."),
        .init("script|debug", .scripting(.scriptDebug), 3, [.noscript], "scripting", "3.2.0",
              "Set the debug mode for executed scripts."),
        .init("script|help", .scripting(.scriptHelp), 2, [.loading, .stale], "scripting", "5.0.0",
              "Show helpful text about the different subcommands"),
    ]

    static let scriptHelp = [
        "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "DEBUG (YES|SYNC|NO)",
        "    Set the debug mode for subsequent scripts executed.",
        "EXISTS <sha1> [<sha1> ...]",
        "    Return information about the existence of the scripts in the script cache.",
        "FLUSH [ASYNC|SYNC]",
        "    Flush the Lua scripts cache. Very dangerous on replicas.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the scripts cache.",
        "    * SYNC: Synchronously flush the scripts cache.",
        "KILL",
        "    Kill the currently executing Lua script.",
        "LOAD <script>",
        "    Load a script into the scripts cache without executing it.",
        "HELP",
        "    Prints this help.",
    ]
}

extension Server {
    mutating func scriptingCommand(_ c: ClientRef, _ id: ScriptingCommand) {
        switch id {
        case .eval: evalCommand(c, bySHA: false, readOnly: false)
        case .evalsha: evalCommand(c, bySHA: true, readOnly: false)
        case .evalRO: evalCommand(c, bySHA: false, readOnly: true)
        case .evalshaRO: evalCommand(c, bySHA: true, readOnly: true)
        case .scriptLoad: scriptLoadCommand(c)
        case .scriptExists: scriptExistsCommand(c)
        case .scriptFlush: scriptingFlushCommand(c, function: false)
        case .scriptKill: scriptKillCommand(c, function: false)
        case .scriptDebug: scriptDebugCommand(c)
        case .scriptHelp: addHelp(c, ScriptingCommands.scriptHelp)
        case .fcall: fcallCommand(c, readOnly: false)
        case .fcallRO: fcallCommand(c, readOnly: true)
        case .functionLoad: functionLoadCommand(c)
        case .functionDelete: functionDeleteCommand(c)
        case .functionDump: functionDumpCommand(c)
        case .functionRestore: functionRestoreCommand(c)
        case .functionFlush: scriptingFlushCommand(c, function: true)
        case .functionList: functionListCommand(c)
        case .functionStats: functionStatsCommand(c)
        case .functionKill: scriptKillCommand(c, function: true)
        case .functionHelp: addHelp(c, FunctionCommands.help)
        }
    }

    // MARK: - EVAL

    mutating func evalCommand(_ c: ClientRef, bySHA: Bool, readOnly: Bool) {
        guard let numkeys = scriptKeyCount(c, notAnInteger: "-ERR value is not an integer or out of range\r\n") else { return }
        let engine = scripting
        let body = c.pointee.arg(1)
        let sha: ScriptSHA
        let script: CachedScript
        if bySHA {
            guard let s = ScriptSHA(hex: body), let cached = engine.pointee.scripts[s] else {
                addError(c, "-NOSCRIPT No matching script. Please use EVAL.\r\n")
                return
            }
            (sha, script) = (s, cached)
        } else {
            sha = ScriptSHA.of(body)
            switch engine.pointee.load(body, sha: sha) {
            case .success(let s): script = s
            case .failure(let e):
                addErrorString(c, e.message)
                return
            }
        }
        if let refusal = scriptRefusal(c, script.flags, readOnly: readOnly) {
            addErrorString(c, refusal)
            return
        }
        if monitorCount > 0 { feedMonitors(c, c.pointee.lastCommand, force: true) }
        runScript(c, script, sha: sha, keys: numkeys, readOnly: readOnly || script.flags.contains(.noWrites))
    }

    /// The numkeys argument of EVAL and FCALL (argv[2]), or nil with the error replied.
    mutating func scriptKeyCount(_ c: ClientRef, notAnInteger: StaticString) -> Int? {
        guard let numkeys = c.pointee.arg(2).int64 else {
            addError(c, notAnInteger)
            return nil
        }
        if numkeys > Int64(c.pointee.argc - 3) {
            addError(c, "-ERR Number of keys can't be greater than number of args\r\n")
            return nil
        }
        if numkeys < 0 {
            addError(c, "-ERR Number of keys can't be negative\r\n")
            return nil
        }
        return Int(numkeys)
    }

    /// Whether the command in `c` writes or replicates, for CLIENT PAUSE WRITE and EXEC: a write
    /// or may-replicate command, or an EVAL/EVALSHA whose script lacks the no-writes flag
    /// (scripts without a shebang may write, as in Redis 7.0).
    func mayWriteOrReplicate(_ c: ClientRef, _ id: CommandID, _ flags: CommandFlags) -> Bool {
        if flags.contains(.write) || Self.mayReplicate(id) { return true }
        let body = c.pointee.arg(1)
        switch id {
        case .scripting(.evalsha):
            guard let sha = ScriptSHA(hex: body), let script = scripting.pointee.scripts[sha] else { return true }
            return !script.flags.contains(.noWrites)
        case .scripting(.eval):
            guard case .success(let (scriptFlags, _)) = LuaEngine.shebang(body) else { return true }
            return !scriptFlags.contains(.noWrites)
        case .scripting(.fcall):
            guard let f = functionsEngine.pointee.current.function(body) else { return true }
            return !f.flags.contains(.noWrites)
        default:
            return false
        }
    }

    /// Whether EVAL/EVALSHA/FCALL in `c` runs a script that declares flags without no-writes:
    /// Redis then counts the command as a write (a READONLY replica redirects it with -MOVED).
    /// A script without a shebang declares nothing and an unknown one is not known to write.
    func scriptDeclaresWrites(_ c: ClientRef, _ id: CommandID) -> Bool {
        let body = c.pointee.arg(1)
        switch id {
        case .scripting(.evalsha):
            guard let sha = ScriptSHA(hex: body), let script = scripting.pointee.scripts[sha] else { return false }
            return !script.flags.contains(.compatibilityMode) && !script.flags.contains(.noWrites)
        case .scripting(.eval):
            guard case .success(let (flags, _)) = LuaEngine.shebang(body) else { return false }
            return !flags.contains(.compatibilityMode) && !flags.contains(.noWrites)
        case .scripting(.fcall):
            guard let f = functionsEngine.pointee.current.function(body) else { return false }
            return !f.flags.contains(.noWrites)
        default:
            return false
        }
    }

    /// Whether the node may run a script with these flags now (Redis's scriptPrepareForRun).
    /// Checked in Redis's order: a stale replica, then for a script that may write a read-only
    /// replica, a failed save (MISCONF), a *_RO command, too few good replicas.
    func scriptRefusal(_ c: ClientRef, _ flags: ScriptFlags, readOnly: Bool) -> String? {
        if flags.contains(.compatibilityMode) { return nil }
        if cluster.enabled && flags.contains(.noCluster) { return "ERR Can not run script on cluster, 'no-cluster' flag is set." }
        let fromMaster = c.pointee.isMaster
        if isReplicaNode && !fromMaster && link.state != .connected && !settings.replicaServeStaleData
            && !flags.contains(.allowStale)
        {
            return "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."
        }
        if flags.contains(.noWrites) { return nil }
        if isReplicaNode && !fromMaster && settings.replicaReadOnly { return "READONLY You can't write against a read only replica." }
        if refusesWritesAfterSaveError && !fromMaster {
            return "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. "
                + "Writable scripts are blocked. Use 'no-writes' flag for read only scripts."
        }
        if !fromMaster, let refusal = aofWriteRefusal() { return refusal }
        if readOnly { return "ERR Can not execute a script with write flag using *_ro command." }
        if !isReplicaNode && settings.minReplicasToWrite > 0 && settings.minReplicasMaxLag > 0
            && goodReplicaCount() < settings.minReplicasToWrite
        {
            return "NOREPLICAS Not enough good replicas to write."
        }
        if settings.maxmemory > 0 && preCommandOutOfMemory && !flags.contains(.allowOOM) && !fromMaster {
            return "OOM command not allowed when used memory > 'maxmemory'."
        }
        return nil
    }

    /// Runs a compiled script with KEYS and ARGV from the client's arguments and writes its reply.
    mutating func runScript(_ c: ClientRef, _ script: CachedScript, sha: ScriptSHA, keys: Int, readOnly: Bool) {
        let engine = scripting
        let L = engine.pointee.L
        setKeysAndArgv(L, c, keys: keys)
        lua_rawgeti(L, LUA_REGISTRYINDEX, engine.pointee.errorHandlerRef)
        lua_rawgeti(L, LUA_REGISTRYINDEX, script.function)
        scriptRun.pointee = ScriptRun(active: true, caller: c, sha: sha, flags: script.flags, readOnly: readOnly,
                                      startMicros: Clock.monotonicMicros())
        callScript(c, L, arguments: 0)
        LuaEngine.collectGarbageStep(L, calls: &engine.pointee.callsSinceGC)
    }

    /// Calls the function under its error handler (the stack holds the handler, the function
    /// and `arguments` values), writes the reply or the error to `c` and clears the stack.
    mutating func callScript(_ c: ClientRef, _ L: OpaquePointer, arguments: Int32) {
        scriptClient.pointee.db = c.pointee.db
        scriptClient.pointee.resp3 = false
        // The script's commands run as its caller's ACL user (Redis's scriptCall).
        scriptClient.pointee.user = c.pointee.user
        scriptClient.pointee.checkAccess = needsAccessCheck(scriptClient)
        defer {
            scriptClient.pointee.user = -1
            scriptClient.pointee.checkAccess = false
        }
        tandem_lua_enable_count_hook(L, 100_000)
        let status = withUnsafeMutablePointer(to: &self) { server -> Int32 in
            LuaRedisAPI.server = server
            defer { LuaRedisAPI.server = nil }
            return lua_pcall(L, arguments, 1, -(arguments + 2))
        }
        tandem_lua_enable_count_hook(L, 0)
        scriptRun.pointee.active = false
        if status == 0 {
            var errors = ReplyErrors()
            LuaConversion.writeReply(L, into: &c.pointee.reply, scriptResp3: scriptRun.pointee.resp3,
                                     clientResp3: c.pointee.resp3, errors: &errors)
            for message in errors.counted {
                stats.errorReplies += 1
                errorStats[Self.errorCode(message), default: 0] += 1
            }
            failedWithoutErrorStats += errors.uncounted
        } else {
            replyScriptError(c, L, name: scriptRun.pointee.name)
        }
        tandem_lua_pop(L, 2)  // the result or error, and the handler
        scriptRun.pointee.caller = nil
    }

    /// KEYS and ARGV, new tables written into the real globals (past the read-only proxy).
    func setKeysAndArgv(_ L: OpaquePointer, _ c: ClientRef, keys: Int) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, scripting.pointee.globalsRef)
        pushArguments(L, c, "KEYS", from: 3, count: keys)
        pushArguments(L, c, "ARGV", from: 3 + keys, count: c.pointee.argc - 3 - keys)
        tandem_lua_pop(L, 1)
    }

    /// globals[name] = {argv[from], ...}, the globals table on top.
    @inline(__always)
    func pushArguments(_ L: OpaquePointer, _ c: ClientRef, _ name: StaticString, from: Int, count: Int) {
        lua_pushlstring(L, UnsafeRawPointer(name.utf8Start).assumingMemoryBound(to: CChar.self), name.utf8CodeUnitCount)
        pushArgumentTable(L, c, from: from, count: count)
        lua_rawset(L, -3)
    }

    /// Pushes {argv[from], ..., argv[from + count - 1]}.
    @inline(__always)
    func pushArgumentTable(_ L: OpaquePointer, _ c: ClientRef, from: Int, count: Int) {
        lua_createtable(L, Int32(count), 0)
        for i in 0..<count {
            LuaConversion.pushBytes(L, c.pointee.arg(from + i))
            lua_rawseti(L, -2, Int32(i + 1))
        }
    }

    /// The error a script raised, as Redis 7.0 words it: "<err> script: <sha>, on <source>:<line>."
    /// An error that redis.call raised was counted by the command that failed.
    mutating func replyScriptError(_ c: ClientRef, _ L: OpaquePointer, name: String) {
        var message: String
        var counted = false
        if lua_type(L, -1) == LUA_TTABLE {
            _ = LuaConversion.rawField(L, "err")
            message = LuaEngine.string(L, -1) ?? "ERR unknown error"
            tandem_lua_pop(L, 1)
            _ = LuaConversion.rawField(L, "source")
            let source = LuaEngine.string(L, -1)
            tandem_lua_pop(L, 1)
            _ = LuaConversion.rawField(L, "line")
            let line = LuaEngine.string(L, -1)
            tandem_lua_pop(L, 1)
            counted = LuaConversion.rawField(L, "ignore_error_stats_update") == LUA_TBOOLEAN
            tandem_lua_pop(L, 1)
            if let source, let line {
                message += " script: \(name), on \(source):\(line)."
            } else {
                message += " script: \(name)."
            }
        } else {
            message = "ERR " + (LuaEngine.string(L, -1) ?? "unknown error")
        }
        message = LuaConversion.sanitized(message)
        if message.hasPrefix("-") { message.removeFirst() }
        if counted {
            Self.appendError(c, message)
            failedWithoutErrorStats += 1
        } else {
            addErrorString(c, message)
        }
    }

    // MARK: - Commands called by scripts

    /// Runs the command in the script client's arguments (redis.call); returns the refusal
    /// text when the command may not run from a script.
    mutating func runCommandFromScript(_ lc: ClientRef) -> String? {
        var index = commands.find(lc.pointee.arg(0))
        if index < 0 || commands.isSubcommandEntry[index] { return "ERR Unknown Redis command called from script" }
        if commands.hasSubcommands[index] && lc.pointee.argc >= 2 {
            let sub = commands.findSubcommand(parent: index, lc.pointee.arg(1))
            if sub >= 0 { index = sub }
        }
        let spec = commands.specs + index
        let arity = spec.pointee.arity
        if (arity > 0 && lc.pointee.argc != arity) || lc.pointee.argc < -arity {
            return "ERR Wrong number of args calling Redis command from script"
        }
        let flags = spec.pointee.flags
        if (flags.contains(.noscript) && !scriptDenyDisabled) || flags.contains(.container) {
            return "ERR This Redis command is not allowed from script"
        }
        let run = scriptRun
        if isReplicaNode && link.state != .connected && !settings.replicaServeStaleData && !flags.contains(.stale) {
            return "ERR Can not execute the command on a stale replica."
        }
        if let refusal = scriptDenial(lc, index) { return refusal }
        if cluster.enabled, let refusal = scriptClusterRefusal(lc, index, caller: run.pointee.caller) { return refusal }
        // Over maxmemory when the script began: no command that may grow memory, unless the
        // script wrote already (it cannot be stopped half way) or may (allow-oom).
        if settings.maxmemory > 0 && preCommandOutOfMemory && flags.contains(.denyoom) && !run.pointee.wrote
            && !run.pointee.flags.contains(.allowOOM) && !(run.pointee.caller?.pointee.isMaster ?? false)
        {
            return "OOM command not allowed when used memory > 'maxmemory'."
        }
        if run.pointee.readOnly && Self.mayReplicate(spec.pointee.id) {
            return "ERR Write commands are not allowed from read-only scripts."
        }
        if flags.contains(.write) {
            if run.pointee.readOnly { return "ERR Write commands are not allowed from read-only scripts." }
            let caller = run.pointee.caller
            if isReplicaNode && settings.replicaReadOnly && !(caller?.pointee.isMaster ?? false) {
                return "READONLY You can't write against a read only replica."
            }
            if refusesWritesAfterSaveError && !(caller?.pointee.isMaster ?? false) {
                return String(Self.misconfError.description.dropFirst().dropLast(2))
            }
            if !(caller?.pointee.isMaster ?? false), let refusal = aofWriteRefusal() { return refusal }
            if !isReplicaNode && settings.minReplicasToWrite > 0 && settings.minReplicasMaxLag > 0
                && goodReplicaCount() < settings.minReplicasToWrite
            {
                return "NOREPLICAS Not enough good replicas to write."
            }
            run.pointee.wrote = true
        }
        lc.pointee.resp3 = run.pointee.resp3
        switch run.pointee.replicationTargets {
        case 3:
            call(lc, index)
        case 0:
            let saved = propagationEnabled
            propagationEnabled = false
            call(lc, index)
            propagationEnabled = saved
        default:
            // REPL_AOF or REPL_REPLICA: the command's bytes are marked for one side only.
            propagationTargets = oneSided(run.pointee.replicationTargets)
            call(lc, index)
            propagationTargets = 3
        }
        return nil
    }

    // MARK: - SCRIPT

    mutating func scriptLoadCommand(_ c: ClientRef) {
        let body = c.pointee.arg(2)
        let sha = ScriptSHA.of(body)
        switch scripting.pointee.load(body, sha: sha) {
        case .success: c.pointee.reply.appendBulk(sha.hex)
        case .failure(let e): addErrorString(c, e.message)
        }
    }

    mutating func scriptExistsCommand(_ c: ClientRef) {
        c.pointee.reply.appendArrayHeader(c.pointee.argc - 2)
        for i in 2..<c.pointee.argc {
            let known = ScriptSHA(hex: c.pointee.arg(i)).map { scripting.pointee.scripts[$0] != nil } ?? false
            c.pointee.reply.appendInteger(known ? 1 : 0)
        }
    }

    /// SCRIPT FLUSH: a new VM (the old one and every compiled script go), as Redis does.
    mutating func flushScripts() {
        scripting.pointee.close()
        scripting.pointee = LuaEngine()
    }

    mutating func scriptDebugCommand(_ c: ClientRef) {
        let mode = c.pointee.arg(2)
        if mode.equalsLowercase("no") {
            addOK(c)
        } else if mode.equalsLowercase("yes") || mode.equalsLowercase("sync") {
            addError(c, "-ERR SCRIPT DEBUG is not supported: Tandem has no Lua debugger\r\n")
        } else {
            addError(c, "-ERR Use SCRIPT DEBUG YES/SYNC/NO\r\n")
        }
    }
}
