/*
 * Bitmap commands — Redis 7.0's bitops.c, replies and errors byte for byte: SETBIT GETBIT
 * BITCOUNT BITPOS BITOP BITFIELD BITFIELD_RO.
 *
 * A bitmap is a string: bit 0 is the most significant bit of byte 0, a bit past the end reads
 * as 0, and a write past the end zero-extends the string (Redis's lookupStringForBitCommand,
 * here `bitmapForWrite`), growing greedily so a bitmap filled from offset 0 upwards is not
 * copied on every write. Offsets are limited to proto-max-bulk-len bytes (512 MB).
 *
 * The loops over whole strings — counting, searching, BITOP — run a word at a time in C
 * (CTandem/bitops.c, POPCNT where the CPU has it); what stays here is Redis's argument
 * handling and range arithmetic, whose corner cases (negative indexes, BIT ranges, BITPOS's
 * "zero padded to the right unless an end was given") decide observable replies.
 *
 * What is propagated and counted as a change follows Redis: SETBIT only when the string was
 * created, grew or the bit changed; BITFIELD by the number of INCRBYs it applied and of SETs
 * that changed a value or came with a created or grown string (a BITFIELD of GETs, or whose
 * writes all FAILed, is not propagated — even when the key was created, as in Redis); BITOP always, as a store, or as the deletion of its destination when
 * every source is empty.
 */
import CTandem
import Keyspace
import Platform
import RESP

enum BitmapCommand: UInt8 {
    case setbit, getbit, bitcount, bitpos, bitop, bitfield, bitfieldRO
}

enum BitmapCommands {
    static let k1 = CommandTable.k1

    static let specs: [CommandSpec] = [
        .init("setbit", .bitmaps(.setbit), 4, [.write, .denyoom], keys: k1, "bitmap", "2.2.0",
              "Sets or clears the bit at offset in the string value stored at key"),
        .init("getbit", .bitmaps(.getbit), 3, [.readonly, .fast], keys: k1, "bitmap", "2.2.0",
              "Returns the bit value at offset in the string value stored at key"),
        .init("bitcount", .bitmaps(.bitcount), -2, [.readonly], keys: k1, "bitmap", "2.6.0", "Count set bits in a string"),
        .init("bitpos", .bitmaps(.bitpos), -3, [.readonly], keys: k1, "bitmap", "2.8.7", "Find first bit set or clear in a string"),
        .init("bitop", .bitmaps(.bitop), -4, [.write, .denyoom], keys: (2, -1, 1), "bitmap", "2.6.0",
              "Perform bitwise operations between strings"),
        .init("bitfield", .bitmaps(.bitfield), -2, [.write, .denyoom], keys: k1, "bitmap", "3.2.0",
              "Perform arbitrary bitfield integer operations on strings"),
        .init("bitfield_ro", .bitmaps(.bitfieldRO), -2, [.readonly, .fast], keys: k1, "bitmap", "6.0.0",
              "Perform arbitrary bitfield integer operations on strings. Read-only variant of BITFIELD"),
    ]

    /// True when a BITFIELD only reads (GET and OVERFLOW): its key needs read access only (ACL,
    /// COMMAND GETKEYSANDFLAGS), as Redis's bitfieldGetKeys says.
    static func bitfieldOnlyReads(argc: Int, arg: (Int) -> ByteView) -> Bool {
        var i = 2
        while i < argc {
            let sub = arg(i)
            if sub.equalsLowercase("get") {
                i += 3
            } else if sub.equalsLowercase("overflow") {
                i += 2
            } else if sub.equalsLowercase("set") || sub.equalsLowercase("incrby") {
                return false
            } else {
                i += 1
            }
        }
        return true
    }
}

/// A BITFIELD integer type: signed or not, 1 to 64 bits (unsigned: 63).
struct BitfieldType {
    var signed: Bool
    var bits: Int
}

enum BitfieldOverflow { case wrap, sat, fail }

extension Server {
    static let bitOffsetError: StaticString = "-ERR bit offset is not an integer or out of range\r\n"

    mutating func bitmapCommand(_ c: ClientRef, _ id: BitmapCommand) {
        switch id {
        case .setbit: setbitCommand(c)
        case .getbit: getbitCommand(c)
        case .bitcount: bitcountCommand(c)
        case .bitpos: bitposCommand(c)
        case .bitop: bitopCommand(c)
        case .bitfield: bitfieldCommand(c, readOnly: false)
        case .bitfieldRO: bitfieldCommand(c, readOnly: true)
        }
    }

    // MARK: - Shared pieces

