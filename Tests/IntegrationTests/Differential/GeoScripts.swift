/*
 * GeoScripts.swift — differential scripts for the geo commands (issue 18): GEOADD (NX XX CH,
 * propagated as ZADD), GEODIST GEOHASH GEOPOS, GEORADIUS[BYMEMBER][_RO] and GEOSEARCH[STORE]
 * with every option, their errors and the order of their checks, in RESP2 and RESP3, plus a
 * seeded random set of points searched from random centres and shapes, compared reply for
 * reply (scan order included) with redis-server's.
 */

import Foundation
import Testing

@Suite struct GeoTests {
    @Test(arguments: GeoScripts.all)
    func script(_ script: Script) throws {
        try Differential.run(script)
    }

    /// 3000 seeded random points, 300 random searches (ITEST_SEED_GEO).
    @Test func seededRandomSearches() throws {
        let seed = ProcessInfo.processInfo.environment["ITEST_SEED_GEO"].flatMap { UInt64($0) } ?? 20_261_207
        try Differential.run(Script("random geo seed=\(seed)", GeoScripts.random(seed: seed)))
    }
}

enum GeoScripts {
    static let all: [Script] = [addAndRead, radius, search, store, errors, resp3]

    static let sicily: [Step] = [
        ["GEOADD", "Sicily", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"],
        ["GEOADD", "Sicily", "12.758489", "38.788135", "edge1", "17.241510", "38.788135", "edge2"],
        ["GEOADD", "Sicily", "13.583333", "37.316667", "Agrigento", "14.2", "37.07", "Gela", "15.28", "37.07", "Siracusa"],
    ]

    static let addAndRead = Script("geoadd-geopos-geodist-geohash", sicily + [
        ["ZRANGE", "Sicily", "0", "-1", "WITHSCORES"],
        ["GEOADD", "Sicily", "NX", "13.361389", "38.115556", "Palermo", "1", "2", "new"],
        ["GEOADD", "Sicily", "XX", "CH", "13.4", "38.1", "Palermo", "1", "2", "absent"],
        ["GEOADD", "Sicily", "CH", "13.4", "38.1", "Palermo"],
        ["GEOADD", "Sicily", "ch", "nx", "0", "0", "zero"],
        ["ZSCORE", "Sicily", "Palermo"],
        ["GEOPOS", "Sicily", "Palermo", "Catania", "missing", "zero", "new"],
        ["GEOPOS", "nokey", "a", "b"],
        ["GEODIST", "Sicily", "Palermo", "Catania"],
        ["GEODIST", "Sicily", "Palermo", "Catania", "km"],
        ["GEODIST", "Sicily", "Palermo", "Catania", "MI"],
        ["GEODIST", "Sicily", "Palermo", "Catania", "ft"],
        ["GEODIST", "Sicily", "Palermo", "missing"],
        ["GEODIST", "nokey", "a", "b"],
        ["GEODIST", "Sicily", "Palermo", "Palermo"],
        ["GEOHASH", "Sicily", "Palermo", "Catania", "missing", "zero"],
        ["GEOHASH", "nokey", "a"],
        ["GEOADD", "poles", "-180", "85.05112878", "nw", "180", "-85.05112878", "se", "179.9999", "0", "am"],
        ["GEOPOS", "poles", "nw", "se", "am"],
        ["GEOHASH", "poles", "nw", "se", "am"],
        ["ZADD", "plain", "-1", "neg", "0", "zero", "4503599627370496", "big"],
        ["GEOPOS", "plain", "neg", "zero", "big"],
        ["GEOHASH", "plain", "neg", "zero", "big"],
        ["OBJECT", "ENCODING", "Sicily"],
    ])

    static let radius = Script("georadius", sicily + [
        ["GEORADIUS", "Sicily", "15", "37", "200", "km"],
        ["GEORADIUS", "Sicily", "15", "37", "200", "km", "ASC"],
        ["GEORADIUS", "Sicily", "15", "37", "200", "km", "DESC", "WITHDIST"],
        ["GEORADIUS", "Sicily", "15", "37", "200", "km", "WITHCOORD", "WITHHASH", "WITHDIST"],
        ["GEORADIUS", "Sicily", "15", "37", "200", "km", "COUNT", "2"],
        ["GEORADIUS", "Sicily", "15", "37", "200", "km", "COUNT", "2", "DESC", "WITHDIST"],
        ["GEORADIUS", "Sicily", "15", "37", "200", "km", "COUNT", "3", "ANY"],
        ["GEORADIUS", "Sicily", "15", "37", "200", "km", "COUNT", "3", "ANY", "ASC"],
        ["GEORADIUS", "Sicily", "15", "37", "0", "km"],
        ["GEORADIUS", "Sicily", "15", "37", "inf", "m"],
        ["GEORADIUS", "Sicily", "15", "37", "100000", "ft", "WITHDIST"],
        ["GEORADIUS", "Sicily", "15", "37", "200", "mi", "WITHDIST"],
        ["GEORADIUS", "nokey", "15", "37", "200", "km"],
        ["GEORADIUS_RO", "Sicily", "15", "37", "200", "km", "WITHDIST", "ASC"],
        ["GEORADIUSBYMEMBER", "Sicily", "Palermo", "200", "km", "WITHDIST"],
        ["GEORADIUSBYMEMBER", "Sicily", "Palermo", "200", "km", "WITHDIST", "ASC", "COUNT", "1"],
        ["GEORADIUSBYMEMBER", "Sicily", "missing", "200", "km"],
        ["GEORADIUSBYMEMBER", "nokey", "missing", "abc", "parsecs"],
        ["GEORADIUSBYMEMBER_RO", "Sicily", "Catania", "100", "km", "WITHCOORD", "DESC"],
        ["GEORADIUS", "Sicily", "15", "37", "200", "km", "withdist", "withdist", "asc", "desc"],
    ])

    static let search = Script("geosearch", sicily + [
        ["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "ASC"],
        ["GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS", "200", "km", "DESC", "WITHDIST", "WITHCOORD"],
        ["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "400", "400", "km", "ASC", "WITHDIST"],
        ["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "400", "100", "km", "WITHHASH"],
        ["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "0", "0", "km"],
        ["GEOSEARCH", "Sicily", "FROMMEMBER", "Catania", "BYBOX", "100", "200", "mi", "COUNT", "2", "WITHDIST"],
        ["GEOSEARCH", "Sicily", "FROMMEMBER", "Catania", "BYBOX", "1000", "1000", "km", "COUNT", "2", "ANY"],
        ["GEOSEARCH", "Sicily", "BYRADIUS", "200", "km", "FROMLONLAT", "15", "37"],
        ["GEOSEARCH", "Sicily", "FROMMEMBER", "missing", "BYRADIUS", "200", "km"],
        ["GEOSEARCH", "nokey", "FROMMEMBER", "missing", "BYRADIUS", "200", "km"],
        ["GEOSEARCH", "nokey", "FROMLONLAT", "15", "37", "BYBOX", "1", "1", "m"],
    ])

    static let store = Script("georadius-store-geosearchstore", sicily + [
        ["GEORADIUS", "Sicily", "15", "37", "200", "km", "STORE", "dst"],
        ["ZRANGE", "dst", "0", "-1", "WITHSCORES"],
        ["OBJECT", "ENCODING", "dst"],
        ["GEORADIUS", "Sicily", "15", "37", "200", "km", "STOREDIST", "dst"],
        ["ZRANGE", "dst", "0", "-1", "WITHSCORES"],
        ["GEORADIUS", "Sicily", "15", "37", "200", "km", "STORE", "a", "STOREDIST", "b"],
        ["EXISTS", "a", "b"],
        ["GEORADIUS", "Sicily", "15", "37", "200", "km", "COUNT", "2", "DESC", "STORE", "dst"],
        ["ZRANGE", "dst", "0", "-1", "WITHSCORES"],
        ["GEORADIUSBYMEMBER", "Sicily", "Palermo", "10", "km", "STORE", "dst"],
        ["ZRANGE", "dst", "0", "-1"],
        ["GEORADIUS", "Sicily", "0", "0", "1", "km", "STORE", "dst"],
        ["EXISTS", "dst"],
        ["SET", "dst", "x", "EX", "100"],
        ["GEORADIUS", "Sicily", "15", "37", "200", "km", "STORE", "dst"],
        ["TTL", "dst"],
        ["GEORADIUS", "nokey", "15", "37", "200", "km", "STORE", "dst"],
        ["EXISTS", "dst"],
        ["GEOSEARCHSTORE", "dst", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km"],
        ["ZRANGE", "dst", "0", "-1", "WITHSCORES"],
        ["GEOSEARCHSTORE", "dst", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "STOREDIST", "COUNT", "2"],
        ["ZRANGE", "dst", "0", "-1", "WITHSCORES"],
        ["GEOSEARCHSTORE", "dst", "nokey", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km"],
        ["EXISTS", "dst"],
        ["GEOSEARCHSTORE", "Sicily", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS", "100", "km"],
        ["ZRANGE", "Sicily", "0", "-1"],
    ])

    static let errors = Script("geo-errors", sicily + [
        ["GEOADD", "k", "181", "0", "m"],
        ["GEOADD", "k", "0", "86", "m"],
        ["GEOADD", "k", "a", "0", "m"],
        ["GEOADD", "k", "nan", "0", "m"],
        ["GEOADD", "k", "0", "0", "m", "1"],
        ["GEOADD", "k", "NX", "XX", "0", "0", "m"],
        ["GEOADD", "k", "NX", "CH", "XX"],
        ["GEOADD", "k", "0", "0", "ok", "200", "0", "bad"],
        ["EXISTS", "k"],
        ["LPUSH", "list", "x"],
        ["GEOADD", "list", "0", "0", "m"],
        ["GEOPOS", "list", "m"],
        ["GEODIST", "list", "a", "b"],
        ["GEOHASH", "list", "a"],
        ["GEORADIUS", "list", "0", "0", "1", "km"],
        ["GEOSEARCH", "list", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km"],
        ["GEODIST", "Sicily", "Palermo", "Catania", "parsecs"],
        ["GEODIST", "Sicily", "Palermo", "Catania", "km", "extra"],
        ["GEORADIUS", "Sicily", "15", "37", "-1", "km"],
        ["GEORADIUS", "Sicily", "15", "37", "x", "km"],
        ["GEORADIUS", "Sicily", "15", "37", "1e400", "km"],
        ["GEORADIUS", "Sicily", "15", "37", "10", "parsecs"],
        ["GEORADIUS", "Sicily", "200", "37", "10", "km"],
        ["GEORADIUS", "Sicily", "15", "37", "10", "km", "COUNT", "0"],
        ["GEORADIUS", "Sicily", "15", "37", "10", "km", "COUNT", "x"],
        ["GEORADIUS", "Sicily", "15", "37", "10", "km", "COUNT"],
        ["GEORADIUS", "Sicily", "15", "37", "10", "km", "ANY"],
        ["GEORADIUS", "Sicily", "15", "37", "10", "km", "STORE", "d", "WITHDIST"],
        ["GEORADIUS", "Sicily", "15", "37", "10", "km", "foo"],
        ["GEORADIUS_RO", "Sicily", "15", "37", "10", "km", "STORE", "d"],
        ["GEORADIUSBYMEMBER_RO", "Sicily", "Palermo", "10", "km", "STOREDIST", "d"],
        ["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37"],
        ["GEOSEARCH", "Sicily", "BYRADIUS", "10", "km"],
        ["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "FROMMEMBER", "Palermo", "BYRADIUS", "10", "km"],
        ["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "10", "km", "BYBOX", "1", "1", "km"],
        ["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "-1", "1", "km"],
        ["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "a", "1", "km"],
        ["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "1", "b", "km"],
        ["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "10", "km", "STORE", "d"],
        ["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "10", "km", "STOREDIST"],
        ["GEOSEARCH", "nokey", "FROMLONLAT", "15", "37"],
        ["GEOSEARCHSTORE", "d", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "10", "km", "WITHDIST"],
        ["GEOSEARCHSTORE", "d", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "10", "km", "STORE", "x"],
        ["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "10", "km", "ANY"],
    ])

    static let resp3 = Script("geo-resp3", sicily + [
        Step(.command(["HELLO", "3"]), .ignore),
        ["GEOPOS", "Sicily", "Palermo", "missing"],
        ["GEODIST", "Sicily", "Palermo", "Catania"],
        ["GEODIST", "Sicily", "Palermo", "missing"],
        ["GEOHASH", "Sicily", "Palermo", "missing"],
        ["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "ASC", "WITHCOORD", "WITHDIST", "WITHHASH"],
        ["GEORADIUS", "nokey", "15", "37", "200", "km"],
    ])

    /// Random points (some on a dense grid, some anywhere), then random searches of every kind.
    static func random(seed: UInt64) -> [Step] {
        var rng = SplitMix64(seed: seed)
        var steps: [Step] = []
        func coordinate(_ limit: Double) -> String { String(format: "%.6f", Double.random(in: -limit...limit, using: &rng)) }
        var batch: [String] = ["GEOADD", "pts"]
        for i in 0..<3000 {
            let dense = i % 2 == 0
            let lon = dense ? String(format: "%.6f", 12 + Double.random(in: 0...2, using: &rng)) : coordinate(180)
            let lat = dense ? String(format: "%.6f", 40 + Double.random(in: 0...2, using: &rng)) : coordinate(85)
            batch += [lon, lat, "p\(i)"]
            if batch.count > 300 {
                steps.append(Step(.command(batch)))
                batch = ["GEOADD", "pts"]
            }
        }
        if batch.count > 2 { steps.append(Step(.command(batch))) }
        let units = ["m", "km", "mi", "ft"]
        for _ in 0..<300 {
            let nearGrid = Bool.random(using: &rng)
            let lon = nearGrid ? String(format: "%.4f", 13 + Double.random(in: -1...1, using: &rng)) : coordinate(180)
            let lat = nearGrid ? String(format: "%.4f", 41 + Double.random(in: -1...1, using: &rng)) : coordinate(85)
            let unit = units[Int.random(in: 0..<units.count, using: &rng)]
            let size = String(Int.random(in: 1...(unit == "m" || unit == "ft" ? 400_000 : 400), using: &rng))
            let size2 = String(Int.random(in: 1...(unit == "m" || unit == "ft" ? 400_000 : 400), using: &rng))
            var options: [String] = []
            if Bool.random(using: &rng) { options.append("WITHDIST") }
            if Int.random(in: 0..<4, using: &rng) == 0 { options.append("WITHCOORD") }
            if Int.random(in: 0..<4, using: &rng) == 0 { options.append("WITHHASH") }
            switch Int.random(in: 0..<4, using: &rng) {
            case 0: options.append("ASC")
            case 1: options.append("DESC")
            default: break
            }
            if Int.random(in: 0..<3, using: &rng) == 0 {
                options += ["COUNT", String(Int.random(in: 1...20, using: &rng))]
                if Bool.random(using: &rng) { options.append("ANY") }
            }
            let member = "p\(Int.random(in: 0..<3000, using: &rng))"
            switch Int.random(in: 0..<4, using: &rng) {
            case 0: steps.append(Step(.command(["GEORADIUS", "pts", lon, lat, size, unit] + options)))
            case 1: steps.append(Step(.command(["GEORADIUSBYMEMBER", "pts", member, size, unit] + options)))
            case 2: steps.append(Step(.command(["GEOSEARCH", "pts", "FROMLONLAT", lon, lat, "BYBOX", size, size2, unit] + options)))
            default: steps.append(Step(.command(["GEOSEARCH", "pts", "FROMMEMBER", member, "BYRADIUS", size, unit] + options)))
            }
        }
        return steps
    }
}
