/*
 * COMMAND, COMMAND COUNT/INFO/DOCS/LIST/GETKEYS/GETKEYSANDFLAGS: the command table as clients see it
 * (redis-cli and redis-py read these for hints and key positions).
 */
import Keyspace
import Platform
import RESP

extension Server {
    mutating func commandCommand(_ c: ClientRef, _ id: CommandID) {
        switch id {
        case .command:
            let top = topLevelCommands()
            c.pointee.reply.appendArrayHeader(top.count)
            for i in top { addCommandInfo(c, i) }
        case .commandCount:
            c.pointee.reply.appendInteger(Int64(topLevelCommands().count))
        case .commandInfo:
            if c.pointee.argc == 2 {
                let top = topLevelCommands()
                c.pointee.reply.appendArrayHeader(top.count)
                for i in top { addCommandInfo(c, i) }
                return
            }
            c.pointee.reply.appendArrayHeader(c.pointee.argc - 2)
            for j in 2..<c.pointee.argc {
                let i = commandIndex(c.pointee.arg(j))
                if i < 0 { c.pointee.reply.appendNullArray(resp3: c.pointee.resp3) } else { addCommandInfo(c, i) }
            }
        case .commandDocs:
            var list: [Int] = []
            if c.pointee.argc == 2 {
                list = topLevelCommands()
            } else {
                for j in 2..<c.pointee.argc {
                    let i = commandIndex(c.pointee.arg(j))
                    if i >= 0 { list.append(i) }
                }
            }
            c.pointee.reply.appendMapHeader(list.count, resp3: c.pointee.resp3)
            for i in list { addCommandDocs(c, i) }
        case .commandList:
            commandList(c)
        case .commandGetkeys, .commandGetkeysandflags:
            commandGetkeys(c, withFlags: id == .commandGetkeysandflags)
        default:
            addHelp(c, HelpText.command)
        }
    }

    func topLevelCommands() -> [Int] {
        (0..<commands.count).filter { !commands.specs[$0].isSubcommand }
    }

    /// "get" or "client|kill".
    func commandIndex(_ name: ByteView) -> Int {
        commands.find(name)
    }

    func subcommands(of i: Int) -> [Int] {
        let prefix = commands.specs[i].nameString + "|"
        return (0..<commands.count).filter { commands.specs[$0].nameString.hasPrefix(prefix) }
    }

    /// A command's ACL categories with their @, as COMMAND INFO lists them (ACLCategories.of).
    func aclCategories(_ spec: CommandSpec) -> [String] {
        ACLCategories.of(spec)
    }

    func addCommandInfo(_ c: ClientRef, _ i: Int) {
        let spec = commands.specs[i]
        let r3 = c.pointee.resp3
        c.pointee.reply.appendArrayHeader(10)
        c.pointee.reply.appendBulk(spec.nameString)
        c.pointee.reply.appendInteger(Int64(spec.arity))
        let flags = CommandFlags.names.filter { spec.flags.contains($0.0) }.map { $0.1 }
        c.pointee.reply.appendSetHeader(flags.count, resp3: r3)
        for f in flags { c.pointee.reply.appendStatus(f) }
        c.pointee.reply.appendInteger(Int64(spec.firstKey))
        c.pointee.reply.appendInteger(Int64(spec.lastKey))
        c.pointee.reply.appendInteger(Int64(spec.keyStep))
        let cats = aclCategories(spec)
        c.pointee.reply.appendSetHeader(cats.count, resp3: r3)
        for a in cats { c.pointee.reply.appendStatus(a) }
        let tips = CommandTips.table[spec.nameString] ?? []
        c.pointee.reply.appendArrayHeader(tips.count)
        for t in tips { c.pointee.reply.appendBulk(t) }
        addKeySpecs(c, spec)
        let subs = subcommands(of: i)
        c.pointee.reply.appendArrayHeader(subs.count)
        for s in subs { addCommandInfo(c, s) }
    }

