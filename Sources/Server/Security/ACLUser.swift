/*
 * ACLUser: one ACL user and the rule language of ACL SETUSER, as Redis 7.0 has them.
 *
 * A user has flags (on/off, nopass, sanitize-payload), password hashes (SHA-256, lowercase hex)
 * and selectors. The first selector is the root one (the rules written outside parentheses);
 * `(...)` adds more. A command is allowed when any selector allows it with all its keys and
 * channels. A selector holds:
 *   - a command bitmap indexed like the command table (ACLCommandTable), plus "first args"
 *     (`+select|0`: SELECT allowed only with that first argument);
 *   - key patterns, each for reading, writing or both (`%R~`, `%W~`, `~`), or `allkeys`;
 *   - channel patterns (`&`), or `allchannels`.
 *
 * Rules are applied one at a time (`apply`), with Redis's errors; ACL SETUSER applies them to a
 * copy and keeps it only if all succeed. `describe` writes a user back as rules in Redis's
 * canonical form (flags, #hashes, keys, channels, then the command rules that
 * `describeCommands` computes the way Redis does: +@all or -@all, then the categories that fit
 * best, then single commands), for ACL LIST, ACL SAVE and CONFIG REWRITE.
 *
 * None of this is on the per-command path: the checks (ACLCheck.swift) only read it, and
 * only for clients whose user is restricted.
 */
import CTandem
import Platform

struct ACLSelectorFlags: OptionSet {
    let rawValue: UInt8
    static let root = ACLSelectorFlags(rawValue: 1)
    static let allKeys = ACLSelectorFlags(rawValue: 2)
    static let allChannels = ACLSelectorFlags(rawValue: 4)
    static let allCommands = ACLSelectorFlags(rawValue: 8)
}

/// What a key pattern grants, and what a command needs on a key.
struct ACLKeyAccess: OptionSet {
    let rawValue: UInt8
    static let read = ACLKeyAccess(rawValue: 1)
    static let write = ACLKeyAccess(rawValue: 2)
    static let all: ACLKeyAccess = [.read, .write]
}

struct ACLKeyPattern: Equatable {
    var pattern: [UInt8]
    var access: ACLKeyAccess

    /// "~pat", "%R~pat" or "%W~pat".
    var rule: String {
        let prefix = access == .all ? "~" : access == .read ? "%R~" : "%W~"
        return prefix + String(decoding: pattern, as: UTF8.self)
    }
}

/// Why a rule was refused; `message` is Redis's text for it (ACLSetUserStringError).
enum ACLRuleError: Error {
    case unknownName, syntax, keyAfterAll, channelAfterAll, noSuchPassword, badHash, duplicateUser, firstArgOfSubcommand

    var message: String {
        switch self {
        case .unknownName: return "Unknown command or category name in ACL"
        case .syntax: return "Syntax error"
        case .keyAfterAll:
            return "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns"
        case .channelAfterAll:
            return "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels"
        case .noSuchPassword: return "The password you are trying to remove from the user does not exist"
        case .badHash: return "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters"
        case .duplicateUser: return "Duplicate user found. A user can only be defined once in config files"
        case .firstArgOfSubcommand: return "Allowing first-arg of a subcommand is not supported"
        }
    }
}

struct ACLSelector {
    var flags: ACLSelectorFlags
    var allowed: [UInt64]
    /// Allowed first arguments of otherwise denied commands, by command index.
    var firstArgs: [Int: [[UInt8]]] = [:]
    var keys: [ACLKeyPattern] = []
    var channels: [[UInt8]] = []

    /// An empty selector: no commands, keys or channels (but `acl-pubsub-default allchannels`).
    init(flags: ACLSelectorFlags, table: ACLCommandTable, pubsubDefault: ACLSelectorFlags) {
        self.flags = flags.union(pubsubDefault)
        allowed = [UInt64](repeating: 0, count: table.words)
    }

    @inline(__always)
    func allows(_ index: Int) -> Bool {
        allowed[index >> 6] & (1 << UInt64(index & 63)) != 0
    }

    mutating func setBit(_ index: Int, _ value: Bool) {
        if value {
            allowed[index >> 6] |= 1 << UInt64(index & 63)
        } else {
            allowed[index >> 6] &= ~(1 << UInt64(index & 63))
            flags.remove(.allCommands)
        }
    }

