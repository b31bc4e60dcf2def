// AOFCommandReaderTests.swift — AOFCommandReader (Sources/Persistence/AOFCommandReader.swift): commands
// come back whole whatever the buffer size (a command straddling refills, arguments bigger than the
// buffer), annotations are skipped, and a file cut anywhere ends as `truncated` at the last whole command.
@testable import Persistence
import Glibc
import Platform
import Testing

@Suite struct AOFCommandReaderTests {
    static func encode(_ commands: [[String]]) -> [UInt8] {
        var out: [UInt8] = []
        for c in commands {
            out += Array("*\(c.count)\r\n".utf8)
            for a in c { out += Array("$\(a.utf8.count)\r\n\(a)\r\n".utf8) }
        }
        return out
    }

    /// Reads `bytes` (written to a temp file) with a buffer of `bufferSize`.
    static func read(_ bytes: [UInt8], bufferSize: Int, from offset: Int64 = 0) -> (commands: [[String]], last: AOFCommandReader.Step, valid: Int64) {
        var template = Array("/tmp/aof-reader-XXXXXX".utf8CString)
        let fd = mkstemp(&template)
        defer {
            close(fd)
            unlink(String(cString: template))
        }
        _ = bytes.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count) }
        lseek(fd, 0, SEEK_SET)
        var reader = AOFCommandReader(fd: fd, startingAt: offset, bufferSize: bufferSize)
        var commands: [[String]] = []
        while true {
            let step = reader.next()
            if step != .command { return (commands, step, reader.validOffset) }
            commands.append((0..<reader.argc).map { reader.argv[$0].string })
        }
    }

    @Test func commandsSurviveEveryBufferSize() {
        var commands: [[String]] = [["SELECT", "9"]]
        for i in 0..<200 {
            commands.append(["SET", "key:\(i)", String(repeating: "v", count: (i * 37) % 300)])
        }
        commands.append(["RPUSH", "big", String(repeating: "x", count: 70_000), "y"])
        let bytes = Self.encode(commands)
        for size in [16, 17, 64, 1000, 4096, 65536] {
            let r = Self.read(bytes, bufferSize: size)
            #expect(r.last == .end, "buffer \(size)")
            #expect(r.commands == commands, "buffer \(size)")
            #expect(r.valid == Int64(bytes.count))
        }
    }

    @Test func annotationsAreSkipped() {
        let bytes = Array("#TS:1628217470\r\n".utf8) + Self.encode([["set", "a", "1"]]) + Array("#TS:1628217471\r\n#TS:1\r\n".utf8)
        let r = Self.read(bytes, bufferSize: 16)
        #expect(r.commands == [["set", "a", "1"]] && r.last == .end)
    }

    @Test func aCutFileIsTruncatedAtTheLastWholeCommand() {
        let whole = Self.encode([["incr", "foo"], ["incr", "foo"], ["set", "k", "value"]])
        let firstTwo = Int64(Self.encode([["incr", "foo"], ["incr", "foo"]]).count)
        for cut in 1..<whole.count {
            let r = Self.read(Array(whole[0..<cut]), bufferSize: 32)
            if cut == Int(firstTwo) || cut == Self.encode([["incr", "foo"]]).count {
                #expect(r.last == .end)
            } else {
                #expect(r.last == .truncated, "cut at \(cut)")
            }
            #expect(r.valid <= Int64(cut))
            if cut > Int(firstTwo) { #expect(r.valid == firstTwo) }
        }
    }

    @Test func malformedInputIsAFormatError() {
        #expect(Self.read(Array("set foo bar\r\n".utf8), bufferSize: 64).last == .formatError)
        #expect(Self.read(Self.encode([["set", "a", "b"]]) + Array("!!!\r\n".utf8), bufferSize: 64).last == .formatError)
        #expect(Self.read(Array("*2\r\n$3\r\nget\r\n+ok\r\n".utf8), bufferSize: 64).last == .formatError)
        #expect(Self.read(Array("*0\r\n".utf8), bufferSize: 64).last == .formatError)
        #expect(Self.read(Array("*1\r\n$-5\r\n".utf8), bufferSize: 64).last == .formatError)
        // A length past the end of the file is a truncation, not an allocation.
        #expect(Self.read(Array("*1\r\n$999999999999\r\nabc".utf8), bufferSize: 64).last == .truncated)
        // "*" as the last byte: Redis's read error at EOF, a truncation.
        #expect(Self.read(Array("*".utf8), bufferSize: 64).last == .truncated)
    }

    @Test func readingStartsAfterAPreamble() {
        let preamble = Array("REDIS-not-really".utf8)
        let r = Self.read(preamble + Self.encode([["set", "k", "v"]]), bufferSize: 16, from: Int64(preamble.count))
        #expect(r.commands == [["set", "k", "v"]])
    }
}
