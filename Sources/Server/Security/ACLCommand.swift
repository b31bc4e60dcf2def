/*
 * ACLCommand: ACL SETUSER, GETUSER, DELUSER, LIST, USERS, WHOAMI, CAT, GENPASS, DRYRUN, LOAD,
 * SAVE, LOG and HELP, with Redis 7.0's replies and error texts (acl.c's aclCommand).
 *
 * SETUSER applies every rule to a copy of the user (or a new one) and keeps the copy only when
 * all of them are valid, so a bad rule changes nothing. A rule's arguments never reach the slow
 * log or MONITOR in clear (they may hold passwords): Dispatch redacts them as Redis does.
 */
import Glibc
import Platform

extension Server {
    mutating func aclCommand(_ c: ClientRef, _ id: CommandID) {
        switch id {
        case .aclSetuser: aclSetuserCommand(c)
        case .aclDeluser: aclDeluserCommand(c)
        case .aclGetuser: aclGetuserCommand(c)
        case .aclList, .aclUsers:
            if c.pointee.argc != 2 { return aclSyntaxError(c) }
            let names = id == .aclUsers
            let indices = acl.sortedIndices
            c.pointee.reply.appendArrayHeader(indices.count)
            for i in indices {
                let u = acl.users[i]!
                if names {
                    c.pointee.reply.appendBulk(u.nameString)
                } else {
                    c.pointee.reply.appendBulk("user " + u.nameString + " " + u.describe(acl.table))
                }
            }
        case .aclWhoami:
            c.pointee.reply.appendBulk(userName(c))
        case .aclCat: aclCatCommand(c)
        case .aclGenpass: aclGenpassCommand(c)
        case .aclLog:
            if c.pointee.argc > 3 { return aclSyntaxError(c) }
            aclLogCommand(c)
        case .aclDryrun: aclDryrunCommand(c)
        case .aclLoad, .aclSave:
            if settings.aclfile.isEmpty {
                addErrorString(c, "ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.")
                return
            }
            if id == .aclLoad {
                if let errors = loadACLFile(current: c) {
                    addErrorString(c, "ERR " + errors)
                } else {
                    addOK(c)
                }
            } else if saveACLFile() {
                addOK(c)
            } else {
                addErrorString(c, "ERR There was an error trying to save the ACLs. Please check the server logs for more information")
            }
        default:
            addHelp(c, HelpText.acl)
        }
    }

    /// addReplySubcommandSyntaxError.
    mutating func aclSyntaxError(_ c: ClientRef) {
        addErrorString(c, "ERR unknown subcommand or wrong number of arguments for '\(c.pointee.arg(1).string.prefix(128))'. Try \(c.pointee.arg(0).string.uppercased()) HELP.")
    }

    // MARK: - SETUSER / DELUSER / GETUSER

    mutating func aclSetuserCommand(_ c: ClientRef) {
        let name = c.pointee.arg(2).array
        if ACLUser.hasSpaces(name) {
            addErrorString(c, "ERR Usernames can't contain spaces or null characters")
            return
        }
        let raw = (3..<c.pointee.argc).map { c.pointee.arg($0).array }
        let ops: [[UInt8]]
        switch ACLSelectorArguments.merge(raw) {
        case .success(let merged): ops = merged
        case .failure(let unmatched):
            addErrorString(c, "ERR Unmatched parenthesis in acl selector starting at '\(c.pointee.arg(unmatched.index + 3).string)'.")
            return
        }
        let existing = acl.index(of: name)
        var user = existing.flatMap { acl.users[$0] } ?? ACLUser(name: name, table: acl.table, pubsubDefault: acl.pubsubDefault)
        for op in ops {
            do throws(ACLRuleError) {
                try user.apply(op, acl.table, pubsubDefault: acl.pubsubDefault)
            } catch {
                addErrorString(c, "ERR Error in ACL SETUSER modifier '\(String(decoding: op, as: UTF8.self))': \(error.message)")
                return
            }
        }
        if let i = existing {
            disconnectSubscribersLosingChannels(ofUser: i, newRules: user)
            acl.users[i] = user
        } else {
            _ = acl.add(user)
        }
        refreshAccessForAllClients()
        addOK(c)
    }

    mutating func aclDeluserCommand(_ c: ClientRef) {
        for j in 2..<c.pointee.argc where c.pointee.arg(j).equals(ByteView("default")) {
            addErrorString(c, "ERR The 'default' user cannot be removed")
            return
        }
        var deleted: Int64 = 0
        for j in 2..<c.pointee.argc {
            guard let i = acl.index(of: c.pointee.arg(j).array) else { continue }
            acl.remove(i)
            disconnectClients(ofUser: i, current: c)
            deleted += 1
        }
        refreshAccessForAllClients()
        c.pointee.reply.appendInteger(deleted)
    }

    mutating func aclGetuserCommand(_ c: ClientRef) {
        guard let u = acl.user(c.pointee.arg(2).array) else {
            c.pointee.reply.appendNull(resp3: c.pointee.resp3)
            return
        }
        let r3 = c.pointee.resp3
        c.pointee.reply.appendMapHeader(6, resp3: r3)
        c.pointee.reply.appendBulk("flags")
        let flags = ACLUserFlags.names.filter { u.flags.contains($0.0) }
        c.pointee.reply.appendSetHeader(flags.count, resp3: r3)
        for f in flags { c.pointee.reply.appendBulk(f.1) }
        c.pointee.reply.appendBulk("passwords")
        c.pointee.reply.appendArrayHeader(u.passwords.count)
        for p in u.passwords { c.pointee.reply.appendBulk(p) }
        appendSelectorFields(c, u.selectors[0])
        c.pointee.reply.appendBulk("selectors")
        c.pointee.reply.appendArrayHeader(u.selectors.count - 1)
        for s in u.selectors.dropFirst() {
            c.pointee.reply.appendMapHeader(3, resp3: r3)
            appendSelectorFields(c, s)
        }
    }