    /// Allows or denies a command, and all of a container's subcommands (ACLChangeSelectorPerm).
    mutating func change(_ index: Int, allow: Bool, _ table: ACLCommandTable) {
        setBit(index, allow)
        firstArgs[index] = nil
        for sub in table.subcommands[index] { setBit(sub, allow) }
    }

    /// +@category / -@category: every entry in the category, as Redis walks its tables.
    mutating func changeCategory(_ bit: UInt32, allow: Bool, _ table: ACLCommandTable) {
        for i in 0..<table.count where table.categories[i] & bit != 0 {
            change(i, allow: allow, table)
        }
    }

    mutating func allowAll() {
        for w in 0..<allowed.count { allowed[w] = ~0 }
        flags.insert(.allCommands)
        firstArgs = [:]
    }

    mutating func denyAll() {
        for w in 0..<allowed.count { allowed[w] = 0 }
        flags.remove(.allCommands)
        firstArgs = [:]
    }

    /// One selector rule (ACLSetSelector).
    mutating func apply(_ op: [UInt8], _ table: ACLCommandTable) throws(ACLRuleError) {
        let text = String(decoding: op, as: UTF8.self)
        let lower = text.lowercased()
        if lower == "allkeys" || text == "~*" {
            flags.insert(.allKeys)
            keys = []
        } else if lower == "resetkeys" {
            flags.remove(.allKeys)
            keys = []
        } else if lower == "allchannels" || text == "&*" {
            flags.insert(.allChannels)
            channels = []
        } else if lower == "resetchannels" {
            flags.remove(.allChannels)
            channels = []
        } else if lower == "allcommands" || lower == "+@all" {
            allowAll()
        } else if lower == "nocommands" || lower == "-@all" {
            denyAll()
        } else if op.first == UInt8(ascii: "~") || op.first == UInt8(ascii: "%") {
            try addKeyPattern(op)
        } else if op.first == UInt8(ascii: "&") {
            if flags.contains(.allChannels) { throw .channelAfterAll }
            let pattern = Array(op.dropFirst())
            if ACLUser.hasSpaces(pattern) { throw .syntax }
            if !channels.contains(pattern) { channels.append(pattern) }
            flags.remove(.allChannels)
        } else if op.count >= 2 && (op[0] == UInt8(ascii: "+") || op[0] == UInt8(ascii: "-")) && op[1] == UInt8(ascii: "@") {
            guard let bit = ACLCommandTable.categoryBit(String(text.dropFirst(2))) else { throw .unknownName }
            changeCategory(bit, allow: op[0] == UInt8(ascii: "+"), table)
        } else if op.first == UInt8(ascii: "+") {
            try allowCommand(String(text.dropFirst()), table)
        } else if op.first == UInt8(ascii: "-") {
            let i = table.find(String(text.dropFirst()))
            if i < 0 { throw .unknownName }
            change(i, allow: false, table)
        } else {
            throw .syntax
        }
    }

    /// ~pattern, %R~pattern, %W~pattern, %RW~pattern.
    mutating func addKeyPattern(_ op: [UInt8]) throws(ACLRuleError) {
        if flags.contains(.allKeys) { throw .keyAfterAll }
        var access: ACLKeyAccess = []
        var offset = 1
        if op[0] == UInt8(ascii: "%") {
            while offset < op.count {
                let c = op[offset] & ~0x20
                if c == UInt8(ascii: "R") && !access.contains(.read) {
                    access.insert(.read)
                } else if c == UInt8(ascii: "W") && !access.contains(.write) {
                    access.insert(.write)
                } else if op[offset] == UInt8(ascii: "~") {
                    offset += 1
                    break
                } else {
                    throw .syntax
                }
                offset += 1
            }
        } else {
            access = .all
        }
        let pattern = Array(op[offset...])
        if ACLUser.hasSpaces(pattern) { throw .syntax }
        if let i = keys.firstIndex(where: { $0.pattern == pattern }) {
            keys[i].access.formUnion(access)
        } else {
            keys.append(ACLKeyPattern(pattern: pattern, access: access))
        }
        flags.remove(.allKeys)
    }

