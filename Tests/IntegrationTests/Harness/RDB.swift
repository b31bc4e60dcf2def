/*
 * RDB.swift — what the persistence tests need besides servers: the RDB fixtures, the dataset script they were
 * made from, Redis's CRC64 and redis-check-rdb.
 *
 * The fixtures live in Tests/IntegrationTests/Fixtures/rdb (see its README.md); `generate.sh` there made them
 * with Debian's redis-server 7.0 by replaying `dataset.txt`, a script in redis-cli syntax (one command a line,
 * "double quoted" arguments with \xNN \r \n \t \\ \" escapes, 'single quoted' ones, "#" comment lines).
 * `CommandScript` reads that syntax exactly as redis-cli does (sdssplitargs), so a test can replay the same
 * dataset into tandem-server byte for byte, binary values included.
 *
 * `RDBFile` edits dump files for the corruption tests: locate a byte run, flip a byte, truncate, and rewrite
 * the CRC64 trailer (Jones polynomial, reflected, as Redis computes it) so that only the intended damage is
 * there to find.
 */

import Foundation
#if canImport(Glibc)
import Glibc
#endif

// MARK: - Fixtures

enum Fixtures {
    /// Tests/IntegrationTests/Fixtures/rdb, found from the package root.
    static let rdbDir = ServerFlavour.packageRoot + "/Tests/IntegrationTests/Fixtures/rdb"

    /// The RDB fixtures and the number of keys each holds (as redis-check-rdb counts them).
    static let rdbFiles: [(name: String, keys: Int)] = [
        ("all-types.rdb", 85), ("no-compression.rdb", 85), ("no-checksum.rdb", 85), ("compressed-list.rdb", 7),
        ("streams.rdb", 6),
    ]

    static func path(_ name: String) -> String { rdbDir + "/" + name }

    static func bytes(_ name: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path(name)) else {
            throw HarnessError.system("fixture \(path(name)) is missing (run Fixtures/rdb/generate.sh)")
        }
        return Array(data)
    }

    /// Copies fixture `name` into `dir` as `target` (default: the same name).
    static func copy(_ name: String, into dir: String, as target: String? = nil) throws {
        try Harness.writeBytes(bytes(name), to: dir + "/" + (target ?? name))
    }

    /// The commands of `dataset.txt`, the script all-types.rdb was made from.
    static func dataset() throws -> [[[UInt8]]] { try CommandScript.load(path("dataset.txt")) }
}

// MARK: - redis-cli syntax scripts

enum CommandScript {
    /// Reads a script: one command a line; blank lines and lines starting with "#" are skipped.
    static func load(_ path: String) throws -> [[[UInt8]]] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw HarnessError.system("cannot read \(path)")
        }
        var commands: [[[UInt8]]] = []
        for (n, line) in data.split(separator: UInt8(ascii: "\n")).enumerated() {
            if line.isEmpty || line.first == UInt8(ascii: "#") { continue }
            guard let args = splitArgs(Array(line)) else {
                throw HarnessError.system("\(path):\(n + 1): unbalanced quotes")
            }
            if !args.isEmpty { commands.append(args) }
        }
        return commands
    }

    /// Splits one line into arguments like Redis's sdssplitargs: nil on unbalanced quotes, or a closing quote
    /// not followed by a space.
    static func splitArgs(_ line: [UInt8]) -> [[UInt8]]? {
        var args: [[UInt8]] = []
        var i = 0
        func isSpace(_ c: UInt8) -> Bool { c == 32 || c == 9 || c == 10 || c == 13 || c == 11 || c == 12 }
        while true {
            while i < line.count && isSpace(line[i]) { i += 1 }
            if i == line.count { return args }
            var current: [UInt8] = []
            var inDouble = false, inSingle = false, done = false
            while !done {
                let c: UInt8? = i < line.count ? line[i] : nil
                if inDouble {
                    guard let c else { return nil }
                    if c == UInt8(ascii: "\\"), i + 3 < line.count, line[i + 1] == UInt8(ascii: "x"),
                       let hi = hexValue(line[i + 2]), let lo = hexValue(line[i + 3]) {
                        current.append(hi << 4 | lo)
                        i += 3
                    } else if c == UInt8(ascii: "\\"), i + 1 < line.count {
                        i += 1
                        switch line[i] {
                        case UInt8(ascii: "n"): current.append(10)
                        case UInt8(ascii: "r"): current.append(13)
                        case UInt8(ascii: "t"): current.append(9)
                        case UInt8(ascii: "b"): current.append(8)
                        case UInt8(ascii: "a"): current.append(7)
                        default: current.append(line[i])
                        }
                    } else if c == UInt8(ascii: "\"") {
                        if i + 1 < line.count && !isSpace(line[i + 1]) { return nil }
                        done = true
                    } else {
                        current.append(c)
                    }
                } else if inSingle {
                    guard let c else { return nil }
                    if c == UInt8(ascii: "\\"), i + 1 < line.count, line[i + 1] == UInt8(ascii: "'") {
                        current.append(UInt8(ascii: "'"))
                        i += 1
                    } else if c == UInt8(ascii: "'") {
                        if i + 1 < line.count && !isSpace(line[i + 1]) { return nil }
                        done = true
                    } else {
                        current.append(c)
                    }
                } else {
                    switch c {
                    case nil: done = true
                    case let c? where isSpace(c): done = true
                    case UInt8(ascii: "\"")?: inDouble = true
                    case UInt8(ascii: "'")?: inSingle = true
                    case let c?: current.append(c)
                    }
                }
                if i < line.count { i += 1 }
            }
            args.append(current)
        }
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// Sends every command and reads its reply; throws on the first error reply, naming the command.
    static func replay(_ commands: [[[UInt8]]], into c: RawClient) throws {
        for args in commands {
            let reply = try c.callValue(bytes: args)
            if reply.isError {
                let shown = args.prefix(3).map { RESP.escape($0.prefix(40)) }.joined(separator: " ")
                throw HarnessError.system("`\(shown) ...` answered \(RESP.render(reply, indent: ""))")
            }
        }
    }
}

