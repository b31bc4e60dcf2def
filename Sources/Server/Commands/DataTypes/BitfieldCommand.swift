/*
 * BITFIELD and BITFIELD_RO — Redis 7.0's bitfieldGeneric: integers of 1 to 64 bits (unsigned:
 * 63) at any bit offset of a string, read, set and incremented in one command.
 *
 * The arguments are walked twice instead of being parsed into a list: the first walk checks
 * every operation (an error replies before anything runs, as in Redis), counts the replies
 * and finds the highest bit a write touches; the second runs them in order. Nothing is
 * allocated per operation.
 *
 * Overflow (OVERFLOW WRAP|SAT|FAIL, WRAP by default, applying to the operations after it) is
 * decided on the exact result, computed in 128 bits: above the type's maximum or below its
 * minimum is an overflow. WRAP keeps the low bits (sign-extended for signed types), SAT
 * clamps, FAIL replies null and writes nothing. SET goes through the same check with its value
 * as the result (an unsigned SET of a negative value overflows, as in Redis, where it is cast).
 */
import Keyspace
import Platform
import RESP

/// One BITFIELD operation, as the argument walk finds it.
struct BitfieldOperation {
    enum Kind { case get, set, incrby, overflow }
    var kind: Kind
    var type = BitfieldType(signed: false, bits: 0)
    var offset = 0
    /// SET's value or INCRBY's increment.
    var value: Int64 = 0
    var overflow = BitfieldOverflow.wrap
    /// Arguments it took, its name included.
    var width: Int
}

extension Server {
    /// BITFIELD key [GET type offset] [SET type offset value] [INCRBY type offset increment]
    /// [OVERFLOW WRAP|SAT|FAIL] ...; BITFIELD_RO key [GET type offset] ...
    mutating func bitfieldCommand(_ c: ClientRef, readOnly: Bool) {
        let argc = c.pointee.argc
        // First walk: check everything, count the replies, find the highest bit written.
        var replies = 0, writes = false, highestBit = 0
        var i = 2
        while i < argc {
            guard let op = nextBitfieldOperation(c, at: i) else { return }
            if readOnly && (op.kind == .set || op.kind == .incrby) {
                addError(c, "-ERR BITFIELD_RO only supports the GET subcommand\r\n")
                return
            }
            if op.kind != .overflow { replies += 1 }
            if op.kind == .set || op.kind == .incrby {
                writes = true
                highestBit = max(highestBit, op.offset + op.type.bits - 1)
            }
            i += op.width
        }
        var scratch = (UInt64(0), UInt64(0), UInt64(0))
        withUnsafeMutableBytes(of: &scratch) { raw in
            let key = c.pointee.arg(1)
            var bytes: UnsafeMutablePointer<UInt8>
            var length: Int
            var grew = false
            if writes {
                guard let (e, created) = bitmapForWrite(c, key, bytes: highestBit >> 3 + 1) else { return }
                grew = created
                bytes = e.mutableStringBytes
                length = Int(e.payload)
            } else {
                let s = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
                guard let view = bitmapForRead(c, key, s) else { return }
                bytes = UnsafeMutablePointer(mutating: view.base)
                length = view.count
            }
            // Second walk: run them in order.
            c.pointee.reply.appendArrayHeader(replies)
            var changes = 0
            var overflow = BitfieldOverflow.wrap
            var i = 2
            while i < argc {
                var op = nextBitfieldOperation(c, at: i, replyErrors: false)!
                i += op.width
                switch op.kind {
                case .overflow:
                    overflow = op.overflow
                case .get:
                    let v = Self.readBitfield(bytes, length, op.offset, op.type)
                    c.pointee.reply.appendInteger(v)
                case .set, .incrby:
                    op.overflow = overflow
                    let old = Self.readBitfield(bytes, length, op.offset, op.type)
                    let target = op.kind == .set ? (op.value, Int64(0)) : (old, op.value)
                    guard let result = Self.bitfieldResult(target.0, plus: target.1, op.type, op.overflow) else {
                        addNull(c)
                        continue
                    }
                    Self.writeBitfield(bytes, op.offset, op.type, result)
                    c.pointee.reply.appendInteger(op.kind == .set ? old : result)
                    // A SET that changes nothing is no change, unless the string was made or
                    // grew for this command; an INCRBY always is (as Redis counts them).
                    if op.kind == .incrby || grew || result != old { changes += 1 }
                }
            }
            if changes > 0 {
                keyModified(c.pointee.db, key)
                notifyKeyspaceEvent(.string, "setbit", key, c.pointee.db)
                dirty += Int64(changes)
            }
        }
    }