    /// +command, +container|subcommand, or +command|first-arg.
    mutating func allowCommand(_ name: String, _ table: ACLCommandTable) throws(ACLRuleError) {
        guard let bar = name.lastIndex(of: "|") else {
            let i = table.find(name)
            if i < 0 { throw .unknownName }
            change(i, allow: true, table)
            return
        }
        let base = table.find(String(name[..<bar]))
        if base < 0 { throw .unknownName }
        if table.parent[base] >= 0 { throw .firstArgOfSubcommand }
        let arg = name[name.index(after: bar)...]
        if arg.isEmpty { throw .syntax }
        if !table.subcommands[base].isEmpty {
            let sub = table.find(name)
            if sub < 0 { throw .unknownName }
            change(sub, allow: true, table)
        } else {
            Log.warning("Deprecation warning: Allowing a first arg of an otherwise blocked command is a misuse of ACL and may get disabled in the future (offender: +\(name))")
            let bytes = Array(arg.utf8)
            var list = firstArgs[base] ?? []
            if !list.contains(where: { ACLUser.equalsIgnoringCase($0, bytes) }) { list.append(bytes) }
            firstArgs[base] = list
        }
    }

    /// Whether this selector's bitmap lets the command run (ALLCOMMANDS, the bit, or an
    /// allowed first argument).
    func allowsCommand(_ index: Int, firstArg: ByteView?) -> Bool {
        if flags.contains(.allCommands) || allows(index) { return true }
        guard let firstArg, let list = firstArgs[index] else { return false }
        return list.contains { ACLUser.equalsIgnoringCase($0, firstArg) }
    }

    // MARK: - Describing

    /// "~* " / key patterns, "&* " or "resetchannels &..." then the command rules.
    func describe(_ table: ACLCommandTable) -> String {
        var out = ""
        if flags.contains(.allKeys) {
            out += "~* "
        } else {
            for k in keys { out += k.rule + " " }
        }
        if flags.contains(.allChannels) {
            out += "&* "
        } else {
            out += "resetchannels "
            for ch in channels { out += "&" + String(decoding: ch, as: UTF8.self) + " " }
        }
        return out + describeCommands(table)
    }

    /// "~a %R~b" as ACL GETUSER's keys field.
    var keysField: String {
        flags.contains(.allKeys) ? "~*" : keys.map(\.rule).joined(separator: " ")
    }

    var channelsField: String {
        flags.contains(.allChannels) ? "&*" : channels.map { "&" + String(decoding: $0, as: UTF8.self) }.joined(separator: " ")
    }

    /// The command rules (ACLDescribeSelectorCommandRules): start from +@all when the
    /// future-commands bit is set, -@all otherwise; then add (or remove) the category that fits
    /// the remaining differences best, while one has more commands in common than not; then
    /// single commands and first args for what is left. The result, applied to an empty
    /// selector, gives exactly this bitmap.
    func describeCommands(_ table: ACLCommandTable) -> String {
        let futureBit = table.count
        let additive = !allows(futureBit)
        var rules = additive ? "-@all " : "+@all "
        var fake = self
        if additive { fake.denyAll() } else { fake.allowAll() }
        var temp = self
        var applied = [Bool](repeating: false, count: ACLCategories.names.count)
        while true {
            var best = -1
            var minDiff = Int.max, maxSame = 0
            for j in 0..<ACLCategories.names.count where !applied[j] {
                var on = 0, off = 0
                let bit: UInt32 = 1 << UInt32(j)
                for i in 0..<table.count where table.categories[i] & bit != 0 {
                    if temp.allows(i) { on += 1 } else { off += 1 }
                }
                let diff = additive ? off : on
                let same = additive ? on : off
                if same > diff && (diff < minDiff || (diff == minDiff && same > maxSame)) {
                    best = j
                    minDiff = diff
                    maxSame = same
                }
            }
            if best < 0 { break }
            let bit: UInt32 = 1 << UInt32(best)
            fake.changeCategory(bit, allow: additive, table)
            temp.changeCategory(bit, allow: !additive, table)
            rules += (additive ? "+@" : "-@") + ACLCategories.names[best] + " "
            applied[best] = true
        }
        func single(_ i: Int) {
            let mine = allows(i)
            if mine != fake.allows(i) {
                rules += (mine ? "+" : "-") + table.names[i] + " "
                fake.change(i, allow: mine, table)
            }
            for sub in table.subcommands[i] { single(sub) }
            if !mine, let list = firstArgs[i] {
                for arg in list { rules += "+" + table.names[i] + "|" + String(decoding: arg, as: UTF8.self) + " " }
            }
        }
        for i in table.topLevel { single(i) }
        rules.removeLast()
        return rules
    }
}

