// The command table's lookup (CommandRegistry.find): every name in any case, nothing else.
import Platform
import Testing

@testable import Server

@Suite struct CommandLookupTests {
    let registry = CommandRegistry()

    func find(_ bytes: [UInt8]) -> Int {
        bytes.withUnsafeBufferPointer { registry.find(ByteView($0.baseAddress ?? UnsafePointer(bitPattern: 1)!, $0.count)) }
    }

    @Test func everyNameIsFoundInAnyCase() {
        for i in 0..<registry.count {
            let name = Array(registry.specs[i].nameString.utf8)
            #expect(find(name) == i)
            #expect(find(Array(registry.specs[i].nameString.uppercased().utf8)) == i)
            let mixed = name.enumerated().map { $0.offset % 2 == 0 && $0.element >= 97 && $0.element <= 122 ? $0.element - 32 : $0.element }
            #expect(find(mixed) == i)
        }
    }

    @Test func nearMissesAreNotFound() {
        for text in ["ge", "gett", "get\0", "\0get", "g\u{7f}t", "", "xyzzy", "getx", "restore\rasking"] {
            #expect(find(Array(text.utf8)) == -1, "\(text.debugDescription)")
        }
        // Only ASCII letters fold: bytes that equal a letter after OR 0x20 do not match it.
        #expect(find([0x47, 0x45, 0x54]) >= 0)
        #expect(find([0x07, 0x05, 0x14]) == -1)
        #expect(find([0xC7, 0xC5, 0xD4]) == -1)
    }
}
