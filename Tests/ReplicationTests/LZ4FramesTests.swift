// LZ4FramesTests.swift — the tandem-lz4 framing: what a writer produces a reader gives back,
// whatever the read boundaries; frames ended by one writer and continued by another (the
// primary handing a replica to a sender worker) read as one stream; a damaged stream is an
// error, never a crash or wrong bytes passed on silently.
import Replication
import Testing

@Suite struct LZ4FramesTests {
    static func sample(_ n: Int, seed: UInt64) -> [UInt8] {
        var rng = SeededRNG(seed: seed)
        // RESP-like and compressible, with some noise.
        var out: [UInt8] = []
        while out.count < n {
            let k = Int(rng.next() % 1000)
            out += Array("*3\r\n$3\r\nSET\r\n$\(String(k).count + 4)\r\nkey:\(k)\r\n$5\r\nvalue\r\n".utf8)
            if rng.next() % 7 == 0 { out.append(UInt8(truncatingIfNeeded: rng.next())) }
        }
        return Array(out.prefix(n))
    }

    static func compress(_ batches: [[UInt8]], endEach: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        var w = LZ4FrameWriter()
        for b in batches {
            let ok = b.withUnsafeBytes { raw in
                w.write(raw.baseAddress!, raw.count) { p, n in out += UnsafeRawBufferPointer(start: p, count: n) }
            }
            #expect(ok)
            if endEach { w.end { p, n in out += UnsafeRawBufferPointer(start: p, count: n) } }
        }
        return out
    }

    static func decompress(_ bytes: [UInt8], pieces: Int) throws -> [UInt8] {
        var r = LZ4FrameReader()
        var out: [UInt8] = []
        let step = max(1, bytes.count / pieces)
        var at = 0
        while at < bytes.count {
            let piece = Array(bytes[at..<min(bytes.count, at + step)])
            try piece.withUnsafeBytes { raw in
                try r.read(raw.baseAddress!, raw.count) { p, n in out += UnsafeRawBufferPointer(start: p, count: n) }
            }
            at += step
        }
        return out
    }

    @Test(arguments: [1, 3, 17, 1000])
    func roundTripsAtAnyReadBoundary(_ pieces: Int) throws {
        let batches = (0..<20).map { Self.sample(100 + $0 * 5000, seed: UInt64($0 + 1)) }
        let compressed = Self.compress(batches)
        let plain = batches.flatMap { $0 }
        #expect(compressed.count < plain.count / 2, "RESP should compress: \(compressed.count) of \(plain.count)")
        #expect(try Self.decompress(compressed, pieces: pieces) == plain)
    }

    @Test func concatenatedFramesReadAsOneStream() throws {
        let a = Self.sample(70_000, seed: 9), b = Self.sample(3000, seed: 10)
        let first = Self.compress([a], endEach: true)
        let second = Self.compress([b])  // another writer, a new frame
        #expect(try Self.decompress(first + second, pieces: 7) == a + b)
    }

    @Test func aDamagedStreamIsRefused() {
        let compressed = Self.compress([Self.sample(20_000, seed: 3)])
        var damaged = compressed
        damaged[0] ^= 0xFF  // the frame's magic number
        #expect(throws: LZ4FrameReader.Failure.self) { _ = try Self.decompress(damaged, pieces: 1) }
        var flipped = compressed
        for i in stride(from: 20, to: flipped.count, by: 97) { flipped[i] ^= 0x5A }
        // Either refused, or (blocks are not checksummed) different bytes: never the original.
        if let out = try? Self.decompress(flipped, pieces: 3) {
            #expect(out != Self.sample(20_000, seed: 3))
        }
        #expect(throws: LZ4FrameReader.Failure.self) {
            _ = try Self.decompress(Array("not lz4 at all".utf8), pieces: 1)
        }
    }
}
