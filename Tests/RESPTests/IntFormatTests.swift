// IntFormat (Platform): the decimal text of every integer reply and bulk header; and
// ByteView.double's integer fast path, which must give what strtod gives.
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

    @Test func integerScoresParseAsStrtodDoes() {
        var samples = ["0", "-0", "00", "-00", "7", "-7", "007", "123456789012345", "-12345678901234",
                       "999999999999999", "1.5", "1e3", "+5", "-", "", " 1", "1 ", "0x10", "inf", "-inf",
                       "1234567890123456", "12345678901234567890", "nan", "--1", "1-"]
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<5_000 {
            let digits = (0..<Int.random(in: 1...16, using: &rng)).map { _ in Character(String(Int.random(in: 0...9, using: &rng))) }
            samples.append((Bool.random(using: &rng) ? "-" : "") + String(digits))
        }
        for text in samples {
            let got = Array(text.utf8).withUnsafeBufferPointer { ByteView($0.baseAddress ?? UnsafePointer(bitPattern: 1)!, $0.count).double }
            // Swift's own parser is exact for these (strtod's rules for the ones the fast path takes).
            let expected: Double? = text.isEmpty || text.hasPrefix(" ") || text.hasSuffix(" ") || text.lowercased().contains("nan")
                ? nil : Double(text)
            #expect(got == expected, "\(text)")
            if let got, let expected { #expect(got.sign == expected.sign, "\(text)") }
        }
    }
}