    func appendSelectorFields(_ c: ClientRef, _ s: ACLSelector) {
        c.pointee.reply.appendBulk("commands")
        c.pointee.reply.appendBulk(s.describeCommands(acl.table))
        c.pointee.reply.appendBulk("keys")
        c.pointee.reply.appendBulk(s.keysField)
        c.pointee.reply.appendBulk("channels")
        c.pointee.reply.appendBulk(s.channelsField)
    }

    /// ACL SETUSER narrowed a user's channels: its subscribers to channels or patterns the new
    /// rules do not allow are disconnected (ACLKillPubsubClientsIfNeeded).
    mutating func disconnectSubscribersLosingChannels(ofUser index: Int, newRules: ACLUser) {
        guard let old = acl.users[index] else { return }
        if newRules.selectors.contains(where: { $0.flags.contains(.allChannels) }) { return }
        let upcoming = newRules.selectors.flatMap(\.channels)
        // Losing allchannels, or any channel pattern, may leave subscribers out of bounds.
        let kept = !old.selectors.contains(where: { $0.flags.contains(.allChannels) })
            && old.selectors.allSatisfy { s in s.channels.allSatisfy { upcoming.contains($0) } }
        if kept { return }
        for fd in 0..<clientsCapacity {
            guard let cl = clientsByFD[fd], Int(cl.pointee.user) == index, cl.pointee.flags.contains(.pubsub) else { continue }
            func denied(_ name: [UInt8], pattern: Bool) -> Bool {
                name.withUnsafeBufferPointer { b in
                    !Self.channelAllowed(upcoming, ByteView(b.baseAddress ?? UnsafePointer(bitPattern: 1)!, b.count), isPattern: pattern)
                }
            }
            let kill = cl.pointee.patterns.contains { denied($0, pattern: true) }
                || cl.pointee.channels.contains { denied($0, pattern: false) }
                || cl.pointee.shardChannels.contains { denied($0, pattern: false) }
            if kill { markClosing(cl) }
        }
    }

    // MARK: - CAT / GENPASS / DRYRUN

    mutating func aclCatCommand(_ c: ClientRef) {
        if c.pointee.argc == 2 {
            c.pointee.reply.appendArrayHeader(ACLCategories.names.count)
            for n in ACLCategories.names { c.pointee.reply.appendBulk(n) }
            return
        }
        if c.pointee.argc != 3 { return aclSyntaxError(c) }
        let name = c.pointee.arg(2).string
        guard let bit = ACLCommandTable.categoryBit(name) else {
            addErrorString(c, "ERR Unknown category '\(name.prefix(128))'")
            return
        }
        let members = (0..<acl.table.count).filter { acl.table.categories[$0] & bit != 0 }
        c.pointee.reply.appendArrayHeader(members.count)
        for i in members { c.pointee.reply.appendBulk(acl.table.names[i]) }
    }

    mutating func aclGenpassCommand(_ c: ClientRef) {
        if c.pointee.argc > 3 { return aclSyntaxError(c) }
        var bits: Int64 = 256
        if c.pointee.argc == 3 {
            guard let n = c.pointee.arg(2).int64 else {
                addNotInteger(c)
                return
            }
            bits = n
        }
        if bits <= 0 || bits > 4096 {
            addErrorString(c, "ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096")
            return
        }
        let chars = Int((bits + 3) / 4)
        c.pointee.reply.appendBulk(String(Self.randomHex(chars + 1).prefix(chars)))
    }

    mutating func aclDryrunCommand(_ c: ClientRef) {
        let argc = c.pointee.argc
        let userName = c.pointee.arg(2)
        guard let user = acl.index(of: userName.array) else {
            addErrorString(c, "ERR User '\(userName.string)' not found")
            return
        }
        var index = commands.find(c.pointee.arg(3))
        if index >= 0 && commands.isSubcommandEntry[index] { index = -1 }
        if index >= 0 && commands.hasSubcommands[index] && argc >= 5 {
            // A container alone is checked as itself, with a subcommand as that (lookupCommand).
            index = commands.findSubcommand(parent: index, c.pointee.arg(4))
        }
        if index < 0 {
            addErrorString(c, "ERR Command '\(c.pointee.arg(3).string)' not found")
            return
        }
        let spec = commands.specs[index]
        let n = argc - 3
        if (spec.arity > 0 && spec.arity != n) || n < -spec.arity {
            addErrorString(c, "ERR wrong number of arguments for '\(spec.nameString)' command")
            return
        }
        guard let (denial, position) = aclDenial(user: user, index, argc: n, arg: { c.pointee.arg($0 + 3) }) else {
            addOK(c)
            return
        }
        let text: String
        switch denial {
        case .command: text = "This user has no permissions to run the '\(spec.nameString)' command"
        case .key: text = "This user has no permissions to access the '\(c.pointee.arg(position + 3).string)' key"
        case .channel: text = "This user has no permissions to access the '\(c.pointee.arg(position + 3).string)' channel"
        case .auth: text = "This user has no permissions"
        }
        c.pointee.reply.appendBulk(text)
    }
}