    /// COMMAND INFO's key specifications (7.0): where the keys start (begin_search) and how
    /// many follow (find_keys: a range, or a numkeys argument), with the key flags.
    func addKeySpecs(_ c: ClientRef, _ spec: CommandSpec) {
        var specs: [(begin: Int, find: (String, [(String, Int64)]), position: Int)] = []
        switch spec.id {
        case .sortedSets(.zunionstore), .sortedSets(.zinterstore), .sortedSets(.zdiffstore):
            specs = [(1, ("range", [("lastkey", 0), ("keystep", 1), ("limit", 0)]), 1),
                     (2, ("keynum", [("keynumidx", 0), ("firstkey", 1), ("keystep", 1)]), 3)]
        case .sortedSets(.zunion), .sortedSets(.zinter), .sortedSets(.zdiff), .sortedSets(.zintercard),
            .sets(.sintercard), .lists(.lmpop), .sortedSets(.zmpop):
            specs = [(1, ("keynum", [("keynumidx", 0), ("firstkey", 1), ("keystep", 1)]), 2)]
        case .lists(.blmpop), .sortedSets(.bzmpop):
            specs = [(2, ("keynum", [("keynumidx", 0), ("firstkey", 1), ("keystep", 1)]), 3)]
        case .scripting(.eval), .scripting(.evalsha), .scripting(.evalRO), .scripting(.evalshaRO), .scripting(.fcall),
            .scripting(.fcallRO):
            specs = [(2, ("keynum", [("keynumidx", 0), ("firstkey", 1), ("keystep", 1)]), 3)]
        default:
            if spec.firstKey > 0 {
                let last = spec.lastKey < 0 ? spec.lastKey : spec.lastKey - spec.firstKey
                specs = [(spec.firstKey, ("range", [("lastkey", Int64(last)), ("keystep", Int64(spec.keyStep)), ("limit", 0)]),
                          spec.firstKey)]
            }
        }
        // Commands whose keys are single arguments at fixed places (RENAME, LMOVE, SMOVE ...)
        // have one spec per key in Redis.
        let table = KeySpecFlags.table[spec.nameString] ?? []
        if table.count > 1 && specs.count == 1 && table.allSatisfy({ $0.begin > 0 }) {
            specs = table.enumerated().map { n, t in
                let last: Int64 = n == table.count - 1 && spec.lastKey < 0 ? -1 : 0
                return (t.begin, ("range", [("lastkey", last), ("keystep", 1), ("limit", 0)]), t.begin)
            }
        }
        // SORT's BY/GET patterns and STORE: keys Redis cannot locate from the positions
        // ("unknown" specs).
        // GEORADIUS's STORE/STOREDIST: found by keyword, then a range of one.
        let keywords = KeySpecFlags.keywords[spec.nameString] ?? []
        for t in table where t.begin < 0 {
            specs.append((-1, keywords.isEmpty ? ("unknown", []) : ("range", [("lastkey", 0), ("keystep", 1), ("limit", 0)]), -1))
        }
        var keywordIndex = 0
        let r3 = c.pointee.resp3
        c.pointee.reply.appendArrayHeader(specs.count)
        let notes = KeySpecFlags.notes[spec.nameString]
        for (n, s) in specs.enumerated() {
            c.pointee.reply.appendMapHeader(notes == nil ? 3 : 4, resp3: r3)
            if let notes {
                c.pointee.reply.appendBulk("notes")
                c.pointee.reply.appendBulk(notes)
            }
            c.pointee.reply.appendBulk("flags")
            let flags = table.count == specs.count ? table[n].flags : keyFlags(spec, position: s.position)
            c.pointee.reply.appendSetHeader(flags.count, resp3: r3)
            for f in flags { c.pointee.reply.appendStatus(f) }
            c.pointee.reply.appendBulk("begin_search")
            c.pointee.reply.appendMapHeader(2, resp3: r3)
            c.pointee.reply.appendBulk("type")
            if s.begin < 0 && keywordIndex < keywords.count {
                let k = keywords[keywordIndex]
                keywordIndex += 1
                c.pointee.reply.appendBulk("keyword")
                c.pointee.reply.appendBulk("spec")
                c.pointee.reply.appendMapHeader(2, resp3: r3)
                c.pointee.reply.appendBulk("keyword")
                c.pointee.reply.appendBulk(k.keyword)
                c.pointee.reply.appendBulk("startfrom")
                c.pointee.reply.appendInteger(Int64(k.startFrom))
            } else if s.begin < 0 {
                c.pointee.reply.appendBulk("unknown")
                c.pointee.reply.appendBulk("spec")
                c.pointee.reply.appendMapHeader(0, resp3: r3)
            } else {
                c.pointee.reply.appendBulk("index")
                c.pointee.reply.appendBulk("spec")
                c.pointee.reply.appendMapHeader(1, resp3: r3)
                c.pointee.reply.appendBulk("index")
                c.pointee.reply.appendInteger(Int64(s.begin))
            }
            c.pointee.reply.appendBulk("find_keys")
            c.pointee.reply.appendMapHeader(2, resp3: r3)
            c.pointee.reply.appendBulk("type")
            c.pointee.reply.appendBulk(s.find.0)
            c.pointee.reply.appendBulk("spec")
            c.pointee.reply.appendMapHeader(s.find.1.count, resp3: r3)
            for (name, value) in s.find.1 {
                c.pointee.reply.appendBulk(name)
                c.pointee.reply.appendInteger(value)
            }
        }
    }

