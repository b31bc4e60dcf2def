// ByteView (Platform): the word-load comparison keys and fields are matched with must say
// what memcmp says, at every length and for a difference at every position.
import Glibc
import Platform
import Testing

@Suite struct ByteViewTests {
    @Test func bytesEqualAgreesWithMemcmp() {
        for count in 0...40 {
            var a = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            let b = a
            #expect(ByteView.bytesEqual(a, b, count))
            for position in 0..<count {
                a[position] ^= 0x40
                let same = memcmp(a, b, count) == 0
                #expect(ByteView.bytesEqual(a, b, count) == same, "count \(count), differing at \(position)")
                #expect(!same)
                a[position] ^= 0x40
            }
        }
    }

    @Test func equalsComparesLengthFirst() {
        let bytes: [UInt8] = Array("key:000000000001".utf8)
        bytes.withUnsafeBufferPointer { p in
            let whole = ByteView(p.baseAddress!, 16)
            #expect(whole.equals(ByteView(p.baseAddress!, 16)))
            #expect(!whole.equals(ByteView(p.baseAddress!, 15)))
            #expect(ByteView(p.baseAddress!, 0).equals(ByteView(p.baseAddress! + 3, 0)))
        }
    }
}
