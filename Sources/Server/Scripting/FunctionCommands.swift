/*
 * Function commands — Redis 7.0's functions.c: FCALL, FCALL_RO and FUNCTION LOAD|DELETE|DUMP|
 * RESTORE|FLUSH|LIST|STATS|KILL|HELP.
 *
 * FCALL runs a registered function on FunctionsEngine's VM through the run EVAL uses
 * (ScriptingCommands.callScript): same replies, errors ("... script: <function>, on
 * @user_function:<line>."), effects replication and busy handling; the function gets KEYS and
 * ARGV as its two arguments instead of globals, and its flags come from register_function
 * (there is no compatibility mode: a function without no-writes is a writing one).
 *
 * LOAD, DELETE, FLUSH and RESTORE change data: they count as a change (dirty) so they are
 * propagated to replicas as they were sent and counted for save points; a replica refuses them
 * from its clients when read-only, as any write. A library from our master or from a file has no
 * load time limit (the master already ran it).
 */
import CLua
import Persistence
import Platform
import RESP

enum FunctionCommands {
    static let specs: [CommandSpec] = [
        .init("fcall", .scripting(.fcall), -3, ScriptingCommands.evalFlags, "scripting", "7.0.0", "Invoke a function"),
        .init("fcall_ro", .scripting(.fcallRO), -3, ScriptingCommands.evalFlags.union(.readonly), "scripting", "7.0.0",
              "Invoke a read-only function"),
        .init("function", .container, -2, [.container], "scripting", "7.0.0", "A container for function commands"),
        .init("function|load", .scripting(.functionLoad), -3, [.write, .denyoom, .noscript], "scripting", "7.0.0",
              "Create a function with the given arguments (name, code, description)"),
        .init("function|delete", .scripting(.functionDelete), 3, [.write, .noscript], "scripting", "7.0.0",
              "Delete a function by name"),
        .init("function|dump", .scripting(.functionDump), 2, [.noscript], "scripting", "7.0.0",
              "Dump all functions into a serialized binary payload"),
        .init("function|restore", .scripting(.functionRestore), -3, [.write, .denyoom, .noscript], "scripting", "7.0.0",
              "Restore all the functions on the given payload"),
        .init("function|flush", .scripting(.functionFlush), -2, [.write, .noscript], "scripting", "7.0.0",
              "Deleting all functions"),
        .init("function|list", .scripting(.functionList), -2, [.noscript], "scripting", "7.0.0",
              "List information about all the functions"),
        .init("function|stats", .scripting(.functionStats), 2, [.noscript, .allowBusy], "scripting", "7.0.0",
              "Return information about the function currently running (name, description, duration)"),
        .init("function|kill", .scripting(.functionKill), 2, [.noscript, .allowBusy], "scripting", "7.0.0",
              "Kill the function currently in execution."),
        .init("function|help", .scripting(.functionHelp), 2, [.loading, .stale], "scripting", "7.0.0",
              "Show helpful text about the different subcommands"),
    ]

    static let help = [
        "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "LOAD [REPLACE] <FUNCTION CODE>",
        "    Create a new library with the given library name and code.",
        "DELETE <LIBRARY NAME>",
        "    Delete the given library.",
        "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
        "    Return general information on all the libraries:",
        "    * Library name",
        "    * The engine used to run the Library",
        "    * Library description",
        "    * Functions list",
        "    * Library code (if WITHCODE is given)",
        "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
        "STATS",
        "    Return information about the current function running:",
        "    * Function name",
        "    * Command used to run the function",
        "    * Duration in MS that the function is running",
        "    If no function is running, return nil",
        "    In addition, returns a list of available engines.",
        "KILL",
        "    Kill the current running function.",
        "FLUSH [ASYNC|SYNC]",
        "    Delete all the libraries.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the libraries.",
        "    * SYNC: Synchronously flush the libraries.",
        "DUMP",
        "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
        "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
        "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
        "    control how to handle existing libraries (default APPEND):",
        "    * FLUSH: delete all existing libraries.",
        "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
        "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
        "      libraries with the new libraries (notice that even on this option there is a chance of failure",
        "      in case of functions name collision with another library).",
        "HELP",
        "    Prints this help.",
    ]
}

