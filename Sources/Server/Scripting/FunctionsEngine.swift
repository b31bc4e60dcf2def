/*
 * FunctionsEngine: Redis Functions' Lua VM and libraries — Redis 7.0's functions.c and
 * function_lua.c.
 *
 * A library is Lua code with a shebang naming it (`#!lua name=mylib`). FUNCTION LOAD runs the
 * code once, in "load mode": the only global is a `redis` table holding register_function,
 * log, the LOG_* levels and the version constants, so the code can do nothing but register
 * functions (anything else is "Script attempted to access nonexistent global variable"), and
 * the run is stopped after 500 ms ("FUNCTION LOAD timeout"). Each registered function is a
 * Lua closure kept in the registry; FCALL calls it with (keys, args) on this VM, whose globals
 * are EVAL's sandbox (LuaEngine.swift) — the same globals table serves both modes, its
 * metatable reading through to the load API or to the run-time globals, so a closure keeps
 * one environment and a library cannot reach the other mode's API.
 *
 * The VM is separate from EVAL's, as in Redis: SCRIPT FLUSH does not touch functions and
 * FUNCTION FLUSH closes this VM and opens a new one.
 *
 * Names: library names are case-sensitive, function names are not (FCALL Foo calls foo), both
 * limited to letters, digits and underscores. FCALL looks its function up without allocating:
 * the index is keyed by a hash of the lower-cased name.
 *
 * The libraries are data: they are saved in the RDB (RDB_OPCODE_FUNCTION2, the library's code),
 * carried by full syncs, dumped and restored (FUNCTION DUMP/RESTORE), and FUNCTION LOAD/DELETE/
 * FLUSH/RESTORE are propagated to replicas like any write (FunctionCommands.swift).
 */
import CLua
import Glibc
import Platform

/// A function a library registered.
struct RegisteredFunction {
    var name: String
    var lowercasedName: [UInt8]
    var library: String
    /// The callback, in the registry.
    var function: Int32
    var description: String?
    var flags: ScriptFlags
}

struct FunctionLibrary {
    var name: String
    /// The whole code, shebang included (what FUNCTION DUMP and the RDB carry).
    var code: [UInt8]
    var functions: [RegisteredFunction] = []
}

/// Libraries and the index of their functions (Redis's functionsLibCtx).
struct FunctionSet {
    private(set) var libraries: [FunctionLibrary] = []
    private var byHash: [UInt64: [RegisteredFunction]] = [:]
    /// Functions registered (FUNCTION STATS's functions_count).
    private(set) var functionCount = 0

    func libraryIndex(_ name: String) -> Int? { libraries.firstIndex { $0.name == name } }

    /// The function named `name`, in any case.
    func function(_ name: ByteView) -> RegisteredFunction? {
        guard let candidates = byHash[Self.hash(name)] else { return nil }
        for f in candidates where Self.equalsLowercased(name, f.lowercasedName) { return f }
        return nil
    }

    func contains(lowercased name: [UInt8]) -> Bool {
        name.withUnsafeBufferPointer { function(ByteView($0.baseAddress!, $0.count)) != nil }
    }

    /// Functions FCALL can reach: two names of one library differing only in case are one.
    private(set) var indexedCount = 0

    mutating func link(_ library: FunctionLibrary) {
        for f in library.functions {
            let h = f.lowercasedName.withUnsafeBufferPointer { Self.hash(ByteView($0.baseAddress!, $0.count)) }
            if byHash[h]?.contains(where: { $0.lowercasedName == f.lowercasedName }) ?? false { continue }
            byHash[h, default: []].append(f)
            indexedCount += 1
        }
        functionCount += library.functions.count
        libraries.append(library)
    }

