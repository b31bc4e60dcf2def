/*
 * HyperLogLog: the cardinality estimator behind PFADD, PFCOUNT, PFMERGE, PFDEBUG and PFSELFTEST,
 * working directly on the bytes of a string value in Redis 7.0's format.
 *
 * Why Redis's exact format. A HyperLogLog in Redis is not a type of its own: it is a plain string
 * that GET returns, SET restores, RDB files and replicas carry, and DUMP/RESTORE move between
 * servers. So every byte is observable, and a client (or a replica fed by a real Redis) may hand
 * us one built by Redis. We therefore read and write the very same bytes and compute the very
 * same estimate, so that the same commands give the same strings and the same counts.
 *
 * The string. A 16-byte header, then the registers in one of two encodings:
 *
 *     offset 0..3   "HYLL"
 *     offset 4      encoding: 0 dense, 1 sparse (anything else: not a HyperLogLog)
 *     offset 5..7   unused (kept as they are, never checked)
 *     offset 8..15  the last computed cardinality, little-endian; bit 7 of byte 15 set means
 *                   "stale": the registers changed since it was computed.
 *
 * Registers. 2^14 = 16384 registers (P = 14). An element is hashed with MurmurHash64A (seed
 * 0xadc83b19, 8-byte blocks read little-endian); the low 14 bits pick the register, and the
 * remaining 50 bits (Q = 50) give the register's candidate value: the position of their lowest
 * set bit, counting from 1, or 51 when all 50 are zero. A register keeps the largest candidate it
 * has seen, so values are 0...51 and fit in 6 bits.
 *
 * Dense encoding: the 16384 six-bit registers packed least-significant bit first, register i at
 * bit 6*i of the 12288 bytes after the header; 12304 bytes in all, and a dense string of any
 * other length is not a HyperLogLog. Four registers fill exactly three bytes.
 *
 * Sparse encoding: a run-length code of the registers from 0 upward, with three opcodes:
 *     ZERO   00llllll            1 to 64 zero registers (l + 1)
 *     XZERO  01llllll llllllll   1 to 16384 zero registers (the 14-bit l + 1, high byte first)
 *     VAL    1vvvvvll            1 to 4 registers (l + 1) holding the value v + 1 (1...32)
 * The runs must cover exactly 16384 registers. A new HyperLogLog is sparse (one XZERO of 16384),
 * and it turns dense for good when a register needs a value above 32 or when an edit would make
 * the string longer than hll-sparse-max-bytes (header included, 3000 by default). Editing sparse
 * bytes in place splits one opcode into at most three and then merges equal neighbouring VALs
 * within a small window, the way Redis does: the exact bytes depend on that local procedure and
 * on the order of the additions, which is why it is reproduced step by step below rather than
 * re-encoding the registers canonically.
 *
 * The estimate is Otmar Ertl's histogram estimator ("New cardinality estimation algorithms for
 * HyperLogLog sketches", arXiv:1702.01284) exactly as Redis 7.0 evaluates it: same operation
 * order in doubles, rounded half away from zero; a result that does not fit a signed 64-bit
 * integer comes out as 2^63, the bit pattern x86-64's conversion gives Redis (only a forged
 * dense string can get there; Redis then replies with a negative number).
 *
 * Corruption. A string that passes the header check can still lie: runs that do not sum to 16384,
 * a final XZERO cut in half. Redis reads one byte past the string (its terminating NUL) for such a
 * half XZERO; we read it as zero too, so such strings decode and edit the same. (Once Redis has
 * split a half opcode, the byte past its string is a leftover of that edit rather than the NUL;
 * that state lives only in Redis's memory and is not modelled, so further edits of the same forged
 * string can differ.) Functions here never read or write outside the buffers they are given,
 * whatever the bytes; they report corruption (nil, false, .invalid) and leave the reply to the
 * caller: "-INVALIDOBJ Corrupted HLL object detected" for corrupt registers,
 * "-WRONGTYPE Key is not a valid HyperLogLog string value." for a bad header.
 *
 * Memory. Adding to a dense string and counting one dense string (with or without a valid
 * cache) work in place on the caller's buffer and allocate nothing: the histogram lives on the
 * stack. Sparse edits resize the caller's array, as Redis resizes its string.
 */
import Glibc

public enum HyperLogLog {
    // MARK: - Format constants

    public static let registerCount = 16384
    public static let headerSize = 16
    public static let denseSize = 12304
    /// hll-sparse-max-bytes' default.
    public static let defaultSparseMaxBytes = 3000

