/*
 * COMMAND, COMMAND COUNT/INFO/DOCS/LIST/GETKEYS: the command table as clients see it
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
            let top = topLevelCommands()
            c.pointee.reply.appendArrayHeader(top.count)
            for i in top { c.pointee.reply.appendBulk(commands.specs[i].nameString) }
        case .commandGetkeys:
            commandGetkeys(c)
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

    func aclCategories(_ spec: CommandSpec) -> [String] {
        var out: [String] = []
        if spec.flags.contains(.write) { out.append("@write") }
        if spec.flags.contains(.readonly) { out.append("@read") }
        switch spec.group.description {
        case "string": out.append("@string")
        case "generic": out.append("@keyspace")
        case "connection": out.append("@connection")
        case "list": out.append("@list")
        case "hash": out.append("@hash")
        case "set": out.append("@set")
        case "sorted-set": out.append("@sortedset")
        case "pubsub": out.append("@pubsub")
        case "transactions": out.append("@transaction")
        default: break
        }
        if spec.flags.contains(.admin) { out += ["@admin", "@dangerous"] }
        out.append(spec.flags.contains(.fast) ? "@fast" : "@slow")
        return out
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
        c.pointee.reply.appendArrayHeader(0)  // tips
        c.pointee.reply.appendArrayHeader(0)  // key specs
        let subs = subcommands(of: i)
        c.pointee.reply.appendArrayHeader(subs.count)
        for s in subs { addCommandInfo(c, s) }
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

    mutating func commandGetkeys(_ c: ClientRef) {
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
        if spec.firstKey == 0 {
            addError(c, "-ERR The command has no key arguments\r\n")
            return
        }
        var keys: [Int] = []
        let last = spec.lastKey < 0 ? argc + spec.lastKey : spec.lastKey
        var k = spec.firstKey
        while k <= last && k < argc {
            keys.append(k)
            k += spec.keyStep
        }
        c.pointee.reply.appendArrayHeader(keys.count)
        for k in keys { c.pointee.reply.appendBulk(c.pointee.arg(k + 2)) }
    }
}
