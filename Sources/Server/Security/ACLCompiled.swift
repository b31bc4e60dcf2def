/*
 * ACLCompiled: the users' rules as the per-command check reads them — flat, in malloc'd memory,
 * with no Swift object to retain.
 *
 * ACLUser (ACLUser.swift) is the editable model: arrays, dictionaries, strings. Checking a
 * restricted client's every command against it would retain and release a dozen of those per
 * command. Instead each user is compiled, when it is created or changed, into one block per
 * selector: its flags, its command bitmap, and its key and channel patterns as (offset, length,
 * access, shape) entries over one byte buffer. A pattern that is a literal, or a literal followed
 * by one `*`, is compared with memcmp instead of the glob matcher (most patterns are `app:*`).
 * First-arg rules (`+select|0`) are rare and stay in the model: a selector with any sets a flag
 * that sends the command check there.
 *
 * `ACLCompiledUsers` owns all the memory (it is ~Copyable) and is indexed like ACLState.users.
 */
import CTandem
import Platform

struct ACLCompiledPattern {
    var offset: Int32
    var length: Int32
    var access: ACLKeyAccess
    /// 0: glob, 1: literal, 2: literal prefix then `*`.
    var shape: UInt8
}

struct ACLCompiledSelector {
    var flags: ACLSelectorFlags
    var hasFirstArgs: Bool
    var bitmap: UnsafeMutablePointer<UInt64>
    var keys: UnsafeMutablePointer<ACLCompiledPattern>
    var keyCount: Int
    var channels: UnsafeMutablePointer<ACLCompiledPattern>
    var channelCount: Int
    var bytes: UnsafeMutablePointer<UInt8>

    @inline(__always)
    func allows(_ index: Int) -> Bool {
        bitmap[index >> 6] & (1 << UInt64(index & 63)) != 0
    }

    /// ACLSelectorCheckKey over the compiled patterns.
    @inline(__always)
    func allowsKey(_ key: ByteView, _ needed: ACLKeyAccess) -> Bool {
        for i in 0..<keyCount where keys[i].access.isSuperset(of: needed) {
            if Self.matches(keys[i], bytes, key) { return true }
        }
        return false
    }

    /// ACLCheckChannelAgainstList: channels match patterns, a PSUBSCRIBE pattern must equal one.
    func allowsChannel(_ channel: ByteView, isPattern: Bool) -> Bool {
        for i in 0..<channelCount {
            let p = channels[i]
            // The whole pattern text (a prefix pattern's length leaves out its final `*`).
            let pattern = ByteView(UnsafePointer(bytes + Int(p.offset)), Int(p.length) + (p.shape == 2 ? 1 : 0))
            if isPattern ? pattern.equals(channel) : Self.matches(p, bytes, channel) { return true }
        }
        return false
    }

    @inline(__always)
    static func matches(_ p: ACLCompiledPattern, _ bytes: UnsafeMutablePointer<UInt8>, _ subject: ByteView) -> Bool {
        let start = UnsafePointer(bytes + Int(p.offset))
        let n = Int(p.length)
        switch p.shape {
        case 1:
            return n == subject.count && memcmp(start, subject.base, n) == 0
        case 2:
            return subject.count >= n && memcmp(start, subject.base, n) == 0
        default:
            return Glob.match(ByteView(start, n), subject)
        }
    }
}

struct ACLCompiledUser {
    var selectors: UnsafeMutablePointer<ACLCompiledSelector>
    var count: Int
}

struct ACLCompiledUsers: ~Copyable {
    private(set) var users: UnsafeMutablePointer<ACLCompiledUser?>
    private(set) var capacity: Int

    init() {
        capacity = 8
        users = .allocate(capacity: capacity)
        users.initialize(repeating: nil, count: capacity)
    }

    deinit {
        for i in 0..<capacity { Self.free(users[i]) }
        users.deallocate()
    }

    @inline(__always)
    subscript(_ index: Int) -> ACLCompiledUser? {
        index >= 0 && index < capacity ? users[index] : nil
    }

    /// Compiles `user` into slot `index` (nil: the slot is free), replacing what was there.
    mutating func set(_ index: Int, _ user: ACLUser?, words: Int) {
        if index >= capacity {
            var grown = capacity
            while grown <= index { grown *= 2 }
            let bigger = UnsafeMutablePointer<ACLCompiledUser?>.allocate(capacity: grown)
            bigger.initialize(repeating: nil, count: grown)
            bigger.moveInitialize(from: users, count: capacity)
            users.deallocate()
            users = bigger
            capacity = grown
        }
        Self.free(users[index])
        users[index] = user.map { Self.compile($0, words: words) }
    }

    static func compile(_ user: ACLUser, words: Int) -> ACLCompiledUser {
        let out = UnsafeMutablePointer<ACLCompiledSelector>.allocate(capacity: user.selectors.count)
        for (i, s) in user.selectors.enumerated() {
            let bitmap = UnsafeMutablePointer<UInt64>.allocate(capacity: words)
            for w in 0..<words { bitmap[w] = w < s.allowed.count ? s.allowed[w] : 0 }
            let total = s.keys.reduce(0) { $0 + $1.pattern.count } + s.channels.reduce(0) { $0 + $1.count }
            let bytes = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, total))
            var used = 0
            func add(_ pattern: [UInt8], _ access: ACLKeyAccess) -> ACLCompiledPattern {
                pattern.withUnsafeBufferPointer { b in
                    if let base = b.baseAddress { (bytes + used).update(from: base, count: b.count) }
                }
                let special = pattern.contains { $0 == UInt8(ascii: "*") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "[") || $0 == UInt8(ascii: "\\") }
                let prefixStar = pattern.last == UInt8(ascii: "*") && !pattern.dropLast().contains {
                    $0 == UInt8(ascii: "*") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "[") || $0 == UInt8(ascii: "\\")
                }
                let shape: UInt8 = !special ? 1 : prefixStar ? 2 : 0
                let p = ACLCompiledPattern(offset: Int32(used), length: Int32(shape == 2 ? pattern.count - 1 : pattern.count),
                                           access: access, shape: shape)
                used += pattern.count
                return p
            }
            let keys = UnsafeMutablePointer<ACLCompiledPattern>.allocate(capacity: max(1, s.keys.count))
            for (j, k) in s.keys.enumerated() { (keys + j).initialize(to: add(k.pattern, k.access)) }
            let channels = UnsafeMutablePointer<ACLCompiledPattern>.allocate(capacity: max(1, s.channels.count))
            for (j, ch) in s.channels.enumerated() { (channels + j).initialize(to: add(ch, .all)) }
            (out + i).initialize(to: ACLCompiledSelector(
                flags: s.flags, hasFirstArgs: !s.firstArgs.isEmpty, bitmap: bitmap, keys: keys, keyCount: s.keys.count,
                channels: channels, channelCount: s.channels.count, bytes: bytes))
        }
        return ACLCompiledUser(selectors: out, count: user.selectors.count)
    }

    static func free(_ user: ACLCompiledUser?) {
        guard let user else { return }
        for i in 0..<user.count {
            let s = user.selectors[i]
            s.bitmap.deallocate()
            s.keys.deallocate()
            s.channels.deallocate()
            s.bytes.deallocate()
        }
        user.selectors.deallocate()
    }
}
