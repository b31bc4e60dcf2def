// RDBRoundTripTests — the writer and the loader against each other: every type and
// encoding, empty and large, with and without compression and checksum; then a seeded
// mutation test of the loader (no crash, no hang, a message for every rejection, and no
// memory left behind when a load fails).
import CTandem
import Glibc
import Keyspace
import Persistence
import Platform
import Testing

/// A few databases built through the same store functions the commands use.
final class TestKeyspace {
    let count = 4
    let dbs: UnsafeMutablePointer<Database>

    init() {
        dbs = .allocate(capacity: count)
        for i in 0..<count { (dbs + i).initialize(to: Database(id: i, seed: 42)) }
    }

    deinit {
        for i in 0..<count { dbs[i].removeAll() }
        dbs.deinitialize(count: count)
        dbs.deallocate()
    }

    func add(_ db: Int, _ e: Entry) { dbs[db].add(e) }

    func string(_ db: Int, _ key: String, _ value: [UInt8], expireAt: Int64 = 0) {
        withView(key) { k in
            value.withUnsafeBufferPointer { v in
                let e = Entry.makeString(key: k, value: ByteView(v.baseAddress ?? UnsafePointer(bitPattern: 1)!, v.count))
                e.expireAt = expireAt
                add(db, e)
            }
        }
    }

    func aggregate(_ db: Int, _ key: String, _ type: ObjectType, _ encoding: ObjectEncoding, _ payload: Int64,
                   fill: (Entry) -> Void) {
        withView(key) { k in
            let e = Entry.allocate(key: k, valueCapacity: 0)
            e.type = type
            e.encoding = encoding
            e.payload = payload
            fill(e)
            add(db, e)
        }
    }

    func list(_ db: Int, _ key: String, _ items: [String]) {
        let ql = QuickList.create(fill: -2)
        aggregate(db, key, .list, .quicklist, ql.payload) { _ in
            for s in items { withView(s) { ql.push($0, head: false) } }
        }
    }

    func set(_ db: Int, _ key: String, _ members: [String]) {
        var v = members.allSatisfy({ Int64($0) != nil && String(Int64($0)!) == $0 }) ? SetValue.newIntSet() : SetValue.newTable()
        for m in members { _ = withView(m) { v.add($0, maxIntsetEntries: 512) } }
        aggregate(db, key, .set, v.encoding, v.payload) { _ in }
    }

    func zset(_ db: Int, _ key: String, _ pairs: [(String, Double)]) {
        let (enc, payload) = ZSetStore.makeEmpty(listpack: true)
        aggregate(db, key, .zset, enc, payload) { e in
            for (m, s) in pairs { _ = withView(m) { ZSetStore.add(e, $0, s, [], maxEntries: 128, maxValue: 64) } }
        }
    }

    func hash(_ db: Int, _ key: String, _ pairs: [(String, String)]) {
        aggregate(db, key, .hash, .listpack, HashStore.newListpackPayload()) { e in
            for (f, v) in pairs {
                withView(f) { fb in withView(v) { vb in _ = HashStore.set(e, fb, vb, maxEntries: 512, maxValue: 64) } }
            }
        }
    }

    /// Every key as canonical text: db, key, type, encoding, expire, contents.
    func canonical() -> [String] {
        var out: [String] = []
        for i in 0..<count {
            dbs[i].dict.forEach { e in out.append("\(i) \(Self.describe(e))") }
        }
        return out.sorted()
    }

    static func describe(_ e: Entry) -> String {
        var s = "\(e.key.string) \(e.type.name) \(e.encoding.name) exp=\(e.expireAt) "
        switch e.type {
        case .string:
            s += e.encoding == .int ? String(e.payload) : "\(Array(UnsafeBufferPointer(start: e.stringBytes.base, count: e.stringBytes.count)))"
        case .list:
            var items: [String] = []
            ListStore.list(e).forEach { v in items.append(v.withBytes { $0.string }) }
            s += items.joined(separator: ",")
        case .set:
            var items: [String] = []
            SetValue(e).forEach { v in items.append(v.withBytes { $0.string }) }
            s += items.sorted().joined(separator: ",")
        case .zset:
            var items: [String] = []
            ZSetStore.forEach(e, from: 0, to: ZSetStore.count(e) - 1, reverse: false) { m, sc in
                items.append("\(m.string)=\(sc.bitPattern)")
            }
            s += items.joined(separator: ",")
        case .hash:
            var items: [String] = []
            HashStore.forEach(e) { f, v in items.append(f.withBytes { $0.string } + "=" + v.withBytes { $0.string }) }
            s += items.sorted().joined(separator: ",")
        case .stream:
            var it = StreamIterator(StreamStore.stream(e), start: nil, end: nil, reverse: false)
            while let (id, fields) = it.nextID() {
                s += "\(id.ms)-\(id.seq):"
                for _ in 0..<fields {
                    let (f, v) = it.nextField()
                    s += f.withBytes { $0.string } + "=" + v.withBytes { $0.string } + ","
                }
            }
        }
        return s
    }
}


