/*
 * ACLLog: the security log ACL LOG shows — refused commands, keys, channels and failed AUTHs.
 *
 * Newest first, at most `acllog-max-len` entries. An event like one of the ten newest (same
 * reason, context, object and user, within 60 seconds) bumps that entry's count and moves it to
 * the front instead of adding one, as Redis's addACLLogEntry. Each entry keeps the CLIENT INFO
 * line of the client (a script's caller for a script's command) as it was at the last event.
 */
import Platform

enum ACLLogContext {
    case toplevel, multi, lua

    var name: String {
        switch self {
        case .toplevel: return "toplevel"
        case .multi: return "multi"
        case .lua: return "lua"
        }
    }
}

struct ACLLogEntry {
    var count: Int64
    var reason: ACLDenial
    var context: ACLLogContext
    var object: String
    var username: String
    var timeMillis: Int64
    var clientInfo: String

    func isLike(_ other: ACLLogEntry) -> Bool {
        reason == other.reason && context == other.context && abs(timeMillis - other.timeMillis) <= 60_000
            && object == other.object && username == other.username
    }
}

extension Server {
    /// Records a refusal; `username` nil means the client's own user.
    mutating func addACLLogEntry(_ c: ClientRef, reason: ACLDenial, context: ACLLogContext, object: String, username: String?) {
        let real = c == scriptClient ? (scriptRun.pointee.caller ?? c) : c
        let entry = ACLLogEntry(count: 1, reason: reason, context: context, object: object,
                                username: username ?? userName(c), timeMillis: Clock.unixMillis(),
                                clientInfo: clientInfoLine(real))
        if let i = acl.log.prefix(10).firstIndex(where: { $0.isLike(entry) }) {
            var match = acl.log.remove(at: i)
            match.clientInfo = entry.clientInfo
            match.timeMillis = entry.timeMillis
            match.count += 1
            acl.log.insert(match, at: 0)
            return
        }
        acl.log.insert(entry, at: 0)
        if acl.log.count > settings.acllogMaxLen { acl.log.removeLast(acl.log.count - settings.acllogMaxLen) }
    }

    /// ACL LOG [count | RESET]
    mutating func aclLogCommand(_ c: ClientRef) {
        var count = 10
        if c.pointee.argc == 3 {
            let arg = c.pointee.arg(2)
            if arg.equalsLowercase("reset") {
                acl.log = []
                addOK(c)
                return
            }
            guard let n = arg.int64 else {
                addNotInteger(c)
                return
            }
            count = n < 0 ? 0 : Int(clamping: n)
        }
        count = min(count, acl.log.count)
        let now = Clock.unixMillis()
        let r3 = c.pointee.resp3
        c.pointee.reply.appendArrayHeader(count)
        for e in acl.log.prefix(count) {
            c.pointee.reply.appendMapHeader(7, resp3: r3)
            c.pointee.reply.appendBulk("count")
            c.pointee.reply.appendInteger(e.count)
            c.pointee.reply.appendBulk("reason")
            c.pointee.reply.appendBulk(e.reason.logName)
            c.pointee.reply.appendBulk("context")
            c.pointee.reply.appendBulk(e.context.name)
            c.pointee.reply.appendBulk("object")
            c.pointee.reply.appendBulk(e.object)
            c.pointee.reply.appendBulk("username")
            c.pointee.reply.appendBulk(e.username)
            c.pointee.reply.appendBulk("age-seconds")
            c.pointee.reply.appendDouble(Double(now - e.timeMillis) / 1000, resp3: r3)
            c.pointee.reply.appendBulk("client-info")
            c.pointee.reply.appendBulk(e.clientInfo)
        }
    }
}