    func addCommandDocs(_ c: ClientRef, _ i: Int) {
        let spec = commands.specs[i]
        let r3 = c.pointee.resp3
        c.pointee.reply.appendBulk(spec.nameString)
        let subs = subcommands(of: i)
        c.pointee.reply.appendMapHeader(subs.isEmpty ? 3 : 4, resp3: r3)
        c.pointee.reply.appendBulk("summary")
        c.pointee.reply.appendBulk(spec.summary.description)
        c.pointee.reply.appendBulk("since")
        c.pointee.reply.appendBulk(spec.since.description)
        c.pointee.reply.appendBulk("group")
        c.pointee.reply.appendBulk(spec.group.description)
        if !subs.isEmpty {
            c.pointee.reply.appendBulk("subcommands")
            c.pointee.reply.appendMapHeader(subs.count, resp3: r3)
            for s in subs { addCommandDocs(c, s) }
        }
    }

    /// COMMAND GETKEYS / GETKEYSANDFLAGS <command> [arg ...]: the key positions the command
    /// would use, found as Redis finds them (fixed ranges, or numkeys / STORE for the commands
    /// flagged movablekeys).
    mutating func commandGetkeys(_ c: ClientRef, withFlags: Bool) {
        var i = commands.find(c.pointee.arg(2))
        if i < 0 {
            addError(c, "-ERR Invalid command specified\r\n")
            return
        }
        let argc = c.pointee.argc - 2
        if commands.hasSubcommands[i] && argc >= 2 {
            let sub = commands.findSubcommand(parent: i, c.pointee.arg(3))
            if sub >= 0 { i = sub }
        }
        let spec = commands.specs[i]
        if (spec.arity > 0 && argc != spec.arity) || argc < -spec.arity {
            addError(c, "-ERR Invalid number of arguments specified for command\r\n")
            return
        }
        // Shard channels are key-like for cluster routing (NOT_KEY in Redis's key specs) but
        // are not keys.
        let channelsOnly = spec.id == .ssubscribe || spec.id == .sunsubscribe || spec.id == .spublish
        guard let keys = channelsOnly ? [] : keyPositions(spec, argc: argc, arg: { c.pointee.arg($0 + 2) }) else {
            addError(c, "-ERR Invalid arguments specified for command\r\n")
            return
        }
        if keys.isEmpty && !spec.flags.contains(.noMandatoryKeys) {
            addError(c, "-ERR The command has no key arguments\r\n")
            return
        }
        c.pointee.reply.appendArrayHeader(keys.count)
        for k in keys {
            if withFlags {
                c.pointee.reply.appendArrayHeader(2)
                c.pointee.reply.appendBulk(c.pointee.arg(k + 2))
                let hasGet = spec.id == .set && (3..<argc).contains { c.pointee.arg($0 + 2).equalsLowercase("get") }
                var flags = keyFlags(spec, position: k, hasGetOption: hasGet)
                if spec.id == .bitmaps(.bitfield) {
                    // Variable flags: only GETs read (Redis's bitfieldGetKeys).
                    let reads = BitmapCommands.bitfieldOnlyReads(argc: argc) { c.pointee.arg($0 + 2) }
                    flags = reads ? ["RO", "access"] : ["RW", "access", "update"]
                }
                c.pointee.reply.appendArrayHeader(flags.count)
                for f in flags { c.pointee.reply.appendStatus(f) }
            } else {
                c.pointee.reply.appendBulk(c.pointee.arg(k + 2))
            }
        }
    }