    /// The operation whose name is argument `i`; nil after replying its error (or, without
    /// `replyErrors`, for arguments already checked).
    mutating func nextBitfieldOperation(_ c: ClientRef, at i: Int, replyErrors: Bool = true) -> BitfieldOperation? {
        let argc = c.pointee.argc
        let name = c.pointee.arg(i)
        let left = argc - i - 1
        if name.equalsLowercase("overflow") && left >= 1 {
            let mode = c.pointee.arg(i + 1)
            var op = BitfieldOperation(kind: .overflow, width: 2)
            if mode.equalsLowercase("wrap") {
                op.overflow = .wrap
            } else if mode.equalsLowercase("sat") {
                op.overflow = .sat
            } else if mode.equalsLowercase("fail") {
                op.overflow = .fail
            } else {
                if replyErrors { addError(c, "-ERR Invalid OVERFLOW type specified\r\n") }
                return nil
            }
            return op
        }
        var op: BitfieldOperation
        if name.equalsLowercase("get") && left >= 2 {
            op = BitfieldOperation(kind: .get, width: 3)
        } else if name.equalsLowercase("set") && left >= 3 {
            op = BitfieldOperation(kind: .set, width: 4)
        } else if name.equalsLowercase("incrby") && left >= 3 {
            op = BitfieldOperation(kind: .incrby, width: 4)
        } else {
            if replyErrors { addSyntaxError(c) }
            return nil
        }
        guard let type = Self.parseBitfieldType(c.pointee.arg(i + 1)) else {
            if replyErrors {
                addError(c, "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n")
            }
            return nil
        }
        op.type = type
        if replyErrors {
            guard let offset = parseBitOffset(c, c.pointee.arg(i + 2), width: type.bits) else { return nil }
            op.offset = offset
        } else {
            // Checked by the first walk: the same arithmetic, without the reply.
            let a = c.pointee.arg(i + 2)
            let hash = a.count > 0 && a[0] == UInt8(ascii: "#")
            let n = Int((hash ? ByteView(a.base + 1, a.count - 1) : a).int64 ?? 0)
            op.offset = hash ? n * type.bits : n
        }
        if op.kind != .get {
            guard let value = c.pointee.arg(i + 3).int64 else {
                if replyErrors { addNotInteger(c) }
                return nil
            }
            op.value = value
        }
        return op
    }

    /// `i8`, `u16`, ... (lowercase, as Redis): signed up to 64 bits, unsigned up to 63.
    static func parseBitfieldType(_ arg: ByteView) -> BitfieldType? {
        guard arg.count >= 2 else { return nil }
        let letter = arg[0]
        guard letter == UInt8(ascii: "i") || letter == UInt8(ascii: "u"),
              let bits = ByteView(arg.base + 1, arg.count - 1).int64 else { return nil }
        let signed = letter == UInt8(ascii: "i")
        guard bits >= 1 && bits <= (signed ? 64 : 63) else { return nil }
        return BitfieldType(signed: signed, bits: Int(bits))
    }

    /// The integer at bit `offset` of a string of `length` bytes (bits past the end read 0).
    static func readBitfield(_ p: UnsafePointer<UInt8>, _ length: Int, _ offset: Int, _ type: BitfieldType) -> Int64 {
        var v: UInt64 = 0
        for bit in offset..<(offset + type.bits) {
            let byte = bit >> 3
            let on = byte < length && p[byte] & (UInt8(0x80) >> UInt8(bit & 7)) != 0
            v = v << 1 | (on ? 1 : 0)
        }
        if type.signed && type.bits < 64 && v & (1 << UInt64(type.bits - 1)) != 0 {
            v |= ~0 << UInt64(type.bits)
        }
        return Int64(bitPattern: v)
    }

    /// Writes the low `type.bits` bits of `value` at bit `offset` (the string holds them).
    static func writeBitfield(_ p: UnsafeMutablePointer<UInt8>, _ offset: Int, _ type: BitfieldType, _ value: Int64) {
        let v = UInt64(bitPattern: value)
        for k in 0..<type.bits {
            let bit = offset + k
            let mask = UInt8(0x80) >> UInt8(bit & 7)
            let on = (v >> UInt64(type.bits - 1 - k)) & 1 != 0
            p[bit >> 3] = on ? p[bit >> 3] | mask : p[bit >> 3] & ~mask
        }
    }

    /// `value + increment` in `type` under the overflow mode; nil when it overflows under FAIL.
    static func bitfieldResult(_ value: Int64, plus increment: Int64, _ type: BitfieldType, _ mode: BitfieldOverflow) -> Int64? {
        let bits = type.bits
        // Unsigned values are the bit pattern (an unsigned SET of -1 is 2^64-1, as Redis casts).
        let exact = type.signed ? Int128(value) + Int128(increment) : Int128(UInt64(bitPattern: value)) + Int128(increment)
        let maximum: Int128 = type.signed ? (Int128(1) << (bits - 1)) - 1 : (Int128(1) << bits) - 1
        let minimum: Int128 = type.signed ? -(Int128(1) << (bits - 1)) : 0
        if exact >= minimum && exact <= maximum { return Int64(exact) }
        switch mode {
        case .fail:
            return nil
        case .sat:
            return Int64(exact > maximum ? maximum : minimum)
        case .wrap:
            let wrapped = UInt64(truncatingIfNeeded: exact)
            if bits == 64 { return Int64(bitPattern: wrapped) }
            let low = wrapped & ((1 << UInt64(bits)) - 1)
            let negative = type.signed && low & (1 << UInt64(bits - 1)) != 0
            return Int64(bitPattern: negative ? low | ~0 << UInt64(bits) : low)
        }
    }
}