    /// A bit offset argument (Redis's getBitOffsetFromArgument): a non-negative integer whose
    /// byte fits proto-max-bulk-len; for BITFIELD (`width` > 0) also `#n`, meaning n * width.
    /// Replies the error and returns nil otherwise.
    mutating func parseBitOffset(_ c: ClientRef, _ arg: ByteView, width: Int = 0) -> Int? {
        let hash = width > 0 && arg.count > 0 && arg[0] == UInt8(ascii: "#")
        let digits = hash ? ByteView(arg.base + 1, arg.count - 1) : arg
        guard var offset = digits.int64 else {
            addError(c, Self.bitOffsetError)
            return nil
        }
        if hash {
            let (product, overflow) = offset.multipliedReportingOverflow(by: Int64(width))
            offset = overflow ? -1 : product
        }
        if offset < 0 || (!servingMaster && offset >> 3 >= Int64(settings.protoMaxBulkLen)) {
            addError(c, Self.bitOffsetError)
            return nil
        }
        return Int(offset)
    }

    /// The string at `key` made at least `bytes` long for a bit write (Redis's
    /// lookupStringForBitCommand): created zero-filled when missing, zero-extended when
    /// shorter, unshared (raw) always. Returns the entry and whether it was created or grew;
    /// nil after replying WRONGTYPE.
    mutating func bitmapForWrite(_ c: ClientRef, _ key: ByteView, bytes: Int) -> (Entry, grew: Bool)? {
        let db = c.pointee.db
        guard let slot = lookupSlot(db, key) else {
            let e = Entry.allocate(key: key, valueCapacity: bytes)
            e.type = .string
            e.encoding = .raw
            e.payload = Int64(bytes)
            memset(e.mutableStringBytes, 0, bytes)
            e.lru = newEntryLRU
            addKey(db, e)
            return (e, true)
        }
        let old = Entry(slot.pointee!)
        if old.type != .string {
            addWrongType(c)
            return nil
        }
        let length = old.encoding == .int ? IntFormat.digits(old.payload) : Int(old.payload)
        if old.encoding == .raw && length >= bytes { return (old, false) }
        return (unshareString(db, slot, capacity: max(length, bytes), greedy: true), bytes > length)
    }

    /// What a read of a bitmap found.
    enum BitmapRead {
        case missing
        /// Not a string: WRONGTYPE was replied.
        case replied
        case found(ByteView)
    }

    /// The string at `key` for reading; an int encoding is formatted into `scratch` (24 bytes).
    mutating func readBitmap(_ c: ClientRef, _ key: ByteView, _ scratch: UnsafeMutablePointer<UInt8>) -> BitmapRead {
        guard let e = lookupRead(c, key) else { return .missing }
        if e.type != .string {
            addWrongType(c)
            return .replied
        }
        return .found(stringBytes(e, scratch))
    }

    /// The bytes of the string at `key` for reading, or an empty view when missing; nil after
    /// replying WRONGTYPE.
    mutating func bitmapForRead(_ c: ClientRef, _ key: ByteView, _ scratch: UnsafeMutablePointer<UInt8>) -> ByteView? {
        switch readBitmap(c, key, scratch) {
        case .missing: return ByteView(scratch, 0)
        case .replied: return nil
        case .found(let s): return s
        }
    }

    // MARK: - SETBIT, GETBIT

    mutating func setbitCommand(_ c: ClientRef) {
        guard let offset = parseBitOffset(c, c.pointee.arg(2)) else { return }
        let value = c.pointee.arg(3)
        guard value.count == 1, value[0] == UInt8(ascii: "0") || value[0] == UInt8(ascii: "1") else {
            addError(c, "-ERR bit is not an integer or out of range\r\n")
            return
        }
        let on = value[0] == UInt8(ascii: "1")
        let key = c.pointee.arg(1)
        guard let (e, grew) = bitmapForWrite(c, key, bytes: offset >> 3 + 1) else { return }
        let byte = e.mutableStringBytes + offset >> 3
        let mask = UInt8(0x80) >> UInt8(offset & 7)
        let wasOn = byte.pointee & mask != 0
        if grew || wasOn != on {
            byte.pointee = on ? byte.pointee | mask : byte.pointee & ~mask
            dirty += 1
            keyModified(c.pointee.db, key)
            notifyKeyspaceEvent(.string, "setbit", key, c.pointee.db)
        }
        c.pointee.reply.append(wasOn ? ":1\r\n" as StaticString : ":0\r\n" as StaticString)
    }

    mutating func getbitCommand(_ c: ClientRef) {
        guard let offset = parseBitOffset(c, c.pointee.arg(2)) else { return }
        var scratch = (UInt64(0), UInt64(0), UInt64(0))
        withUnsafeMutableBytes(of: &scratch) { raw in
            guard let s = bitmapForRead(c, c.pointee.arg(1), raw.baseAddress!.assumingMemoryBound(to: UInt8.self)) else { return }
            let byte = offset >> 3
            let on = byte < s.count && s[byte] & (UInt8(0x80) >> UInt8(offset & 7)) != 0
            c.pointee.reply.append(on ? ":1\r\n" as StaticString : ":0\r\n" as StaticString)
        }
    }

