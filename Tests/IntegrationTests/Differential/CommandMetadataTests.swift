/*
 * CommandMetadataTests.swift — COMMAND's view of each command against redis-server's: for every command and
 * subcommand both servers have, the ACL categories (COMMAND INFO's seventh field) are the same set in the same
 * order, and COMMAND LIST FILTERBY ACLCAT lists the same of them per category (ACL CAT's names).
 */

import Foundation
import Testing

@Suite(.serialized) struct CommandMetadataTests {
    /// name → ACL categories, for every command and subcommand COMMAND lists.
    static func categories(_ c: RawClient) throws -> [String: [String]] {
        var out: [String: [String]] = [:]
        func walk(_ entry: RESPValue) {
            guard case .array(let fields) = entry, fields.count >= 10, let name = fields[0].text else { return }
            if case .array(let cats) = fields[6] { out[name] = cats.compactMap(\.text) }
            if case .array(let subs) = fields[9] { subs.forEach(walk) }
        }
        if case .array(let entries) = try c.callValue("COMMAND") { entries.forEach(walk) }
        return out
    }

    @Test func aclCategoriesAreRedis() throws {
        let redis = try ServerProcess.start(.redis)
        defer { redis.stop() }
        let tandem = try ServerProcess.start(.tandem)
        defer { tandem.stop() }
        let r = try redis.connect(), t = try tandem.connect()
        let expected = try Self.categories(r), actual = try Self.categories(t)
        try #require(actual.count > 250, "Tandem listed \(actual.count) commands")
        var differences: [String] = []
        for (name, cats) in actual.sorted(by: { $0.key < $1.key }) {
            guard let reference = expected[name] else { continue }
            if cats != reference { differences.append("\(name): tandem \(cats), redis \(reference)") }
        }
        let report = "\(differences.count) commands differ:\n" + differences.joined(separator: "\n")
        #expect(differences.isEmpty, "\(report)")
        // FILTERBY ACLCAT agrees for every category, restricted to the commands Tandem has.
        let categories = ["keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "stream",
                          "pubsub", "admin", "fast", "slow", "blocking", "dangerous", "connection", "transaction",
                          "scripting"]
        for category in categories {
            func listed(_ c: RawClient) throws -> Set<String> {
                guard case .array(let names) = try c.callValue("COMMAND", "LIST", "FILTERBY", "ACLCAT", category) else { return [] }
                return Set(names.compactMap(\.text))
            }
            let tandemNames = try listed(t), redisNames = try listed(r).filter { actual[$0] != nil }
            #expect(tandemNames == redisNames, "FILTERBY ACLCAT \(category): only tandem \(tandemNames.subtracting(redisNames).sorted()), only redis \(redisNames.subtracting(tandemNames).sorted())")
        }
    }
}
