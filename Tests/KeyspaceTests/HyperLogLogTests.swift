// HyperLogLogTests.swift — unit tests for Keyspace.HyperLogLog (Sources/Keyspace/HyperLogLog.swift).
//
// Byte-exactness against redis-server 7.0.15: the fixtures below were recorded from a real server
// with redis-cli-style commands (elements are "e0", "e1", ... added in order; GET of the key after
// each step). Small strings are kept whole as hex; 12304-byte dense ones and long sparse ones as
// length + FNV-1a 64 of all the bytes, computed the same way here. Covered: the empty HyperLogLog,
// sparse adds (with the empty string), PFDEBUG DECODE text, PFCOUNT values and the cache bytes it
// writes back, promotion to dense by size (hll-sparse-max-bytes 3000 and 1000) and by a register
// value of 33, PFMERGE of sparse+sparse (staying sparse, and promoted part way), sparse+dense, into
// an existing destination holding a valid cache, multi-key PFCOUNT, the sparse-to-dense conversion
// of PFDEBUG GETREG, forged dense strings whose estimate overflows, and corrupt sparse strings
// (runs short, long, a final XZERO cut in half). Then a fuzz test (random strings with valid
// headers never crash any entry point, and the entry points agree on what is corrupt) and a
// reduced PFSELFTEST.
@testable import Keyspace
import Testing

// MARK: - Helpers

private enum Fixture {
    static func fnv(_ bytes: [UInt8]) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return hash
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef")
        return String(bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] })
    }

    static func bytes(hex: String) -> [UInt8] {
        let chars = Array(hex.utf8)
        return stride(from: 0, to: chars.count, by: 2).map { UInt8(nibble(chars[$0]) << 4 | nibble(chars[$0 + 1])) }
    }

    static func nibble(_ c: UInt8) -> UInt8 { c <= 57 ? c - 48 : c - 87 }

    static func elements(_ range: Range<Int>) -> [String] { range.map { "e\($0)" } }

    /// PFADD key elements... on `hll` (nil: the key does not exist), as the server does it:
    /// 1 when created or changed, cache marked stale then; nil on a corrupt value.
    @discardableResult
    static func pfadd(_ hll: inout [UInt8]?, _ elements: [String], sparseMaxBytes: Int = 3000) -> Int? {
        var updated = 0
        if hll == nil {
            hll = HyperLogLog.makeEmpty()
            updated += 1
        }
        for element in elements {
            let result = Array(element.utf8).withUnsafeBytes {
                HyperLogLog.add(&hll!, $0, sparseMaxBytes: sparseMaxBytes)
            }
            switch result {
            case .changed: updated += 1
            case .unchanged: break
            case .invalid: return nil
            }
        }
        if updated > 0 { hll!.withUnsafeMutableBytes { HyperLogLog.invalidateCache($0) } }
        return updated > 0 ? 1 : 0
    }

    static func make(_ elements: [String], sparseMaxBytes: Int = 3000) -> [UInt8] {
        var hll: [UInt8]? = nil
        pfadd(&hll, elements, sparseMaxBytes: sparseMaxBytes)
        return hll!
    }

    static func count(_ hll: inout [UInt8]) -> (count: UInt64, cacheUpdated: Bool)? {
        hll.withUnsafeMutableBytes { HyperLogLog.count($0) }
    }

    static func encoding(_ hll: [UInt8]) -> HyperLogLog.Encoding? {
        hll.withUnsafeBytes { HyperLogLog.encoding(of: $0) }
    }

    /// The union registers of `sources` (nil entries are missing keys); nil when one is corrupt.
    static func union(_ sources: [[UInt8]?]) -> (registers: [UInt8], anyDense: Bool)? {
        var registers = [UInt8](repeating: 0, count: HyperLogLog.registerCount)
        var anyDense = false
        for case let source? in sources {
            anyDense = anyDense || encoding(source) == .dense
            let merged = registers.withUnsafeMutableBufferPointer { out in
                source.withUnsafeBytes { HyperLogLog.merge(into: out.baseAddress!, from: $0) }
            }
            guard merged else { return nil }
        }
        return (registers, anyDense)
    }

    /// PFMERGE dest sources... (the destination is also a source, as in Redis).
    static func pfmerge(_ dest: [UInt8]?, _ sources: [[UInt8]?], sparseMaxBytes: Int = 3000) -> [UInt8]? {
        guard let (registers, anyDense) = union([dest] + sources) else { return nil }
        var out = dest ?? HyperLogLog.makeEmpty()
        let stored = registers.withUnsafeBufferPointer {
            HyperLogLog.storeMerged(
                $0.baseAddress!, into: &out, anyDenseSource: anyDense, sparseMaxBytes: sparseMaxBytes)
        }
        return stored ? out : nil
    }

    static func pfcount(_ keys: [[UInt8]?]) -> UInt64? {
        guard let (registers, _) = union(keys) else { return nil }
        return registers.withUnsafeBufferPointer { HyperLogLog.count(registers: $0.baseAddress!) }
    }

    static func header(encoding: UInt8, card: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0x80]) -> [UInt8] {
        Array("HYLL".utf8) + [encoding, 0, 0, 0] + card
    }

    /// Strings and what Redis's header check makes of them.
    static func headerCases() -> [([UInt8], HyperLogLog.Encoding?)] {
        let sparse = header(encoding: 1)
        let denseHeader = header(encoding: 0)
        var cases: [([UInt8], HyperLogLog.Encoding?)] = []
        cases.append((sparse, .sparse))
        cases.append((sparse + [1, 2, 3], .sparse))
        cases.append((denseHeader + [UInt8](repeating: 0, count: 12288), .dense))
        cases.append((denseHeader + [UInt8](repeating: 0, count: 12287), nil))
        cases.append((denseHeader + [UInt8](repeating: 0, count: 12289), nil))
        cases.append((header(encoding: 2) + [0x7f, 0xff], nil))
        cases.append((Array(sparse.prefix(15)), nil))
        cases.append(([], nil))
        cases.append((Array("0123".utf8) + sparse.dropFirst(4) + [0x7f, 0xff], nil))
        return cases
    }

    /// A dense string whose 16384 registers all hold `value`.
    static func dense(allRegisters value: UInt8) -> [UInt8] {
        var hll = header(encoding: 0) + [UInt8](repeating: 0, count: HyperLogLog.denseSize - HyperLogLog.headerSize)
        hll.withUnsafeMutableBytes { raw in
            for index in 0..<HyperLogLog.registerCount {
                HyperLogLog.setDenseRegister(raw.baseAddress! + HyperLogLog.headerSize, index, value)
            }
        }
        return hll
    }
}

