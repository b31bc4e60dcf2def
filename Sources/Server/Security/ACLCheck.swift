/*
 * ACLCheck: may this user run this command with these arguments? Redis 7.0's
 * ACLCheckAllUserCommandPerm and the NOAUTH/NOPERM refusals built on it.
 *
 * A command passes when any selector of the user passes it. A selector checks, in order:
 *   1. the command: its bit, or an allowed first argument (`+select|0`); commands flagged no_auth
 *      (AUTH, HELLO, QUIT, RESET) always pass this step;
 *   2. its keys, found as COMMAND GETKEYS finds them, each against the key patterns: a key the
 *      command reads needs a pattern with read access (`~` or `%R~`), one it writes needs write
 *      access, one it only tests (EXISTS, TYPE, STRLEN) any pattern;
 *   3. its channels: PUBLISH/SPUBLISH's channel and (S)SUBSCRIBE's are matched against the
 *      channel patterns; PSUBSCRIBE's patterns must equal one literally.
 * When no selector passes, the error reported is the "worst" one across selectors (a channel,
 * then a key, then the command) at the latest argument, as Redis picks it.
 *
 * Dispatch calls `passesAccessChecks` only when `Client.checkAccess` is set (AccessControl.swift).
 * EXEC checks each queued command again (rules may have changed meanwhile); scripts check each
 * redis.call with the caller's user.
 */
import Platform

/// Why a command was refused; the raw values order them as Redis does when selectors disagree.
enum ACLDenial: Int {
    case command = 1, key = 2, auth = 3, channel = 4

    var logName: String {
        switch self {
        case .command: return "command"
        case .key: return "key"
        case .auth: return "auth"
        case .channel: return "channel"
        }
    }
}

extension Server {
    // MARK: - Dispatch

    /// NOAUTH, then the ACL check, as Redis's processCommand. Replies with the refusal and
    /// returns false when the command must not run.
    mutating func passesAccessChecks(_ c: ClientRef, _ index: Int) -> Bool {
        let flags = commands.specs[index].flags
        if !c.pointee.authenticated && !acl.defaultNeedsNoAuth && !flags.contains(.noAuth) {
            _ = reject(c, index, "-NOAUTH Authentication required.\r\n" as StaticString)
            return false
        }
        guard let (denial, position) = aclDenial(c, index) else { return true }
        let context: ACLLogContext = c.pointee.flags.contains(.multi) ? .multi : .toplevel
        logDenial(c, denial, position: position, index: index, context: context)
        switch denial {
        case .command:
            _ = reject(c, index, "-NOPERM this user has no permissions to run the '\(commands.specs[index].nameString)' command")
        case .key:
            _ = reject(c, index, "-NOPERM this user has no permissions to access one of the keys used as arguments")
        case .channel:
            _ = reject(c, index, "-NOPERM this user has no permissions to access one of the channels used as arguments")
        case .auth:
            _ = reject(c, index, "-NOPERM no permission")
        }
        return false
    }

    /// EXEC's check of one queued command: the reason text of Redis's execCommand, nil when allowed.
    mutating func execDenial(_ c: ClientRef, _ index: Int) -> String? {
        guard c.pointee.checkAccess, let (denial, position) = aclDenial(c, index) else { return nil }
        logDenial(c, denial, position: position, index: index, context: .multi)
        let reason: String
        switch denial {
        case .command: reason = "no permission to execute the command or subcommand"
        case .key: reason = "no permission to touch the specified keys"
        case .channel: reason = "no permission to access one of the channels used as arguments"
        case .auth: reason = "no permission"
        }
        return "-NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: \(reason)"
    }

    /// A script's redis.call: the error to raise, nil when allowed.
    mutating func scriptDenial(_ lc: ClientRef, _ index: Int) -> String? {
        guard lc.pointee.checkAccess, let (denial, position) = aclDenial(lc, index) else { return nil }
        logDenial(lc, denial, position: position, index: index, context: .lua)
        return "ERR The user executing the script " + Self.aclErrorMessage(denial)
    }