struct ACLUserFlags: OptionSet {
    let rawValue: UInt8
    static let enabled = ACLUserFlags(rawValue: 1)
    static let disabled = ACLUserFlags(rawValue: 2)
    static let nopass = ACLUserFlags(rawValue: 4)
    static let skipSanitizePayload = ACLUserFlags(rawValue: 8)
    static let sanitizePayload = ACLUserFlags(rawValue: 16)

    /// In the order ACL LIST and GETUSER show them.
    static let names: [(ACLUserFlags, String)] = [
        (.enabled, "on"), (.disabled, "off"), (.nopass, "nopass"),
        (.skipSanitizePayload, "skip-sanitize-payload"), (.sanitizePayload, "sanitize-payload"),
    ]
}

struct ACLUser {
    var name: [UInt8]
    var flags: ACLUserFlags = .disabled
    /// SHA-256 hashes, lowercase hex, in the order they were added.
    var passwords: [String] = []
    /// [0] is the root selector.
    var selectors: [ACLSelector]

    init(name: [UInt8], table: ACLCommandTable, pubsubDefault: ACLSelectorFlags) {
        self.name = name
        selectors = [ACLSelector(flags: .root, table: table, pubsubDefault: pubsubDefault)]
    }

    var nameString: String { String(decoding: name, as: UTF8.self) }

    /// The default user as a fresh server has it: on nopass ~* &* +@all.
    static func makeDefault(table: ACLCommandTable) -> ACLUser {
        var u = ACLUser(name: Array("default".utf8), table: table, pubsubDefault: [])
        u.selectors[0].allowAll()
        u.selectors[0].flags.formUnion([.allKeys, .allChannels])
        u.flags = [.enabled, .nopass]
        return u
    }

    /// May run anything on any key and channel: the checks can be skipped entirely.
    var isUnrestricted: Bool {
        selectors[0].flags.isSuperset(of: [.allCommands, .allKeys, .allChannels])
    }

    /// One ACL SETUSER rule (ACLSetUser). `pubsubDefault` is acl-pubsub-default's flag.
    mutating func apply(_ op: [UInt8], _ table: ACLCommandTable, pubsubDefault: ACLSelectorFlags) throws(ACLRuleError) {
        if op.isEmpty { return }
        let lower = String(decoding: op, as: UTF8.self).lowercased()
        switch lower {
        case "on":
            flags.insert(.enabled)
            flags.remove(.disabled)
        case "off":
            flags.insert(.disabled)
            flags.remove(.enabled)
        case "skip-sanitize-payload":
            flags.insert(.skipSanitizePayload)
            flags.remove(.sanitizePayload)
        case "sanitize-payload":
            flags.remove(.skipSanitizePayload)
            flags.insert(.sanitizePayload)
        case "nopass":
            flags.insert(.nopass)
            passwords = []
        case "resetpass":
            flags.remove(.nopass)
            passwords = []
        case "clearselectors":
            selectors.removeSubrange(1...)
        case "reset":
            try apply(Array("resetpass".utf8), table, pubsubDefault: pubsubDefault)
            try apply(Array("resetkeys".utf8), table, pubsubDefault: pubsubDefault)
            try apply(Array("resetchannels".utf8), table, pubsubDefault: pubsubDefault)
            if pubsubDefault.contains(.allChannels) {
                try apply(Array("allchannels".utf8), table, pubsubDefault: pubsubDefault)
            }
            try apply(Array("off".utf8), table, pubsubDefault: pubsubDefault)
            try apply(Array("sanitize-payload".utf8), table, pubsubDefault: pubsubDefault)
            try apply(Array("clearselectors".utf8), table, pubsubDefault: pubsubDefault)
            try apply(Array("-@all".utf8), table, pubsubDefault: pubsubDefault)
        default:
            let first = op[0]
            if first == UInt8(ascii: ">") || first == UInt8(ascii: "#") {
                let hash = try Self.passwordHash(op, clear: first == UInt8(ascii: ">"))
                if !passwords.contains(hash) { passwords.append(hash) }
                flags.remove(.nopass)
            } else if first == UInt8(ascii: "<") || first == UInt8(ascii: "!") {
                let hash = try Self.passwordHash(op, clear: first == UInt8(ascii: "<"))
                guard let i = passwords.firstIndex(of: hash) else { throw .noSuchPassword }
                passwords.remove(at: i)
            } else if first == UInt8(ascii: "(") && op.last == UInt8(ascii: ")") {
                var selector = ACLSelector(flags: [], table: table, pubsubDefault: pubsubDefault)
                guard let parts = SplitArgs.split(Array(op.dropFirst().dropLast())) else { throw .syntax }
                for part in parts { try selector.apply(part, table) }
                selectors.append(selector)
            } else {
                try selectors[0].apply(op, table)
            }
        }
    }