/// A 12304-byte (or long sparse) string recorded from redis-server: its length and FNV-1a 64.
private struct Digest: Equatable, CustomStringConvertible {
    var length: Int
    var fnv: UInt64
    init(_ length: Int, _ fnv: UInt64) { (self.length, self.fnv) = (length, fnv) }
    init(of bytes: [UInt8]) { self.init(bytes.count, Fixture.fnv(bytes)) }
    var description: String { "\(length) bytes, fnv \(String(fnv, radix: 16))" }
}

// MARK: - Fixtures recorded from redis-server 7.0.15

private enum Redis {
    /// PFMERGE lonely (no sources): the empty HyperLogLog with its cache marked stale; also what
    /// PFADD with no elements creates.
    static let emptyStale = "48594c4c0100000000000000000000807fff"
    /// PFADD s3 a b c
    static let s3 = "48594c4c01000000000000000000008060f38050b1844bfb80425a"
    /// PFADD s20 e0 ... e19 ""
    static let s20 =
        "48594c4c01000000000000000000008042358842ee8044528042da844ada8440f48c406f8043868042ac8041648441b88445"
        + "3d90435884430d8441038446d18047e684408880406a8440488013804152"
    static let s20Decode =
        "Z:566 v:3,1 Z:751 v:1,1 Z:1107 v:1,1 Z:731 v:2,1 Z:2779 v:2,1 Z:245 v:4,1 Z:112 v:1,1 Z:903 v:1,1 Z:685 v:1,1 "
        + "Z:357 v:2,1 Z:441 v:2,1 Z:1342 v:5,1 Z:857 v:2,1 Z:782 v:2,1 Z:260 v:2,1 Z:1746 v:1,1 "
        + "Z:2023 v:2,1 Z:137 v:1,1 Z:107 v:2,1 Z:73 v:1,1 z:20 v:1,1 Z:339"
    /// PFADD s200 e0 ... e199
    static let s200 =
        "48594c4c010000000000000000000080368421801980409f8408a40e88409084406c9c0190018812883884409480411c8817"
        + "884055800080407a80411d8812804075800d842a8040638440768c404684414880098040d5800980409480407e9040738040"
        + "628440a280408384405d84148040cb8407840d8040f080405e80068427844081803c844047840780404e80408f8403940484"
        + "4043840c842684406e80407380404084409d84198019802a8441028c088441298010801c884060801080404b8c4052881b80"
        + "40b080406e8040bc802b8c40f58040618c1a840380407e80408080404580088440fd80405a80406684409f8040468c108c01"
        + "8401841e8811802384407d8440de84406280308812844065840784198040de84404684408b8814802988008402800a884057"
        + "8041a79011842e844070801f840180189440f98440848c168421813c881d8013803684108040898440448041478003802280"
        + "40b88440bb88404684168040c684404980048440e680404380388c405c80405584409980268005800380405480409e88404c"
        + "882e8840448040b080198408841f880380405b841b803f804044804055800d88128440d380405988408b800290407e800784"
        + "407b801d841d8040af8418840f844045803384404f80288440a78440768040578419844048800e9022840a80406a840d8039"
        + "801380409a8828804046844044"
    /// PFADD c1 e0, then PFCOUNT c1 (1): the cache bytes written back.
    static let c1Counted = "48594c4c0100000001000000000000004525807ad8"
    /// PFADD A e0..e49, PFADD B e25..e99, PFMERGE mAB A B
    static let mergeAB =
        "48594c4c01000000000000000000008036843c8040a9a40e88409084406c9c048840e28041358840d380411d884089804116"
        + "8c419080098040e08040948041578440a280408384405d8440e1844199844081803c844047840780404e80408f8409844051"
        + "84268441258440d38042638040a280404b8c406f80420b8c41798041478041638040668440f98c0184218811804182844062"
        + "803088407984228040de8440d3884045800a88420090118440c184018041138440848c1684228040a88440e180422a844103"
        + "84168041178441658c414e802680058040598040ec882e88413c880380405b841b803f80409b802184412e88408f90407e80"
        + "408480415f8033844079844193844058902e80406a840d8039801380409a882880408c"
    /// PFADD X e100..e129, PFCOUNT X (30), PFMERGE X A B: the old cache bytes stay, marked stale.
    static let mergeIntoCounted =
        "48594c4c010000001e0000000000008036843c8040a9a40e88409084406c9c048840e2804135884055800080407a80411d88"
        + "4089800d8441078c404684414880098040e080409480407e9040738040628440a280408384405d8440e18416804158842784"
        + "4081803c844047840780404e80408f8409844043840c84268440e38040408440b88019802a844237802e88407280404b8c40"
        + "6f8040b08041598c41588c1a840380407e8040c780416380406684409f8040588c0184218811804182844062803088407984"
        + "0784198040de84404684408b8840418402800a88420090118440c184018041138440848c168422803c88406a8440e180414c"
        + "80228040b8844103841680411180048441658c414e8026800580038040548040ec882e8840f680198429880380405b841b80"
        + "3f80409b800d881284412e88408f90407e80408480415f80338440798441938440589022840a80406a840d8039801380409a"
        + "882880408c"

