// IntFormat (Platform): the decimal text of every integer reply and bulk header.
import Platform
import Testing

@Suite struct IntFormatTests {
    func text(_ v: Int64) -> String {
        var buffer = [UInt8](repeating: 0, count: 24)
        let n = buffer.withUnsafeMutableBufferPointer { IntFormat.write(v, to: $0.baseAddress!) }
        return String(decoding: buffer[..<n], as: UTF8.self)
    }

    @Test func writesWhatStringDoes() {
        var edges: [Int64] = [0, 1, -1, 9, 10, 11, 99, 100, 101, 999, 1000, Int64.max, Int64.min, Int64.max - 1, Int64.min + 1]
        var p: Int64 = 1
        for _ in 0..<18 {
            p *= 10
            edges += [p - 1, p, p + 1, -(p - 1), -p, -(p + 1)]
        }
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<20_000 { edges.append(Int64.random(in: Int64.min...Int64.max, using: &rng) >> Int64.random(in: 0...62, using: &rng)) }
        for v in edges {
            #expect(text(v) == String(v))
            #expect(IntFormat.digits(v) == String(v).utf8.count, "\(v)")
        }
    }
}
