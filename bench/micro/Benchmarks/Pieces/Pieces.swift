/*
 * Microbenchmarks of the request path's pieces (issue 20): the RESP parser, the keyspace's
 * dictionary (lookup, and insert while it grows and rehashes), reply encoding, the list
 * encodings (quicklist, listpack) and the replication backlog ring.
 *
 * Each benchmark runs its operation `scaledIterations` times (1,000 per iteration), setting
 * up its data before `startMeasurement()` so only the operation is timed. Besides time, the
 * malloc interposer counts allocations: the parser, lookups, reply encoding and the ring
 * must show 0 (PERFORMANCE.md: nothing allocated per command); inserting a key allocates
 * its entry, once.
 *
 * `make bench-micro` runs them and stores a Markdown report in bench/results/
 * (micro-<UTC time>.md); compare two reports in review to see a regression.
 */
import Benchmark
import Keyspace
import Platform
import RESP
import Replication

/// Keys "key:00000000" ... laid out in one buffer, so a loop makes no strings.
struct KeyBlock: ~Copyable {
    static let width = 12
    let bytes: UnsafeMutablePointer<UInt8>
    let count: Int

    init(count: Int) {
        self.count = count
        bytes = .allocate(capacity: count * Self.width)
        for i in 0..<count {
            let text = Array("key:" + String(repeating: "0", count: 8 - String(i).count) + String(i)).map { $0.asciiValue! }
            (bytes + i * Self.width).initialize(from: text, count: Self.width)
        }
    }

    func key(_ i: Int) -> ByteView { ByteView(bytes + (i % count) * Self.width, Self.width) }

    deinit { bytes.deallocate() }
}

/// A request's bytes in a buffer of their own (the parser writes nothing to multibulk input).
func requestBytes(_ args: [String]) -> (UnsafeMutablePointer<UInt8>, Int) {
    var text = "*\(args.count)\r\n"
    for a in args { text += "$\(a.utf8.count)\r\n\(a)\r\n" }
    let bytes = Array(text.utf8)
    let p = UnsafeMutablePointer<UInt8>.allocate(capacity: bytes.count)
    p.initialize(from: bytes, count: bytes.count)
    return (p, bytes.count)
}

let value100 = [UInt8](repeating: 120, count: 100)

/// Looks up keys of MillionKeys' block from `keysFrom` (0: present, `count`: absent), in a
/// stride that defeats the caches' neighbours.
func measureLookups(_ benchmark: Benchmark, keysFrom: Int) {
    let fixture = MillionKeys.shared
    var i = 0
    benchmark.startMeasurement()
    for _ in benchmark.scaledIterations {
        blackHole(fixture.dict.find(fixture.keys.key(keysFrom + i)))
        i = (i &+ 7919) % MillionKeys.count
    }
    benchmark.stopMeasurement()
}

/// Encodes one reply per iteration into a buffer emptied every 8 KB (as a socket write would).
func measureReplies(_ benchmark: Benchmark, _ encode: (inout ReplyBuffer, Int) -> Void) {
    var reply = ReplyBuffer()
    benchmark.startMeasurement()
    for i in benchmark.scaledIterations {
        encode(&reply, i)
        if reply.count > 8_000 { reply.clear() }
    }
    benchmark.stopMeasurement()
    reply.deallocate()
}

/// Parses one multibulk request over and over (the parser only reads such input).
func measureParsing(_ benchmark: Benchmark, _ args: [String]) {
    let (p, n) = requestBytes(args)
    var parser = RequestParser()
    benchmark.startMeasurement()
    for _ in benchmark.scaledIterations {
        blackHole(parser.parse(p, n))
        parser.reset()
    }
    benchmark.stopMeasurement()
    parser.deallocate()
    p.deallocate()
}

/// A dictionary of 1M keys of 100-byte values, built once for the lookup benchmarks (its keys
/// block holds 2M names: the second half are the misses).
final class MillionKeys: @unchecked Sendable {
    static let count = 1_000_000
    static let shared = MillionKeys()
    let keys = KeyBlock(count: 2 * count)
    var dict = Dict(seed: 7)