    static let s1000 = Digest(1906, 0x5935_de02_3280_6824)
    static let s1000Counted = Digest(1906, 0x4ded_8ea0_046b_668d)
    /// PFADD d2000 e0..e1999 (hll-sparse-max-bytes 3000): promoted by size.
    static let d2000 = Digest(12304, 0x1b55_76fa_1f6b_8092)
    /// hll-sparse-max-bytes 1000: e0..e999 promoted, e0..e299 still sparse.
    static let d1000Max1000 = Digest(12304, 0xb663_d6cd_bb09_d5a6)
    static let s300Max1000 = Digest(713, 0xa4cf_ffba_965d_1718)
    /// PFADD c100000 e0..e99999, then PFCOUNT (100853).
    static let c100000Counted = Digest(12304, 0xfd1f_c236_9477_3e63)
    /// PFADD pv e0..e9, then PFADD pv v13429669817 (register 10354 needs 33): promoted by value.
    static let promotedByValue = Digest(12304, 0xfc53_e23b_58ea_86e4)
    static let onlyBigValue = Digest(12304, 0x8823_9c96_e71d_6338)
    /// PFMERGE mAD A D and PFMERGE mDA D A, D = e0..e4999 (dense).
    static let mergeSparseDense = Digest(12304, 0x8052_4675_3a1c_dada)
    /// P = e0..e999, Q = e1000..e1999 (both sparse); PFMERGE mPQ P Q promotes part way.
    static let mergePQ = Digest(12304, 0x1b55_76fa_1f6b_8092)
    /// PFADD md a, PFCOUNT md, PFMERGE md pv2 s3 (pv2 dense).
    static let mergeDenseIntoCountedSparse = Digest(12304, 0x61b0_b637_5478_3415)
    /// PFDEBUG GETREG s200: the key is converted to dense in place.
    static let s200Dense = Digest(12304, 0xcfba_48be_2fbf_7138)
    static let s200RegistersFNV: UInt64 = 0x16e4_3a65_6099_2ac9
}