    /// Positions (in argv, the command name at 0) of the keys; nil when the arguments that
    /// locate them are invalid (a bad numkeys).
    func keyPositions(_ spec: CommandSpec, argc: Int, arg: (Int) -> ByteView) -> [Int]? {
        func counted(numkeysAt n: Int, storeAt store: Int?) -> [Int]? {
            guard n < argc, let count = arg(n).int64, count > 0, n + Int(count) < argc else { return nil }
            return (store.map { [$0] } ?? []) + Array(n + 1...n + Int(count))
        }
        switch spec.id {
        case .sortedSets(.zunionstore), .sortedSets(.zinterstore), .sortedSets(.zdiffstore):
            return counted(numkeysAt: 2, storeAt: 1)
        case .sortedSets(.zunion), .sortedSets(.zinter), .sortedSets(.zdiff), .sortedSets(.zintercard),
            .sets(.sintercard), .lists(.lmpop), .sortedSets(.zmpop):
            return counted(numkeysAt: 1, storeAt: nil)
        case .lists(.blmpop), .sortedSets(.bzmpop):
            return counted(numkeysAt: 2, storeAt: nil)
        case .scripting(.eval), .scripting(.evalsha), .scripting(.evalRO), .scripting(.evalshaRO), .scripting(.fcall),
            .scripting(.fcallRO):
            // numkeys may be 0 here (no_mandatory_keys).
            guard argc > 2, let count = arg(2).int64, count >= 0, 2 + Int(count) < argc else { return nil }
            return count == 0 ? [] : Array(3...2 + Int(count))
        case .streams(.xread), .streams(.xreadgroup):
            // The first half of what follows STREAMS (the rest are IDs), as Redis's xreadGetKeys.
            var j = 1
            var streamsAt = -1
            while j < argc {
                let a = arg(j)
                if a.equalsLowercase("block") || a.equalsLowercase("count") {
                    j += 1
                } else if a.equalsLowercase("group") {
                    j += 2
                } else if a.equalsLowercase("streams") {
                    streamsAt = j
                    break
                } else if !a.equalsLowercase("noack") {
                    break
                }
                j += 1
            }
            let n = argc - streamsAt - 1
            if streamsAt < 0 || n == 0 || n % 2 != 0 { return [] }
            return Array(streamsAt + 1...streamsAt + n / 2)
        case .migrate:
            // The key argument, or the keys after KEYS (AUTH takes one argument, AUTH2 two).
            var j = 6
            while j < argc {
                let a = arg(j)
                if a.equalsLowercase("keys") { return Array(j + 1..<argc) }
                j += a.equalsLowercase("auth") ? 2 : a.equalsLowercase("auth2") ? 3 : 1
            }
            return [3]
        case .geo(.georadius), .geo(.georadiusbymember):
            return GeoCommands.radiusKeyPositions(argc: argc, arg: arg)
        case .sort:
            // The key, then STORE's destination, the last one if several (LIMIT takes two
            // arguments, BY and GET one), as Redis's sortGetKeys.
            var store: Int? = nil
            var j = 2
            while j < argc {
                let a = arg(j)
                if a.equalsLowercase("limit") {
                    j += 3
                } else if a.equalsLowercase("by") || a.equalsLowercase("get") {
                    j += 2
                } else if a.equalsLowercase("store") && j + 1 < argc {
                    store = j + 1
                    j += 2
                } else {
                    j += 1
                }
            }
            return [1] + (store.map { [$0] } ?? [])
        default:
            if spec.firstKey == 0 { return [] }
            var keys: [Int] = []
            let last = spec.lastKey < 0 ? argc + spec.lastKey : spec.lastKey
            var k = spec.firstKey
            while k <= last && k < argc {
                keys.append(k)
                k += spec.keyStep
            }
            return keys
        }
    }

    /// Redis 7.0's key-spec flags for the key at `position`: what the command does to it
    /// (KeySpecFlags.swift). SET's depend on its options, as Redis's variable_flags.
    func keyFlags(_ spec: CommandSpec, position: Int, hasGetOption: Bool = false) -> [String] {
        if spec.id == .set { return hasGetOption ? ["RW", "access", "update"] : ["OW", "update"] }
        if let flags = KeySpecFlags.flags(spec.nameString, position: position) { return flags }
        return spec.flags.contains(.write) ? ["RW", "update"] : ["RO", "access"]
    }

    /// COMMAND LIST [FILTERBY MODULE <name> | ACLCAT <category> | PATTERN <pattern>]
    mutating func commandList(_ c: ClientRef) {
        // Subcommands too ("client|list"), after their container, as Redis lists them.
        var names = (0..<commands.count).map { commands.specs[$0].nameString }
        let argc = c.pointee.argc
        if argc == 5 && c.pointee.arg(2).equalsLowercase("filterby") {
            let kind = c.pointee.arg(3), value = c.pointee.arg(4).string
            // Subcommands are listed too when they match ("config|get"), as in Redis.
            let all = (0..<commands.count).map { commands.specs[$0] }
            if kind.equalsLowercase("module") {
                names = []
            } else if kind.equalsLowercase("aclcat") {
                let category = "@" + value.lowercased()
                // Containers have categories too (@slow), and are listed, as in Redis.
                names = all.filter { aclCategories($0).contains(category) }.map(\.nameString)
            } else if kind.equalsLowercase("pattern") {
                names = all.filter { Glob.match(value, $0.nameString, nocase: true) }.map(\.nameString)
            } else {
                addSyntaxError(c)
                return
            }
        } else if argc != 2 {
            addSyntaxError(c)
            return
        }
        c.pointee.reply.appendArrayHeader(names.count)
        for n in names { c.pointee.reply.appendBulk(n) }
    }
}
