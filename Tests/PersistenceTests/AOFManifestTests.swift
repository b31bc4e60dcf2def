// AOFManifestTests.swift — AOFManifest (Sources/Persistence/AOFManifest.swift): the manifests Redis 7.0
// writes parse into the same files, are written back byte for byte, and every malformed manifest of Redis's
// integration/aof-multi-part unit is refused with Redis's message.
@testable import Persistence
import Testing

@Suite struct AOFManifestTests {
    static func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    @Test func redisManifestsRoundTrip() throws {
        let text = "file appendonly.aof.1.base.rdb seq 1 type b\n"
            + "file appendonly.aof.1.incr.aof seq 1 type h\n"
            + "file appendonly.aof.2.incr.aof seq 2 type i\n"
            + "file appendonly.aof.3.incr.aof seq 3 type i\n"
        let m = try AOFManifest.parse(Self.bytes(text)).get()
        #expect(m.base == .init(name: Self.bytes("appendonly.aof.1.base.rdb"), sequence: 1, type: .base))
        #expect(m.history.count == 1 && m.incremental.map(\.sequence) == [2, 3])
        #expect(m.serialized() == Self.bytes(text))
        // Quoted names (blanks, escapes) and unknown keys, as Redis reads them.
        let quoted = try AOFManifest.parse(Self.bytes("file \"a b\\x41.aof\" seq 5 type i newkey x\n# comment\n")).get()
        #expect(quoted.incremental.first?.name == Self.bytes("a bA.aof"))
        #expect(quoted.serialized() == Self.bytes("file \"a bA.aof\" seq 5 type i\n"))
        // Keys in any case and order; CRLF line ends.
        let mixed = try AOFManifest.parse(Self.bytes("TYPE b SEQ 7 FILE x.rdb\r\n")).get()
        #expect(mixed.base?.sequence == 7)
    }

    @Test func malformedManifestsAreRefusedAsRedis() {
        func message(_ s: String) -> String? {
            if case .failure(let e) = AOFManifest.parse(Self.bytes(s)) { return e.message }
            return nil
        }
        #expect(message("") == "Found an empty AOF manifest")
        #expect(message("file a seq 1 type i\n\nfile b seq 2 type i\n") == "Invalid AOF manifest file format")
        #expect(message("file a seq 2 type i\nfile b seq 1 type i\n") == "Found a non-monotonic sequence number")
        #expect(message("file a seq 1 type b\nfile b seq 2 type b\n") == "Found duplicate base file information")
        #expect(message("file a seq 1 type x\n") == "Unknown AOF file type")
        #expect(message("file a seq 1\n") == "Invalid AOF manifest file format")
        #expect(message("file a seq x type i\n") == "Invalid AOF manifest file format")
        #expect(message("file a seq 0 type i\n") == "Invalid AOF manifest file format")
        #expect(message("file dir/a seq 1 type i\n") == "File can't be a path, just a filename")
        #expect(message("file \"a seq 1 type i\n") == "Invalid AOF manifest file format")
        #expect(message("file a seq 1 type i") == "The AOF manifest file contains too long line")
        #expect(message("file " + String(repeating: "x", count: 1100) + " seq 1 type i\n")
                == "The AOF manifest file contains too long line")
        #expect(message("# only a comment\n") == nil)
    }
}