// MARK: - Tests

@Suite struct HyperLogLogTests {
    @Test func emptyHyperLogLogIsOneXZeroAsInRedis() {
        var empty = HyperLogLog.makeEmpty()
        #expect(Fixture.hex(empty) == "48594c4c010000000000000000000000" + "7fff")
        #expect(Fixture.encoding(empty) == .sparse)
        #expect(Fixture.count(&empty)! == (0, false))
        #expect(Fixture.hex(Fixture.make([])) == Redis.emptyStale)
        #expect(Fixture.hex(Fixture.pfmerge(nil, [])!) == Redis.emptyStale)
        #expect(empty.withUnsafeBytes { HyperLogLog.decodeSparse($0) } == "Z:16384")
    }

    @Test(arguments: Fixture.headerCases())
    func headerCheck(_ bytes: [UInt8], _ expected: HyperLogLog.Encoding?) {
        #expect(Fixture.encoding(bytes) == expected)
    }

    @Test func encodingNames() {
        #expect(HyperLogLog.Encoding.dense.name == "dense")
        #expect(HyperLogLog.Encoding.sparse.name == "sparse")
    }

    @Test(arguments: [
        (["a", "b", "c"], Redis.s3),
        (Fixture.elements(0..<20) + [""], Redis.s20),
        (Fixture.elements(0..<200), Redis.s200),
    ])
    func sparseAddsMatchRedisBytes(_ elements: [String], _ expected: String) {
        #expect(Fixture.hex(Fixture.make(elements)) == expected)
    }

    @Test func longerSparseMatchesRedisAndCountsLikeIt() {
        var hll = Fixture.make(Fixture.elements(0..<1000))
        #expect(Digest(of: hll) == Redis.s1000)
        #expect(Fixture.count(&hll)! == (1008, true))
        #expect(Digest(of: hll) == Redis.s1000Counted)
        #expect(Fixture.count(&hll)! == (1008, false))
    }

    @Test func pfaddReportsWhetherARegisterGrew() {
        var hll: [UInt8]? = nil
        #expect(Fixture.pfadd(&hll, []) == 1)
        #expect(Fixture.pfadd(&hll, ["a", "b", "c"]) == 1)
        #expect(Fixture.pfadd(&hll, ["a", "b", "c"]) == 0)
        #expect(Fixture.pfadd(&hll, [""]) == 1)
        var dense = hll!
        #expect(HyperLogLog.promote(&dense))
        let grew = Array("a".utf8).withUnsafeBytes { b in dense.withUnsafeMutableBytes { HyperLogLog.addDense($0, b) } }
        #expect(!grew)
    }

    @Test func decodeMatchesRedisText() {
        let s20 = Fixture.bytes(hex: Redis.s20)
        #expect(s20.withUnsafeBytes { HyperLogLog.decodeSparse($0) } == Redis.s20Decode)
        let dense = Fixture.dense(allRegisters: 0)
        #expect(dense.withUnsafeBytes { HyperLogLog.decodeSparse($0) } == nil)
        // A final XZERO cut in half reads its missing byte as 0, as Redis does.
        let cut = Fixture.header(encoding: 1) + [0x40, 0xfe, 0x7f]
        #expect(cut.withUnsafeBytes { HyperLogLog.decodeSparse($0) } == "Z:255 Z:16129")
    }

