/*
 * AccessControl: the ACL users and which one each connection runs as — Redis 7.0's acl.c state.
 *
 * Users live in a table (`ACLState.users`) indexed by a small number; a client holds the index
 * of its user (`Client.user`), never a reference, so the per-command path touches no Swift
 * object. Index 0 is always the `default` user: new connections start as it, authenticated
 * when it is `on` and `nopass` (requirepass gives it a password). Internal clients (the master
 * link, AOF loading, the Lua client between scripts) have user -1: no checks at all, as
 * Redis's NULL user.
 *
 * The per-command cost: `Client.checkAccess` is true only for a client that is not
 * authenticated or whose user is restricted in any way (ACLUser.isUnrestricted: +@all ~* &*).
 * Dispatch tests that one byte; everything else happens off the common path. The byte is
 * recomputed whenever a client changes user or its user's rules change (`refreshAccess`).
 *
 * Deleting a user disconnects its clients (the one running ACL DELUSER after its reply); ACL
 * SETUSER disconnects the user's subscribers whose channels it no longer allows; ACL LOAD
 * replaces every user but `default` and so disconnects their clients, as Redis does.
 */
import Platform

struct ACLState {
    let table = ACLCommandTable.shared
    /// nil: a free slot (a deleted user's).
    var users: [ACLUser?]
    var indexByName: [[UInt8]: Int] = [:]
    /// ACL LOG, newest first (ACLLog.swift).
    var log: [ACLLogEntry] = []
    /// acl-pubsub-default: the channels a new user or selector starts with.
    var pubsubDefault: ACLSelectorFlags = []

    init() {
        users = [ACLUser.makeDefault(table: ACLCommandTable.shared)]
        indexByName[Array("default".utf8)] = 0
    }

    var defaultUser: ACLUser { users[0]! }

    /// The default user lets connections in without AUTH (on and nopass).
    var defaultNeedsNoAuth: Bool {
        let f = users[0]!.flags
        return f.contains(.nopass) && !f.contains(.disabled)
    }

    func index(of name: [UInt8]) -> Int? { indexByName[name] }

    func user(_ name: [UInt8]) -> ACLUser? { indexByName[name].flatMap { users[$0] } }

    /// Adds a new user and returns its index.
    mutating func add(_ user: ACLUser) -> Int {
        let slot = users.firstIndex(where: { $0 == nil }) ?? users.count
        if slot == users.count { users.append(user) } else { users[slot] = user }
        indexByName[user.name] = slot
        return slot
    }

    mutating func remove(_ index: Int) {
        guard let u = users[index] else { return }
        indexByName[u.name] = nil
        users[index] = nil
    }

    /// Users sorted by name, as Redis's radix tree lists them.
    var sortedIndices: [Int] {
        users.indices.filter { users[$0] != nil }.sorted { users[$0]!.name.lexicographicallyPrecedes(users[$1]!.name) }
    }

    /// "user <name> <rules>" lines for ACL LIST, ACL SAVE and CONFIG REWRITE.
    var describedUsers: [String] {
        sortedIndices.map { "user " + users[$0]!.nameString + " " + users[$0]!.describe(table) }
    }
}

extension Server {
    /// Whether the client must go through the authentication and ACL checks.
    func needsAccessCheck(_ c: ClientRef) -> Bool {
        if !c.pointee.authenticated { return true }
        let u = Int(c.pointee.user)
        guard u >= 0, u < acl.users.count, let user = acl.users[u] else { return u >= 0 }
        return !user.isUnrestricted
    }

    func refreshAccess(_ c: ClientRef) {
        c.pointee.checkAccess = needsAccessCheck(c)
        // Unauthenticated connections get tighter protocol limits (Redis's authRequired).
        c.pointee.parser.authenticated = c.pointee.authenticated || acl.defaultNeedsNoAuth
    }

    /// After a user's rules changed (or users were replaced): the compiled rules the checks
    /// read (ACLCompiled.swift), then every connection's check bit.
    func refreshAccessForAllClients() {
        for i in 0..<max(acl.users.count, aclCompiled.pointee.capacity) {
            aclCompiled.pointee.set(i, i < acl.users.count ? acl.users[i] : nil, words: acl.table.words)
        }
        for fd in 0..<clientsCapacity {
            if let c = clientsByFD[fd] { refreshAccess(c) }
        }
    }

    /// Binds a connection to a user (AUTH, HELLO AUTH) or back to the default user.
    func setClientUser(_ c: ClientRef, _ index: Int, authenticated: Bool) {
        c.pointee.user = Int32(index)
        c.pointee.authenticated = authenticated
        refreshAccess(c)
    }

    /// A new connection or RESET: the default user, authenticated when it needs no password
    /// (Redis's clientSetDefaultAuth).
    func setDefaultAuth(_ c: ClientRef) {
        setClientUser(c, 0, authenticated: acl.defaultNeedsNoAuth)
    }

    /// The name of the client's user ("default" for internal clients, which have none).
    func userName(_ c: ClientRef) -> String {
        let u = Int(c.pointee.user)
        guard u >= 0, u < acl.users.count, let user = acl.users[u] else { return "default" }
        return user.nameString
    }

    /// Checks a name/password pair (ACLCheckUserCredentials); the user's index when they match.
    func authenticate(_ name: ByteView, _ password: ByteView) -> Int? {
        guard let i = acl.index(of: name.array), let user = acl.users[i], user.accepts(password) else { return nil }
        return i
    }

    /// AUTH and HELLO AUTH: binds the client to the user, or logs the failure in ACL LOG
    /// (ACLAuthenticateUser). Returns false on wrong credentials.
    mutating func authenticateClient(_ c: ClientRef, _ name: ByteView, _ password: ByteView) -> Bool {
        if let i = authenticate(name, password) {
            setClientUser(c, i, authenticated: true)
            return true
        }
        let context: ACLLogContext = c.pointee.flags.contains(.multi) ? .multi : .toplevel
        addACLLogEntry(c, reason: .auth, context: context, object: c.pointee.arg(0).string, username: name.string)
        return false
    }

    /// Disconnects every client of user `index` (deleted or replaced): the one whose command is
    /// running after its reply, the others at once. They are put back on the default user,
    /// unauthenticated, meanwhile (Redis's ACLFreeUserAndKillClients).
    mutating func disconnectClients(ofUser index: Int, current: ClientRef?) {
        for fd in 0..<clientsCapacity {
            guard let c = clientsByFD[fd], Int(c.pointee.user) == index else { continue }
            setClientUser(c, 0, authenticated: false)
            if c == current {
                c.pointee.flags.insert(.closeAfterReply)
            } else {
                markClosing(c)
            }
        }
    }

    /// requirepass: the default user's password (none: nopass).
    mutating func setDefaultUserPassword(_ password: String) {
        var u = acl.users[0]!
        try? u.apply(Array("resetpass".utf8), acl.table, pubsubDefault: acl.pubsubDefault)
        if password.isEmpty {
            try? u.apply(Array("nopass".utf8), acl.table, pubsubDefault: acl.pubsubDefault)
        } else {
            try? u.apply([UInt8(ascii: ">")] + Array(password.utf8), acl.table, pubsubDefault: acl.pubsubDefault)
        }
        acl.users[0] = u
        refreshAccessForAllClients()
    }
}