/// The dataset of the round-trip tests: every type and encoding, small and large.
func populateEverything(_ ks: TestKeyspace) {
    ks.string(0, "empty", [])
    ks.string(0, "int", Array("12345".utf8))
    ks.string(0, "neg", Array("-9223372036854775808".utf8))
    ks.string(0, "short", Array("hello".utf8))
    ks.string(0, "binary", [0, 13, 10, 255, 0, 1])
    ks.string(0, "compressible", Array(String(repeating: "abc", count: 200).utf8))
    ks.string(0, "random", (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 7919 &+ ($0 >> 3) &* 31) })
    ks.string(0, "expiring", Array("v".utf8), expireAt: 4_102_444_800_000)
    ks.string(0, "123", Array("int key".utf8))
    ks.list(0, "small-list", ["a", "1", "-7", "bb", ""])
    ks.list(0, "large-list", (0..<5000).map { $0 % 3 == 0 ? String($0) : "element-\($0)" })
    ks.list(0, "big-elements", [String(repeating: "x", count: 20000), "y", String(repeating: "z", count: 9000)])
    ks.set(0, "intset16", ["1", "2", "-3"])
    ks.set(0, "intset32", ["100000", "-1"])
    ks.set(0, "intset64", ["10000000000", "5"])
    ks.set(0, "strset", ["a", "b", "c", "12"])
    ks.set(0, "bigintset", (0..<1000).map { String($0) })
    ks.zset(0, "small-zset", [("a", 1), ("b", 2.5), ("c", -.infinity), ("d", .infinity), ("e", 1e300), ("f", -0.0), ("12", 3)])
    ks.zset(0, "large-zset", (0..<2000).map { ("m\($0)", Double($0) / 7) })
    ks.zset(0, "long-member", [(String(repeating: "q", count: 100), 1)])
    ks.hash(0, "small-hash", [("f", "v"), ("n", "12"), ("neg", "-1"), ("", "empty field")])
    ks.hash(0, "large-hash", (0..<1000).map { ("field\($0)", "value\($0)") })
    ks.hash(0, "long-value", [("f", String(repeating: "v", count: 100))])
    ks.string(1, "in-db-1", Array("one".utf8))
    ks.list(3, "in-db-3", ["x"])
}

func snapshotBytes(_ ks: TestKeyspace, options: RDBWriteOptions) -> [UInt8] {
    var w = RDBWriter(out: RDBOutput(memoryCapacity: 1024), options: options)
    let aux = RDBAuxInfo(redisVersion: "7.0.15", createdAt: 1_700_000_000, usedMemory: 1, replStreamDB: 0,
                         replID: String(repeating: "a", count: 40), replOffset: 0)
    w.writeSnapshot(dbs: ks.dbs, count: ks.count, aux: aux)
    return w.out.withBytes { Array(UnsafeBufferPointer(start: $0.base, count: $0.count)) }
}

func load(_ bytes: [UInt8], into ks: TestKeyspace, verify: Bool = true) throws(RDBError) -> RDBLoadSummary {
    var options = RDBLoadOptions()
    options.nowMillis = 1_700_000_000_000
    options.verifyChecksum = verify
    let result: Result<RDBLoadSummary, RDBError> = bytes.withUnsafeBufferPointer { b in
        var input = RDBInput(memory: ByteView(b.baseAddress ?? UnsafePointer(bitPattern: 1)!, b.count))
        do throws(RDBError) {
            return .success(try RDBLoader.load(&input, into: ks.dbs, count: ks.count, options: options) { _ in })
        } catch {
            return .failure(error)
        }
    }
    return try result.get()
}