    @Test(arguments: [(1, UInt64(1)), (1000, 1008), (100_000, 100_853)])
    func countMatchesRedis(_ cardinality: Int, _ expected: UInt64) {
        var hll = Fixture.make(Fixture.elements(0..<cardinality))
        #expect(Fixture.count(&hll)! == (expected, true))
        #expect(Fixture.count(&hll)! == (expected, false))
        if cardinality == 1 { #expect(Fixture.hex(hll) == Redis.c1Counted) }
        if cardinality == 100_000 { #expect(Digest(of: hll) == Redis.c100000Counted) }
    }

    @Test func promotionBySizeMatchesRedis() {
        let d2000 = Fixture.make(Fixture.elements(0..<2000))
        #expect(Fixture.encoding(d2000) == .dense)
        #expect(Digest(of: d2000) == Redis.d2000)
        let d1000 = Fixture.make(Fixture.elements(0..<1000), sparseMaxBytes: 1000)
        #expect(Digest(of: d1000) == Redis.d1000Max1000)
        let s300 = Fixture.make(Fixture.elements(0..<300), sparseMaxBytes: 1000)
        #expect(Fixture.encoding(s300) == .sparse)
        #expect(Digest(of: s300) == Redis.s300Max1000)
    }

    @Test func promotionByValueMatchesRedis() {
        let big = Array("v13429669817".utf8)
        #expect(big.withUnsafeBytes { HyperLogLog.patternLength(of: $0) } == (10354, 33))
        var hll = Fixture.make(Fixture.elements(0..<10))
        let before = hll
        #expect(big.withUnsafeBytes { HyperLogLog.addSparse(&hll, $0, sparseMaxBytes: 3000) } == .promote)
        #expect(hll == before)
        var promoted: [UInt8]? = hll
        #expect(Fixture.pfadd(&promoted, ["v13429669817"]) == 1)
        #expect(Digest(of: promoted!) == Redis.promotedByValue)
        let registers = promoted!.withUnsafeBytes { HyperLogLog.registers(ofDense: $0) }!
        #expect(registers[10354] == 33)
        #expect(Digest(of: Fixture.make(["v13429669817"])) == Redis.onlyBigValue)
    }

    @Test func mergeMatchesRedis() {
        let a = Fixture.make(Fixture.elements(0..<50))
        let b = Fixture.make(Fixture.elements(25..<100))
        let d = Fixture.make(Fixture.elements(0..<5000))
        #expect(Fixture.hex(Fixture.pfmerge(nil, [a, b])!) == Redis.mergeAB)
        #expect(Digest(of: Fixture.pfmerge(nil, [a, d])!) == Redis.mergeSparseDense)
        #expect(Digest(of: Fixture.pfmerge(nil, [d, a])!) == Redis.mergeSparseDense)

        var x = Fixture.make(Fixture.elements(100..<130))
        #expect(Fixture.count(&x)!.count == 30)
        #expect(Fixture.hex(Fixture.pfmerge(x, [a, b])!) == Redis.mergeIntoCounted)

        let p = Fixture.make(Fixture.elements(0..<1000))
        let q = Fixture.make(Fixture.elements(1000..<2000))
        let pq = Fixture.pfmerge(nil, [p, q])!
        #expect(Fixture.encoding(pq) == .dense)
        #expect(Digest(of: pq) == Redis.mergePQ)

        var md = Fixture.make(["a"])
        _ = Fixture.count(&md)
        let merged = Fixture.pfmerge(md, [Fixture.make(["v13429669817"]), Fixture.bytes(hex: Redis.s3)])!
        #expect(Digest(of: merged) == Redis.mergeDenseIntoCountedSparse)
    }

    @Test func multiKeyCountMatchesRedis() {
        let p = Fixture.make(Fixture.elements(0..<1000))
        let q = Fixture.make(Fixture.elements(1000..<2000))
        let d = Fixture.make(Fixture.elements(0..<5000))
        #expect(Fixture.pfcount([p, q, d]) == 4968)
        let a = Fixture.make(Fixture.elements(0..<50))
        let b = Fixture.make(Fixture.elements(25..<100))
        #expect(Fixture.pfcount([a, b, nil]) == 100)
    }

    @Test func toDenseIsWhatGetregLeavesBehind() {
        let s200 = Fixture.bytes(hex: Redis.s200)
        let dense = s200.withUnsafeBytes { HyperLogLog.toDense($0) }!
        #expect(Digest(of: dense) == Redis.s200Dense)
        let registers = dense.withUnsafeBytes { HyperLogLog.registers(ofDense: $0) }!
        #expect(registers.count == 16384)
        #expect(registers.reduce(0) { $0 + Int($1) } == 384)
        #expect(Fixture.fnv(registers) == Redis.s200RegistersFNV)
        #expect(s200.withUnsafeBytes { HyperLogLog.registers(ofDense: $0) } == nil)
        // Counting either form, or the union of one, gives the same estimate.
        var sparseCopy = s200
        var denseCopy = dense
        let expected = Fixture.count(&sparseCopy)!.count
        #expect(Fixture.count(&denseCopy)!.count == expected)
        #expect(Fixture.pfcount([dense]) == expected)
    }

    @Test(arguments: [(UInt8(63), UInt64(1) << 63), (51, 1 << 63), (50, 1 << 63), (1, 23637), (0, 0)])
    func forgedDenseEstimatesMatchRedis(_ value: UInt8, _ expected: UInt64) {
        var hll = Fixture.dense(allRegisters: value)
        #expect(Fixture.count(&hll)! == (expected, true))
        #expect(Array(hll[8..<16]) == (0..<8).map { UInt8(truncatingIfNeeded: expected >> (8 * UInt64($0))) })
        #expect(Fixture.pfcount([hll]) == expected)
    }

    @Test func corruptSparseStringsBehaveAsInRedis() {
        // Runs summing to 16383 (short) and 32768 (long): PFCOUNT fails, PFADD edits what it reaches.
        var short = Fixture.header(encoding: 1) + [0x7f, 0xfe]
        #expect(Fixture.count(&short) == nil)
        var shortKey: [UInt8]? = short
        #expect(Fixture.pfadd(&shortKey, ["a", "b", "c", "d", "e", "f", "g"]) == 1)
        #expect(
            Fixture.hex(shortKey!)
                == "48594c4c010000000000000000000080466d80560c80443c84388050b184498c80426d804259")
        var long = Fixture.header(encoding: 1) + [0x7f, 0xff, 0x7f, 0xff]
        #expect(Fixture.count(&long) == nil)
        var longKey: [UInt8]? = long
        #expect(Fixture.pfadd(&longKey, ["a", "b", "c"]) == 1)
        #expect(Fixture.hex(longKey!) == "48594c4c01000000000000000000008060f38050b1844bfb80425a7fff")
        #expect(Fixture.pfmerge(nil, [long]) == nil)
        #expect(long.withUnsafeBytes { HyperLogLog.toDense($0) } == nil)

        // Header only: every operation reports corruption.
        var empty = Fixture.header(encoding: 1)
        #expect(Fixture.count(&empty) == nil)
        var emptyKey: [UInt8]? = empty
        #expect(Fixture.pfadd(&emptyKey, ["a"]) == nil)
        #expect(Fixture.pfmerge(nil, [empty]) == nil)

        // A final XZERO cut in half: its missing byte reads as 0, so these runs are whole.
        var cut = Fixture.header(encoding: 1) + [0x40, 0xfe, 0x7f]
        #expect(Fixture.count(&cut)! == (0, true))
        var cutKey: [UInt8]? = Fixture.header(encoding: 1) + [0x40, 0xfe, 0x7f]
        #expect(Fixture.pfadd(&cutKey, ["a", "b", "c"]) == 1)
        #expect(Fixture.hex(cutKey!) == "48594c4c01000000000000000000008040fe5ff48050b1844bfb8042")

        // A valid cache is trusted without looking at the runs.
        var cached = Fixture.header(encoding: 1, card: [5, 0, 0, 0, 0, 0, 0, 0])
        #expect(Fixture.count(&cached)! == (5, false))
        #expect(Fixture.pfcount([cached]) == nil)
    }

    @Test func sparseEditsSplitAndJoinRuns() {
        // Three registers set by hand: XZERO split into XZERO VAL XZERO, then neighbouring VALs
        // of equal value joined.
        var hll = HyperLogLog.makeEmpty()
        #expect(HyperLogLog.setSparse(&hll, index: 1000, count: 2, sparseMaxBytes: 3000) == .changed)
        #expect(HyperLogLog.setSparse(&hll, index: 1001, count: 2, sparseMaxBytes: 3000) == .changed)
        #expect(HyperLogLog.setSparse(&hll, index: 1002, count: 2, sparseMaxBytes: 3000) == .changed)
        #expect(HyperLogLog.setSparse(&hll, index: 1001, count: 1, sparseMaxBytes: 3000) == .unchanged)
        #expect(hll.withUnsafeBytes { HyperLogLog.decodeSparse($0) } == "Z:1000 v:2,3 Z:15381")
        #expect(HyperLogLog.setSparse(&hll, index: 1001, count: 3, sparseMaxBytes: 3000) == .changed)
        #expect(hll.withUnsafeBytes { HyperLogLog.decodeSparse($0) } == "Z:1000 v:2,1 v:3,1 v:2,1 Z:15381")
        #expect(HyperLogLog.setSparse(&hll, index: 5, count: 1, sparseMaxBytes: 22) == .promote)
        #expect(HyperLogLog.setSparse(&hll, index: 5, count: 33, sparseMaxBytes: 3000) == .promote)
    }

    @Test func fuzzedStringsNeverCrashAndAgreeOnCorruption() {
        var random = HyperLogLog.SplitMix64(seed: 0x5eed)
        for round in 0..<3000 {
            let hll = fuzzString(&random, dense: round % 100 == 0)
            exercise(hll, &random)
        }
    }

    @Test func selfTestPasses() {
        #expect(HyperLogLog.selfTest(registerCycles: 3, maxCardinality: 100_000, seed: 42) == nil)
    }
}

// MARK: - Fuzzing

extension HyperLogLogTests {
    /// A string with a valid header: random bytes, plausible opcodes (runs near 16384, maybe a
    /// final XZERO cut in half), or a dense body of random registers.
    fileprivate func fuzzString(_ random: inout HyperLogLog.SplitMix64, dense: Bool) -> [UInt8] {
        let card = (0..<8).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        if dense {
            let body = (0..<12288).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            return Fixture.header(encoding: 0, card: card) + body
        }
        var body: [UInt8] = []
        if random.next() % 2 == 0 {
            body = (0..<Int(random.next() % 64)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        } else {
            var covered = 0
            let target = 16384 + [0, 0, 0, -1, 1, -70, 64][Int(random.next() % 7)]
            while covered < target {
                let run = 1 + Int(random.next() % UInt64(max(1, min(16384, target - covered))))
                switch random.next() % 3 {
                case 0 where run <= 64: body.append(HyperLogLog.zeroByte(run))
                case 1 where run <= 4: body.append(HyperLogLog.valByte(UInt8(1 + random.next() % 32), run))
                default:
                    let (high, low) = HyperLogLog.xzeroBytes(run)
                    body += [high, low]
                }
                covered += run
            }
            if random.next() % 3 == 0 { body.append(0x40 | UInt8(random.next() % 64)) }
        }
        return Fixture.header(encoding: 1, card: card) + body
    }

    fileprivate func exercise(_ hll: [UInt8], _ random: inout HyperLogLog.SplitMix64) {
        var copy = hll
        let counted = Fixture.count(&copy)
        let dense = hll.withUnsafeBytes { HyperLogLog.toDense($0) }
        let union = Fixture.union([hll])
        let computed = hll.withUnsafeBytes { HyperLogLog.computeCardinality($0) }
        // Every reader agrees on whether the registers are corrupt.
        #expect((dense != nil) == (union != nil))
        #expect((dense != nil) == (computed != nil))
        if hll[15] & 0x80 != 0 { #expect((counted != nil) == (dense != nil)) }
        if let dense, let union, let computed {
            #expect(Fixture.encoding(dense) == .dense)
            #expect(Fixture.pfcount([dense]) == computed)
            let unionCount = union.registers.withUnsafeBufferPointer { HyperLogLog.count(registers: $0.baseAddress!) }
            #expect(unionCount == computed)
        }
        _ = hll.withUnsafeBytes { HyperLogLog.decodeSparse($0) }
        _ = Fixture.pfmerge(hll, [])
        // Adds with a small size limit exercise splits, joins and promotion on whatever is there.
        var key: [UInt8]? = hll
        for _ in 0..<4 {
            let element = "f\(random.next() % 100_000)"
            guard Fixture.pfadd(&key, [element], sparseMaxBytes: 40 + Int(random.next() % 200)) != nil else { break }
            let encoding = Fixture.encoding(key!)
            #expect(encoding != nil)
        }
    }
}