    /// redis.acl_check_cmd: may the running script's caller run this command?
    func scriptCallerMay(_ index: Int, argc: Int, arg: (Int) -> ByteView) -> Bool {
        aclDenial(user: Int(scriptClient.pointee.user), index, argc: argc, arg: arg) == nil
    }

    /// getAclErrorMessage.
    static func aclErrorMessage(_ denial: ACLDenial) -> String {
        switch denial {
        case .command: return "can't run this command or subcommand"
        case .key: return "can't access at least one of the keys mentioned in the command arguments"
        case .channel: return "can't publish to the channel mentioned in the command"
        case .auth: return "lacking the permissions for the command"
        }
    }

    mutating func logDenial(_ c: ClientRef, _ denial: ACLDenial, position: Int, index: Int, context: ACLLogContext) {
        let object = denial == .command ? commands.specs[index].nameString : c.pointee.arg(position).string
        addACLLogEntry(c, reason: denial, context: context, object: object, username: nil)
    }

    /// The client's user's verdict on its current command.
    @inline(__always)
    func aclDenial(_ c: ClientRef, _ index: Int) -> (ACLDenial, Int)? {
        aclDenial(user: Int(c.pointee.user), index, argc: c.pointee.argc) { c.pointee.arg($0) }
    }

    // MARK: - The check

    /// ACLCheckAllUserCommandPerm over the compiled rules (ACLCompiled.swift): nil when some
    /// selector allows the command, else the reason and the argument it concerns.
    func aclDenial(user u: Int, _ index: Int, argc: Int, arg: (Int) -> ByteView) -> (ACLDenial, Int)? {
        guard let user = aclCompiled.pointee[u] else {
            // Internal clients (-1) run anything; a user not compiled yet is refused, never let through.
            return u < 0 || u >= acl.users.count || acl.users[u] == nil ? nil : (.command, 0)
        }
        var worst = ACLDenial.command
        var worstAt = 0
        for i in 0..<user.count {
            guard let (denial, at) = selectorDenial(user.selectors[i], user: u, selector: i, index, argc: argc, arg: arg)
            else { return nil }
            if denial.rawValue > worst.rawValue || (denial == worst && at > worstAt) {
                worst = denial
                worstAt = at
            }
        }
        return (worst, worstAt)
    }

    func selectorDenial(_ s: ACLCompiledSelector, user: Int, selector: Int, _ index: Int, argc: Int,
                        arg: (Int) -> ByteView) -> (ACLDenial, Int)? {
        let spec = commands.specs + index
        if !s.flags.contains(.allCommands) && !s.allows(index) && !spec.pointee.flags.contains(.noAuth) {
            // Only first-arg rules (+select|0) can still allow it; they live in the model.
            guard s.hasFirstArgs, argc >= 2, let model = acl.users[user],
                model.selectors[selector].allowsCommand(index, firstArg: arg(1))
            else { return (.command, 0) }
        }
        if !s.flags.contains(.allKeys) {
            var denied = -1
            forEachKey(index, argc: argc, arg: arg) { position, access in
                if s.allowsKey(arg(position), access) { return true }
                denied = position
                return false
            }
            if denied >= 0 { return (.key, denied) }
        }
        if !s.flags.contains(.allChannels) {
            let id = spec.pointee.id
            let range: Range<Int>
            switch id {
            case .publish, .spublish: range = 1..<min(2, argc)
            case .subscribe, .ssubscribe, .psubscribe: range = 1..<argc
            default: range = 0..<0
            }
            for i in range where !s.allowsChannel(arg(i), isPattern: id == .psubscribe) {
                return (.channel, i)
            }
        }
        return nil
    }