    mutating func unlink(at index: Int) -> FunctionLibrary {
        let library = libraries.remove(at: index)
        for f in library.functions {
            let h = f.lowercasedName.withUnsafeBufferPointer { Self.hash(ByteView($0.baseAddress!, $0.count)) }
            let before = byHash[h]?.count ?? 0
            byHash[h]?.removeAll { $0.lowercasedName == f.lowercasedName }
            indexedCount -= before - (byHash[h]?.count ?? 0)
            if byHash[h]?.isEmpty ?? false { byHash[h] = nil }
        }
        functionCount -= library.functions.count
        return library
    }

    /// Takes every library out (the caller releases their callbacks).
    mutating func removeAll() -> [FunctionLibrary] {
        let all = libraries
        self = FunctionSet()
        return all
    }

    /// FNV-1a of the lower-cased bytes.
    static func hash(_ name: ByteView) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for i in 0..<name.count {
            h = (h ^ UInt64(lowercase(name[i]))) &* 0x100_0000_01b3
        }
        return h
    }

    @inline(__always)
    static func lowercase(_ c: UInt8) -> UInt8 { c >= 65 && c <= 90 ? c + 32 : c }

    static func equalsLowercased(_ a: ByteView, _ lowered: [UInt8]) -> Bool {
        if a.count != lowered.count { return false }
        for i in 0..<a.count where lowercase(a[i]) != lowered[i] { return false }
        return true
    }

    /// Letters, digits and underscores, at least one (Redis's functionsVerifyName).
    static func isValidName(_ name: [UInt8]) -> Bool {
        !name.isEmpty && name.allSatisfy { c in
            (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c == 95
        }
    }

    static let invalidNameError = "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"
}

/// The library FUNCTION LOAD is running the code of (register_function adds to it).
struct LibraryLoad {
    var library: FunctionLibrary
    /// Monotonic deadline in microseconds; 0 for none (a master's or a file's library).
    var deadline: Int64
}

struct FunctionsEngine: ~Copyable {
    var L: OpaquePointer
    var globalsRef: Int32 = 0
    var errorHandlerRef: Int32 = 0
    var current = FunctionSet()
    var callsSinceGC = 0

    /// FUNCTION LOAD's time limit for running a library's code.
    static let loadTimeoutMicros: Int64 = 500_000

    /// The library being loaded (nil outside FUNCTION LOAD: register_function refuses).
    nonisolated(unsafe) static var loading: UnsafeMutablePointer<LibraryLoad>? = nil

    init() {
        (L, globalsRef, errorHandlerRef) = LuaEngine.newSandboxedState(forFunctions: true)
        tandem_lua_set_count_hook(L, Self.hook, 0)
    }

    /// Closes the VM (FUNCTION FLUSH, then `init` again).
    func close() { lua_close(L) }

    /// The VM's heap (INFO used_memory_vm_functions).
    var memoryBytes: Int { Int(lua_gc(L, LUA_GCCOUNT, 0)) * 1024 + Int(lua_gc(L, LUA_GCCOUNTB, 0)) }

    /// The libraries' code and the function entries (INFO used_memory_functions).
    var overheadBytes: Int {
        current.libraries.reduce(0) { total, library in
            total + library.code.count + library.name.utf8.count + 64
                + library.functions.reduce(0) { $0 + $1.name.utf8.count * 2 + ($1.description?.utf8.count ?? 0) + 64 }
        }
    }

    /// The code of every library, for the RDB and FUNCTION DUMP.
    var libraryCodes: [[UInt8]] { current.libraries.map(\.code) }

    // MARK: - Loading a library

    /// Compiles libraries into a new set (a restore or an RDB's libraries); on failure none
    /// stays.
    func compile(_ codes: [[UInt8]], replace: Bool) -> Result<FunctionSet, ScriptError> {
        var set = FunctionSet()
        for code in codes {
            let result = code.withUnsafeBufferPointer {
                Self.create(L, code: ByteView($0.baseAddress!, $0.count), replace: replace, into: &set, timeoutMicros: 0)
            }
            if case .failure(let e) = result {
                releaseAll(&set)
                return .failure(e)
            }
        }
        return .success(set)
    }

