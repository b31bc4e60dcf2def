/*
 * KeyspaceEvents: keyspace notifications (notify-keyspace-events) — Redis's notify.c.
 *
 * Commands announce what they did to a key with `notifyKeyspaceEvent(class, event, key,
 * db)`, at the points Redis 7.0 does and in its order (a list's "lpop" before the "del" of
 * the emptied key, "new" from the keyspace insertion before the command's own event). When
 * the event's class is enabled the server publishes, like a PUBLISH, on
 *
 *   __keyspace@<db>__:<key>    the event name     (class K)
 *   __keyevent@<db>__:<event>  the key name       (class E)
 *
 * so RESP3 subscribers get push frames and pattern subscribers match as usual. The test
 * for "is this class enabled" is one AND on a parsed bitmask in the settings; nothing is
 * built when nobody enabled notifications. Notifications are not replicated: a replica
 * fires its own for the commands it applies (and "expired" for the keys it expires itself).
 */
import Keyspace
import Platform

/// notify-keyspace-events classes, parsed and printed as Redis 7.0 does
/// (keyspaceEventsStringToFlags / keyspaceEventsFlagsToString).
struct KeyspaceEventFlags: OptionSet, CustomStringConvertible {
    let rawValue: UInt16
    static let keyspace = Self(rawValue: 1 << 0)   // K
    static let keyevent = Self(rawValue: 1 << 1)   // E
    static let generic = Self(rawValue: 1 << 2)    // g
    static let string = Self(rawValue: 1 << 3)     // $
    static let list = Self(rawValue: 1 << 4)       // l
    static let set = Self(rawValue: 1 << 5)        // s
    static let hash = Self(rawValue: 1 << 6)       // h
    static let zset = Self(rawValue: 1 << 7)       // z
    static let expired = Self(rawValue: 1 << 8)    // x
    static let evicted = Self(rawValue: 1 << 9)    // e
    static let stream = Self(rawValue: 1 << 10)    // t
    static let keyMiss = Self(rawValue: 1 << 11)   // m
    static let module = Self(rawValue: 1 << 12)    // d
    static let newKey = Self(rawValue: 1 << 13)    // n
    /// What "A" stands for (neither key misses nor new keys, as in Redis).
    static let all: Self = [.generic, .string, .list, .set, .hash, .zset, .expired, .evicted, .stream, .module]

    init(rawValue: UInt16) { self.rawValue = rawValue }

    init?(parsing text: String) {
        var flags: Self = []
        for ch in text.utf8 {
            switch ch {
            case UInt8(ascii: "A"): flags.formUnion(.all)
            case UInt8(ascii: "g"): flags.insert(.generic)
            case UInt8(ascii: "$"): flags.insert(.string)
            case UInt8(ascii: "l"): flags.insert(.list)
            case UInt8(ascii: "s"): flags.insert(.set)
            case UInt8(ascii: "h"): flags.insert(.hash)
            case UInt8(ascii: "z"): flags.insert(.zset)
            case UInt8(ascii: "x"): flags.insert(.expired)
            case UInt8(ascii: "e"): flags.insert(.evicted)
            case UInt8(ascii: "K"): flags.insert(.keyspace)
            case UInt8(ascii: "E"): flags.insert(.keyevent)
            case UInt8(ascii: "t"): flags.insert(.stream)
            case UInt8(ascii: "m"): flags.insert(.keyMiss)
            case UInt8(ascii: "d"): flags.insert(.module)
            case UInt8(ascii: "n"): flags.insert(.newKey)
            default: return nil
            }
        }
        self = flags
    }

    var description: String {
        var out = ""
        if isSuperset(of: .all) {
            out = "A"
        } else {
            let letters: [(Self, Character)] = [(.generic, "g"), (.string, "$"), (.list, "l"), (.set, "s"),
                                                (.hash, "h"), (.zset, "z"), (.expired, "x"), (.evicted, "e"),
                                                (.stream, "t"), (.module, "d"), (.newKey, "n")]
            for (flag, ch) in letters where contains(flag) { out.append(ch) }
        }
        if contains(.keyspace) { out.append("K") }
        if contains(.keyevent) { out.append("E") }
        if contains(.keyMiss) { out.append("m") }
        return out
    }
}

extension Server {
    /// Announces `event` on `key` of `db` if its class is enabled (Redis's
    /// notifyKeyspaceEvent). `key` may point into an entry: it is read before this returns.
    @inline(__always)
    mutating func notifyKeyspaceEvent(_ type: KeyspaceEventFlags, _ event: StaticString, _ key: ByteView, _ db: Int) {
        if settings.keyspaceEvents.rawValue & type.rawValue == 0 { return }
        publishKeyspaceEvent(event, key, db)
    }

    /// The publishing half, out of the hot path.
    @inline(never)
    mutating func publishKeyspaceEvent(_ event: StaticString, _ key: ByteView, _ db: Int) {
        let flags = settings.keyspaceEvents
        let eventView = ByteView(event)
        if flags.contains(.keyspace) {
            var channel = Array("__keyspace@\(db)__:".utf8)
            channel.append(contentsOf: UnsafeBufferPointer(start: key.base, count: key.count))
            channel.withUnsafeBufferPointer { b in
                _ = publish(channel: ByteView(b.baseAddress!, b.count), message: eventView)
            }
        }
        if flags.contains(.keyevent) {
            var channel = Array("__keyevent@\(db)__:".utf8)
            channel.append(contentsOf: UnsafeBufferPointer(start: eventView.base, count: eventView.count))
            channel.withUnsafeBufferPointer { b in
                _ = publish(channel: ByteView(b.baseAddress!, b.count), message: key)
            }
        }
    }
}