extension Server {
    // MARK: - FCALL

    mutating func fcallCommand(_ c: ClientRef, readOnly: Bool) {
        if monitorCount > 0 { feedMonitors(c, c.pointee.lastCommand, force: true) }
        guard let function = functionsEngine.pointee.current.function(c.pointee.arg(1)) else {
            addError(c, "-ERR Function not found\r\n")
            return
        }
        guard let numkeys = scriptKeyCount(c, notAnInteger: "-ERR Bad number of keys provided\r\n") else { return }
        if let refusal = scriptRefusal(c, function.flags, readOnly: readOnly) {
            addErrorString(c, refusal)
            return
        }
        let engine = functionsEngine
        let L = engine.pointee.L
        let keys = numkeys
        lua_rawgeti(L, LUA_REGISTRYINDEX, engine.pointee.errorHandlerRef)
        lua_rawgeti(L, LUA_REGISTRYINDEX, function.function)
        pushArgumentTable(L, c, from: 3, count: keys)
        pushArgumentTable(L, c, from: 3 + keys, count: c.pointee.argc - 3 - keys)
        scriptRun.pointee = ScriptRun(active: true, caller: c, functionName: function.name, flags: function.flags,
                                      readOnly: readOnly || function.flags.contains(.noWrites),
                                      startMicros: Clock.monotonicMicros())
        callScript(c, L, arguments: 2)
        LuaEngine.collectGarbageStep(L, calls: &engine.pointee.callsSinceGC)
    }

    // MARK: - LOAD, DELETE, FLUSH

    mutating func functionLoadCommand(_ c: ClientRef) {
        var replace = false
        var j = 2
        while j < c.pointee.argc - 1 {
            let option = c.pointee.arg(j)
            if !option.equalsLowercase("replace") {
                addErrorString(c, "ERR Unknown option given: \(option.string)")
                return
            }
            replace = true
            j += 1
        }
        let engine = functionsEngine
        let timeout = c.pointee.isMaster ? 0 : FunctionsEngine.loadTimeoutMicros
        switch FunctionsEngine.create(engine.pointee.L, code: c.pointee.arg(j), replace: replace,
                                      into: &engine.pointee.current, timeoutMicros: timeout)
        {
        case .success(let name):
            dirty += 1
            c.pointee.reply.appendBulk(name)
        case .failure(let e):
            addErrorString(c, e.message)
        }
    }

    mutating func functionDeleteCommand(_ c: ClientRef) {
        let engine = functionsEngine
        guard let i = engine.pointee.current.libraryIndex(c.pointee.arg(2).string) else {
            addError(c, "-ERR Library not found\r\n")
            return
        }
        FunctionsEngine.release(engine.pointee.L, engine.pointee.current.unlink(at: i))
        dirty += 1
        addOK(c)
    }

    /// FUNCTION FLUSH: a new VM, as Redis (ASYNC frees the old one at once too: a VM holding
    /// libraries is small).
    mutating func flushFunctions() {
        functionsEngine.pointee.close()
        functionsEngine.pointee = FunctionsEngine()
    }

    // MARK: - LIST, STATS