    /// The user as rules, without its name (ACLDescribeUser): flags, #hashes, the root
    /// selector, then each other selector in parentheses.
    func describe(_ table: ACLCommandTable) -> String {
        var out = ""
        for (flag, name) in ACLUserFlags.names where flags.contains(flag) { out += name + " " }
        for p in passwords { out += "#" + p + " " }
        for (i, s) in selectors.enumerated() {
            out += i == 0 ? s.describe(table) : " (" + s.describe(table) + ")"
        }
        return out
    }

    /// Checks a password against the user's (ACLCheckUserCredentials): a disabled user never
    /// matches; nopass matches anything; otherwise one of the hashes, compared in constant time.
    func accepts(_ password: ByteView) -> Bool {
        if flags.contains(.disabled) { return false }
        if flags.contains(.nopass) { return true }
        let hash = Self.hashPassword(UnsafeBufferPointer(start: password.base, count: password.count))
        var ok = false
        for p in passwords {
            var diff: UInt8 = 0
            for (a, b) in zip(p.utf8, hash.utf8) { diff |= a ^ b }
            if diff == 0 { ok = true }
        }
        return ok
    }

    // MARK: - Helpers

    /// The hash a password rule names: of the clear text after `>`/`<`, or the hex after `#`/`!`.
    static func passwordHash(_ op: [UInt8], clear: Bool) throws(ACLRuleError) -> String {
        if clear { return hashPassword(op.dropFirst()) }
        guard isValidHash(op.dropFirst()) else { throw .badHash }
        return String(decoding: op.dropFirst(), as: UTF8.self)
    }

    static func hashPassword<C: Collection>(_ clear: C) -> String where C.Element == UInt8 {
        let bytes = Array(clear)
        var digest = [UInt8](repeating: 0, count: 32)
        bytes.withUnsafeBytes { b in
            digest.withUnsafeMutableBufferPointer { tandem_sha256(b.baseAddress, b.count, $0.baseAddress) }
        }
        let hex = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for d in digest {
            out.append(hex[Int(d >> 4)])
            out.append(hex[Int(d & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func isValidHash<C: Collection>(_ h: C) -> Bool where C.Element == UInt8 {
        h.count == 64 && h.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }
    }

    /// Spaces (C's isspace) or NUL: not allowed in user names and patterns.
    static func hasSpaces<C: Collection>(_ s: C) -> Bool where C.Element == UInt8 {
        s.contains { $0 == 0 || $0 == 32 || ($0 >= 9 && $0 <= 13) }
    }

    @inline(__always)
    static func lower(_ c: UInt8) -> UInt8 { c >= 65 && c <= 90 ? c + 32 : c }

    static func equalsIgnoringCase(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { lower($0) == lower($1) }
    }

    static func equalsIgnoringCase(_ a: [UInt8], _ b: ByteView) -> Bool {
        if a.count != b.count { return false }
        for i in 0..<a.count where lower(a[i]) != lower(b[i]) { return false }
        return true
    }
}

/// Selector arguments spread over several words ("(~key" "+get)") joined back into one
/// (ACLMergeSelectorArguments). nil and the index of the opening word when a "(" is not closed.
enum ACLSelectorArguments {
    static func merge(_ args: [[UInt8]]) -> Result<[[UInt8]], UnmatchedParenthesis> {
        var out: [[UInt8]] = []
        var open: [UInt8]? = nil
        var openedAt = -1
        for (j, op) in args.enumerated() {
            // As Redis, a second unclosed "(" starts the selector over.
            if op.first == UInt8(ascii: "(") && op.last != UInt8(ascii: ")") {
                open = op
                openedAt = j
                continue
            }
            if var selector = open {
                selector.append(32)
                selector += op
                if op.last == UInt8(ascii: ")") {
                    out.append(selector)
                    open = nil
                } else {
                    open = selector
                }
                continue
            }
            out.append(op)
        }
        if open != nil { return .failure(UnmatchedParenthesis(index: openedAt)) }
        return .success(out)
    }

    struct UnmatchedParenthesis: Error {
        let index: Int
    }
}