    // MARK: - BITCOUNT, BITPOS

    /// A BYTE|BIT unit argument; nil after replying a syntax error.
    mutating func parseBitUnit(_ c: ClientRef, _ arg: ByteView) -> Bool? {
        if arg.equalsLowercase("bit") { return true }
        if arg.equalsLowercase("byte") { return false }
        addSyntaxError(c)
        return nil
    }

    /// Redis's range arithmetic for BITCOUNT/BITPOS: `start`/`end` (negative from the end) in
    /// bytes or bits over a string of `length` bytes, clamped. Returns the first and last bit
    /// of the range, or nil when it is empty.
    static func bitRange(start: Int64, end: Int64, length: Int, inBits: Bool) -> (first: Int, last: Int)? {
        let total = Int64(length) * (inBits ? 8 : 1)
        var start = start, end = end
        if start < 0 { start += total }
        if end < 0 { end += total }
        if start < 0 { start = 0 }
        if end < 0 { end = 0 }
        if end >= total { end = total - 1 }
        if start > end { return nil }
        return inBits ? (Int(start), Int(end)) : (Int(start) * 8, Int(end) * 8 + 7)
    }

    mutating func bitcountCommand(_ c: ClientRef) {
        let argc = c.pointee.argc
        var scratch = (UInt64(0), UInt64(0), UInt64(0))
        withUnsafeMutableBytes(of: &scratch) { raw in
            let s: ByteView
            switch readBitmap(c, c.pointee.arg(1), raw.baseAddress!.assumingMemoryBound(to: UInt8.self)) {
            case .missing:
                c.pointee.reply.append(":0\r\n" as StaticString)
                return
            case .replied: return
            case .found(let found): s = found
            }
            var range: (first: Int, last: Int)? = s.count > 0 ? (0, s.count * 8 - 1) : nil
            if argc == 4 || argc == 5 {
                guard let start = c.pointee.arg(2).int64, let end = c.pointee.arg(3).int64 else {
                    addNotInteger(c)
                    return
                }
                var inBits = false
                if argc == 5 {
                    guard let unit = parseBitUnit(c, c.pointee.arg(4)) else { return }
                    inBits = unit
                }
                // Both negative and backwards: empty, before any clamping (as Redis).
                range = start < 0 && end < 0 && start > end ? nil
                    : Self.bitRange(start: start, end: end, length: s.count, inBits: inBits)
            } else if argc != 2 {
                addSyntaxError(c)
                return
            }
            guard let (first, last) = range else {
                c.pointee.reply.append(":0\r\n" as StaticString)
                return
            }
            c.pointee.reply.appendInteger(Int64(Self.countBits(s, first: first, last: last)))
        }
    }

    /// Set bits from bit `first` to bit `last` (inclusive) of `s`.
    static func countBits(_ s: ByteView, first: Int, last: Int) -> UInt64 {
        let firstByte = first >> 3, lastByte = last >> 3
        var count = tandem_popcount(s.base + firstByte, lastByte - firstByte + 1)
        // Take out the bits of the edge bytes that lie outside the range.
        let headMask = ~(UInt8(0xFF) >> UInt8(first & 7))
        let tailMask = UInt8(0xFF) >> UInt8((last & 7) + 1)
        count -= UInt64((s[firstByte] & headMask).nonzeroBitCount)
        count -= UInt64((s[lastByte] & (last & 7 == 7 ? 0 : tailMask)).nonzeroBitCount)
        return count
    }