    /// Empties `set`, dropping its callbacks.
    func releaseAll(_ set: inout FunctionSet) {
        for library in set.removeAll() { Self.release(L, library) }
    }

    /// Compiles `code` and runs it in load mode, registering its functions into `set`
    /// (Redis's functionsCreateWithLibraryCtx). With `replace`, a library of the same name is
    /// replaced; on any failure `set` is as it was. Returns the library's name.
    static func create(_ L: OpaquePointer, code: ByteView, replace: Bool, into set: inout FunctionSet,
                       timeoutMicros: Int64) -> Result<String, ScriptError>
    {
        let name: String
        let bodyStart: Int
        switch metadata(code) {
        case .failure(let e): return .failure(e)
        case .success(let m): (name, bodyStart) = m
        }
        var old: FunctionLibrary? = nil
        if let i = set.libraryIndex(name) {
            if !replace { return .failure(ScriptError("ERR Library '\(name)' already exists")) }
            old = set.unlink(at: i)
        }
        func fail(_ message: String, _ registered: FunctionLibrary? = nil) -> Result<String, ScriptError> {
            if let registered { release(L, registered) }
            if let old { set.link(old) }
            return .failure(ScriptError(message))
        }
        let status = luaL_loadbuffer(L, UnsafeRawPointer(code.base + bodyStart).assumingMemoryBound(to: CChar.self),
                                     code.count - bodyStart, "@user_function")
        if status != 0 {
            let message = LuaEngine.string(L, -1) ?? "unknown error"
            tandem_lua_pop(L, 1)
            return fail("ERR Error compiling function: \(message)")
        }
        var load = LibraryLoad(library: FunctionLibrary(name: name, code: code.array),
                               deadline: timeoutMicros > 0 ? Clock.monotonicMicros() + timeoutMicros : 0)
        let ran = withUnsafeMutablePointer(to: &load) { p -> Int32 in
            loading = p
            setLoadMode(L, true)
            tandem_lua_enable_count_hook(L, 100_000)
            let status = lua_pcall(L, 0, 0, 0)
            tandem_lua_enable_count_hook(L, 0)
            setLoadMode(L, false)
            loading = nil
            return status
        }
        if ran != 0 {
            let message = errorText(L)
            tandem_lua_pop(L, 1)
            return fail("ERR Error registering functions: \(message)", load.library)
        }
        if load.library.functions.isEmpty { return fail("ERR No functions registered", load.library) }
        for f in load.library.functions where set.contains(lowercased: f.lowercasedName) {
            return fail("ERR Function \(f.name) already exists", load.library)
        }
        set.link(load.library)
        if let old { release(L, old) }
        return .success(name)
    }

    /// The shebang's library name and where the code after it starts (Redis's
    /// functionExtractLibMetaData; the newline stays with the code, so lines count from 1).
    static func metadata(_ code: ByteView) -> Result<(String, Int), ScriptError> {
        guard code.count >= 2 && code[0] == 35 && code[1] == 33 else { return .failure(ScriptError("ERR Missing library metadata")) }
        var end = 0
        while end < code.count && code[end] != 10 { end += 1 }
        guard end < code.count, let parts = ConfigLine.split(ByteView(code.base, end).string), !parts.isEmpty else {
            return .failure(ScriptError("ERR Invalid library metadata"))
        }
        let engine = String(parts[0].dropFirst(2))
        var name: String? = nil
        for part in parts.dropFirst() {
            if part.utf8.count >= 5 && part.prefix(5).lowercased() == "name=" {
                if name != nil {
                    return .failure(ScriptError("ERR Invalid metadata value, name argument was given multiple times"))
                }
                name = String(part.dropFirst(5))
                continue
            }
            return .failure(ScriptError("ERR Invalid metadata value given: \(part)"))
        }
        guard let name else { return .failure(ScriptError("ERR Library name was not given")) }
        if !FunctionSet.isValidName(Array(name.utf8)) { return .failure(ScriptError("ERR " + FunctionSet.invalidNameError)) }
        if engine.lowercased() != "lua" { return .failure(ScriptError("ERR Engine '\(engine)' not found")) }
        return .success((name, end))
    }