    static let indexBits = 14
    static let patternBits = 50
    static let registerMask = UInt8(63)
    static let sparseValueMax = UInt8(32)
    static let zeroRunMax = 64
    static let valRunMax = 4
    static let hashSeed: UInt64 = 0xadc8_3b19
    static let encodingOffset = 4
    static let cacheOffset = 8
    static let staleByte = 15
    static let staleBit = UInt8(0x80)
    static let magic: (UInt8, UInt8, UInt8, UInt8) = (0x48, 0x59, 0x4C, 0x4C)  // "HYLL"

    public enum Encoding: UInt8, Sendable {
        case dense = 0
        case sparse = 1

        /// The name PFDEBUG ENCODING replies with.
        public var name: String { self == .dense ? "dense" : "sparse" }
    }

    /// What a sparse add did.
    public enum SparseAddResult: Sendable, Equatable {
        /// No register grew; the bytes are untouched.
        case unchanged
        /// A register grew; the array was edited and the cache marked stale.
        case changed
        /// The register cannot be stored sparse (value above 32, or the string would pass the
        /// size limit). Nothing was edited; convert with `toDense` and add again with `addDense`.
        case promote
        /// The runs do not reach the register: corrupt. Nothing was edited.
        case invalid
    }

    /// What `add` did (any encoding, promotion included).
    public enum AddResult: Sendable, Equatable {
        case unchanged, changed, invalid
    }

    // MARK: - Header

    /// Redis's check of a string used as a HyperLogLog: at least a header, the magic, a known
    /// encoding, and for dense the exact length. nil: not a HyperLogLog (the caller replies
    /// -WRONGTYPE Key is not a valid HyperLogLog string value.).
    public static func encoding(of hll: UnsafeRawBufferPointer) -> Encoding? {
        guard hll.count >= headerSize, hll[0] == magic.0, hll[1] == magic.1, hll[2] == magic.2,
            hll[3] == magic.3, let encoding = Encoding(rawValue: hll[encodingOffset])
        else { return nil }
        if encoding == .dense && hll.count != denseSize { return nil }
        return encoding
    }

    /// A new, empty HyperLogLog as Redis creates it: sparse, one XZERO covering every register,
    /// cached cardinality 0 and valid. (PFADD and PFMERGE then mark the cache stale.)
    public static func makeEmpty() -> [UInt8] {
        var hll = [UInt8](repeating: 0, count: headerSize + 2)
        hll[0] = magic.0
        hll[1] = magic.1
        hll[2] = magic.2
        hll[3] = magic.3
        hll[encodingOffset] = Encoding.sparse.rawValue
        let (high, low) = xzeroBytes(registerCount)
        hll[headerSize] = high
        hll[headerSize + 1] = low
        return hll
    }

    /// Marks the cached cardinality stale (as PFADD does after any change, and PFMERGE always).
    public static func invalidateCache(_ hll: UnsafeMutableRawBufferPointer) {
        guard hll.count >= headerSize else { return }
        hll[staleByte] |= staleBit
    }

    static func cacheIsValid(_ hll: UnsafeRawBufferPointer) -> Bool {
        hll[staleByte] & staleBit == 0
    }

    static func cachedCardinality(_ hll: UnsafeRawBufferPointer) -> UInt64 {
        UInt64(littleEndian: hll.loadUnaligned(fromByteOffset: cacheOffset, as: UInt64.self))
    }

    static func storeCardinality(_ value: UInt64, into hll: UnsafeMutableRawBufferPointer) {
        hll.storeBytes(of: value.littleEndian, toByteOffset: cacheOffset, as: UInt64.self)
    }

    // MARK: - Hashing