    mutating func bitposCommand(_ c: ClientRef) {
        let argc = c.pointee.argc
        guard let bitValue = c.pointee.arg(2).int64 else {
            addNotInteger(c)
            return
        }
        if bitValue != 0 && bitValue != 1 {
            addError(c, "-ERR The bit argument must be 1 or 0.\r\n")
            return
        }
        let lookingFor = bitValue == 1
        var scratch = (UInt64(0), UInt64(0), UInt64(0))
        withUnsafeMutableBytes(of: &scratch) { raw in
            let s: ByteView
            switch readBitmap(c, c.pointee.arg(1), raw.baseAddress!.assumingMemoryBound(to: UInt8.self)) {
            case .missing:
                // A missing key is an endless run of zeros.
                c.pointee.reply.appendInteger(lookingFor ? -1 : 0)
                return
            case .replied: return
            case .found(let found): s = found
            }
            var range: (first: Int, last: Int)? = s.count > 0 ? (0, s.count * 8 - 1) : nil
            var endGiven = false
            if argc >= 4 && argc <= 6 {
                guard let start = c.pointee.arg(3).int64 else {
                    addNotInteger(c)
                    return
                }
                var inBits = false
                if argc == 6 {
                    guard let unit = parseBitUnit(c, c.pointee.arg(5)) else { return }
                    inBits = unit
                }
                var end = inBits ? Int64(s.count) * 8 - 1 : Int64(s.count) - 1
                if argc >= 5 {
                    guard let given = c.pointee.arg(4).int64 else {
                        addNotInteger(c)
                        return
                    }
                    end = given
                    endGiven = true
                }
                range = Self.bitRange(start: start, end: end, length: s.count, inBits: inBits)
            } else if argc != 3 {
                addSyntaxError(c)
                return
            }
            guard let (first, last) = range else {
                c.pointee.reply.append(":-1\r\n" as StaticString)
                return
            }
            if let found = Self.findBit(s, lookingFor, first: first, last: last) {
                c.pointee.reply.appendInteger(Int64(found))
            } else if !lookingFor && !endGiven {
                // Without an explicit end the string reads as zero-padded to the right.
                c.pointee.reply.appendInteger(Int64(last + 1))
            } else {
                c.pointee.reply.append(":-1\r\n" as StaticString)
            }
        }
    }

    /// The first bit equal to `value` from bit `first` to `last` (inclusive) of `s`.
    static func findBit(_ s: ByteView, _ value: Bool, first: Int, last: Int) -> Int? {
        var bit = first
        // Bit by bit up to a byte boundary, whole bytes skipped in C, then bit by bit again.
        while bit <= last {
            if bit & 7 == 0 && bit + 7 <= last {
                let lastWholeByte = (last + 1) >> 3
                let byte = tandem_find_byte_not(s.base, bit >> 3, lastWholeByte, value ? 0x00 : 0xFF)
                if byte == lastWholeByte {
                    bit = byte << 3
                    continue
                }
                bit = byte << 3
                let b = value ? s[byte] : ~s[byte]
                return bit + b.leadingZeroBitCount
            }
            if (s[bit >> 3] & (UInt8(0x80) >> UInt8(bit & 7)) != 0) == value { return bit }
            bit += 1
        }
        return nil
    }

    // MARK: - BITOP

    mutating func bitopCommand(_ c: ClientRef) {
        let argc = c.pointee.argc
        let opName = c.pointee.arg(1)
        let op: Int32
        if opName.equalsLowercase("and") {
            op = Int32(TANDEM_BITOP_AND)
        } else if opName.equalsLowercase("or") {
            op = Int32(TANDEM_BITOP_OR)
        } else if opName.equalsLowercase("xor") {
            op = Int32(TANDEM_BITOP_XOR)
        } else if opName.equalsLowercase("not") {
            op = Int32(TANDEM_BITOP_NOT)
        } else {
            addSyntaxError(c)
            return
        }
        if op == Int32(TANDEM_BITOP_NOT) && argc != 4 {
            addError(c, "-ERR BITOP NOT must be called with a single source key.\r\n")
            return
        }
        let db = c.pointee.db
        let sources = argc - 3
        // Int-encoded sources are formatted into this scratch, 24 bytes each.
        let scratch = UnsafeMutablePointer<UInt8>.allocate(capacity: 24 * sources)
        let pointers = UnsafeMutablePointer<UnsafePointer<UInt8>?>.allocate(capacity: sources)
        let lengths = UnsafeMutablePointer<Int>.allocate(capacity: sources)
        defer {
            scratch.deallocate()
            pointers.deallocate()
            lengths.deallocate()
        }
        var maxLength = 0
        for i in 0..<sources {
            guard let s = bitmapForRead(c, c.pointee.arg(3 + i), scratch + 24 * i) else { return }
            pointers[i] = s.base
            lengths[i] = s.count
            maxLength = max(maxLength, s.count)
        }
        let dest = c.pointee.arg(2)
        if maxLength == 0 {
            if deleteKey(db, dest, lazily: settings.lazyfreeLazyServerDel) {
                notifyKeyspaceEvent(.generic, "del", dest, db)
                dirty += 1
            }
            c.pointee.reply.append(":0\r\n" as StaticString)
            return
        }
        // The result goes into a fresh raw string (sources may include the destination).
        let e = Entry.allocate(key: dest, valueCapacity: maxLength)
        e.type = .string
        e.encoding = .raw
        e.payload = Int64(maxLength)
        tandem_bitop(op, e.mutableStringBytes, maxLength, pointers, lengths, sources)
        storeEntry(db, e, keepTTL: false)
        notifyKeyspaceEvent(.string, "set", dest, db)
        dirty += 1
        c.pointee.reply.appendInteger(Int64(maxLength))
    }
}
