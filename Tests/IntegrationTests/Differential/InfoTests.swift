/*
 * InfoTests.swift — INFO, which can never be compared byte for byte.
 *
 * The keyspace section is compared between Tandem and redis-server after removing avg_ttl (a sampled
 * estimate); the server section is checked for the fields COMPATIBILITY.md promises (redis_version 7.0.15,
 * tcp_port, process_id, run_id, executable, config_file), and plain INFO for the section headers clients
 * and exporters read.
 */

import Foundation
import Testing

@Suite struct InfoTests {
    static let keyspace = Script("info-keyspace", [
        .probe("INFO keyspace without avg_ttl") { c in try InfoTests.keyspaceWithoutAvgTTL(c) },
        ["SET", "a", "1"],
        ["SET", "b", "1", "EX", "100"],
        ["SELECT", "3"],
        ["SET", "c", "1"],
        .probe("INFO keyspace without avg_ttl") { c in try InfoTests.keyspaceWithoutAvgTTL(c) },
        ["FLUSHDB"],
        .probe("INFO keyspace without avg_ttl") { c in try InfoTests.keyspaceWithoutAvgTTL(c) },
        ["INFO", "nosuchsection"],
        .typeOnly("INFO"),
        .typeOnly("INFO", "server", "keyspace"),
    ])

    @Test func keyspaceSectionMatches() throws {
        try Differential.run(Self.keyspace)
    }

    /// The keyspace section with `avg_ttl=<n>` blanked.
    static func keyspaceWithoutAvgTTL(_ c: RawClient) throws -> RESPValue {
        let text = try c.callValue("INFO", "keyspace").text ?? "(not a bulk reply)"
        let cleaned = text.replacing(try Regex(#"avg_ttl=\d+"#), with: "avg_ttl=*")
        return .bulk(cleaned)
    }

    @Test(arguments: ServerFlavour.allCases)
    func serverSectionHasCompatibleFields(_ flavour: ServerFlavour) throws {
        let server = try ServerProcess.start(flavour)
        defer { server.stop() }
        let c = try server.connect()
        let info = try InfoReply.fetch(c, "server")
        #expect(info.sections == ["Server"], "\(flavour): INFO server sections \(info.sections)")
        #expect(info["redis_version"] == "7.0.15", "\(flavour)")
        #expect(info["tcp_port"] == String(server.port), "\(flavour)")
        #expect(info["process_id"] == String(server.pid), "\(flavour)")
        #expect(info["run_id"].map { $0.count == 40 && $0.allSatisfy(\.isHexDigit) } == true, "\(flavour)")
        #expect(info["executable"] != nil, "\(flavour)")
        #expect(info["config_file"] == "", "\(flavour): started without a config file")
        #expect(info["uptime_in_seconds"].flatMap { Int($0) } != nil, "\(flavour)")

        let all = try InfoReply.fetch(c)
        for section in ["Server", "Clients", "Memory", "Persistence", "Stats", "Replication", "CPU", "Keyspace"] {
            #expect(all.sections.contains(section), "\(flavour): INFO lacks # \(section): \(all.sections)")
        }
        #expect(all["role"] == "master", "\(flavour)")
        #expect(all["connected_clients"] == "1", "\(flavour)")
    }
}