    /// MurmurHash64A (Austin Appleby's 64-bit MurmurHash2), reading 8-byte blocks
    /// little-endian as Redis does on the machines it runs on.
    static func murmurHash64A(_ key: UnsafeRawBufferPointer, seed: UInt64) -> UInt64 {
        let m: UInt64 = 0xc6a4_a793_5bd1_e995
        let r: UInt64 = 47
        let length = key.count
        var h = seed ^ (UInt64(length) &* m)
        let blocks = length & ~7
        var offset = 0
        while offset < blocks {
            var k = UInt64(littleEndian: key.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            k &*= m
            k ^= k >> r
            k &*= m
            h ^= k
            h &*= m
            offset += 8
        }
        let tail = length & 7
        if tail > 0 {
            for i in stride(from: tail - 1, through: 0, by: -1) {
                h ^= UInt64(key[blocks + i]) << (8 * UInt64(i))
            }
            h &*= m
        }
        h ^= h >> r
        h &*= m
        h ^= h >> r
        return h
    }

    /// The register an element goes to, and the value it proposes for it (Redis's hllPatLen):
    /// 1 + the number of zero bits above the 14 index bits before the first one bit, at most 51.
    public static func patternLength(of element: UnsafeRawBufferPointer) -> (index: Int, count: UInt8) {
        let hash = murmurHash64A(element, seed: hashSeed)
        let index = Int(hash & UInt64(registerCount - 1))
        let pattern = (hash >> UInt64(indexBits)) | (1 << UInt64(patternBits))
        return (index, UInt8(pattern.trailingZeroBitCount + 1))
    }

    // MARK: - Dense registers

    /// Register `index` of the packed 6-bit array at `registers` (the bytes after the header).
    @inline(__always)
    static func denseRegister(_ registers: UnsafeRawPointer, _ index: Int) -> UInt8 {
        let bit = index &* 6
        let byte = bit >> 3
        let shift = UInt8(bit & 7)
        var value = registers.load(fromByteOffset: byte, as: UInt8.self) >> shift
        if shift > 2 {  // the register spills into the next byte
            value |= registers.load(fromByteOffset: byte + 1, as: UInt8.self) << (8 - shift)
        }
        return value & registerMask
    }

    @inline(__always)
    static func setDenseRegister(_ registers: UnsafeMutableRawPointer, _ index: Int, _ value: UInt8) {
        let bit = index &* 6
        let byte = bit >> 3
        let shift = UInt8(bit & 7)
        let low = registers.load(fromByteOffset: byte, as: UInt8.self)
        registers.storeBytes(of: low & ~(registerMask << shift) | (value << shift), toByteOffset: byte, as: UInt8.self)
        if shift > 2 {
            let high = registers.load(fromByteOffset: byte + 1, as: UInt8.self)
            let kept = high & ~(registerMask >> (8 - shift))
            registers.storeBytes(of: kept | (value >> (8 - shift)), toByteOffset: byte + 1, as: UInt8.self)
        }
    }

    /// Raises register `index` to `count` if it is lower; true when it grew.
    @inline(__always)
    static func raiseDenseRegister(_ registers: UnsafeMutableRawPointer, _ index: Int, _ count: UInt8) -> Bool {
        guard count > denseRegister(registers, index) else { return false }
        setDenseRegister(registers, index, count)
        return true
    }

    /// PFADD of one element to a dense HyperLogLog, in place. True when a register grew; the
    /// cache is then marked stale. False also when `hll` is not a dense-sized buffer.
    public static func addDense(_ hll: UnsafeMutableRawBufferPointer, _ element: UnsafeRawBufferPointer) -> Bool {
        guard hll.count == denseSize, let base = hll.baseAddress else { return false }
        let (index, count) = patternLength(of: element)
        guard raiseDenseRegister(base + headerSize, index, count) else { return false }
        hll[staleByte] |= staleBit
        return true
    }

    /// Adds the dense registers' values to `histogram` (64 counters), four registers per three
    /// bytes.
    static func addDenseHistogram(_ registers: UnsafeRawPointer, into histogram: UnsafeMutablePointer<Int>) {
        var byte = 0
        while byte < denseSize - headerSize {
            let b0 = registers.load(fromByteOffset: byte, as: UInt8.self)
            let b1 = registers.load(fromByteOffset: byte + 1, as: UInt8.self)
            let b2 = registers.load(fromByteOffset: byte + 2, as: UInt8.self)
            histogram[Int(b0 & 63)] += 1
            histogram[Int((b0 >> 6 | b1 << 2) & 63)] += 1
            histogram[Int((b1 >> 4 | b2 << 4) & 63)] += 1
            histogram[Int(b2 >> 2)] += 1
            byte += 3
        }
    }

    // MARK: - Sparse opcodes

    enum OpKind { case zero, xzero, val }

    /// One decoded sparse opcode: `run` registers of `value` (0 for ZERO/XZERO), `size` bytes.
    struct SparseOp {
        var kind: OpKind
        var value: UInt8
        var run: Int
        var size: Int
    }

    /// Decodes the opcode at `offset` (which must be inside `bytes`). The second byte of an
    /// XZERO cut off by the end of the string reads as 0, like the NUL Redis finds there.
    @inline(__always)
    static func sparseOp(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> SparseOp {
        let first = bytes[offset]
        switch first & 0xC0 {
        case 0x00:
            return SparseOp(kind: .zero, value: 0, run: Int(first & 0x3F) + 1, size: 1)
        case 0x40:
            let low = offset + 1 < bytes.count ? bytes[offset + 1] : 0
            return SparseOp(kind: .xzero, value: 0, run: (Int(first & 0x3F) << 8 | Int(low)) + 1, size: 2)
        default:
            return SparseOp(kind: .val, value: valValue(first), run: valRun(first), size: 1)
        }
    }

    @inline(__always) static func isVal(_ byte: UInt8) -> Bool { byte & 0x80 != 0 }
    @inline(__always) static func valValue(_ byte: UInt8) -> UInt8 { (byte >> 2 & 0x1F) + 1 }
    @inline(__always) static func valRun(_ byte: UInt8) -> Int { Int(byte & 0x03) + 1 }
    @inline(__always) static func valByte(_ value: UInt8, _ run: Int) -> UInt8 {
        0x80 | (value - 1) << 2 | UInt8(run - 1)
    }
    @inline(__always) static func zeroByte(_ run: Int) -> UInt8 { UInt8(run - 1) }
    @inline(__always) static func xzeroBytes(_ run: Int) -> (UInt8, UInt8) {
        (0x40 | UInt8((run - 1) >> 8), UInt8((run - 1) & 0xFF))
    }

    /// Walks the runs of a sparse string, calling `visit(first register, run length, value)`.
    /// False (corrupt) as soon as a run would pass the last register, or when the runs end short
    /// of it; nothing past register 16383 is ever visited.
    static func forEachSparseRun(
        _ hll: UnsafeRawBufferPointer, _ visit: (_ first: Int, _ run: Int, _ value: UInt8) -> Void
    ) -> Bool {
        var offset = headerSize
        var register = 0
        while offset < hll.count {
            let op = sparseOp(hll, at: offset)
            guard register + op.run <= registerCount else { return false }
            visit(register, op.run, op.value)
            register += op.run
            offset += op.size
        }
        return register == registerCount
    }

    // MARK: - Sparse edits

    /// Where an edit lands: the opcode at `offset` covers registers `first`..., `previous` is the
    /// opcode before it (nil when it is the first one).
    struct SparseTarget {
        var offset: Int
        var first: Int
        var previous: Int?
        var op: SparseOp
    }

    /// Finds the opcode covering register `index`, or nil when the runs end before it.
    static func locate(_ index: Int, in hll: UnsafeRawBufferPointer) -> SparseTarget? {
        var offset = headerSize
        var first = 0
        var previous: Int? = nil
        while offset < hll.count {
            let op = sparseOp(hll, at: offset)
            if index < first + op.run { return SparseTarget(offset: offset, first: first, previous: previous, op: op) }
            previous = offset
            offset += op.size
            first += op.run
        }
        return nil
    }

    /// Up to five opcode bytes replacing one opcode when a register inside its run changes.
    struct Replacement {
        var bytes: (UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0)
        var count = 0

        mutating func append(_ byte: UInt8) {
            withUnsafeMutableBytes(of: &bytes) { $0[count] = byte }
            count += 1
        }

        /// A run of `run` zero registers: ZERO when it fits, XZERO otherwise.
        mutating func appendZeros(_ run: Int) {
            if run > zeroRunMax {
                let (high, low) = xzeroBytes(run)
                append(high)
                append(low)
            } else {
                append(zeroByte(run))
            }
        }
    }

    /// The opcodes that replace `target.op` once register `index` holds `count`: the part of
    /// the run before it, the register itself, the part after it.
    static func split(_ target: SparseTarget, at index: Int, to count: UInt8) -> Replacement {
        var replacement = Replacement()
        let last = target.first + target.op.run - 1
        let before = index - target.first
        let after = last - index
        if target.op.kind == .val {
            if before > 0 { replacement.append(valByte(target.op.value, before)) }
            replacement.append(valByte(count, 1))
            if after > 0 { replacement.append(valByte(target.op.value, after)) }
        } else {
            if before > 0 { replacement.appendZeros(before) }
            replacement.append(valByte(count, 1))
            if after > 0 { replacement.appendZeros(after) }
        }
        return replacement
    }

    /// Raises register `index` of a sparse HyperLogLog to `count` (Redis's hllSparseSet), editing
    /// the bytes in place exactly as Redis does. See `SparseAddResult`.
    static func setSparse(_ hll: inout [UInt8], index: Int, count: UInt8, sparseMaxBytes: Int) -> SparseAddResult {
        if count > sparseValueMax { return .promote }
        guard let target = hll.withUnsafeBytes({ locate(index, in: $0) }) else { return .invalid }
        let op = target.op
        if op.kind == .val && op.value >= count { return .unchanged }
        if op.run == 1 && op.kind != .xzero {  // a lone VAL or ZERO: rewrite the byte
            hll[target.offset] = valByte(count, 1)
        } else {
            let replacement = split(target, at: index, to: count)
            let growth = replacement.count - op.size
            if growth > 0 && hll.count + growth > sparseMaxBytes { return .promote }
            splice(replacement, over: target, in: &hll)
        }
        mergeEqualValues(in: &hll, from: target.previous ?? headerSize)
        hll[staleByte] |= staleBit
        return .changed
    }

    /// Puts `replacement` where `target.op` was. When that opcode is an XZERO cut off by the
    /// end of the string, Redis counts it as two bytes anyway, so the result is one byte shorter
    /// than the plain splice: that last byte is dropped here too.
    static func splice(_ replacement: Replacement, over target: SparseTarget, in hll: inout [UInt8]) {
        let present = min(target.op.size, hll.count - target.offset)
        var bytes = replacement.bytes
        withUnsafeBytes(of: &bytes) { raw in
            let new = UnsafeRawBufferPointer(rebasing: raw[0..<replacement.count])
            hll.replaceSubrange(target.offset..<target.offset + present, with: new)
        }
        if present < target.op.size { hll.removeLast(target.op.size - present) }
    }

    /// Joins neighbouring VAL opcodes of equal value whose runs fit one VAL, looking at no more
    /// than five opcodes from `start` (the opcode before the edit), as Redis does.
    static func mergeEqualValues(in hll: inout [UInt8], from start: Int) {
        var offset = start
        var budget = 5
        while offset < hll.count && budget > 0 {
            budget -= 1
            let byte = hll[offset]
            if byte & 0xC0 == 0x40 {
                offset += 2
                continue
            }
            if byte & 0xC0 == 0 {
                offset += 1
                continue
            }
            if offset + 1 < hll.count && isVal(hll[offset + 1]) && valValue(byte) == valValue(hll[offset + 1]) {
                let run = valRun(byte) + valRun(hll[offset + 1])
                if run <= valRunMax {
                    hll[offset + 1] = valByte(valValue(byte), run)
                    hll.remove(at: offset)
                    continue
                }
            }
            offset += 1
        }
    }

    /// PFADD of one element to a sparse HyperLogLog (Redis's hllSparseAdd). On `.promote` the
    /// caller converts with `toDense` (nil there: corrupt) and then calls `addDense`, which then
    /// returns true.
    public static func addSparse(
        _ hll: inout [UInt8], _ element: UnsafeRawBufferPointer, sparseMaxBytes: Int
    ) -> SparseAddResult {
        guard hll.count >= headerSize else { return .invalid }
        let (index, count) = patternLength(of: element)
        return setSparse(&hll, index: index, count: count, sparseMaxBytes: sparseMaxBytes)
    }

    /// PFADD of one element to a HyperLogLog of either encoding, promoting a sparse one to dense
    /// when needed (the array is then replaced by the dense string). The header must have passed
    /// `encoding(of:)`; `.invalid` otherwise or when the sparse runs are corrupt.
    public static func add(_ hll: inout [UInt8], _ element: UnsafeRawBufferPointer, sparseMaxBytes: Int) -> AddResult {
        switch hll.withUnsafeBytes({ encoding(of: $0) }) {
        case nil:
            return .invalid
        case .dense:
            return hll.withUnsafeMutableBytes { addDense($0, element) } ? .changed : .unchanged
        case .sparse:
            let (index, count) = patternLength(of: element)
            switch setSparse(&hll, index: index, count: count, sparseMaxBytes: sparseMaxBytes) {
            case .unchanged: return .unchanged
            case .changed: return .changed
            case .invalid: return .invalid
            case .promote:
                guard promote(&hll) else { return .invalid }
                hll.withUnsafeMutableBytes { raw in
                    _ = raiseDenseRegister(raw.baseAddress! + headerSize, index, count)
                    raw[staleByte] |= staleBit
                }
                return .changed
            }
        }
    }

    // MARK: - Sparse to dense

    /// Redis's hllSparseToDense: the dense string with the same registers. The header is copied
    /// as it is (cached cardinality and unused bytes included) with the encoding set to dense. A
    /// dense input is returned copied. nil: not a HyperLogLog, or corrupt runs.
    public static func toDense(_ hll: UnsafeRawBufferPointer) -> [UInt8]? {
        switch encoding(of: hll) {
        case nil: return nil
        case .dense: return Array(hll)
        case .sparse: break
        }
        var dense = [UInt8](repeating: 0, count: denseSize)
        let valid = dense.withUnsafeMutableBytes { out in
            out.copyMemory(from: UnsafeRawBufferPointer(rebasing: hll[0..<headerSize]))
            out[encodingOffset] = Encoding.dense.rawValue
            let registers = out.baseAddress! + headerSize
            return forEachSparseRun(hll) { first, run, value in
                guard value > 0 else { return }
                for index in first..<first + run { setDenseRegister(registers, index, value) }
            }
        }
        return valid ? dense : nil
    }

    /// Replaces a sparse HyperLogLog by its dense form (no-op when dense); false when corrupt.
    public static func promote(_ hll: inout [UInt8]) -> Bool {
        guard let dense = hll.withUnsafeBytes({ toDense($0) }) else { return false }
        hll = dense
        return true
    }

    // MARK: - Cardinality estimation

    /// Ertl's sigma(x) = x + sum over k >= 1 of x^(2^k) * 2^(k-1), summed until it stops moving.
    static func sigma(_ x: Double) -> Double {
        if x == 1 { return .infinity }
        var x = x
        var y = 1.0
        var z = x
        while true {
            x *= x
            let previous = z
            z += x * y
            y += y
            if previous == z { return z }
        }
    }

    /// Ertl's tau(x) = (1 - x - sum over k >= 1 of (1 - x^(2^-k))^2 * 2^-k) / 3.
    static func tau(_ x: Double) -> Double {
        if x == 0 || x == 1 { return 0 }
        var x = x
        var y = 1.0
        var z = 1 - x
        while true {
            x = sqrt(x)
            let previous = z
            y *= 0.5
            z -= (1 - x) * (1 - x) * y  // Redis's pow(1 - x, 2), which GCC compiles to this product
            if previous == z { return z / 3 }
        }
    }

    /// The estimate from a histogram of register values (64 counters; values above 51 cannot come
    /// from hashing and are ignored, as in Redis).
    static func estimate(_ histogram: UnsafePointer<Int>) -> UInt64 {
        let m = Double(registerCount)
        var z = m * tau((m - Double(histogram[patternBits + 1])) / m)
        for value in stride(from: patternBits, through: 1, by: -1) {
            z += Double(histogram[value])
            z *= 0.5
        }
        z += m * sigma(Double(histogram[0]) / m)
        let alpha = 0.721347520444481703680  // 1 / (2 ln 2)
        return roundedLikeRedis(alpha * m * m / z)
    }

    /// llroundl as glibc does it on x86-64: halves away from zero, and 2^63 (LLONG_MIN's bits)
    /// for anything that does not fit a signed 64-bit integer.
    static func roundedLikeRedis(_ value: Double) -> UInt64 {
        guard value.isFinite, value >= -0x1p63, value < 0x1p63 else { return 1 << 63 }
        return UInt64(bitPattern: Int64(value.rounded(.toNearestOrAwayFromZero)))
    }

    /// Runs `body` with a zeroed 64-counter histogram on the stack.
    static func withHistogram<R>(_ body: (UnsafeMutablePointer<Int>) -> R) -> R {
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 64) { buffer in
            buffer.initialize(repeating: 0)
            return body(buffer.baseAddress!)
        }
    }

    /// The estimate of a HyperLogLog's registers, ignoring its cache; nil when not a HyperLogLog
    /// or corrupt.
    static func computeCardinality(_ hll: UnsafeRawBufferPointer) -> UInt64? {
        guard let encoding = encoding(of: hll) else { return nil }
        return withHistogram { histogram -> UInt64? in
            switch encoding {
            case .dense:
                addDenseHistogram(hll.baseAddress! + headerSize, into: histogram)
            case .sparse:
                let valid = forEachSparseRun(hll) { _, run, value in histogram[Int(value)] += run }
                guard valid else { return nil }
            }
            return estimate(histogram)
        }
    }

    /// PFCOUNT of one key: the cached cardinality when valid, otherwise the estimate, which is
    /// then written into the header (`cacheUpdated`: the caller treats the key as modified, as
    /// Redis does). nil: not a HyperLogLog, or corrupt (a valid cache is trusted unchecked, as in
    /// Redis). The count is reported as a signed 64-bit integer, Int64(bitPattern:).
    public static func count(_ hll: UnsafeMutableRawBufferPointer) -> (count: UInt64, cacheUpdated: Bool)? {
        let readable = UnsafeRawBufferPointer(hll)
        guard encoding(of: readable) != nil else { return nil }
        if cacheIsValid(readable) { return (cachedCardinality(readable), false) }
        guard let cardinality = computeCardinality(readable) else { return nil }
        storeCardinality(cardinality, into: hll)
        return (cardinality, true)
    }

    // MARK: - Merging

    /// Raises each of the 16384 bytes at `registers` (one register per byte) to the matching
    /// register of `hll` (Redis's hllMerge). False when `hll` is not a HyperLogLog or its sparse
    /// runs are corrupt (`registers` may then be partly updated; the command fails anyway).
    public static func merge(into registers: UnsafeMutablePointer<UInt8>, from hll: UnsafeRawBufferPointer) -> Bool {
        switch encoding(of: hll) {
        case nil:
            return false
        case .dense:
            let dense = hll.baseAddress! + headerSize
            for index in 0..<registerCount {
                let value = denseRegister(dense, index)
                if value > registers[index] { registers[index] = value }
            }
            return true
        case .sparse:
            return forEachSparseRun(hll) { first, run, value in
                guard value > 0 else { return }
                for index in first..<first + run where value > registers[index] { registers[index] = value }
            }
        }
    }

    /// The estimate for 16384 one-byte registers (PFCOUNT of several keys). Only the low six
    /// bits of each byte are used.
    public static func count(registers: UnsafePointer<UInt8>) -> UInt64 {
        withHistogram { histogram in
            for index in 0..<registerCount { histogram[Int(registers[index] & registerMask)] += 1 }
            return estimate(histogram)
        }
    }

    /// PFMERGE's write-back. `hll` is the destination's current value (which Redis counts among
    /// the sources, so its registers are already in `registers`), or `makeEmpty()` when the key
    /// did not exist. `anyDenseSource`: some existing source key, the destination included, is
    /// dense; the destination is then converted to dense first. Otherwise it stays sparse and
    /// every non-zero register is set in index order through the sparse editor, which may promote
    /// it part way (at hll-sparse-max-bytes). The cache is marked stale; its old bytes are kept.
    /// False when the destination's sparse runs are corrupt.
    public static func storeMerged(
        _ registers: UnsafePointer<UInt8>, into hll: inout [UInt8], anyDenseSource: Bool, sparseMaxBytes: Int
    ) -> Bool {
        guard let encoding = hll.withUnsafeBytes({ encoding(of: $0) }) else { return false }
        var dense = encoding == .dense
        if anyDenseSource && !dense {
            guard promote(&hll) else { return false }
            dense = true
        }
        for index in 0..<registerCount where registers[index] != 0 {
            let value = min(registers[index], registerMask)
            if !dense {
                // Redis ignores a failed sparse edit here (the destination was checked as a source).
                guard setSparse(&hll, index: index, count: value, sparseMaxBytes: sparseMaxBytes) == .promote else {
                    continue
                }
                guard promote(&hll) else { return false }
                dense = true
            }
            hll.withUnsafeMutableBytes { _ = raiseDenseRegister($0.baseAddress! + headerSize, index, value) }
        }
        hll.withUnsafeMutableBytes { invalidateCache($0) }
        return true
    }

    // MARK: - Debugging (PFDEBUG, PFSELFTEST)

    /// The 16384 register values of a dense HyperLogLog (PFDEBUG GETREG, after the caller has
    /// promoted a sparse one in place, as Redis does); nil when not dense.
    public static func registers(ofDense hll: UnsafeRawBufferPointer) -> [UInt8]? {
        guard encoding(of: hll) == .dense else { return nil }
        let dense = hll.baseAddress! + headerSize
        return (0..<registerCount).map { denseRegister(dense, $0) }
    }

    /// PFDEBUG DECODE: the sparse opcodes as "Z:<run>" (XZERO), "z:<run>" (ZERO) and
    /// "v:<value>,<run>" (VAL), space separated, runs not validated. nil when not sparse (the
    /// caller replies -ERR HLL encoding is not sparse).
    public static func decodeSparse(_ hll: UnsafeRawBufferPointer) -> String? {
        guard encoding(of: hll) == .sparse else { return nil }
        var text = ""
        var offset = headerSize
        while offset < hll.count {
            let op = sparseOp(hll, at: offset)
            if !text.isEmpty { text += " " }
            switch op.kind {
            case .zero: text += "z:\(op.run)"
            case .xzero: text += "Z:\(op.run)"
            case .val: text += "v:\(op.value),\(op.run)"
            }
            offset += op.size
        }
        return text
    }

    /// PFSELFTEST: nil when the checks pass, else the error text (the caller replies it as an
    /// error, "-ERR TESTFAILED ..."). Test 1 sets all registers of a dense array to random values
    /// `registerCycles` times and reads them back. Test 2 adds 1...`maxCardinality` distinct
    /// 8-byte elements to a dense and a sparse HyperLogLog side by side, and at 1, 10, 100, ...
    /// checks the sparse one is still sparse (below sparseMaxBytes / 2), that both agree, and
    /// that the error is within 6 standard errors (at most 1 at 10 elements). Redis's own
    /// parameters are the defaults (a few tenths of a second in an optimized build).
    public static func selfTest(
        registerCycles: Int = 1000, maxCardinality: Int = 10_000_000,
        sparseMaxBytes: Int = defaultSparseMaxBytes, seed: UInt64? = nil
    ) -> String? {
        var random = SplitMix64(seed: seed ?? UInt64.random(in: .min ... .max))
        if let failure = selfTestRegisters(cycles: registerCycles, random: &random) { return failure }
        return selfTestEstimates(upTo: maxCardinality, sparseMaxBytes: sparseMaxBytes, salt: random.next())
    }

    static func selfTestRegisters(cycles: Int, random: inout SplitMix64) -> String? {
        var expected = [UInt8](repeating: 0, count: registerCount)
        var packed = [UInt8](repeating: 0, count: denseSize - headerSize)
        for _ in 0..<cycles {
            let failure = packed.withUnsafeMutableBytes { raw -> String? in
                let registers = raw.baseAddress!
                for index in 0..<registerCount {
                    expected[index] = UInt8(truncatingIfNeeded: random.next()) & registerMask
                    setDenseRegister(registers, index, expected[index])
                }
                for index in 0..<registerCount where denseRegister(registers, index) != expected[index] {
                    let found = denseRegister(registers, index)
                    return "TESTFAILED Register \(index) should be \(expected[index]) but is \(found)"
                }
                return nil
            }
            if let failure { return failure }
        }
        return nil
    }

    static func selfTestEstimates(upTo maxCardinality: Int, sparseMaxBytes: Int, salt: UInt64) -> String? {
        var dense = makeEmpty()
        _ = promote(&dense)
        var sparse = makeEmpty()
        let relativeError = 1.04 / Double(registerCount).squareRoot()
        var checkpoint = 1
        var element = 1
        while element <= maxCardinality {
            withUnsafeBytes(of: (UInt64(element) ^ salt).littleEndian) { bytes in
                _ = dense.withUnsafeMutableBytes { addDense($0, bytes) }
                _ = add(&sparse, bytes, sparseMaxBytes: sparseMaxBytes)
            }
            if element == checkpoint {
                if let failure = checkEstimates(dense, sparse, checkpoint, relativeError, sparseMaxBytes) {
                    return failure
                }
                checkpoint *= 10
            }
            element += 1
        }
        return nil
    }

    static func checkEstimates(
        _ dense: [UInt8], _ sparse: [UInt8], _ cardinality: Int, _ relativeError: Double, _ sparseMaxBytes: Int
    ) -> String? {
        if cardinality < sparseMaxBytes / 2 && sparse[encodingOffset] != Encoding.sparse.rawValue {
            return "TESTFAILED sparse encoding not used"
        }
        let denseCount = dense.withUnsafeBytes { computeCardinality($0) } ?? 0
        let sparseCount = sparse.withUnsafeBytes { computeCardinality($0) } ?? 0
        if denseCount != sparseCount { return "TESTFAILED dense/sparse disagree" }
        let error = abs(Int64(cardinality) - Int64(bitPattern: denseCount))
        let maxError = cardinality == 10 ? 1 : Int64((relativeError * 6 * Double(cardinality)).rounded(.up))
        if error > maxError { return "TESTFAILED Too big error. card:\(cardinality) abserr:\(error)" }
        return nil
    }

    /// A small deterministic generator for the self-test (Steele, Lea and Flood's SplitMix64).
    struct SplitMix64 {
        var state: UInt64
        init(seed: UInt64) { state = seed }
        mutating func next() -> UInt64 {
            state &+= 0x9e37_79b9_7f4a_7c15
            var z = state
            z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
            z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
            return z ^ (z >> 31)
        }
    }
}