@Suite struct RDBRoundTripTests {
    @Test(arguments: [(true, true), (false, true), (true, false), (false, false)])
    func everyTypeAndEncodingSurvives(compression: Bool, checksum: Bool) throws {
        let source = TestKeyspace()
        populateEverything(source)
        let bytes = snapshotBytes(source, options: RDBWriteOptions(compression: compression, checksum: checksum))
        #expect(Array(bytes.prefix(9)) == Array("REDIS0010".utf8))
        let target = TestKeyspace()
        let summary = try load(bytes, into: target)
        #expect(summary.keysLoaded == source.canonical().count)
        #expect(summary.redisVersion == "7.0.15")
        #expect(target.canonical() == source.canonical())
        if !checksum { #expect(bytes.suffix(8).allSatisfy { $0 == 0 }) }
    }

    @Test func compressionShrinksRepetitiveData() {
        let ks = TestKeyspace()
        populateEverything(ks)
        let packed = snapshotBytes(ks, options: RDBWriteOptions(compression: true))
        let plain = snapshotBytes(ks, options: RDBWriteOptions(compression: false))
        #expect(packed.count < plain.count)
    }

    @Test func emptyKeyspaceIsHeaderAuxAndTrailer() throws {
        let ks = TestKeyspace()
        let bytes = snapshotBytes(ks, options: RDBWriteOptions())
        #expect(bytes[bytes.count - 9] == RDBFormat.opEOF)
        let target = TestKeyspace()
        #expect(try load(bytes, into: target).keysLoaded == 0)
    }

    @Test func expiredKeysAreDroppedOnlyWhenAsked() throws {
        let ks = TestKeyspace()
        ks.string(0, "gone", Array("x".utf8), expireAt: 1_000)
        ks.string(0, "kept", Array("y".utf8))
        let bytes = snapshotBytes(ks, options: RDBWriteOptions())
        let master = TestKeyspace()
        let s = try load(bytes, into: master)
        #expect(s.keysLoaded == 1 && s.expiredSkipped == 1)
    }

    @Test func badChecksumIsRejectedWithOffset() {
        let ks = TestKeyspace()
        populateEverything(ks)
        var bytes = snapshotBytes(ks, options: RDBWriteOptions())
        bytes[bytes.count - 1] ^= 0xFF
        let target = TestKeyspace()
        #expect {
            _ = try load(bytes, into: target)
        } throws: { error in
            guard let e = error as? RDBError else { return false }
            return e.message.hasPrefix("Wrong RDB checksum") && e.offset == Int64(bytes.count - 8)
        }
        #expect((try? load(bytes, into: TestKeyspace(), verify: false)) != nil)
    }

