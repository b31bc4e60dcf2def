/*
 * CLIENT subcommands: ID, SETNAME, GETNAME, LIST, INFO, KILL, PAUSE, UNPAUSE, NO-EVICT,
 * REPLY, HELP — Redis's clientCommand() in networking.c. TRACKING, CACHING, GETREDIR and
 * TRACKINGINFO are in Core/Tracking.swift.
 */
import Keyspace
import Platform
import RESP

extension Server {
    mutating func clientCommand(_ c: ClientRef, _ id: CommandID) {
        switch id {
        case .clientID: c.pointee.reply.appendInteger(c.pointee.id)
        case .clientSetname:
            if setClientName(c, c.pointee.arg(2)) { addOK(c) }
        case .clientGetname:
            if c.pointee.name.isEmpty {
                addNull(c)
            } else {
                c.pointee.name.withUnsafeBufferPointer { c.pointee.reply.appendBulk($0.baseAddress!, $0.count) }
            }
        case .clientList: clientList(c)
        case .clientInfo: c.pointee.reply.appendVerbatim(clientInfoLine(c) + "\n", resp3: c.pointee.resp3)
        case .clientKill: clientKill(c)
        case .clientPause: clientPause(c)
        case .clientUnpause:
            unpauseClients()
            addOK(c)
        case .clientNoEvict:
            let v = c.pointee.arg(2)
            if v.equalsLowercase("on") {
                c.pointee.flags.insert(.noEvict)
                addOK(c)
            } else if v.equalsLowercase("off") {
                c.pointee.flags.remove(.noEvict)
                addOK(c)
            } else {
                addSyntaxError(c)
            }
        case .clientReply:
            let v = c.pointee.arg(2)
            if v.equalsLowercase("on") {
                c.pointee.flags.remove([.replyOff, .replySkip, .replySkipNext])
                addOK(c)
            } else if v.equalsLowercase("off") {
                c.pointee.flags.insert(.replyOff)
            } else if v.equalsLowercase("skip") {
                if !c.pointee.flags.contains(.replyOff) { c.pointee.flags.insert(.replySkipNext) }
            } else {
                addSyntaxError(c)
            }
        case .clientUnblock: clientUnblock(c)
        case .clientTracking: clientTracking(c)
        case .clientCaching: clientCaching(c)
        case .clientTrackinginfo: clientTrackinginfo(c)
        case .clientGetredir: clientGetredir(c)
        default: addHelp(c, HelpText.client)
        }
    }

    /// One CLIENT LIST line, with Redis's fields.
    func clientInfoLine(_ c: ClientRef) -> String {
        let now = Clock.unixMillis()
        // Redis's order (getClientInfoString).
        var flags = ""
        let tracking = c.pointee.tracking.flags
        if c.pointee.flags.contains(.monitor) { flags += "O" }
        if c.pointee.isReplica { flags += "S" }
        if c.pointee.isMaster { flags += "M" }
        if c.pointee.flags.contains(.pubsub) { flags += "P" }
        if c.pointee.flags.contains(.multi) { flags += "x" }
        if c.pointee.flags.contains(.blocked) { flags += "b" }
        if tracking.contains(.on) { flags += "t" }
        if tracking.contains(.brokenRedirect) { flags += "R" }
        if tracking.contains(.bcast) { flags += "B" }
        if c.pointee.flags.contains(.dirtyCAS) { flags += "d" }
        if c.pointee.flags.contains(.closeAfterReply) { flags += "c" }
        if c.pointee.flags.contains(.closeASAP) { flags += "A" }
        if c.pointee.flags.contains(.unixSocket) { flags += "U" }
        if c.pointee.flags.contains(.readonlyCluster) { flags += "r" }
        if c.pointee.flags.contains(.noEvict) { flags += "e" }
        if flags.isEmpty { flags = "N" }
        var events = ""
        if !c.pointee.flags.contains(.outputFull) { events += "r" }
        if c.pointee.flags.contains(.writeRegistered) { events += "w" }
        let cmd = c.pointee.lastCommand >= 0 ? commands.specs[c.pointee.lastCommand].nameString : "NULL"
        // A big argument being received counts from its first byte, as Redis's query buffer
        // then holds only it.
        let qbuf = c.pointee.queryEnd - c.pointee.queryStart - c.pointee.parser.bigBulkStart
        // Redis counts the bytes of the arguments of the command being run, 0 when idle.
        var argvMem = 0
        if c.pointee.flags.contains(.executing) {
            for i in 0..<c.pointee.argc { argvMem += c.pointee.argv[i].count }
        }
        let omem = c.pointee.reply.pending > 0 ? c.pointee.reply.allocatedBytes : 0
        let totMem = clientMemory(c)
        return "id=\(c.pointee.id) addr=\(c.pointee.address) laddr=\(c.pointee.localAddress) fd=\(c.pointee.fd) name=\(c.pointee.nameString) "
            + "age=\((now - c.pointee.createdAtMillis) / 1000) idle=\((now - c.pointee.lastInteractionMillis) / 1000) "
            + "flags=\(flags) db=\(c.pointee.db) sub=\(c.pointee.channels.count) psub=\(c.pointee.patterns.count) ssub=\(c.pointee.shardChannels.count) multi=\(c.pointee.flags.contains(.multi) ? c.pointee.multiQueue.count : -1) qbuf=\(qbuf) "
            + "qbuf-free=\(c.pointee.queryCapacity - c.pointee.queryEnd) argv-mem=\(argvMem) multi-mem=0 rbs=\(c.pointee.reply.allocatedBytes) "
            + "rbp=\(c.pointee.reply.peak) obl=0 oll=0 omem=\(omem) tot-mem=\(totMem) events=\(events) cmd=\(cmd) "
            + "user=\(userName(c)) redir=\(tracking.contains(.on) ? c.pointee.tracking.redirect : -1) resp=\(c.pointee.resp3 ? 3 : 2)"
    }