// MARK: - RDB files

enum RDBFile {
    /// CRC64 as Redis computes it (crc64.c: Jones polynomial, reflected, initial value 0, no final xor).
    static func crc64<C: Collection>(_ bytes: C) -> UInt64 where C.Element == UInt8 {
        var crc: UInt64 = 0
        for b in bytes {
            crc ^= UInt64(b)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x95AC_9329_AC4B_C9B5 : crc >> 1 }
        }
        return crc
    }

    /// The 8-byte little-endian trailer of a dump file (or a DUMP payload): CRC64 of everything before it.
    static func trailer(_ file: [UInt8]) -> UInt64 {
        file.suffix(8).reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// `file` with its CRC64 trailer recomputed over the rest.
    static func withFixedChecksum(_ file: [UInt8]) -> [UInt8] {
        var out = Array(file.dropLast(8))
        var crc = crc64(out)
        for _ in 0..<8 {
            out.append(UInt8(crc & 0xff))
            crc >>= 8
        }
        return out
    }

    /// Offset of the first occurrence of `needle` in `haystack`, or nil.
    static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard !needle.isEmpty, haystack.count >= needle.count else { return nil }
        for i in 0...(haystack.count - needle.count) where haystack[i] == needle[0] {
            if haystack[i..<i + needle.count].elementsEqual(needle) { return i }
        }
        return nil
    }
}

// MARK: - redis-check-rdb

extension Harness {
    /// $REDIS_CHECK_RDB, else /usr/bin/redis-check-rdb (Debian's redis-tools / redis-server).
    static var redisCheckRDBPath: String {
        let env = ProcessInfo.processInfo.environment["REDIS_CHECK_RDB"] ?? ""
        return env.isEmpty ? "/usr/bin/redis-check-rdb" : env
    }

    /// Runs redis-check-rdb on `file` (bounded: 10 s) in `cwd`.
    static func checkRDB(_ file: String, cwd: String) throws -> RunResult {
        guard access(redisCheckRDBPath, X_OK) == 0 else {
            throw HarnessError.missingBinary("redis-check-rdb not found at \(redisCheckRDBPath): set REDIS_CHECK_RDB")
        }
        return try run(redisCheckRDBPath, [file], cwd: cwd)
    }
}

extension Harness {
    /// A file's bytes, or nil when it cannot be read.
    static func readBytes(_ path: String) -> [UInt8]? {
        FileManager.default.contents(atPath: path).map { Array($0) }
    }

    static func writeBytes(_ bytes: [UInt8], to path: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }
}
