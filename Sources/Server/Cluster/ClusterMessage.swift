/*
 * ClusterMessage: the cluster bus's binary messages, byte for byte as Redis 7.0 writes them, so
 * Tandem and redis-server nodes gossip with each other.
 *
 * Every message starts with a 2,256-byte header: the signature "RCmb", the total length, the
 * protocol version (1), the sender's ports, the message type and gossip count, its epochs and
 * replication offset, its name, the slots it (or its master) serves as a 16,384-bit map (slot N
 * is bit N & 7 of byte N >> 3), its master's name, its announced IP, the ping-extension count,
 * flags, cluster state and message flags. Multi-byte integers are big-endian. The body follows:
 * 104-byte gossip entries (PING, PONG, MEET) and then ping extensions (7.0 has one: the
 * hostname), a node name (FAIL), an epoch, a name and a slot map (UPDATE), or a channel and a
 * message (PUBLISH, PUBLISHSHARD). Voting messages are the header alone.
 *
 * This file only encodes and decodes; ClusterBus.swift moves the bytes and ClusterGossip.swift
 * acts on them. Decoding checks every length before reading, so a malformed message is
 * rejected, never read past its end.
 */
import Keyspace

enum ClusterMessageType: UInt16 {
    case ping = 0, pong, meet, fail, publish, failoverAuthRequest, failoverAuthAck, update, mfstart, module, publishShard
}

/// mflags[0] bits.
enum ClusterMessageFlag {
    static let paused: UInt8 = 1
    static let forceAck: UInt8 = 2
    static let extensionData: UInt8 = 4
}

struct ClusterGossipEntry {
    var name: String
    var pingSentSeconds: UInt32
    var pongReceivedSeconds: UInt32
    var ip: String
    var port: UInt16
    var busPort: UInt16
    var flags: UInt16
    var plaintextPort: UInt16
}

/// One decoded message: the header's fields and whichever body its type has.
struct ClusterMessage {
    static let headerSize = 2256
    static let gossipSize = 104
    static let slotBytes = HashSlot.count / 8

    var type: UInt16 = 0
    var port: UInt16 = 0
    var currentEpoch: UInt64 = 0
    var configEpoch: UInt64 = 0
    var offset: UInt64 = 0
    var sender = ""
    var slots = [UInt8](repeating: 0, count: slotBytes)
    /// The sender's master ("" for a master: all zero bytes on the wire).
    var master = ""
    var ip = ""
    var plaintextPort: UInt16 = 0
    var busPort: UInt16 = 0
    var flags: UInt16 = 0
    var state: UInt8 = 0
    var messageFlags: UInt8 = 0
    // Bodies.
    var gossip: [ClusterGossipEntry] = []
    var hostname: String? = nil
    /// FAIL's node; UPDATE's node.
    var about = ""
    var updateEpoch: UInt64 = 0
    var updateSlots: [UInt8] = []
    var channel: [UInt8] = []
    var payload: [UInt8] = []

    func hasSlot(_ s: Int) -> Bool { slots[s >> 3] & (1 << UInt8(s & 7)) != 0 }

    // MARK: - Encoding