    /// The globals read through to the load API (true) or the run-time globals (false).
    static func setLoadMode(_ L: OpaquePointer, _ on: Bool) {
        lua_getfield(L, LUA_REGISTRYINDEX, "__tandem_loading")
        lua_pushboolean(L, on ? 1 : 0)
        _ = lua_pcall(L, 1, 0, 0)
    }

    /// A load error's text as Redis gives it: "ERR <message>" for a Lua error, the err field
    /// of an error table (register_function's errors).
    static func errorText(_ L: OpaquePointer) -> String {
        if lua_type(L, -1) == LUA_TSTRING { return "ERR " + (LuaEngine.string(L, -1) ?? "") }
        if lua_type(L, -1) == LUA_TTABLE {
            _ = LuaConversion.rawField(L, "err")
            defer { tandem_lua_pop(L, 1) }
            if let message = LuaEngine.string(L, -1) { return message }
        }
        return "ERR unknown error"
    }

    /// Drops a library's callbacks from the registry (the VM collects them).
    static func release(_ L: OpaquePointer, _ library: FunctionLibrary) {
        for f in library.functions { luaL_unref(L, LUA_REGISTRYINDEX, f.function) }
    }

    // MARK: - redis.register_function

    /// redis.register_function(name, callback) or redis.register_function{function_name=...,
    /// callback=..., flags={...}, description=...} (Redis 7.0's luaRegisterFunction).
    static func registerFunction(_ L: OpaquePointer) -> Int32 {
        guard let load = loading else {
            return LuaRedisAPI.raise(L, "redis.register_function can only be called on FUNCTION LOAD command")
        }
        let argc = lua_gettop(L)
        if argc < 1 || argc > 2 { return LuaRedisAPI.raise(L, "wrong number of arguments to redis.register_function") }
        let parsed = argc == 1 ? namedArguments(L) : positionalArguments(L)
        switch parsed {
        case .failure(let e):
            return LuaRedisAPI.raise(L, e.message)
        case .success(let f):
            var refusal: String? = nil
            if !FunctionSet.isValidName(f.lowercasedName) {
                refusal = FunctionSet.invalidNameError
            } else if load.pointee.library.functions.contains(where: { $0.name == f.name }) {
                // Case-sensitive within a library, as Redis's library dictionary (FCALL finds
                // the first of two names differing in case only).
                refusal = "Function already exists in the library"
            }
            if let refusal {
                luaL_unref(L, LUA_REGISTRYINDEX, f.function)
                return LuaRedisAPI.raise(L, refusal)
            }
            var registered = f
            registered.library = load.pointee.library.name
            load.pointee.library.functions.append(registered)
            return 0
        }
    }

    static func positionalArguments(_ L: OpaquePointer) -> Result<RegisteredFunction, ScriptError> {
        guard let name = stringArgument(L, 1) else {
            return .failure(ScriptError("first argument to redis.register_function must be a string"))
        }
        if lua_type(L, 2) != LUA_TFUNCTION {
            return .failure(ScriptError("second argument to redis.register_function must be a function"))
        }
        lua_pushvalue(L, 2)
        return .success(entry(name: name, function: luaL_ref(L, LUA_REGISTRYINDEX), description: nil, flags: []))
    }