    @Test func newerVersionAndBadSignatureAreRefused() {
        for (header, message) in [("REDIS0011", "Can't handle RDB format version 11"),
                                  ("REDIX0010", "Wrong signature trying to load DB from file")] {
            var bytes = snapshotBytes(TestKeyspace(), options: RDBWriteOptions())
            bytes.replaceSubrange(0..<9, with: Array(header.utf8))
            #expect {
                _ = try load(bytes, into: TestKeyspace())
            } throws: { ($0 as? RDBError)?.message == message }
        }
    }

    @Test func unknownTypeAndTruncationNameTheProblem() {
        let ks = TestKeyspace()
        ks.string(0, "k", Array("v".utf8))
        let good = snapshotBytes(ks, options: RDBWriteOptions())
        // The key record starts right after SELECTDB 0 and RESIZEDB 1 0.
        let select = good.firstIndex(of: RDBFormat.opSelectDB)!
        var bad = good
        bad[select + 5] = 30
        #expect {
            _ = try load(bad, into: TestKeyspace(), verify: false)
        } throws: { ($0 as? RDBError)?.message == "Unknown RDB encoding type 30" }
        for cut in [10, select + 6, good.count - 3] {
            #expect {
                _ = try load(Array(good.prefix(cut)), into: TestKeyspace())
            } throws: { ($0 as? RDBError)?.message == "Unexpected EOF reading RDB file" }
        }
    }

    /// Lengths that claim more than the input holds or than LZF can produce are errors, never
    /// allocations (a 2^60-byte claim once crashed RESTORE).
    @Test(arguments: [
        [0xC3, 0x02, 0x81, 0x10, 0, 0, 0, 0, 0, 0, 0, 0x61, 0x61],  // LZF: 2 bytes claiming 2^60
        [0xC3, 0x02, 0x80, 0x7F, 0, 0, 0, 0x61, 0x61],              // LZF: 2 bytes claiming 2 GB
        [0x81, 0x10, 0, 0, 0, 0, 0, 0, 0],                            // plain: 2^60 bytes
        [0x80, 0xFF, 0xFF, 0xFF, 0xFF, 0x61],                         // plain: 4 GB
    ] as [[UInt8]])
    func absurdStringLengthsAreRejected(_ value: [UInt8]) {
        let bytes = [RDBFormat.typeString] + value
        bytes.withUnsafeBufferPointer { b in
            var input = RDBInput(memory: ByteView(b.baseAddress!, b.count))
            #expect(throws: RDBError.self) {
                let type = try input.readByte()
                _ = try RDBLoader.readValue(&input, type: type, key: ByteView("k"), options: RDBLoadOptions())
            }
        }
    }

    @Test func dumpPayloadRoundTrips() throws {
        let ks = TestKeyspace()
        populateEverything(ks)
        var failures: [String] = []
        ks.dbs[0].dict.forEach { e in
            let payload = RDBWriter.dumpPayload(e, compression: true)
            let described = TestKeyspace.describe(e)
            payload.withUnsafeBufferPointer { b in
                var input = RDBInput(memory: ByteView(b.baseAddress!, b.count - 10))
                do {
                    let type = try input.readByte()
                    guard let copy = try RDBLoader.readValue(&input, type: type, key: e.key, options: RDBLoadOptions()) else {
                        failures.append("nil for \(described)")
                        return
                    }
                    copy.expireAt = e.expireAt
                    if TestKeyspace.describe(copy) != described { failures.append(described) }
                    copy.free()
                } catch {
                    failures.append("\(error) for \(described)")
                }
            }
        }
        #expect(failures.isEmpty)
    }
}

@Suite struct RDBLoaderMutationTests {
    /// Seeded mutations of a valid file, loaded with the checksum check off so that the
    /// damage reaches the parsers. Every outcome must be a clean load or an RDBError with
    /// a message. (Leaks on failed loads are checked against a running server, whose
    /// used_memory is not disturbed by other tests running in parallel.)
    @Test func mutatedFilesNeverCrash() {
        let source = TestKeyspace()
        populateEverything(source)
        let good = snapshotBytes(source, options: RDBWriteOptions(compression: true))
        var rng = SeededRNG(seed: UInt64(ProcessInfoSeed.value))
        let iterations = ProcessInfoSeed.iterations
        var rejected = 0
        for _ in 0..<iterations {
            var bytes = good
            switch rng.next() % 4 {
            case 0:
                bytes = Array(bytes.prefix(Int(rng.next() % UInt64(bytes.count))))
            case 1:
                for _ in 0..<(1 + rng.next() % 4) {
                    bytes[Int(rng.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: rng.next())
                }
            case 2:
                let at = Int(rng.next() % UInt64(bytes.count))
                bytes[at] ^= UInt8(1 << (rng.next() % 8))
            default:
                let at = Int(rng.next() % UInt64(bytes.count))
                bytes.insert(contentsOf: (0..<(1 + rng.next() % 8)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, at: at)
            }
            let target = TestKeyspace()
            do {
                _ = try load(bytes, into: target, verify: false)
            } catch {
                rejected += 1
                #expect(!error.message.isEmpty)
            }
        }
        #expect(rejected > iterations / 4)
    }
}

/// A deterministic seed and a bounded count unless TANDEM_FUZZ_SEED / TANDEM_FUZZ_ITERATIONS
/// override them (`make fuzz` runs longer with a random seed).
enum ProcessInfoSeed {
    static var iterations: Int {
        if let s = getenv("TANDEM_FUZZ_ITERATIONS"), let v = Int(String(cString: s)), v > 0 { return v }
        return 1500
    }

    static var value: Int {
        if let s = getenv("TANDEM_FUZZ_SEED"), let v = Int(String(cString: s)) { return v }
        return 20261125
    }
}