    mutating func clientList(_ c: ClientRef) {
        var typeFilter: String? = nil
        var ids: Set<Int64>? = nil
        var i = 2
        let argc = c.pointee.argc
        while i < argc {
            let opt = c.pointee.arg(i)
            if opt.equalsLowercase("type") && i + 1 < argc {
                let t = c.pointee.arg(i + 1).string.lowercased()
                guard ["normal", "master", "replica", "slave", "pubsub"].contains(t) else {
                    addErrorString(c, "ERR Unknown client type '\(c.pointee.arg(i + 1).string)'")
                    return
                }
                typeFilter = t == "slave" ? "replica" : t
                i += 2
            } else if opt.equalsLowercase("id") && i + 1 < argc {
                var set = Set<Int64>()
                var j = i + 1
                while j < argc {
                    guard let v = c.pointee.arg(j).int64, v > 0 else {
                        addError(c, "-ERR Invalid client ID\r\n")
                        return
                    }
                    set.insert(v)
                    j += 1
                }
                ids = set
                i = argc
            } else {
                addSyntaxError(c)
                return
            }
        }
        var text = ""
        for other in allClients() {
            if let typeFilter, typeFilter != clientType(other) { continue }
            if let ids, !ids.contains(other.pointee.id) { continue }
            text += clientInfoLine(other) + "\n"
        }
        c.pointee.reply.appendVerbatim(text, resp3: c.pointee.resp3)
    }

    mutating func clientKill(_ c: ClientRef) {
        let argc = c.pointee.argc
        if argc == 3 {
            let addr = c.pointee.arg(2).string
            guard let target = allClients().first(where: { $0.pointee.address == addr }) else {
                addError(c, "-ERR No such client\r\n")
                return
            }
            killClient(target, current: c)
            addOK(c)
            return
        }
        var id: Int64? = nil
        var type: String? = nil
        var addr: String? = nil
        var laddr: String? = nil
        var user: Int? = nil
        var skipMe = true
        var i = 2
        while i < argc {
            let opt = c.pointee.arg(i)
            let more = i + 1 < argc
            if !more {
                addSyntaxError(c)
                return
            }
            let value = c.pointee.arg(i + 1)
            if opt.equalsLowercase("id") {
                guard let v = value.int64, v > 0 else {
                    addError(c, "-ERR client-id should be greater than 0\r\n")
                    return
                }
                id = v
            } else if opt.equalsLowercase("type") {
                let t = value.string.lowercased()
                guard ["normal", "master", "replica", "slave", "pubsub"].contains(t) else {
                    addErrorString(c, "ERR Unknown client type '\(value.string)'")
                    return
                }
                type = t == "slave" ? "replica" : t
            } else if opt.equalsLowercase("addr") {
                addr = value.string
            } else if opt.equalsLowercase("laddr") {
                laddr = value.string
            } else if opt.equalsLowercase("user") {
                guard let u = acl.index(of: value.array) else {
                    addErrorString(c, "ERR No such user '\(value.string)'")
                    return
                }
                user = u
            } else if opt.equalsLowercase("skipme") {
                if value.equalsLowercase("yes") {
                    skipMe = true
                } else if value.equalsLowercase("no") {
                    skipMe = false
                } else {
                    addSyntaxError(c)
                    return
                }
            } else {
                addSyntaxError(c)
                return
            }
            i += 2
        }
        var killed: Int64 = 0
        for other in allClients() {
            if let id, other.pointee.id != id { continue }
            if let type, type != clientType(other) { continue }
            if let addr, other.pointee.address != addr { continue }
            if let laddr, other.pointee.localAddress != laddr { continue }
            if let user, Int(other.pointee.user) != user { continue }
            if skipMe && other == c { continue }
            killClient(other, current: c)
            killed += 1
        }
        c.pointee.reply.appendInteger(killed)
    }

    /// Closes `target`; the calling client itself is closed after its reply is sent.
    mutating func killClient(_ target: ClientRef, current: ClientRef) {
        if target == current {
            target.pointee.flags.insert(.closeAfterReply)
        } else {
            markClosing(target)
        }
    }

    mutating func clientPause(_ c: ClientRef) {
        guard let ms = parseMillisTimeout(c, c.pointee.arg(2)) else { return }
        var mode = 2
        if c.pointee.argc == 4 {
            let m = c.pointee.arg(3)
            if m.equalsLowercase("write") {
                mode = 1
            } else if m.equalsLowercase("all") {
                mode = 2
            } else {
                addError(c, "-ERR CLIENT PAUSE mode must be WRITE or ALL\r\n")
                return
            }
        } else if c.pointee.argc > 4 {
            addSyntaxError(c)
            return
        }
        let end = Self.deadline(afterMillis: ms)
        // A stricter pause wins; a longer one extends (Redis's pauseClients).
        if pauseMode == 0 || mode > pauseMode { pauseMode = mode }
        if end > pauseEndMillis { pauseEndMillis = end }
        addOK(c)
    }

    /// Redis's client classes for CLIENT LIST/KILL TYPE ("slave" and "replica" are one class).
    func clientType(_ c: ClientRef) -> String {
        if c.pointee.isMaster { return "master" }
        if c.pointee.isReplica && !c.pointee.flags.contains(.monitor) { return "replica" }
        if c.pointee.flags.contains(.pubsub) { return "pubsub" }
        return "normal"
    }
}
