/*
 * Connection commands: PING, QUIT, SELECT, AUTH, HELLO, RESET.
 *
 * AUTH and HELLO AUTH bind the connection to an ACL user (Security/AccessControl.swift). The
 * default user with no password (no `requirepass`) lets every connection in, and AUTH
 * <password> is then an error; otherwise a connection must authenticate before any command
 * not flagged no_auth.
 */
import Keyspace
import Platform
import RESP

extension Server {
    mutating func pingCommand(_ c: ClientRef) {
        if c.pointee.argc > 2 {
            addErrorString(c, "ERR wrong number of arguments for 'ping' command")
            return
        }
        if c.pointee.flags.contains(.pubsub) && !c.pointee.resp3 {
            c.pointee.reply.appendArrayHeader(2)
            c.pointee.reply.appendBulk(ByteView("pong"))
            if c.pointee.argc == 2 {
                c.pointee.reply.appendBulk(c.pointee.arg(1))
            } else {
                c.pointee.reply.appendBulk(ByteView(""))
            }
            return
        }
        if c.pointee.argc == 2 {
            c.pointee.reply.appendBulk(c.pointee.arg(1))
        } else {
            c.pointee.reply.append("+PONG\r\n" as StaticString)
        }
    }

    mutating func quitCommand(_ c: ClientRef) {
        addOK(c)
        c.pointee.flags.insert(.closeAfterReply)
    }

    mutating func selectCommand(_ c: ClientRef) {
        guard let n = c.pointee.arg(1).int64, n >= Int64(Int32.min), n <= Int64(Int32.max) else {
            addNotInteger(c)
            return
        }
        if cluster.enabled && n != 0 {
            addError(c, "-ERR SELECT is not allowed in cluster mode\r\n")
            return
        }
        if n < 0 || n >= Int64(dbCount) {
            addError(c, Self.dbOutOfRange)
            return
        }
        c.pointee.db = Int(n)
        addOK(c)
    }

    mutating func authCommand(_ c: ClientRef) {
        if c.pointee.argc > 3 {
            addSyntaxError(c)
            return
        }
        let user: ByteView
        let password: ByteView
        if c.pointee.argc == 2 {
            // The old form with no password configured is an error, as Redis.
            if acl.defaultUser.flags.contains(.nopass) {
                addError(c, "-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n")
                return
            }
            user = ByteView("default")
            password = c.pointee.arg(1)
        } else {
            user = c.pointee.arg(1)
            password = c.pointee.arg(2)
        }
        if authenticateClient(c, user, password) {
            addOK(c)
        } else {
            addError(c, "-WRONGPASS invalid username-password pair or user is disabled.\r\n")
        }
    }

    mutating func helloCommand(_ c: ClientRef) {
        var version: Int64 = 0
        var j = 1
        let argc = c.pointee.argc
        if argc >= 2 {
            guard let v = c.pointee.arg(1).int64 else {
                addError(c, "-ERR Protocol version is not an integer or out of range\r\n")
                return
            }
            if v < 2 || v > 3 {
                addError(c, "-NOPROTO unsupported protocol version\r\n")
                return
            }
            version = v
            j = 2
        }
        var credentials: (ByteView, ByteView)? = nil
        var clientName: ByteView? = nil
        while j < argc {
            let opt = c.pointee.arg(j)
            let more = argc - 1 - j
            if opt.equalsLowercase("auth") && more >= 2 {
                credentials = (c.pointee.arg(j + 1), c.pointee.arg(j + 2))
                j += 2
            } else if opt.equalsLowercase("setname") && more >= 1 {
                clientName = c.pointee.arg(j + 1)
                j += 1
            } else {
                addErrorString(c, "ERR Syntax error in HELLO option '\(opt.string)'")
                return
            }
            j += 1
        }
        if let (user, password) = credentials, !authenticateClient(c, user, password) {
            addError(c, "-WRONGPASS invalid username-password pair or user is disabled.\r\n")
            return
        }
        if !c.pointee.authenticated {
            addError(c, "-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time\r\n")
            return
        }
        if let clientName, !setClientName(c, clientName) { return }
        if version != 0 { c.pointee.resp3 = version == 3 }
        let r3 = c.pointee.resp3
        c.pointee.reply.appendMapHeader(7, resp3: r3)
        c.pointee.reply.appendBulk("server")
        c.pointee.reply.appendBulk("redis")
        c.pointee.reply.appendBulk("version")
        c.pointee.reply.appendBulk(ServerInfo.redisVersion)
        c.pointee.reply.appendBulk("proto")
        c.pointee.reply.appendInteger(r3 ? 3 : 2)
        c.pointee.reply.appendBulk("id")
        c.pointee.reply.appendInteger(c.pointee.id)
        c.pointee.reply.appendBulk("mode")
        c.pointee.reply.appendBulk(cluster.enabled ? "cluster" : "standalone")
        c.pointee.reply.appendBulk("role")
        c.pointee.reply.appendBulk(settings.replicaOf == nil ? "master" : "replica")
        c.pointee.reply.appendBulk("modules")
        c.pointee.reply.appendArrayHeader(0)
    }

    mutating func resetCommand(_ c: ClientRef) {
        if c.pointee.flags.contains(.multi) || !c.pointee.watched.isEmpty { discardTransaction(c) }
        unsubscribeAll(c)
        disableTracking(c)
        c.pointee.flags.remove([.replyOff, .replySkip, .replySkipNext, .noEvict])
        if c.pointee.flags.contains(.monitor) {
            c.pointee.flags.remove(.monitor)
            monitors.removeAll { $0 == c }
            monitorCount = monitors.count
        }
        c.pointee.resp3 = false
        c.pointee.db = 0
        c.pointee.name = []
        setDefaultAuth(c)
        c.pointee.reply.append("+RESET\r\n" as StaticString)
    }

    /// CLIENT SETNAME's validation; replies with the error and returns false when invalid.
    mutating func setClientName(_ c: ClientRef, _ name: ByteView) -> Bool {
        for i in 0..<name.count where name[i] < 33 || name[i] > 126 {
            addError(c, "-ERR Client names cannot contain spaces, newlines or special characters.\r\n")
            return false
        }
        c.pointee.name = name.array
        return true
    }
}