    static func namedArguments(_ L: OpaquePointer) -> Result<RegisteredFunction, ScriptError> {
        if lua_type(L, 1) != LUA_TTABLE {
            return .failure(ScriptError("calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments)."))
        }
        var name: String? = nil
        var description: String? = nil
        var flags: ScriptFlags = []
        var callback: Int32? = nil
        var failure: String? = nil
        lua_pushnil(L)
        while lua_next(L, 1) != 0 {
            defer { tandem_lua_pop(L, 1) }
            let keyType = lua_type(L, -2)
            if keyType != LUA_TSTRING && keyType != LUA_TNUMBER {
                failure = "named argument key given to redis.register_function is not a string"
            } else if keyType == LUA_TNUMBER {
                failure = "unknown argument given to redis.register_function"
            } else {
                switch (LuaEngine.string(L, -2) ?? "").lowercased() {
                case "function_name":
                    name = stringArgument(L, -1)
                    if name == nil { failure = "function_name argument given to redis.register_function must be a string" }
                case "description":
                    description = stringArgument(L, -1)
                    if description == nil { failure = "description argument given to redis.register_function must be a string" }
                case "callback":
                    if lua_type(L, -1) != LUA_TFUNCTION {
                        failure = "callback argument given to redis.register_function must be a function"
                    } else {
                        if let old = callback { luaL_unref(L, LUA_REGISTRYINDEX, old) }
                        lua_pushvalue(L, -1)
                        callback = luaL_ref(L, LUA_REGISTRYINDEX)
                    }
                case "flags":
                    if lua_type(L, -1) != LUA_TTABLE {
                        failure = "flags argument to redis.register_function must be a table representing function flags"
                    } else if let f = readFlags(L) {
                        flags = f
                    } else {
                        failure = "unknown flag given"
                    }
                default:
                    failure = "unknown argument given to redis.register_function"
                }
            }
            if failure != nil {
                tandem_lua_pop(L, 1)  // the key too: the iteration ends here
                break
            }
        }
        if failure == nil && name == nil { failure = "redis.register_function must get a function name argument" }
        if failure == nil && callback == nil { failure = "redis.register_function must get a callback argument" }
        if let failure {
            if let callback { luaL_unref(L, LUA_REGISTRYINDEX, callback) }
            return .failure(ScriptError(failure))
        }
        return .success(entry(name: name!, function: callback!, description: description, flags: flags))
    }

    /// The flags table on top of the stack: nil for an unknown flag or one not a string.
    static func readFlags(_ L: OpaquePointer) -> ScriptFlags? {
        var flags: ScriptFlags = []
        var j: Int32 = 1
        while true {
            lua_rawgeti(L, -1, j)
            defer { tandem_lua_pop(L, 1) }
            let type = lua_type(L, -1)
            if type == LUA_TNIL { return flags }
            guard type == LUA_TSTRING || type == LUA_TNUMBER, let text = LuaEngine.string(L, -1)?.lowercased(),
                let flag = ScriptFlags.names.first(where: { $0.0 == text })
            else { return nil }
            flags.insert(flag.1)
            j += 1
        }
    }

    /// A string or number argument (Lua's lua_isstring), as a String.
    static func stringArgument(_ L: OpaquePointer, _ index: Int32) -> String? {
        let type = lua_type(L, index)
        guard type == LUA_TSTRING || type == LUA_TNUMBER else { return nil }
        return LuaEngine.string(L, index)
    }

    static func entry(name: String, function: Int32, description: String?, flags: ScriptFlags) -> RegisteredFunction {
        RegisteredFunction(name: name, lowercasedName: name.utf8.map { FunctionSet.lowercase($0) }, library: "",
                           function: function, description: description, flags: flags)
    }

    // MARK: - The count hook

    /// While a library loads: its time limit. While a function runs: busy-script handling.
    static let hook: tandem_lua_swift_function = { L in
        if let load = FunctionsEngine.loading {
            if load.pointee.deadline > 0 && Clock.monotonicMicros() > load.pointee.deadline {
                LuaRedisAPI.pushError(L!, "ERR FUNCTION LOAD timeout")
                return 1
            }
            return 0
        }
        guard let server = LuaRedisAPI.server else { return 0 }
        return server.pointee.scriptInterrupt(L!)
    }
}