    mutating func functionListCommand(_ c: ClientRef) {
        var withCode = false
        var pattern: ByteView? = nil
        var j = 2
        while j < c.pointee.argc {
            let option = c.pointee.arg(j)
            if !withCode && option.equalsLowercase("withcode") {
                withCode = true
            } else if pattern == nil && option.equalsLowercase("libraryname") {
                if j + 1 >= c.pointee.argc {
                    addError(c, "-ERR library name argument was not given\r\n")
                    return
                }
                j += 1
                pattern = c.pointee.arg(j)
            } else {
                addErrorString(c, "ERR Unknown argument \(option.string)")
                return
            }
            j += 1
        }
        let libraries = functionsEngine.pointee.current.libraries.filter { library in
            guard let pattern else { return true }
            var name = library.name
            return name.withUTF8 { Glob.match(pattern, ByteView($0.baseAddress!, $0.count), nocase: true) }
        }
        let resp3 = c.pointee.resp3
        c.pointee.reply.appendArrayHeader(libraries.count)
        for library in libraries {
            c.pointee.reply.appendMapHeader(withCode ? 4 : 3, resp3: resp3)
            c.pointee.reply.appendBulk("library_name")
            c.pointee.reply.appendBulk(library.name)
            c.pointee.reply.appendBulk("engine")
            c.pointee.reply.appendBulk("LUA")
            c.pointee.reply.appendBulk("functions")
            c.pointee.reply.appendArrayHeader(library.functions.count)
            for f in library.functions {
                c.pointee.reply.appendMapHeader(3, resp3: resp3)
                c.pointee.reply.appendBulk("name")
                c.pointee.reply.appendBulk(f.name)
                c.pointee.reply.appendBulk("description")
                if let d = f.description { c.pointee.reply.appendBulk(d) } else { c.pointee.reply.appendNull(resp3: resp3) }
                c.pointee.reply.appendBulk("flags")
                let flags = ScriptFlags.names.filter { f.flags.contains($0.1) }
                c.pointee.reply.appendSetHeader(flags.count, resp3: resp3)
                for flag in flags { c.pointee.reply.appendStatus(flag.0) }
            }
            if withCode {
                c.pointee.reply.appendBulk("library_code")
                library.code.withUnsafeBufferPointer { c.pointee.reply.appendBulk($0.baseAddress!, $0.count) }
            }
        }
    }

    mutating func functionStatsCommand(_ c: ClientRef) {
        let run = scriptRun
        if run.pointee.active && !run.pointee.isFunction {
            addError(c, Self.busyScriptError)
            return
        }
        let resp3 = c.pointee.resp3
        c.pointee.reply.appendMapHeader(2, resp3: resp3)
        c.pointee.reply.appendBulk("running_script")
        if run.pointee.active, let caller = run.pointee.caller {
            c.pointee.reply.appendMapHeader(3, resp3: resp3)
            c.pointee.reply.appendBulk("name")
            c.pointee.reply.appendBulk(run.pointee.name)
            c.pointee.reply.appendBulk("command")
            c.pointee.reply.appendArrayHeader(caller.pointee.argc)
            for i in 0..<caller.pointee.argc { c.pointee.reply.appendBulk(caller.pointee.arg(i)) }
            c.pointee.reply.appendBulk("duration_ms")
            c.pointee.reply.appendInteger((Clock.monotonicMicros() - run.pointee.startMicros) / 1000)
        } else {
            c.pointee.reply.appendNull(resp3: resp3)
        }
        let set = functionsEngine.pointee.current
        c.pointee.reply.appendBulk("engines")
        c.pointee.reply.appendMapHeader(1, resp3: resp3)
        c.pointee.reply.appendBulk("LUA")
        c.pointee.reply.appendMapHeader(2, resp3: resp3)
        c.pointee.reply.appendBulk("libraries_count")
        c.pointee.reply.appendInteger(Int64(set.libraries.count))
        c.pointee.reply.appendBulk("functions_count")
        c.pointee.reply.appendInteger(Int64(set.functionCount))
    }

    // MARK: - DUMP, RESTORE

    mutating func functionDumpCommand(_ c: ClientRef) {
        let payload = RDBWriter.functionsPayload(functionsEngine.pointee.libraryCodes, compression: settings.rdbCompression)
        payload.withUnsafeBufferPointer { c.pointee.reply.appendBulk($0.baseAddress!, $0.count) }
    }