    /// Whether the channels of PUBLISH/SUBSCRIBE... fit `patterns` (used when ACL SETUSER
    /// narrows a user's channels: which subscribers must go).
    static func channelAllowed(_ patterns: [[UInt8]], _ channel: ByteView, isPattern: Bool) -> Bool {
        for p in patterns {
            let hit = p.withUnsafeBufferPointer { b -> Bool in
                let pv = ByteView(b.baseAddress ?? channel.base, b.count)
                return isPattern ? pv.equals(channel) : Glob.match(pv, channel)
            }
            if hit { return true }
        }
        return false
    }

    /// The user may run the command and has `access` to every key (ACLUserCheckCmdWithUnrestrictedKeyAccess):
    /// SORT's BY and GET read keys named by patterns, so they need `%R~*` or `~*`.
    func hasUnrestrictedKeyAccess(_ c: ClientRef, _ index: Int, _ access: ACLKeyAccess) -> Bool {
        let u = Int(c.pointee.user)
        guard let user = aclCompiled.pointee[u] else { return true }
        for i in 0..<user.count {
            let s = user.selectors[i]
            guard selectorDenial(s, user: u, selector: i, index, argc: c.pointee.argc, arg: { c.pointee.arg($0) }) == nil
            else { continue }
            if s.flags.contains(.allKeys) { return true }
            for k in 0..<s.keyCount where s.keys[k].access.isSuperset(of: access) && s.keys[k].shape == 2 && s.keys[k].length == 0 {
                return true
            }
        }
        return false
    }

    // MARK: - Keys

    /// Calls `body` with each key position of the command and the access it needs, until
    /// `body` returns false. Fixed key ranges are walked without allocating.
    @inline(__always)
    func forEachKey(_ index: Int, argc: Int, arg: (Int) -> ByteView, _ body: (Int, ACLKeyAccess) -> Bool) {
        let spec = commands.specs + index
        switch spec.pointee.id {
        case .ssubscribe, .sunsubscribe, .spublish: return  // shard channels are not keys
        default: break
        }
        if spec.pointee.flags.contains(.movableKeys) {
            for position in keyPositions(spec.pointee, argc: argc, arg: arg) ?? [] {
                if !body(position, keyAccess(index, position)) { return }
            }
            return
        }
        if spec.pointee.firstKey == 0 { return }
        let last = spec.pointee.lastKey < 0 ? argc + spec.pointee.lastKey : spec.pointee.lastKey
        var k = spec.pointee.firstKey
        // SET's key is read too with GET (Redis's variable flags).
        var setAccess: ACLKeyAccess? = nil
        if spec.pointee.id == .set {
            setAccess = (3..<max(3, argc)).contains { arg($0).equalsLowercase("get") } ? .all : .write
        } else if spec.pointee.id == .bitmaps(.bitfield) {
            // BITFIELD with only GETs reads (Redis's bitfieldGetKeys).
            setAccess = BitmapCommands.bitfieldOnlyReads(argc: argc, arg: arg) ? .read : .all
        }
        while k <= last && k < argc {
            if !body(k, setAccess ?? keyAccess(index, k)) { return }
            k += spec.pointee.keyStep
        }
    }

    /// The access the key spec covering `position` needs (KeySpecFlags.flags' rule): the spec
    /// that begins there; past every fixed spec, the keyword one; else the last one before it.
    @inline(__always)
    func keyAccess(_ index: Int, _ position: Int) -> ACLKeyAccess {
        let start = acl.table.keySpecStart[index], end = acl.table.keySpecStart[index + 1]
        if start == end { return .read }
        var maxBegin = Int.min
        var keyword: ACLKeyAccess? = nil
        var before: ACLKeyAccess? = nil
        for i in start..<end {
            let s = acl.table.keySpecList[i]
            if s.begin == position { return s.access }
            maxBegin = max(maxBegin, s.begin)
            if s.begin < 0 { keyword = s.access } else if s.begin <= position { before = s.access }
        }
        if let keyword, position > maxBegin { return keyword }
        return before ?? acl.table.keySpecList[start].access
    }
}