    /// The message's bytes, with the header's total length filled in.
    func encoded() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Self.headerSize)
        out.replaceSubrange(0..<4, with: Array("RCmb".utf8))
        Self.put16(&out, 8, 1)
        Self.put16(&out, 10, port)
        Self.put16(&out, 12, type)
        Self.put16(&out, 14, UInt16(gossip.count))
        Self.put64(&out, 16, currentEpoch)
        Self.put64(&out, 24, configEpoch)
        Self.put64(&out, 32, offset)
        Self.putText(&out, 40, sender, max: 40)
        out.replaceSubrange(80..<(80 + Self.slotBytes), with: slots)
        Self.putText(&out, 2128, master, max: 40)
        Self.putText(&out, 2168, ip, max: 45)
        Self.put16(&out, 2246, plaintextPort)
        Self.put16(&out, 2248, busPort)
        Self.put16(&out, 2250, flags)
        out[2252] = state
        var mflags = messageFlags
        switch ClusterMessageType(rawValue: type) {
        case .ping, .pong, .meet:
            for g in gossip { out += Self.encodeGossip(g) }
            if let hostname, !hostname.isEmpty {
                mflags |= ClusterMessageFlag.extensionData
                Self.put16(&out, 2214, 1)
                let padded = (hostname.utf8.count + 1 + 7) & ~7
                var ext = [UInt8](repeating: 0, count: 8 + padded)
                Self.put32(&ext, 0, UInt32(ext.count))
                ext.replaceSubrange(8..<(8 + hostname.utf8.count), with: Array(hostname.utf8))
                out += ext
            }
        case .fail:
            var name = [UInt8](repeating: 0, count: 40)
            Self.putText(&name, 0, about, max: 40)
            out += name
        case .update:
            var body = [UInt8](repeating: 0, count: 8 + 40)
            Self.put64(&body, 0, updateEpoch)
            Self.putText(&body, 8, about, max: 40)
            out += body + updateSlots
        case .publish, .publishShard:
            var lengths = [UInt8](repeating: 0, count: 8)
            Self.put32(&lengths, 0, UInt32(channel.count))
            Self.put32(&lengths, 4, UInt32(payload.count))
            out += lengths + channel + payload
        default:
            break
        }
        out[2253] = mflags
        Self.put32(&out, 4, UInt32(out.count))
        return out
    }

    static func encodeGossip(_ g: ClusterGossipEntry) -> [UInt8] {
        var e = [UInt8](repeating: 0, count: gossipSize)
        putText(&e, 0, g.name, max: 40)
        put32(&e, 40, g.pingSentSeconds)
        put32(&e, 44, g.pongReceivedSeconds)
        putText(&e, 48, g.ip, max: 45)
        put16(&e, 94, g.port)
        put16(&e, 96, g.busPort)
        put16(&e, 98, g.flags)
        put16(&e, 100, g.plaintextPort)
        return e
    }

    // MARK: - Decoding

    /// Decodes a whole message (its length already checked against the header's totlen); nil
    /// when its length does not match its type, as Redis's clusterIsValidPacket (the message is
    /// then ignored, the link kept).
    static func decode(_ b: UnsafeRawBufferPointer) -> ClusterMessage? {
        let total = b.count
        guard total >= headerSize, get16(b, 8) == 1 else { return nil }
        var m = ClusterMessage()
        m.type = get16(b, 12)
        let count = Int(get16(b, 14))
        m.port = get16(b, 10)
        m.currentEpoch = get64(b, 16)
        m.configEpoch = get64(b, 24)
        m.offset = get64(b, 32)
        m.sender = getText(b, 40, 40)
        m.slots = Array(b[80..<(80 + slotBytes)])
        m.master = getText(b, 2128, 40)
        m.ip = getText(b, 2168, 46)
        let extensions = Int(get16(b, 2214))
        m.plaintextPort = get16(b, 2246)
        m.busPort = get16(b, 2248)
        m.flags = get16(b, 2250)
        m.state = b[2252]
        m.messageFlags = b[2253]
        switch ClusterMessageType(rawValue: m.type) {
        case .ping, .pong, .meet:
            var at = headerSize + count * gossipSize
            guard at <= total else { return nil }
            for i in 0..<count {
                let o = headerSize + i * gossipSize
                m.gossip.append(ClusterGossipEntry(
                    name: getText(b, o, 40), pingSentSeconds: get32(b, o + 40), pongReceivedSeconds: get32(b, o + 44),
                    ip: getText(b, o + 48, 46), port: get16(b, o + 94), busPort: get16(b, o + 96), flags: get16(b, o + 98),
                    plaintextPort: get16(b, o + 100)))
            }
            if m.messageFlags & ClusterMessageFlag.extensionData != 0 {
                for _ in 0..<extensions {
                    guard at + 8 <= total else { return nil }
                    let length = Int(get32(b, at))
                    guard length >= 8, length % 8 == 0, at + length <= total else { return nil }
                    if get16(b, at + 4) == 0 { m.hostname = getText(b, at + 8, length - 8) }
                    at += length
                }
            }
            guard at == total else { return nil }
        case .fail:
            guard total == headerSize + 40 else { return nil }
            m.about = getText(b, headerSize, 40)
        case .update:
            guard total == headerSize + 48 + slotBytes else { return nil }
            m.updateEpoch = get64(b, headerSize)
            m.about = getText(b, headerSize + 8, 40)
            m.updateSlots = Array(b[(headerSize + 48)..<total])
        case .publish, .publishShard:
            guard total >= headerSize + 8 else { return nil }
            let channelLength = Int(get32(b, headerSize)), messageLength = Int(get32(b, headerSize + 4))
            guard total == headerSize + 8 + channelLength + messageLength else { return nil }
            m.channel = Array(b[(headerSize + 8)..<(headerSize + 8 + channelLength)])
            m.payload = Array(b[(headerSize + 8 + channelLength)..<total])
        case .failoverAuthRequest, .failoverAuthAck, .mfstart:
            guard total == headerSize else { return nil }
        case .module:
            guard total >= headerSize + 13, total == headerSize + 13 + Int(get32(b, headerSize + 8)) else { return nil }
        case nil:
            break  // an unknown type: accepted as it is and ignored, as Redis
        }
        return m
    }

    // MARK: - Fields

    static func put16(_ a: inout [UInt8], _ at: Int, _ v: UInt16) {
        a[at] = UInt8(v >> 8)
        a[at + 1] = UInt8(v & 0xFF)
    }

    static func put32(_ a: inout [UInt8], _ at: Int, _ v: UInt32) {
        for i in 0..<4 { a[at + i] = UInt8(truncatingIfNeeded: v >> UInt32(24 - 8 * i)) }
    }

    static func put64(_ a: inout [UInt8], _ at: Int, _ v: UInt64) {
        for i in 0..<8 { a[at + i] = UInt8(truncatingIfNeeded: v >> UInt64(56 - 8 * i)) }
    }

    /// A string field: its bytes, at most `max`, zero padded (the buffer is zeroed).
    static func putText(_ a: inout [UInt8], _ at: Int, _ s: String, max: Int) {
        for (i, byte) in s.utf8.prefix(max).enumerated() { a[at + i] = byte }
    }

    static func get16(_ b: UnsafeRawBufferPointer, _ at: Int) -> UInt16 { UInt16(b[at]) << 8 | UInt16(b[at + 1]) }

    static func get32(_ b: UnsafeRawBufferPointer, _ at: Int) -> UInt32 {
        (0..<4).reduce(0) { $0 << 8 | UInt32(b[at + $1]) }
    }

    static func get64(_ b: UnsafeRawBufferPointer, _ at: Int) -> UInt64 {
        (0..<8).reduce(0) { $0 << 8 | UInt64(b[at + $1]) }
    }

    /// A fixed-size string field up to its first zero byte.
    static func getText(_ b: UnsafeRawBufferPointer, _ at: Int, _ size: Int) -> String {
        var n = 0
        while n < size && b[at + n] != 0 { n += 1 }
        return String(decoding: UnsafeRawBufferPointer(rebasing: b[at..<(at + n)]), as: UTF8.self)
    }
}