    mutating func functionRestoreCommand(_ c: ClientRef) {
        if c.pointee.argc > 4 {
            addErrorString(c, "ERR unknown subcommand or wrong number of arguments for '\(c.pointee.arg(1).string)'. Try FUNCTION HELP.")
            return
        }
        enum Policy { case flush, append, replace }
        var policy = Policy.append
        if c.pointee.argc == 4 {
            let p = c.pointee.arg(3)
            if p.equalsLowercase("append") {
                policy = .append
            } else if p.equalsLowercase("replace") {
                policy = .replace
            } else if p.equalsLowercase("flush") {
                policy = .flush
            } else {
                addError(c, "-ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.\r\n")
                return
            }
        }
        let payload = c.pointee.arg(2)
        if !Self.verifyDumpPayload(payload, skipChecksum: skipChecksumValidation) {
            addError(c, "-ERR DUMP payload version or checksum are wrong\r\n")
            return
        }
        let codes: [[UInt8]]
        switch RDBLoader.readFunctionLibraries(ByteView(payload.base, payload.count - 10)) {
        case .failure(let e):
            addErrorString(c, "ERR " + e.message)
            return
        case .success(let found): codes = found
        }
        let engine = functionsEngine
        var restored: FunctionSet
        switch engine.pointee.compile(codes, replace: false) {
        case .failure(let e):
            addErrorString(c, e.message)
            return
        case .success(let set): restored = set
        }
        if policy == .flush { engine.pointee.releaseAll(&engine.pointee.current) }
        if let error = joinLibraries(&restored, replace: policy == .replace) {
            engine.pointee.releaseAll(&restored)
            addErrorString(c, error)
            return
        }
        dirty += 1
        addOK(c)
    }

    /// Moves every library of `source` into the current set (Redis's libraryJoin): a library
    /// of the same name is an error, or replaced with `replace`; a function name already taken
    /// by another library is an error. On error nothing changes and `source` keeps its
    /// libraries.
    mutating func joinLibraries(_ source: inout FunctionSet, replace: Bool) -> String? {
        let engine = functionsEngine
        var replaced: [FunctionLibrary] = []
        func undo() {
            for library in replaced { engine.pointee.current.link(library) }
        }
        for library in source.libraries {
            guard let i = engine.pointee.current.libraryIndex(library.name) else { continue }
            if !replace {
                undo()
                return "ERR Library \(library.name) already exists"
            }
            replaced.append(engine.pointee.current.unlink(at: i))
        }
        for library in source.libraries {
            for f in library.functions where engine.pointee.current.contains(lowercased: f.lowercasedName) {
                undo()
                return "ERR Function \(f.name) already exists"
            }
        }
        for library in source.removeAll() { engine.pointee.current.link(library) }
        for library in replaced { FunctionsEngine.release(engine.pointee.L, library) }
        return nil
    }

    // MARK: - Libraries from an RDB

    /// After an RDB load: the libraries it held become the current ones — all of them
    /// (`merge` false: a startup, a full sync, DEBUG RELOAD) or added to the current ones,
    /// replacing those of the same name (DEBUG RELOAD MERGE). Nil on success, else the error.
    mutating func adoptLoadedLibraries(_ codes: [[UInt8]], merge: Bool, keepCurrent: Bool) -> String? {
        let engine = functionsEngine
        var loaded: FunctionSet
        switch engine.pointee.compile(codes, replace: merge) {
        case .failure(let e): return "Failed loading library: \(e.message)"
        case .success(let set): loaded = set
        }
        if !keepCurrent { engine.pointee.releaseAll(&engine.pointee.current) }
        if let error = joinLibraries(&loaded, replace: merge) {
            engine.pointee.releaseAll(&loaded)
            return "Failed loading library: \(error)"
        }
        return nil
    }
}