    init() {
        for i in 0..<Self.count {
            dict.insert(Entry.makeString(key: keys.key(i), value: ByteView(value100, 100)))
        }
        while dict.rehash(steps: 1000) {}
    }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .cpuTotal, .mallocCountTotal, .throughput],
        scalingFactor: .kilo,
        maxDuration: .seconds(2),
        maxIterations: 2_000
    )

    // MARK: RESP parsing

    Benchmark("RESP parse: SET key value") { benchmark in
        measureParsing(benchmark, ["SET", "key:__rand_int__", "xxx"])
    }

    Benchmark("RESP parse: MSET of 10 keys") { benchmark in
        measureParsing(benchmark, ["MSET"] + (0..<10).flatMap { ["key:\($0)", "value-\($0)"] })
    }

    Benchmark("RESP parse: inline PING") { benchmark in
        let text = Array("PING\r\n".utf8)
        let p = UnsafeMutablePointer<UInt8>.allocate(capacity: text.count)
        var parser = RequestParser()
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            // (Inline arguments are unescaped in place: restore the bytes each time.)
            p.update(from: text, count: text.count)
            blackHole(parser.parse(p, text.count))
            parser.reset()
        }
        benchmark.stopMeasurement()
        parser.deallocate()
        p.deallocate()
    }

    // MARK: The keyspace's dictionary

    Benchmark("Dict lookup: hit, 1M keys") { benchmark in
        measureLookups(benchmark, keysFrom: 0)
    }

    Benchmark("Dict lookup: miss, 1M keys") { benchmark in
        measureLookups(benchmark, keysFrom: MillionKeys.count)
    }

    Benchmark("Dict insert: empty to 1,000 keys (growing, rehashing)") { benchmark in
        let total = benchmark.scaledIterations.count
        let keys = KeyBlock(count: total)
        var dict = Dict(seed: 7)
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations {
            dict.insert(Entry.makeString(key: keys.key(i), value: ByteView(value100, 100)))
        }
        benchmark.stopMeasurement()
        dict.removeAll { $0.free() }
    }

    // MARK: Reply encoding

    Benchmark("Reply: bulk of 100 B") { benchmark in
        value100.withUnsafeBufferPointer { b in
            measureReplies(benchmark) { reply, _ in reply.appendBulk(b.baseAddress!, 100) }
        }
    }

    Benchmark("Reply: integer") { benchmark in
        var v: Int64 = 1
        measureReplies(benchmark) { reply, _ in
            reply.appendInteger(v)
            v = v &* 31 &+ 7
        }
    }

    Benchmark("Reply: +OK") { benchmark in
        measureReplies(benchmark) { reply, _ in reply.append("+OK\r\n" as StaticString) }
    }

    // MARK: Lists

    Benchmark("QuickList: push tail + pop head, 16 B") { benchmark in
        let list = QuickList.create(fill: -2)
        let element = [UInt8](repeating: 97, count: 16)
        element.withUnsafeBufferPointer { for _ in 0..<1_000 { list.push(ByteView($0.baseAddress!, 16), head: false) } }
        benchmark.startMeasurement()
        element.withUnsafeBufferPointer { b in
            for _ in benchmark.scaledIterations {
                list.push(ByteView(b.baseAddress!, 16), head: false)
                list.deleteHead(1)
            }
        }
        benchmark.stopMeasurement()
        list.free()
    }

    Benchmark("Listpack: build a 10-field hash") { benchmark in
        var builder = ListpackBuilder()
        let keys = KeyBlock(count: 10)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            for f in 0..<10 {
                builder.append(keys.key(f))
                builder.append(Int64(f))
            }
            blackHole(builder.byteCount)
            builder.reset()
        }
        benchmark.stopMeasurement()
        builder.free()
    }

    // MARK: The replication backlog

    Benchmark("BacklogRing: append 100 B") { benchmark in
        var ring = try BacklogRing(capacity: 1 << 20, replID: String(repeating: "a", count: 40), startOffset: 0)
        benchmark.startMeasurement()
        value100.withUnsafeBufferPointer { b in
            for _ in benchmark.scaledIterations {
                ring.append(ByteView(b.baseAddress!, 100))
            }
        }
        benchmark.stopMeasurement()
        blackHole(ring.contains(offset: 1))
    }
}
