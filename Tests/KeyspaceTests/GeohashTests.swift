// GeohashTests.swift — unit tests for Geohash (Sources/Keyspace/Geohash.swift).
//
// Every expected value was collected from Redis 7.0.15 (Debian's redis-server) with redis-cli
// and is embedded below, so the tests need no server:
//   - GEOADD scores (ZSCORE), GEOPOS and GEOHASH texts for points at the limits (±180,
//     ±85.05112878), near the antimeridian and the origin, and for scores set with plain ZADD
//     (negative, fractional, >= 2^63, infinite) that exercise Redis's wrap-arounds;
//   - GEODIST texts in every unit, and exact distances between points on one meridian;
//   - GEOSEARCH over a generated set of 2000 points (clusters at the poles' limits, the
//     antimeridian, the origin and a few cities, plus uniform points): the members in reply
//     order without ASC/DESC, STOREDIST's exact distances, WITHDIST/WITHHASH/WITHCOORD texts and
//     COUNT n ANY. The searches are replayed here over a simulated sorted set (scores sorted,
//     ties by member bytes) with Geohash.searchRanges and Geohash.match.
@testable import Keyspace
import Testing

// MARK: - Fixture shapes

struct GeoSearchFixture {
    enum Centre {
        case lonLat(String, String)
        /// FROMMEMBER p<index> of the grid.
        case member(Int)
    }

    enum Shape {
        case radius(Double, unit: String)
        case box(Double, Double, unit: String)
    }

    var centre: Centre
    var shape: Shape
    var members: [Int]
    var storedDistances: [String]
}

// MARK: - The simulated geo set

/// The grid GEOADDed to Redis: a 64-bit LCG draws micro-degree coordinates, 40% uniform over the
/// world and 60% around fixed centres at spreads from 10 to 10^6 micro-degrees.
func geoGridPoints(count: Int, seed: UInt64) -> [(lon: Double, lat: Double)] {
    var state = seed
    func next() -> Int64 {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Int64(state >> 33)
    }
    func uniform(_ low: Int64, _ high: Int64) -> Int64 { low + next() % (high - low + 1) }
    let centres: [(Int64, Int64)] = [
        (0, 0), (179_999_000, 500_000), (-179_999_000, -500_000), (13_361_389, 38_115_556), (0, 84_900_000),
        (0, -84_900_000), (180_000_000, 85_051_128), (-180_000_000, -85_051_128), (-122_419_400, 37_774_900),
        (179_000_000, 80_500_000), (-150_000_000, -70_000_000),
    ]
    let spreads: [Int64] = [10, 100, 1_000, 10_000, 100_000, 1_000_000]
    var points: [(lon: Double, lat: Double)] = []
    for _ in 0..<count {
        var lon: Int64
        var lat: Int64
        if next() % 10 < 4 {
            lon = uniform(-180_000_000, 180_000_000)
            lat = uniform(-85_051_128, 85_051_128)
        } else {
            let centre = centres[Int(next() % Int64(centres.count))]
            let spread = spreads[Int(next() % Int64(spreads.count))]
            lon = min(max(centre.0 + uniform(-spread, spread), -180_000_000), 180_000_000)
            lat = min(max(centre.1 + uniform(-spread, spread), -85_051_128), 85_051_128)
        }
        // A correctly rounded quotient equals strtod of the decimal text Redis was sent.
        points.append((Double(lon) / 1_000_000, Double(lat) / 1_000_000))
    }
    return points
}

/// A sorted set of geo members, ordered as Redis orders one: by score, then by member bytes.
struct SimulatedGeoSet {
    struct Member {
        var score: Double
        var name: [UInt8]
        var index: Int
    }

    var members: [Member]

    init(points: [(lon: Double, lat: Double)]) {
        members = points.enumerated().map { i, p in
            Member(score: Geohash.score(longitude: p.lon, latitude: p.lat)!, name: Array("p\(i)".utf8), index: i)
        }
        members.sort { $0.score != $1.score ? $0.score < $1.score : $0.name.lexicographicallyPrecedes($1.name) }
    }

    func firstIndex(atLeast score: Double) -> Int {
        var low = 0
        var high = members.count
        while low < high {
            let mid = (low + high) / 2
            if members[mid].score < score { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// GEOSEARCH without sorting: every range in order, members by score, tested one by one;
    /// with `limit` (COUNT n ANY) it stops at the n-th match.
    func search(lon: Double, lat: Double, shape: GeoShape, limit: Int = 0) -> [(index: Int, match: Geohash.Match)] {
        var found: [(index: Int, match: Geohash.Match)] = []
        for range in Geohash.searchRanges(centerLongitude: lon, centerLatitude: lat, shape: shape) {
            if limit > 0 && found.count >= limit { break }
            var i = firstIndex(atLeast: range.min)
            while i < members.count && members[i].score < range.max {
                if let match = Geohash.match(score: members[i].score, shape: shape, centerLongitude: lon,
                                             centerLatitude: lat)
                {
                    found.append((members[i].index, match))
                }
                if limit > 0 && found.count >= limit { break }
                i += 1
            }
        }
        return found
    }
}

let geoGrid = geoGridPoints(count: GeoFixtures.gridCount, seed: 20_240_611)
let geoGridSet = SimulatedGeoSet(points: geoGrid)

func geoUnit(_ name: String) -> GeoUnit { GeoUnit(name: Array(name.utf8))! }

func geoShape(_ fixture: GeoSearchFixture.Shape) -> GeoShape {
    switch fixture {
    case .radius(let r, let u): return .radius(r, unit: geoUnit(u))
    case .box(let w, let h, let u): return .box(width: w, height: h, unit: geoUnit(u))
    }
}

func geoCentre(_ fixture: GeoSearchFixture.Centre) -> (lon: Double, lat: Double) {
    switch fixture {
    case .lonLat(let lon, let lat):
        return (Double(lon)!, Double(lat)!)
    case .member(let index):
        let point = geoGrid[index]
        let position = Geohash.decode(score: Geohash.score(longitude: point.lon, latitude: point.lat)!)
        return (position.longitude, position.latitude)
    }
}

func runGeoSearch(_ fixture: GeoSearchFixture, limit: Int = 0) -> [(index: Int, match: Geohash.Match)] {
    let c = geoCentre(fixture.centre)
    return geoGridSet.search(lon: c.lon, lat: c.lat, shape: geoShape(fixture.shape), limit: limit)
}

// MARK: - Scores, positions, hashes

@Test(arguments: GeoFixtures.points)
func geoaddScoreGeoposAndGeohash(
    _ p: (lon: String, lat: String, score: String, posLon: String, posLat: String, hash: String)
) {
    let score = Geohash.score(longitude: Double(p.lon)!, latitude: Double(p.lat)!)
    #expect(score == Double(p.score)!)
    let position = Geohash.decode(score: Double(p.score)!)
    #expect(Geohash.coordinateText(position.longitude) == p.posLon)
    #expect(Geohash.coordinateText(position.latitude) == p.posLat)
    #expect(Geohash.hashString(score: Double(p.score)!) == p.hash)
}

@Test(arguments: GeoFixtures.invalidPoints)
func geoaddRejectsOutOfRangePairs(_ p: (lon: String, lat: String, error: String)) {
    let lon = Double(p.lon)!
    let lat = Double(p.lat)!
    #expect(!Geohash.isValid(longitude: lon, latitude: lat))
    #expect(Geohash.score(longitude: lon, latitude: lat) == nil)
}

@Test(arguments: GeoFixtures.oddScores)
func scoresSetWithZaddDecodeAsRedisDoes(_ s: (score: String, posLon: String, posLat: String, hash: String)) {
    let position = Geohash.decode(score: Double(s.score)!)
    #expect(Geohash.coordinateText(position.longitude) == s.posLon)
    #expect(Geohash.coordinateText(position.latitude) == s.posLat)
    #expect(Geohash.hashString(score: Double(s.score)!) == s.hash)
}

@Test func theGridMatchesTheOneSentToRedis() {
    var digest: UInt64 = 0xcbf2_9ce4_8422_2325
    for member in geoGridSet.members {
        for byte in member.name + Array("=\(Int64(member.score));".utf8) {
            digest = (digest ^ UInt64(byte)) &* 0x100_0000_01b3
        }
    }
    #expect(digest == GeoFixtures.gridDigest)
}

// MARK: - Distances

@Test(arguments: GeoFixtures.distances)
func geodistText(_ d: (i: Int, j: Int, unit: String, text: String)) {
    let a = Geohash.decode(score: Double(GeoFixtures.points[d.i].score)!)
    let b = Geohash.decode(score: Double(GeoFixtures.points[d.j].score)!)
    let meters = Geohash.distance(longitude1: a.longitude, latitude1: a.latitude,
                                  longitude2: b.longitude, latitude2: b.latitude)
    #expect(Geohash.distanceText(meters / geoUnit(d.unit).metersPerUnit) == d.text)
}

@Test(arguments: GeoFixtures.meridianDistances)
func pointsOnOneMeridianUseTheLatitudeArc(_ m: (lon: String, lat1: String, lat2: String, meters: String)) {
    let a = Geohash.decode(score: Geohash.score(longitude: Double(m.lon)!, latitude: Double(m.lat1)!)!)
    let b = Geohash.decode(score: Geohash.score(longitude: Double(m.lon)!, latitude: Double(m.lat2)!)!)
    #expect(a.longitude == b.longitude)
    let meters = Geohash.distance(longitude1: a.longitude, latitude1: a.latitude,
                                  longitude2: b.longitude, latitude2: b.latitude)
    #expect(meters == Double(m.meters)!)
}

@Test func distanceTextRoundsTheScaledValueHalfToEven() {
    #expect(Geohash.distanceText(0) == "0.0000")
    #expect(Geohash.distanceText(0.33) == "0.3300")
    #expect(Geohash.distanceText(0.00004) == "0.0000")
    #expect(Geohash.distanceText(0.0005) == "0.0005")
    #expect(Geohash.distanceText(12345.6789) == "12345.6789")
    #expect(Geohash.distanceText(34219797.17925) == "34219797.1792")  // printf("%.4f") would say .1793
    #expect(Geohash.distanceText(60324961.21525) == "60324961.2152")
}

@Test func coordinateTextTrimsZeros() {
    #expect(Geohash.coordinateText(180) == "180")
    #expect(Geohash.coordinateText(-0.0) == "0")
    #expect(Geohash.coordinateText(0.5) == "0.5")
    #expect(Geohash.coordinateText(-179.99999731779098511) == "-179.99999731779098511")
}

@Test func unitsAreCaseInsensitive() {
    #expect(GeoUnit(name: Array("m".utf8)) == .meters)
    #expect(GeoUnit(name: Array("KM".utf8)) == .kilometers)
    #expect(GeoUnit(name: Array("Ft".utf8)) == .feet)
    #expect(GeoUnit(name: Array("mI".utf8)) == .miles)
    for bad in ["", "k", "kms", "meters", "M ", "f"] {
        #expect(GeoUnit(name: Array(bad.utf8)) == nil)
    }
    #expect(GeoUnit.miles.metersPerUnit == 1609.34)
    #expect(GeoUnit.feet.metersPerUnit == 0.3048)
}

// MARK: - Searches

@Test(arguments: GeoFixtures.searches.indices)
func searchFindsRedisMembersInRedisOrder(_ i: Int) {
    let fixture = GeoFixtures.searches[i]
    let found = runGeoSearch(fixture)
    #expect(found.map(\.index) == fixture.members)
    let perUnit = geoShape(fixture.shape).unit.metersPerUnit
    for (k, text) in fixture.storedDistances.enumerated() where k < found.count {
        #expect(found[k].match.meters / perUnit == Double(text)!, "STOREDIST of p\(found[k].index)")
    }
}

@Test(arguments: GeoFixtures.withReplies)
func withDistHashAndCoordTexts(
    _ w: (search: Int, member: Int, dist: String, hash: Int64, lon: String, lat: String)
) {
    let fixture = GeoFixtures.searches[w.search]
    guard let hit = runGeoSearch(fixture).first(where: { $0.index == w.member }) else {
        Issue.record("p\(w.member) not found")
        return
    }
    let score = Geohash.score(longitude: geoGrid[w.member].lon, latitude: geoGrid[w.member].lat)!
    #expect(Geohash.distanceText(hit.match.meters / geoShape(fixture.shape).unit.metersPerUnit) == w.dist)
    #expect(Geohash.hashInteger(score: score) == w.hash)
    #expect(Geohash.coordinateText(hit.match.longitude) == w.lon)
    #expect(Geohash.coordinateText(hit.match.latitude) == w.lat)
}

@Test(arguments: GeoFixtures.countAny)
func countAnyTakesTheFirstMatchesInScanOrder(_ c: (search: Int, count: Int, members: [Int])) {
    #expect(runGeoSearch(GeoFixtures.searches[c.search], limit: c.count).map(\.index) == c.members)
}

@Test func searchRangesAreAtMostNineAndStartWithTheCentreCell() {
    for lat in stride(from: -85.0, through: 85.0, by: 17.0) {
        for radius in [0.0, 1, 1_000, 100_000, 5_000_000, 30_000_000] {
            let ranges = Geohash.searchRanges(centerLongitude: 179.5, centerLatitude: lat,
                                              shape: .radius(radius, unit: .meters))
            #expect(ranges.count >= 1 && ranges.count <= 9)
            let centre = Geohash.score(longitude: 179.5, latitude: lat)!
            #expect(ranges[0].min <= centre && centre < ranges[0].max)
        }
    }
}

@Test func searchRangesDropUselessNeighboursAndWrapAtTheAntimeridian() {
    func ranges(_ lon: Double, _ lat: Double, _ shape: GeoShape) -> [[Int64]] {
        let found = Geohash.searchRanges(centerLongitude: lon, centerLatitude: lat, shape: shape)
        return found.map { [Int64($0.min), Int64($0.max)] }
    }
    // Centre, N, E, NE: the other five cells lie beyond the 100 km bounding box.
    #expect(ranges(13.361389, 38.115556, .radius(100, unit: .kilometers)) == [
        [3_478_854_790_283_264, 3_479_129_668_190_208], [3_479_129_668_190_208, 3_479_404_546_097_152],
        [3_479_404_546_097_152, 3_479_679_424_004_096], [3_479_679_424_004_096, 3_479_954_301_911_040],
    ])
    // Step 1 (four cells for the world): N = S and E = W, so each quarter is scanned once.
    #expect(ranges(0, 0, .radius(5000, unit: .kilometers)) == [
        [3_377_699_720_527_872, 4_503_599_627_370_496], [2_251_799_813_685_248, 3_377_699_720_527_872],
        [1_125_899_906_842_624, 2_251_799_813_685_248], [0, 1_125_899_906_842_624],
    ])
    // East of the last column is the first column (longitude -180).
    #expect(ranges(179.999, 0.5, .box(width: 400, height: 40, unit: .kilometers)) == [
        [4_125_367_627_415_552, 4_129_765_673_926_656], [1_125_899_906_842_624, 1_130_297_953_353_728],
    ])
}

@Test func stepShrinksWithRadiusAndTowardThePoles() {
    #expect(Geohash.estimatedStep(radiusMeters: 0, latitude: 0) == 26)
    #expect(Geohash.estimatedStep(radiusMeters: 1, latitude: 0) == 24)
    #expect(Geohash.estimatedStep(radiusMeters: 1, latitude: 70) == 23)
    #expect(Geohash.estimatedStep(radiusMeters: 1, latitude: -81) == 22)
    #expect(Geohash.estimatedStep(radiusMeters: 1e9, latitude: 0) == 1)
}

// MARK: - Fixtures (generated from redis-server 7.0.15; do not edit by hand)

enum GeoFixtures {
    // (longitude, latitude) as typed, ZSCORE after GEOADD (%.17g), GEOPOS texts, GEOHASH.
    static let points: [(lon: String, lat: String, score: String, posLon: String, posLat: String, hash: String)] = [
        ("0", "0", "3377699720527872", "0.00000268220901489", "0.00000126736058093", "s0000000000"),
        ("180", "0", "10133099161583616", "180", "0.00000126736058093", "80000000000"),
        ("-180", "0", "1125899906842624", "-179.99999731779098511", "0.00000126736058093", "80000000000"),
        ("0", "85.05112878", "6755399441055744", "0.00000268220901489", "85.0511287799999991", "up05b5048p0"),
        ("0", "-85.05112878", "2251799813685248", "0.00000268220901489", "-85.05112751263942528", "h0bh0hbj200"),
        ("180", "85.05112878", "13510798882111488", "180", "85.0511287799999991", "bp05b5048p0"),
        ("-180", "-85.05112878", "0", "-179.99999731779098511", "-85.05112751263942528", "00bh0hbj200"),
        ("180", "-85.05112878", "9007199254740992", "180", "-85.05112751263942528", "00bh0hbj200"),
        ("-180", "85.05112878", "4503599627370496", "-179.99999731779098511", "85.0511287799999991", "bp05b5048p0"),
        ("13.361389", "38.115556", "3479099956230698", "13.36138933897018433", "38.11555639549629859", "sqc8b49rny0"),
        ("15.087269", "37.502669", "3479447370796909", "15.08726745843887329", "37.50266842333162032", "sqdtr74hyu0"),
        ("-122.4194", "37.7749", "1367859919124626", "-122.41940170526504517", "37.77490001056577995", "9q8yyk8ytp0"),
        ("139.6917", "35.6895", "4171231230197045", "139.69170123338699341", "35.68950126697937009", "xn774c06kt0"),
        ("2.3522", "48.8566", "3663832779122514", "2.35219806432723999", "48.8565995303492997", "u09tvw0f640"),
        ("-0.1278", "51.5074", "2163557714755072", "-0.12779921293258667", "51.50740077990133159", "gcpvj0duq50"),
        ("151.2093", "-33.8688", "3252046221964352", "151.20929986238479614", "-33.86880091934155956", "r3gx2f77bj0"),
        ("-58.3816", "-34.6037", "887133777343301", "-58.38160246610641479", "-34.60370022923218158", "69y7pkxff40"),
        ("179.999999", "0.000001", "4128299658422954", "179.99999731779098511", "0.00000126736058093", "xbpbpbpbpb0"),
        ("-179.999999", "-0.000001", "375299968947541",
         "-179.99999731779098511", "-0.00000126736058093", "2pbpbpbpbp0"),
        ("179.9999999", "45", "4410136822791146", "179.99999731779098511", "45.00000100864581043", "zbpbpbpbpb0"),
        ("-179.9999999", "-45", "93462804579349", "-179.99999731779098511", "-45.00000100864581043", "0pbpbpbpbp0"),
        ("0.0000001", "0.0000001", "3377699720527872", "0.00000268220901489", "0.00000126736058093", "s0000000000"),
        ("-0.0000001", "-0.0000001", "1125899906842623", "-0.00000268220901489", "-0.00000126736058093", "7zzzzzzzzz0"),
        ("90", "60", "4244394140061764", "90.00000268220901489", "59.9999992325934528", "y48j248j240"),
        ("-90", "-60", "634505456256273", "-89.99999731779098511", "-59.9999992325934528", "4j248j248j0"),
        ("45.123456789", "12.987654321", "3536390823849324",
         "45.12345939874649048", "12.98765394625511505", "t421fu3fsf0"),
        ("179.5", "85", "4503590081899922", "179.50000137090682983", "84.99999965213439168", "zzpes9gbvh0"),
        ("-179.5", "-85", "9545470573", "-179.50000137090682983", "-84.99999965213439168", "00bk7qhp4g0"),
        ("1e-10", "-1e-10", "2627099782632789", "0.00000268220901489", "-0.00000126736058093", "kpbpbpbpbp0"),
        ("100", "85.051128", "4318836565734783", "100.00000208616256714", "85.05112751263942528", "ypp5ge1f8z0"),
        ("-100", "-85.051128", "184763061635712", "-100.00000208616256714", "-85.05112751263942528", "1bbuhkyjr00"),
        ("37.617635", "55.755814", "3721706268074783", "37.61763542890548706", "55.75581396369427978", "ucfv0n034m0"),
        ("-74.0060", "40.7128", "1791873974549446", "-74.0060010552406311", "40.71279898695150479", "dr5regw3pp0"),
        ("116.4074", "39.9042", "4069885372147137", "116.40740185976028442", "39.90420012463194865", "wx4g0bm6c40"),
        ("180", "45.5", "10415679355573264", "180", "45.50000010453700838", "b004b5008n0"),
        ("180", "0.0000001", "10133099161583616", "180", "0.00000126736058093", "80000000000"),
        ("180", "0.0000027", "10133099161583616", "180", "0.00000126736058093", "80000000000"),
        ("-0", "-0", "3377699720527872", "0.00000268220901489", "0.00000126736058093", "s0000000000"),
    ]

    // Pairs GEOADD rejects, with Redis's error text.
    static let invalidPoints: [(lon: String, lat: String, error: String)] = [
        ("180.0000001", "0", "ERR invalid longitude,latitude pair 180.000000,0.000000"),
        ("-180.0000001", "0", "ERR invalid longitude,latitude pair -180.000000,0.000000"),
        ("0", "85.05112879", "ERR invalid longitude,latitude pair 0.000000,85.051129"),
        ("0", "-85.05112879", "ERR invalid longitude,latitude pair 0.000000,-85.051129"),
        ("181", "86", "ERR invalid longitude,latitude pair 181.000000,86.000000"),
        ("inf", "0", "ERR invalid longitude,latitude pair inf,0.000000"),
        ("0", "-inf", "ERR invalid longitude,latitude pair 0.000000,-inf"),
    ]

    // Scores set with ZADD (not GEOADD): GEOPOS texts and GEOHASH.
    static let oddScores: [(score: String, posLon: String, posLat: String, hash: String)] = [
        ("-1", "180", "85.0511287799999991", "bp05b5048p0"),
        ("-1e30", "180", "-85.05112751263942528", "00bh0hbj200"),
        ("1e30", "-179.99999731779098511", "-85.05112751263942528", "00bh0hbj200"),
        ("9.3e18", "180", "85.0511287799999991", "bp05b5048p0"),
        ("2e19", "-179.99999731779098511", "-85.05112751263942528", "00bh0hbj200"),
        ("inf", "-179.99999731779098511", "-85.05112751263942528", "00bh0hbj200"),
        ("-inf", "180", "-85.05112751263942528", "00bh0hbj200"),
        ("1.5", "-179.99999731779098511", "-85.05112497791824921", "00bh0hbj210"),
        ("-0.5", "-179.99999731779098511", "-85.05112751263942528", "00bh0hbj200"),
        ("4503599627370496", "-179.99999731779098511", "85.0511287799999991", "bp05b5048p0"),
        ("4503599627370495", "179.99999731779098511", "85.05112751263942528", "zzpgzgpfxz0"),
        ("18446744073709551615", "-179.99999731779098511", "-85.05112751263942528", "00bh0hbj200"),
        ("9223372036854775808", "180", "-85.05112751263942528", "00bh0hbj200"),
        ("123456789.75", "-179.97304648160934448", "-85.01108145304303321", "00bh2s5ws10"),
        ("9007199254740993", "180", "-85.05112751263942528", "00bh0hbj200"),
        ("1e16", "180", "-35.0964373490018744", "21b024bh2j0"),
    ]

    // GEODIST a<i> a<j> unit over `points`.
    static let distances: [(i: Int, j: Int, unit: String, text: String)] = [
        (9, 10, "m", "166274.1516"),
        (0, 1, "km", "20020.7336"),
        (1, 2, "ft", "0.9788"),
        (3, 4, "mi", "11756.2756"),
        (5, 6, "KM", "18919.8446"),
        (11, 12, "Mi", "5140.6461"),
        (13, 14, "m", "343653.0131"),
        (15, 16, "km", "11804.3956"),
        (17, 18, "ft", "2.1651"),
        (19, 20, "mi", "6220.1693"),
        (21, 22, "KM", "0.0007"),
        (23, 24, "Mi", "12440.3383"),
        (0, 21, "m", "0.0000"),
        (26, 27, "km", "18908.5134"),
        (29, 30, "ft", "65058388.9970"),
        (31, 32, "mi", "4667.9998"),
        (33, 12, "KM", "2092.9866"),
        (34, 1, "Mi", "3144.6410"),
        (35, 1, "m", "0.0000"),
        (2, 18, "km", "0.0003"),
        (9, 9, "ft", "0.0000"),
        (0, 25, "mi", "3218.2438"),
    ]

    // The generated grid's size and seed (see gridPoints()); every GEOSEARCH below runs over it.
    static let gridCount = 2000
    // FNV-1a over the grid's members in sorted-set order and their scores, as a cross-check of generation.
    static let gridDigest: UInt64 = 0x709f5deb7a9c049f

    // GEOSEARCH g FROMLONLAT lon lat | FROMMEMBER p<from>, BYRADIUS r unit | BYBOX w h unit:
    // the members (grid indices) in Redis's reply order without ASC/DESC (the scan order), and
    // STOREDIST's exact distances (%.17g, in the unit) for the first few of them.
    static let searches: [GeoSearchFixture] = [
        GeoSearchFixture(
            centre: .lonLat("13.361389", "38.115556"), shape: .radius(100, unit: "km"),
            members: [
                853, 1660, 1026, 470, 672, 189, 1356, 181, 1155, 1074, 1479, 1786, 796, 1671, 1568, 600, 424,
                674, 778, 1562, 389, 1477, 276, 315, 191, 1916, 341, 1420, 525, 1204, 1360, 817, 1140, 244,
                1642, 1604, 1971, 1626, 497, 1979, 1846, 718, 1918, 990, 1574, 1538, 1333, 1362, 747, 812, 619,
                214, 1887, 1871, 781, 1342, 823, 40, 514, 1981, 423, 1370, 1318, 761, 1805, 1766, 383, 285,
                437, 1470, 1522, 743, 636, 1564, 1616, 1943, 704, 110, 516, 135, 716, 218, 1547, 416, 1806,
                76, 351, 717, 1656, 197, 618, 107, 1116, 1933, 1957, 643, 696, 217, 739, 664, 1705, 976,
                86, 1850, 1468, 186,
            ],
            storedDistances: [
                "99.554644935893734", "80.77904614807035", "80.008089038558779", "64.744924031120249",
                "70.477636471998025", "76.686755477908036",
            ]),
        GeoSearchFixture(
            centre: .lonLat("0", "0"), shape: .radius(500, unit: "m"),
            members: [
                1307, 266, 881, 42, 1095, 1, 1414, 1353, 598, 1939, 745, 366, 579, 1347, 1202, 978, 1427,
                656, 1009, 1888, 475, 1249, 1648, 137, 398, 436, 756, 1238, 1151, 320, 1751, 806, 854, 242,
                1062, 1472, 1625, 1743, 1381, 1998, 766, 155, 1498, 1456, 79, 1231, 1375, 1571, 1255, 1734, 882,
                1527, 596, 1055, 650, 375, 455, 1462, 1094, 681, 913, 1742, 95,
            ],
            storedDistances: [
                "0.90602959770532043", "0.90602959770532043", "0.98987677958637421", "1.4983067474192755",
                "5.0736057678133788", "7.9246240797061107",
            ]),
        GeoSearchFixture(
            centre: .lonLat("179.999", "0.5"), shape: .radius(50, unit: "km"),
            members: [
                1691, 299, 1205, 202, 485, 340, 1510, 67, 1141, 906, 348, 1653, 1738, 262, 642, 73, 560,
                1078, 1195, 1198, 314, 182, 1584, 301, 1512, 1243, 1515, 188, 1634, 1557, 725, 521, 1537, 1182,
                860, 356, 120, 608, 1366, 15, 1755, 498, 999, 856, 509, 1983, 680, 1096, 444, 1990, 768,
                1446, 1589, 955, 139, 1393, 1723, 305, 1834, 267, 1967, 176, 1877, 1471, 698, 1959, 1327, 141,
                1386, 866, 384, 1196, 1251, 710, 407, 1388, 94, 1426, 190, 240, 1288, 1059, 439, 1689, 933,
                571, 482,
            ],
            storedDistances: [
                "17.134743985081805", "12.830361540913019", "11.494729745017862", "9.4948295227755555",
                "9.4351996500334145", "11.858395144088307",
            ]),
        GeoSearchFixture(
            centre: .lonLat("-179.999", "-0.5"), shape: .radius(200, unit: "km"),
            members: [
                1946, 948, 98, 283, 1257, 1371, 863, 998, 232, 1453, 556, 877, 237, 1772, 312, 1224, 1172,
                1697, 1739, 1713, 573, 1064, 731, 699, 677, 259, 1208, 1836, 70, 788, 51, 1963, 1321, 1452,
                313, 829, 1831, 1593, 885, 1853, 1646, 1630, 561, 446, 1250, 31, 687, 1852, 789, 371, 1029,
                1175, 1744, 34, 1114, 477, 1177, 1264, 936, 1801, 178, 658, 256, 1536, 1447, 1949, 1930, 71,
                194, 442, 1045, 167, 744, 943, 1150, 434, 1837, 1369, 1594, 1913, 195, 647, 472, 968, 113,
                1962, 954, 1695, 774, 1358, 302, 162, 1907, 239, 1609, 1440, 1120, 100, 709, 1826, 1189, 1669,
                522, 1372, 1253, 179, 112, 1623, 271, 541, 933, 44, 1091, 571, 482, 1759, 821, 1136, 1011,
                1411, 1254, 1691, 299, 1205, 202, 485, 340, 1510, 67, 1141, 906, 348, 1653, 1738, 262, 642,
                73, 560, 1078, 1195, 1198, 314, 182, 1584, 301, 1512, 1243, 1515, 188, 1634, 1557, 725, 521,
                1537, 1182, 860, 356, 120, 608, 1366, 15, 1755, 498, 999, 856, 509, 1983, 680, 1096, 444,
                1990, 768, 1446, 1589, 955, 139, 1393, 1723, 305, 1834, 267, 1967, 176, 1877, 1471, 698, 1959,
                1327, 141, 1386, 866, 384, 1196, 1251, 710, 407, 1388, 94, 1426, 190, 240, 1288, 1059, 439,
                1689, 1329,
            ],
            storedDistances: [
                "120.1737074861571", "65.95259796974706", "50.901635704444395", "53.459245794774155",
                "75.121779341049916", "125.43853929843355",
            ]),
        GeoSearchFixture(
            centre: .lonLat("180", "0"), shape: .box(400, 400, unit: "km"),
            members: [
                1461, 1870, 473, 431, 928, 1341, 493, 1145, 1277, 814, 644, 1308, 6, 465, 837, 432, 1502,
                1595, 130, 1891, 46, 773, 209, 1577, 60, 972, 1754, 1252, 1411, 1254, 1691, 299, 1205, 202,
                485, 340, 1510, 67, 1141, 906, 348, 1653, 1738, 262, 642, 73, 560, 1078, 1195, 1198, 314,
                182, 1584, 301, 1512, 1243, 1515, 188, 1634, 1557, 725, 521, 1537, 1182, 860, 356, 120, 608,
                1366, 15, 1755, 498, 999, 856, 509, 1983, 680, 1096, 444, 1990, 768, 1446, 1589, 955, 139,
                1393, 1723, 305, 1834, 267, 1967, 176, 1877, 1471, 698, 1959, 1327, 141, 1386, 866, 384, 1196,
                1251, 710, 407, 1388, 94, 1426, 190, 240, 1288, 1059, 439, 1689, 1329, 1819, 959, 1011,
            ],
            storedDistances: [
                "3.612761948901285", "15.916084860450068", "45.709071844886644", "48.917408571133123",
                "51.014386477093687", "53.062308970895053",
            ]),
        GeoSearchFixture(
            centre: .lonLat("-180", "-0.5"), shape: .box(1000, 50, unit: "km"),
            members: [
                283, 998, 232, 1453, 556, 877, 237, 1772, 312, 1224, 1172, 1697, 1739, 1713, 573, 1064, 731,
                699, 677, 259, 1208, 1836, 70, 788, 51, 1963, 1321, 1452, 313, 829, 1831, 1593, 885, 1853,
                1646, 1630, 561, 446, 1250, 31, 687, 1852, 789, 371, 1029, 1175, 1744, 34, 1114, 477, 1177,
                1264, 936, 1801, 178, 658, 256, 1536, 1447, 1949, 1930, 71, 194, 442, 1045, 167, 744, 943,
                1150, 434, 1837, 1369, 1594, 1913, 195, 647, 472, 968, 113, 1962, 954, 1695, 774, 1358, 302,
                162, 1907, 239, 1609, 1440, 1120, 100, 709, 1826, 1189, 1669, 522, 1372, 1253, 179, 112, 1623,
                271, 1315, 1011,
            ],
            storedDistances: [
                "53.56313575157872", "8.8604627836128067", "8.6851037816294312", "8.3042195184931238",
                "7.2134414179107411", "9.7663880208740821",
            ]),
        GeoSearchFixture(
            centre: .lonLat("0", "84.9"), shape: .radius(300, unit: "km"),
            members: [
                1406, 1001, 468, 1244, 1137, 1747, 1753, 433, 1966, 1038, 1511, 673, 28, 1112, 1107, 843, 251,
                381, 1854, 908, 1815, 532, 1752, 1049, 1323, 1620, 1992, 713, 1878, 5, 296, 332, 1700, 1767,
                757, 1187, 1746, 1638, 1077, 1425, 1950, 1374, 925, 345, 790, 640, 610, 700, 939, 1220, 1270,
                379, 1301, 669, 1964, 895, 1982, 1226, 1156, 907, 177, 601, 1212, 816, 1322, 565, 1399, 1680,
                1429, 1875, 1528, 1203, 1813, 831, 876, 554, 415, 1796, 200, 1146, 1610, 729, 890, 722, 1278,
                1122, 1800, 737, 1408, 62, 1817, 901, 1076, 905, 16, 1685, 519, 369, 180, 219, 655, 808,
                1336, 1736, 703,
            ],
            storedDistances: [
                "74.516249982870448", "86.068174091957189", "22.701348239792594", "0.84030643477400957",
                "0.69453569006446958", "0.31965430328066485",
            ]),
        GeoSearchFixture(
            centre: .lonLat("0", "84.9"), shape: .box(2000, 500, unit: "km"),
            members: [
                1406, 1001, 468, 1244, 1137, 1747, 1753, 433, 1966, 1038, 1511, 673, 28, 1112, 1107, 843, 251,
                381, 1854, 908, 1815, 532, 1752, 1049, 1323, 1620, 1992, 713, 1878, 5, 296, 332, 1700, 1767,
                757, 1187, 1746, 1638, 1077, 1425, 1950, 1374, 925, 345, 790, 640, 610, 700, 939, 1220, 1270,
                1134, 165, 1603, 1023, 379, 1301, 669, 1964, 895, 1982, 1226, 1156, 907, 177, 601, 1212, 816,
                1322, 565, 1399, 1680, 1429, 1875, 1528, 1203, 1813, 831, 876, 554, 415, 1796, 200, 1146, 1610,
                729, 890, 722, 1278, 1122, 1800, 737, 1408, 62, 1817, 901, 1076, 905, 16, 1685, 519, 369,
                180, 219, 655, 808, 1336, 1736, 703,
            ],
            storedDistances: [
                "74.516249982870448", "86.068174091957189", "22.701348239792594", "0.84030643477400957",
                "0.69453569006446958", "0.31965430328066485",
            ]),
        GeoSearchFixture(
            centre: .lonLat("0", "-84.9"), shape: .radius(1000, unit: "km"),
            members: [
                1163, 1121, 692, 105, 1709, 862, 1882, 402, 365, 842, 927, 682, 1415, 134, 1051, 1210, 1762,
                1530, 364, 1387, 1432, 847, 102, 1072, 13, 1412, 1273, 159, 1313, 1889, 456, 902, 1242, 1665,
                1842, 59, 1621, 751, 187, 1701, 1088, 1032, 193, 1558, 443, 390, 1421, 1729, 1999, 263, 1997,
                988, 1892, 910, 1613, 869, 1305, 279, 1764, 1686, 85, 212, 1886, 818, 1102, 307, 125, 1395,
                593, 1776, 1476, 740, 1218, 994, 1588, 1258, 400, 228, 695, 1361, 1825, 765, 826, 897, 595,
                1884, 1647, 1843, 1027, 1717, 1544, 126, 1911, 801, 1720, 1798, 1947, 206, 1771, 245, 1419, 675,
                410, 1521, 275, 1010, 909, 1818, 1474, 953, 1662, 1390, 661, 555, 919, 1514, 116, 1676, 1057,
                1352, 1265, 1083, 1223, 630, 1373, 1945,
            ],
            storedDistances: [
                "9.4014800506610232", "10.583531532305409", "16.856467943635945", "7.1429307391546555",
                "0.86269760305320242", "0.92705679376813399",
            ]),
        GeoSearchFixture(
            centre: .lonLat("180", "85.05112878"), shape: .box(100, 100, unit: "mi"),
            members: [
                792, 639, 1085, 1785, 858, 2, 143, 1828, 1501, 1938, 1379, 1585, 175, 61, 624, 253, 1670,
                785, 491, 1693, 822, 590, 1006, 754, 592, 1149, 1291, 1618, 18, 1972, 1013, 1042, 1227, 1292,
                1355, 1391, 1438, 1481, 1494, 150, 1507, 1523, 1535, 1560, 1650, 172, 1835, 1903, 1940, 1965, 1984,
                203, 224, 260, 350, 387, 536, 558, 568, 575, 665, 666, 749, 772, 916, 924, 977, 921,
                1654, 1084, 626, 327, 887, 337, 1082, 343, 1927, 1565, 1199, 185, 499, 1684, 512, 922, 1864,
                1555, 318, 1928, 1230, 1556, 535, 346, 594, 1443, 694, 1699, 192, 1397, 1549, 1153, 1422, 1675,
                1442, 1789, 1326, 247, 825, 142, 122, 1319, 1954, 880, 1464, 1760, 227, 460, 552,
            ],
            storedDistances: [
                "47.238132001193151", "41.045442673515964", "34.090360589005428", "32.984961164461012",
                "6.7815641558244941", "6.3394043860063771",
            ]),
        GeoSearchFixture(
            centre: .lonLat("0", "0"), shape: .radius(5000, unit: "km"),
            members: [
                1307, 266, 881, 42, 1095, 1, 1414, 1353, 598, 1939, 745, 366, 579, 1347, 986, 980, 1496,
                563, 685, 376, 1778, 41, 1619, 981, 1661, 1272, 1299, 609, 149, 849, 1089, 846, 918, 1901,
                1109, 617, 1980, 926, 1004, 359, 488, 1031, 1858, 632, 319, 1978, 599, 1457, 853, 1660, 1026,
                470, 672, 189, 1356, 181, 1155, 1074, 1479, 1786, 796, 1671, 1568, 600, 424, 674, 778, 1562,
                389, 1477, 276, 315, 191, 1916, 341, 1420, 525, 1204, 1360, 817, 1140, 244, 1642, 1604, 1971,
                1626, 497, 1979, 1846, 718, 1918, 990, 1574, 1538, 1333, 1362, 747, 812, 619, 214, 1887, 1871,
                781, 1342, 823, 40, 514, 1981, 423, 1370, 1318, 761, 1805, 1766, 383, 285, 437, 1470, 1522,
                743, 636, 1564, 1616, 1943, 704, 110, 516, 135, 716, 218, 1547, 416, 1806, 76, 351, 717,
                1656, 197, 618, 107, 1116, 1933, 1957, 643, 696, 217, 739, 664, 1705, 976, 86, 1850, 1468,
                186, 1268, 385, 1068, 81, 1774, 329, 169, 1168, 570, 1214, 1316, 166, 1269, 527, 1546, 440,
                872, 1682, 1332, 1611, 1202, 978, 1427, 656, 1009, 1888, 475, 1249, 1648, 137, 398, 436, 756,
                1238, 1763, 1942, 1467, 83, 1159, 1923, 518, 483, 1050, 1969, 1280, 10, 562, 161, 1612, 929,
                118, 1138, 1541, 1151, 320, 1751, 806, 854, 242, 1062, 1472, 1625, 1743, 1381, 1998, 766, 155,
                1498, 1456, 1046, 1365, 899, 504, 741, 265, 1466, 1667, 1777, 136, 1790, 119, 851, 612, 1518,
                1905, 1572, 697, 564, 1550, 1520, 602, 69, 1039, 1807, 511, 231, 1783, 53, 793, 938, 459,
                133, 520, 1262, 1069, 1017, 1436, 1130, 534, 461, 396, 30, 1020, 1885, 79, 1231, 1375, 1571,
                1255, 1734, 882, 1527, 596, 1055, 650, 375, 455, 1462, 1094, 681, 913, 1742, 95,
            ],
            storedDistances: [
                "0.00090602959770532039", "0.00090602959770532039", "0.00098987677958637418", "0.0014983067474192756",
                "0.005073605767813379", "0.0079246240797061114",
            ]),
        GeoSearchFixture(
            centre: .lonLat("100", "50"), shape: .radius(10000, unit: "km"),
            members: [
                849, 1089, 846, 918, 1901, 1109, 617, 1980, 926, 1004, 359, 488, 1031, 1858, 632, 319, 1978,
                599, 1457, 853, 1660, 1026, 470, 672, 189, 1356, 181, 1155, 1074, 1479, 1786, 796, 1671, 1568,
                600, 424, 674, 778, 1562, 389, 1477, 276, 315, 191, 1916, 341, 1420, 525, 1204, 1360, 817,
                1140, 244, 1642, 1604, 1971, 1626, 497, 1979, 1846, 718, 1918, 990, 1574, 1538, 1333, 1362, 747,
                812, 619, 214, 1887, 1871, 781, 1342, 823, 40, 514, 1981, 423, 1370, 1318, 761, 1805, 1766,
                383, 285, 437, 1470, 1522, 743, 636, 1564, 1616, 1943, 704, 110, 516, 135, 716, 218, 1547,
                416, 1806, 76, 351, 717, 1656, 197, 618, 107, 1116, 1933, 1957, 643, 696, 217, 739, 664,
                1705, 976, 86, 1850, 1468, 186, 1268, 385, 1068, 81, 1774, 329, 920, 1712, 448, 123, 1552,
                435, 1583, 727, 839, 84, 604, 103, 1143, 545, 1248, 540, 549, 422, 323, 1554, 1314, 1863,
                539, 169, 753, 1553, 411, 1459, 1573, 25, 454, 805, 1451, 759, 1491, 1590, 1561, 613, 248,
                246, 580, 1645, 1814, 1534, 1406, 1001, 468, 1244, 1137, 1747, 1753, 433, 1966, 1038, 1511, 673,
                28, 1112, 1107, 843, 251, 381, 1854, 908, 1815, 532, 1752, 1049, 1323, 1620, 1992, 713, 1878,
                5, 296, 332, 1700, 1767, 757, 1187, 1746, 1638, 1077, 1425, 1950, 1374, 925, 345, 790, 640,
                610, 700, 939, 1220, 1270, 404, 50, 1733, 1215, 1492, 1975, 1129, 1559, 1192, 1797, 930, 1640,
                1008, 198, 1696, 208, 874, 1306, 1216, 1545, 349, 89, 196, 131, 68, 1160, 45, 798, 249,
                1821, 453, 1233, 1922, 1454, 1261, 1221, 1995, 1848, 917, 1181, 1473, 1944, 77, 49, 486, 1411,
                1254, 1691, 299, 1205, 202, 485, 340, 1510, 67, 1141, 906, 348, 1653, 1738, 262, 642, 73,
                560, 1078, 1195, 1198, 314, 182, 1584, 301, 1512, 1243, 1515, 188, 1634, 1557, 725, 521, 1537,
                1182, 860, 356, 120, 608, 1366, 15, 1755, 498, 999, 856, 509, 1983, 680, 1096, 444, 1990,
                768, 1446, 1589, 955, 139, 1393, 1723, 305, 1834, 267, 1967, 176, 1877, 1471, 698, 1959, 1327,
                141, 1386, 866, 384, 1196, 1251, 710, 407, 1388, 94, 1426, 190, 240, 1288, 1059, 439, 1689,
                1329, 1819, 959, 1704, 1931, 1628, 308, 1706, 151, 1043, 1672, 1335, 392, 1385, 1503, 1396, 225,
                1275, 777, 1716, 1131, 546, 1845, 377, 1128, 1495, 628, 1201, 1735, 1157, 1445, 1007, 1799, 1337,
                951, 950, 1071, 1281, 1673, 426, 1532, 1973, 581, 1134, 467, 576, 1213, 629, 841, 494, 1434,
                277, 1718, 1652, 1162, 1900, 942, 688, 1259, 215, 324, 1779, 1629, 47, 1563, 537, 1768, 138,
                506, 80, 1958, 1435, 970, 1516, 577, 1737, 1526, 338, 229, 1217, 1413, 1186, 1974, 152, 1087,
                1263, 342, 1708, 1289, 164, 1566, 1108, 64, 1894, 857, 1118, 174, 676, 252, 128, 297, 441,
                1690, 273, 1513, 97, 478, 888, 904, 1324, 1104, 1066, 1985, 109, 428, 807, 1487, 1484, 1868,
                1225, 1344, 1951, 1295, 670, 1898, 992, 1093, 1968, 991, 859, 1726, 1649, 479, 958, 996, 352,
                466, 1504, 1539, 1575, 1687, 234, 1403, 597, 1677, 1398, 510, 1856, 1987, 3, 1486, 1405, 1683,
                1915, 1194, 947, 607, 1179, 287, 864, 715, 1330, 1664, 923, 634, 603, 1832, 1570, 207, 378,
                269, 1788, 334, 1714, 1124, 1285, 1639, 557, 1644, 1310, 921, 1654, 1084, 626, 327, 887, 337,
                1082, 343, 1927, 1565, 1199, 185, 499, 1684, 512, 922, 1864, 1555, 318, 1928, 1230, 1556, 535,
                346, 594, 1443, 694, 1699, 192, 1397, 1549, 1153, 1422, 1675, 1442, 1789, 1326, 247, 825, 142,
                122, 1319, 1954, 880, 1464, 1760, 227, 460, 552, 483, 1050, 1969, 1280, 1617, 1485, 1808, 787,
                1211, 622, 1483, 1178, 1829, 736, 657, 1300, 0, 1505, 809, 914, 836, 526, 987, 72, 280,
                1702, 984, 1041, 1627, 771, 1339, 649, 1015, 1106, 1761, 264, 1139, 1756, 258, 1824, 1976, 833,
                591, 421, 1657, 57, 690, 732, 1328, 241, 1874, 884, 569, 1052, 646, 786, 24, 1097, 1190,
                689, 1232, 723, 1893, 1883, 1065, 360, 855, 1423, 1315, 1011, 933, 44, 1091, 571, 482, 1759,
                821, 1136, 1110, 1294, 148, 811, 995, 129, 90, 230, 401, 1897, 1229, 1142, 23, 578, 973,
                1615, 1297, 1034, 1183, 1809, 115, 1063, 1354, 1721, 752, 1044, 101, 8, 691, 216, 1711, 893,
                9, 1380, 1410, 706, 748, 1235, 1005, 1113, 427, 255, 1101, 653, 199, 931, 1914, 879, 1587,
                1659, 284, 1580, 967, 1569, 1349, 738, 830, 168, 1810, 1860, 1444, 733, 1934, 447, 1245, 1092,
                1605, 374, 1000, 370, 671, 775, 1688, 347, 1839, 659, 20, 1037, 1793, 257, 281, 238, 489,
                1668, 515, 471, 1206, 54, 1348, 903, 222, 114, 638, 1750, 7, 37, 616, 1698, 1239, 425,
                1033, 1879, 1407, 1478, 993, 1920, 108, 1499, 898, 1633, 1158, 1070, 484, 574, 1960, 1147, 641,
                1749, 458, 960, 726, 1725, 1431, 476, 878, 728, 294, 1540, 1167, 979, 474, 683, 712, 810,
                1350, 505, 1728, 223, 184, 553, 481, 92, 445, 1424, 964, 1283, 941, 1309, 1792, 1458, 1636,
                1732, 1469, 1851, 873, 1977, 1079, 1282, 889, 1455, 886, 52, 1651, 39, 1184, 542, 769, 1924,
                1317, 963, 750, 1787, 1948, 303, 1030, 286, 1991, 799, 1418, 1579, 1777, 851, 620, 1105, 612,
                1518, 1741, 26, 1303, 1666, 935, 529, 1508, 1599, 551, 1493, 1298, 22, 165, 1859, 1126, 797,
                1311, 1641, 637, 547, 1936, 1279, 883, 783, 1905, 121, 1765, 1881, 368, 429, 1603, 1023, 183,
                495, 1061, 274, 668, 1296, 205, 379, 1301, 669, 1964, 895, 1982, 1226, 1156, 907, 177, 601,
                1212, 816, 1322, 565, 1399, 1680, 1429, 1875, 1528, 1203, 1813, 831, 876, 554, 415, 1796, 200,
                1146, 1610, 729, 890, 722, 1278, 1122, 1800, 737, 1408, 62, 1817, 901, 1076, 905, 16, 1685,
                519, 369, 180, 219, 655, 808, 1336, 1736, 703, 1127, 1946, 948, 98, 283, 1257, 1371, 863,
                998, 232, 1453, 556, 877, 237, 1772, 312, 1224, 1172, 1697, 1739, 1713, 573, 1064, 731, 699,
                677, 259, 1208, 1836, 70, 788, 51, 1963, 1321, 1452, 313, 829, 1831, 1593, 885, 1853, 1646,
                1630, 561, 446, 1250, 31, 687, 1852, 789, 371, 1029, 1175, 1744, 34, 1114, 477, 1177, 1264,
                936, 1801, 178, 658, 256, 1536, 1447, 1949, 1930, 71, 194, 442, 1045, 167, 744, 943, 1150,
                434, 1837, 1369, 1594, 1913, 195, 647, 472, 968, 113, 1962, 954, 1695, 774, 1358, 302, 162,
                1907, 239, 1609, 1440, 1120, 100, 709, 1826, 1189, 1669, 522, 1372, 1253, 179, 112, 1623, 271,
                541, 65,
            ],
            storedDistances: [
                "9627.8413472564753", "9388.6393895743968", "8918.9680436401723", "9515.5409027765818",
                "8754.2216347756676", "8320.7901287191726",
            ]),
        GeoSearchFixture(
            centre: .lonLat("0", "0"), shape: .radius(20000, unit: "km"),
            members: [
                1307, 266, 881, 42, 1095, 1, 1414, 1353, 598, 1939, 745, 366, 579, 1347, 986, 980, 1496,
                563, 685, 376, 1778, 41, 1619, 981, 1661, 1272, 1299, 609, 149, 849, 1089, 846, 918, 1901,
                1109, 617, 1980, 926, 1004, 359, 488, 1031, 1858, 632, 319, 1978, 599, 1457, 853, 1660, 1026,
                470, 672, 189, 1356, 181, 1155, 1074, 1479, 1786, 796, 1671, 1568, 600, 424, 674, 778, 1562,
                389, 1477, 276, 315, 191, 1916, 341, 1420, 525, 1204, 1360, 817, 1140, 244, 1642, 1604, 1971,
                1626, 497, 1979, 1846, 718, 1918, 990, 1574, 1538, 1333, 1362, 747, 812, 619, 214, 1887, 1871,
                781, 1342, 823, 40, 514, 1981, 423, 1370, 1318, 761, 1805, 1766, 383, 285, 437, 1470, 1522,
                743, 636, 1564, 1616, 1943, 704, 110, 516, 135, 716, 218, 1547, 416, 1806, 76, 351, 717,
                1656, 197, 618, 107, 1116, 1933, 1957, 643, 696, 217, 739, 664, 1705, 976, 86, 1850, 1468,
                186, 1268, 385, 1068, 81, 1774, 329, 920, 1712, 448, 123, 1552, 435, 1583, 727, 839, 84,
                604, 103, 1143, 545, 1248, 540, 549, 422, 323, 1554, 1314, 1863, 539, 169, 753, 1553, 411,
                1459, 1573, 25, 454, 805, 1451, 759, 1491, 1590, 1561, 613, 248, 246, 580, 1645, 1814, 1534,
                1406, 1001, 468, 1244, 1137, 1747, 1753, 433, 1966, 1038, 1511, 673, 28, 1112, 1107, 843, 251,
                381, 1854, 908, 1815, 532, 1752, 1049, 1323, 1620, 1992, 713, 1878, 5, 296, 332, 1700, 1767,
                757, 1187, 1746, 1638, 1077, 1425, 1950, 1374, 925, 345, 790, 640, 610, 700, 939, 1220, 1270,
                404, 50, 1733, 1215, 1492, 1975, 1129, 1559, 1192, 1797, 930, 1640, 1008, 198, 1696, 208, 874,
                1306, 1216, 1545, 349, 89, 196, 131, 68, 1160, 45, 798, 249, 1821, 453, 1233, 1922, 1454,
                1261, 1221, 1995, 1848, 917, 1181, 1473, 1944, 77, 49, 486, 1411, 1254, 1691, 299, 1205, 202,
                485, 340, 1510, 67, 1141, 906, 348, 1653, 1738, 262, 642, 73, 560, 1078, 1195, 1198, 314,
                182, 1584, 301, 1512, 1243, 1515, 188, 1634, 1557, 725, 521, 1537, 1182, 860, 356, 120, 608,
                1366, 15, 1755, 498, 999, 856, 509, 1983, 680, 1096, 444, 1990, 768, 1446, 1589, 955, 139,
                1393, 1723, 305, 1834, 267, 1967, 176, 1877, 1471, 698, 1959, 1327, 141, 1386, 866, 384, 1196,
                1251, 710, 407, 1388, 94, 1426, 190, 240, 1288, 1059, 439, 1689, 1329, 1819, 959, 1704, 1931,
                1628, 308, 1706, 151, 1043, 1672, 1335, 392, 1385, 1503, 1396, 225, 1275, 777, 1716, 1131, 546,
                1845, 377, 1128, 1495, 628, 1201, 1735, 1157, 1445, 1007, 1799, 1337, 951, 950, 1071, 1281, 1673,
                426, 1532, 1973, 581, 1134, 467, 576, 1213, 629, 841, 494, 1434, 277, 1718, 1652, 1162, 1900,
                942, 688, 1259, 215, 324, 1779, 1629, 47, 1563, 537, 1768, 138, 506, 80, 1958, 1435, 970,
                1516, 577, 1737, 1526, 338, 229, 1217, 1413, 1186, 1974, 152, 1087, 1263, 342, 1708, 1289, 164,
                1566, 1108, 64, 1894, 857, 1118, 174, 676, 252, 128, 297, 441, 1690, 273, 1513, 97, 478,
                888, 904, 1324, 1104, 1066, 1985, 109, 428, 807, 1487, 1484, 1868, 1225, 1344, 1951, 1295, 670,
                1898, 992, 1093, 1968, 991, 859, 1726, 1649, 479, 958, 996, 352, 466, 1504, 1539, 1575, 1687,
                234, 1403, 597, 1677, 1398, 510, 1856, 1987, 3, 1486, 1405, 1683, 1915, 1194, 947, 607, 1179,
                287, 864, 715, 1330, 1664, 923, 634, 603, 1832, 1570, 207, 378, 269, 1788, 334, 1714, 1124,
                1285, 1639, 557, 1644, 1310, 921, 1654, 1084, 626, 327, 887, 337, 1082, 343, 1927, 1565, 1199,
                185, 499, 1684, 512, 922, 1864, 1555, 318, 1928, 1230, 1556, 535, 346, 594, 1443, 694, 1699,
                192, 1397, 1549, 1153, 1422, 1675, 1442, 1789, 1326, 247, 825, 142, 122, 1319, 1954, 880, 1464,
                1760, 227, 460, 552, 1163, 1121, 692, 105, 1709, 862, 1882, 402, 365, 842, 927, 682, 1415,
                134, 1051, 1210, 1762, 1530, 364, 1387, 1432, 847, 102, 1072, 13, 1412, 1273, 159, 1313, 1889,
                456, 902, 1242, 1665, 1842, 59, 1621, 751, 187, 1701, 1088, 1032, 193, 1558, 443, 390, 1421,
                1729, 1999, 263, 1997, 988, 1892, 910, 1613, 869, 1305, 279, 1764, 1686, 82, 1302, 708, 355,
                85, 1880, 1509, 1222, 1392, 548, 388, 1363, 288, 1191, 1489, 1266, 517, 1099, 282, 1304, 1567,
                538, 1169, 1417, 1994, 1416, 1132, 1578, 1635, 1823, 211, 949, 784, 173, 1929, 912, 212, 1886,
                1002, 145, 755, 1598, 1019, 382, 1394, 1144, 572, 1176, 1400, 300, 762, 1910, 469, 720, 714,
                1345, 204, 915, 1996, 645, 1956, 1293, 508, 1343, 900, 310, 1862, 99, 1168, 570, 1214, 1316,
                166, 1269, 827, 43, 527, 395, 1546, 440, 872, 1682, 1332, 1611, 1202, 978, 1427, 656, 1009,
                1888, 475, 1249, 1648, 137, 398, 436, 756, 1238, 1763, 1942, 1467, 83, 1159, 1923, 518, 483,
                1050, 1969, 1280, 1154, 93, 1286, 1617, 1485, 1808, 787, 1211, 635, 559, 622, 1483, 1178, 966,
                1829, 736, 657, 1300, 0, 1505, 809, 914, 836, 526, 987, 72, 280, 1702, 984, 937, 1937,
                106, 144, 409, 983, 210, 584, 997, 171, 170, 1551, 838, 828, 840, 457, 496, 633, 1338,
                1692, 1506, 1148, 1086, 867, 1773, 1816, 1047, 1784, 1748, 317, 1274, 911, 344, 104, 336, 1542,
                850, 1290, 813, 870, 1872, 399, 391, 1439, 767, 156, 1060, 566, 304, 438, 1041, 1833, 1627,
                771, 1339, 649, 1015, 1106, 1761, 264, 1139, 1756, 258, 1824, 1976, 833, 591, 421, 1657, 57,
                690, 732, 1328, 241, 1874, 29, 1276, 1820, 884, 569, 1052, 1271, 1123, 12, 1941, 802, 291,
                1368, 646, 786, 24, 1097, 1190, 689, 1232, 723, 1893, 1883, 1065, 360, 1529, 794, 855, 1423,
                1315, 1011, 44, 1091, 571, 482, 1759, 821, 1136, 1110, 1294, 148, 1389, 1531, 1376, 811, 995,
                129, 1401, 87, 90, 1847, 230, 401, 1897, 1229, 333, 834, 1022, 330, 1103, 824, 500, 662,
                492, 293, 1021, 1614, 614, 770, 289, 1624, 236, 1142, 1674, 1607, 23, 578, 973, 1615, 1297,
                1034, 1183, 1809, 115, 1063, 1354, 1721, 752, 1044, 101, 8, 691, 216, 1711, 893, 9, 1380,
                1410, 706, 748, 1235, 1005, 1113, 427, 255, 1101, 653, 199, 931, 1914, 879, 1587, 1659, 284,
                1580, 967, 1569, 1349, 738, 830, 168, 1810, 1860, 1444, 733, 1934, 447, 1245, 1092, 1605, 374,
                1000, 370, 671, 775, 1688, 347, 1839, 659, 20, 1037, 1793, 257, 281, 238, 489, 1668, 515,
                471, 1206, 54, 1348, 903, 222, 114, 638, 1750, 7, 37, 616, 1698, 1239, 425, 1033, 1879,
                1407, 1478, 993, 1920, 108, 1499, 898, 1633, 1158, 1070, 484, 574, 1960, 1147, 641, 1749, 458,
                960, 726, 1460, 1161, 1725, 1678, 1431, 1080, 353, 476, 878, 728, 294, 1540, 1167, 979, 474,
                683, 712, 810, 1350, 505, 1728, 223, 184, 553, 481, 92, 445, 1424, 964, 1283, 941, 1309,
                1792, 1458, 1636, 1732, 1469, 1851, 873, 1977, 1079, 1282, 889, 1455, 886, 52, 1651, 39, 1184,
                542, 769, 1924, 1317, 963, 750, 1787, 1948, 303, 1030, 286, 1024, 63, 533, 88, 1703, 1830,
                711, 363, 625, 450, 686, 373, 1488, 652, 1115, 1989, 270, 201, 1679, 380, 1601, 1054, 1058,
                261, 961, 1320, 865, 1404, 1991, 799, 1418, 1579, 10, 562, 161, 1612, 871, 929, 118, 1138,
                1541, 1151, 320, 1751, 806, 854, 242, 1062, 1472, 1625, 1743, 1381, 1998, 766, 155, 1498, 1456,
                1046, 1365, 899, 504, 741, 265, 1466, 1667, 1777, 136, 1790, 119, 851, 620, 1105, 612, 1518,
                1741, 26, 1303, 1666, 935, 529, 1508, 1599, 551, 1493, 1298, 22, 165, 1859, 1126, 797, 1311,
                1641, 637, 547, 1936, 1279, 883, 783, 1905, 121, 1765, 1881, 368, 429, 1603, 1023, 183, 495,
                1061, 274, 668, 1296, 205, 379, 1301, 669, 1964, 895, 1982, 1226, 1156, 907, 177, 601, 1212,
                816, 1322, 565, 1399, 1680, 1429, 1875, 1528, 1203, 1813, 831, 876, 554, 415, 1796, 200, 1146,
                1610, 729, 890, 722, 1278, 1122, 1800, 737, 1408, 62, 1817, 901, 1076, 905, 16, 1685, 519,
                369, 180, 219, 655, 808, 1336, 1736, 703, 1048, 1166, 1173, 1219, 1237, 1377, 147, 1533, 1548,
                1582, 1643, 1780, 1865, 1869, 1890, 1902, 1904, 1912, 1921, 1953, 221, 311, 78, 820, 835, 946,
                321, 523, 962, 932, 36, 693, 989, 1804, 325, 702, 1152, 1909, 1014, 1581, 1731, 153, 543,
                4, 278, 21, 1710, 1722, 1463, 730, 1003, 701, 1917, 1586, 1895, 1925, 1876, 226, 1782, 1866,
                795, 621, 1986, 1906, 1450, 1919, 1174, 1694, 1075, 1658, 587, 290, 780, 1119, 589, 868, 1331,
                746, 1663, 1256, 1757, 1769, 1171, 1602, 1207, 1715, 1364, 66, 1246, 1287, 848, 1409, 985, 451,
                154, 875, 306, 1622, 894, 397, 782, 158, 1111, 791, 1926, 1437, 243, 654, 1519, 117, 660,
                1209, 403, 502, 1606, 1117, 969, 588, 27, 567, 1260, 157, 1100, 531, 1844, 832, 1164, 1441,
                934, 631, 611, 1970, 1482, 331, 1632, 1357, 1384, 56, 1794, 1056, 1500, 418, 1036, 19, 1861,
                550, 1935, 735, 1236, 17, 800, 1367, 1952, 394, 146, 449, 1340, 91, 1608, 667, 1475, 480,
                295, 501, 393, 1465, 705, 1719, 11, 648, 585, 1740, 944, 1016, 971, 1637, 544, 1631, 1857,
                503, 1795, 357, 487, 1707, 268, 1592, 408, 896, 463, 1727, 362, 1908, 1827, 982, 58, 957,
                1240, 292, 678, 326, 1497, 55, 707, 891, 1197, 1428, 1135, 764, 852, 462, 160, 75, 1312,
                298, 1490, 272, 530, 1449, 111, 1600, 815, 372, 1180, 309, 615, 163, 742, 679, 623, 965,
                1448, 1170, 1524, 513, 1681, 763, 1803, 1035, 1840, 74, 339, 413, 132, 1165, 1993, 776, 861,
                1525, 1961, 220, 1812, 250, 1193, 844, 1081, 367, 1267, 663, 974, 956, 254, 1125, 1228, 1591,
                32, 1838, 419, 528, 1932, 1770, 606, 975, 412, 1098, 1325, 1745, 1517, 940, 1241, 1127, 1655,
                1946, 948, 98, 283, 1257, 1371, 863, 998, 232, 1453, 556, 877, 237, 1772, 312, 1224, 1172,
                1697, 1739, 1713, 573, 1064, 731, 699, 677, 259, 1208, 1836, 70, 788, 51, 1963, 1321, 1452,
                313, 829, 1831, 1593, 885, 1853, 1646, 1630, 561, 446, 1250, 31, 687, 1852, 789, 371, 1029,
                1175, 1744, 34, 1114, 477, 1177, 1264, 936, 1801, 178, 658, 256, 1536, 1447, 1949, 1930, 71,
                194, 442, 1045, 167, 744, 943, 1150, 434, 1837, 1369, 1594, 1913, 195, 647, 472, 968, 113,
                1962, 954, 1695, 774, 1358, 302, 162, 1907, 239, 1609, 1440, 1120, 100, 709, 1826, 1189, 1669,
                522, 1372, 1253, 179, 112, 1623, 271, 541, 65, 1012, 406, 724, 48, 235, 1185, 945, 1758,
                1849, 651, 1359, 490, 1781, 414, 1188, 779, 1200, 233, 1775, 358, 1596, 1073, 1791, 96, 819,
                213, 586, 1811, 1025, 1067, 758, 1133, 818, 1102, 464, 124, 127, 1543, 1899, 845, 1822, 307,
                125, 1402, 1730, 420, 405, 804, 1988, 1383, 35, 1433, 1724, 1395, 1090, 430, 1247, 1234, 1802,
                892, 386, 593, 1776, 1476, 740, 1218, 994, 1588, 1258, 400, 228, 695, 1361, 1825, 765, 826,
                897, 595, 1884, 1647, 1843, 1027, 1717, 1544, 126, 1911, 801, 1720, 1798, 1947, 206, 1771, 245,
                1419, 675, 410, 1521, 275, 1010, 909, 1818, 1474, 953, 1662, 1390, 661, 555, 919, 1514, 116,
                1676, 1057, 1352, 1265, 1083, 1223, 630, 1373, 1945, 627, 1040, 1855, 361, 452, 1346, 582, 583,
                1597, 605, 1430, 322, 140, 719, 1576, 684, 524, 760, 33, 1284, 803, 1378, 734, 1841, 1873,
                1480, 335, 1955, 417, 1018, 328, 354, 507, 1334, 1867, 952, 1382, 721, 316, 1351, 1572, 697,
                564, 14, 1550, 1520, 602, 69, 1039, 1807, 511, 231, 1783, 53, 1896, 793, 938, 459, 133,
                520, 1262, 1069, 1017, 1436, 1130, 534, 461, 396, 30, 1020, 1885, 79, 1231, 1375, 1571, 1255,
                1734, 882, 1527, 596, 1055, 650, 375, 455, 1462, 1094, 681, 913, 1742, 95,
            ],
            storedDistances: [
                "0.00090602959770532039", "0.00090602959770532039", "0.00098987677958637418", "0.0014983067474192756",
                "0.005073605767813379", "0.0079246240797061114",
            ]),
        GeoSearchFixture(
            centre: .lonLat("-122.4194", "37.7749"), shape: .box(40000, 20000, unit: "km"),
            members: [
                933, 44, 1091, 571, 482, 1759, 821, 1136, 1110, 1294, 148, 1389, 1531, 1376, 811, 995, 129,
                1401, 87, 90, 1847, 230, 401, 1897, 1229, 333, 834, 1022, 330, 1103, 824, 500, 662, 492,
                293, 1021, 1614, 614, 770, 289, 1624, 236, 1142, 1674, 1607, 23, 578, 973, 1615, 1297, 1034,
                1183, 1809, 115, 1063, 1354, 1721, 752, 1044, 101, 8, 691, 216, 1711, 893, 9, 1380, 1410,
                706, 748, 1235, 1005, 1113, 427, 255, 1101, 653, 199, 931, 1914, 879, 1587, 1659, 284, 1580,
                967, 1569, 1349, 738, 830, 168, 1810, 1860, 1444, 733, 1934, 447, 1245, 1092, 1605, 374, 1000,
                370, 671, 775, 1688, 347, 1839, 659, 20, 1037, 1793, 257, 281, 238, 489, 1668, 515, 471,
                1206, 54, 1348, 903, 222, 114, 638, 1750, 7, 37, 616, 1698, 1239, 425, 1033, 1879, 1407,
                1478, 993, 1920, 108, 1499, 898, 1633, 1158, 1070, 484, 574, 1960, 1147, 641, 1749, 458, 960,
                726, 1460, 1161, 1725, 1678, 1431, 1080, 353, 476, 878, 728, 294, 1540, 1167, 979, 474, 683,
                712, 810, 1350, 505, 1728, 223, 184, 553, 481, 92, 445, 1424, 964, 1283, 941, 1309, 1792,
                1458, 1636, 1732, 1469, 1851, 873, 1977, 1079, 1282, 889, 1455, 886, 52, 1651, 39, 1184, 542,
                769, 1924, 1317, 963, 750, 1787, 1948, 303, 1030, 286, 1024, 63, 533, 88, 1703, 1830, 711,
                363, 625, 450, 686, 373, 1488, 652, 1115, 1989, 270, 201, 1679, 380, 1601, 1054, 1058, 261,
                961, 1320, 865, 1404, 1991, 799, 1418, 1579, 10, 562, 161, 1612, 871, 929, 118, 1138, 1541,
                1151, 320, 1751, 806, 854, 242, 1062, 1472, 1625, 1743, 1381, 1998, 766, 155, 1498, 1456, 1046,
                1365, 899, 504, 741, 265, 1466, 1667, 1777, 136, 1790, 119, 851, 620, 1105, 612, 1518, 1741,
                26, 1303, 1666, 935, 529, 1508, 1599, 551, 1493, 1298, 22, 165, 1859, 1126, 797, 1311, 1641,
                637, 547, 1936, 1279, 883, 783, 1905, 121, 1765, 1881, 368, 429, 1603, 1023, 183, 495, 1061,
                274, 668, 1296, 205, 379, 1301, 669, 1964, 895, 1982, 1226, 1156, 907, 177, 601, 1212, 816,
                1322, 565, 1399, 1680, 1429, 1875, 1528, 1203, 1813, 831, 876, 554, 415, 1796, 200, 1146, 1610,
                729, 890, 722, 1278, 1122, 1800, 737, 1408, 62, 1817, 901, 1076, 905, 16, 1685, 519, 369,
                180, 219, 655, 808, 1336, 1736, 703, 1448, 1170, 1524, 513, 1803, 1035, 1840, 1267, 663, 974,
                956, 254, 1125, 1228, 1591, 32, 1838, 419, 528, 1932, 1770, 606, 975, 412, 1098, 1325, 1745,
                1517, 940, 1241, 1127, 1655, 1946, 948, 98, 283, 1257, 1371, 863, 998, 232, 1453, 556, 877,
                237, 1772, 312, 1224, 1172, 1697, 1739, 1713, 573, 1064, 731, 699, 677, 259, 1208, 1836, 70,
                788, 51, 1963, 1321, 1452, 313, 829, 1831, 1593, 885, 1853, 1646, 1630, 561, 446, 1250, 31,
                687, 1852, 789, 371, 1029, 1175, 1744, 34, 1114, 477, 1177, 1264, 936, 1801, 178, 658, 256,
                1536, 1447, 1949, 1930, 71, 194, 442, 1045, 167, 744, 943, 1150, 434, 1837, 1369, 1594, 1913,
                195, 647, 472, 968, 113, 1962, 954, 1695, 774, 1358, 302, 162, 1907, 239, 1609, 1440, 1120,
                100, 709, 1826, 1189, 1669, 522, 1372, 1253, 179, 112, 1623, 271, 541, 65, 1012, 406, 724,
                48, 235, 1185, 945, 1758, 1849, 651, 1359, 490, 1781, 414, 1188, 779, 1200, 233, 1775, 358,
                1596, 1073, 1791, 96, 819, 213, 586, 1811, 1025, 1067, 758, 35, 1724, 1597, 605, 140, 719,
                1576, 684, 524, 760, 33, 1284, 803, 1378, 734, 1841, 1873, 1480, 335, 1955, 417, 1018, 328,
                354, 507, 1334, 1867, 952, 1382, 721, 316, 1351, 1572, 697, 564, 14, 1550, 1520, 602, 69,
                1039, 1807, 511, 231, 1783, 53, 1896, 793, 938, 459, 133, 520, 1262, 1069, 1017, 1436, 1130,
                534, 461, 396, 30, 1020, 1885, 79, 1231, 1375, 1571, 1255, 1734, 882, 1527, 596, 1055, 650,
                375, 455, 1462, 1094, 681, 913, 1742, 95, 1307, 266, 881, 42, 1095, 1, 1414, 1353, 598,
                1939, 745, 366, 579, 1347, 986, 980, 1496, 563, 685, 376, 1778, 41, 1619, 981, 1661, 1272,
                1299, 609, 149, 849, 1089, 846, 918, 1901, 1109, 617, 1980, 926, 1004, 359, 488, 1031, 1858,
                632, 319, 1978, 599, 1457, 853, 1660, 1026, 470, 672, 189, 1356, 181, 1155, 1074, 1479, 1786,
                796, 1671, 1568, 600, 424, 674, 778, 1562, 389, 1477, 276, 315, 191, 1916, 341, 1420, 525,
                1204, 1360, 817, 1140, 244, 1642, 1604, 1971, 1626, 497, 1979, 1846, 718, 1918, 990, 1574, 1538,
                1333, 1362, 747, 812, 619, 214, 1887, 1871, 781, 1342, 823, 40, 514, 1981, 423, 1370, 1318,
                761, 1805, 1766, 383, 285, 437, 1470, 1522, 743, 636, 1564, 1616, 1943, 704, 110, 516, 135,
                716, 218, 1547, 416, 1806, 76, 351, 717, 1656, 197, 618, 107, 1116, 1933, 1957, 643, 696,
                217, 739, 664, 1705, 976, 86, 1850, 1468, 186, 1268, 385, 1068, 81, 1774, 329, 920, 1712,
                448, 123, 1552, 435, 1583, 727, 839, 84, 604, 103, 1143, 545, 1248, 540, 549, 422, 323,
                1554, 1314, 1863, 539, 169, 753, 1553, 411, 1459, 1573, 25, 454, 805, 1451, 759, 1491, 1590,
                1561, 613, 248, 246, 580, 1645, 1814, 1534, 1406, 1001, 468, 1244, 1137, 1747, 1753, 433, 1966,
                1038, 1511, 673, 28, 1112, 1107, 843, 251, 381, 1854, 908, 1815, 532, 1752, 1049, 1323, 1620,
                1992, 713, 1878, 5, 296, 332, 1700, 1767, 757, 1187, 1746, 1638, 1077, 1425, 1950, 1374, 925,
                345, 790, 640, 610, 700, 939, 1220, 1270, 404, 50, 1733, 1215, 1492, 1975, 1129, 1559, 1192,
                1797, 930, 1640, 1008, 198, 1696, 208, 874, 1306, 1216, 1545, 349, 89, 196, 131, 68, 1160,
                45, 798, 249, 1821, 453, 1233, 1922, 1454, 1261, 1221, 1995, 1848, 917, 1181, 1473, 1944, 77,
                49, 486, 1411, 1254, 1691, 299, 1205, 202, 485, 340, 1510, 67, 1141, 906, 348, 1653, 1738,
                262, 642, 73, 560, 1078, 1195, 1198, 314, 182, 1584, 301, 1512, 1243, 1515, 188, 1634, 1557,
                725, 521, 1537, 1182, 860, 356, 120, 608, 1366, 15, 1755, 498, 999, 856, 509, 1983, 680,
                1096, 444, 1990, 768, 1446, 1589, 955, 139, 1393, 1723, 305, 1834, 267, 1967, 176, 1877, 1471,
                698, 1959, 1327, 141, 1386, 866, 384, 1196, 1251, 710, 407, 1388, 94, 1426, 190, 240, 1288,
                1059, 439, 1689, 1329, 1819, 959, 1704, 1931, 1628, 308, 1706, 151, 1043, 1672, 1335, 392, 1385,
                1503, 1396, 225, 1275, 777, 1716, 1131, 546, 1845, 377, 1128, 1495, 628, 1201, 1735, 1157, 1445,
                1007, 1799, 1337, 951, 950, 1071, 1281, 1673, 426, 1532, 1973, 581, 1134, 467, 576, 1213, 629,
                841, 494, 1434, 277, 1718, 1652, 1162, 1900, 942, 688, 1259, 215, 324, 1779, 1629, 47, 1563,
                537, 1768, 138, 506, 80, 1958, 1435, 970, 1516, 577, 1737, 1526, 338, 229, 1217, 1413, 1186,
                1974, 152, 1087, 1263, 342, 1708, 1289, 164, 1566, 1108, 64, 1894, 857, 1118, 174, 676, 252,
                128, 297, 441, 1690, 273, 1513, 97, 478, 888, 904, 1324, 1104, 1066, 1985, 109, 428, 807,
                1487, 1484, 1868, 1225, 1344, 1951, 1295, 670, 1898, 992, 1093, 1968, 991, 859, 1726, 1649, 479,
                958, 996, 352, 466, 1504, 1539, 1575, 1687, 234, 1403, 597, 1677, 1398, 510, 1856, 1987, 3,
                1486, 1405, 1683, 1915, 1194, 947, 607, 1179, 287, 864, 715, 1330, 1664, 923, 634, 603, 1832,
                1570, 207, 378, 269, 1788, 334, 1714, 1124, 1285, 1639, 557, 1644, 1310, 921, 1654, 1084, 626,
                327, 887, 337, 1082, 343, 1927, 1565, 1199, 185, 499, 1684, 512, 922, 1864, 1555, 318, 1928,
                1230, 1556, 535, 346, 594, 1443, 694, 1699, 192, 1397, 1549, 1153, 1422, 1675, 1442, 1789, 1326,
                247, 825, 142, 122, 1319, 1954, 880, 1464, 1760, 227, 460, 552, 1567, 538, 1169, 1417, 1994,
                1416, 211, 949, 784, 173, 720, 714, 1345, 204, 915, 1996, 645, 900, 310, 1862, 99, 1168,
                570, 1214, 1316, 166, 1269, 827, 43, 527, 395, 1546, 440, 872, 1682, 1332, 1611, 1202, 978,
                1427, 656, 1009, 1888, 475, 1249, 1648, 137, 398, 436, 756, 1238, 1763, 1942, 1467, 83, 1159,
                1923, 518, 483, 1050, 1969, 1280, 1154, 93, 1286, 1617, 1485, 1808, 787, 1211, 635, 559, 622,
                1483, 1178, 966, 1829, 736, 657, 1300, 0, 1505, 809, 914, 836, 526, 987, 72, 280, 1702,
                984, 496, 633, 1338, 1692, 1506, 1148, 1086, 867, 1773, 391, 1439, 156, 566, 304, 438, 1041,
                1833, 1627, 771, 1339, 649, 1015, 1106, 1761, 264, 1139, 1756, 258, 1824, 1976, 833, 591, 421,
                1657, 57, 690, 732, 1328, 241, 1874, 29, 1276, 1820, 884, 569, 1052, 1271, 1123, 12, 1941,
                802, 291, 1368, 646, 786, 24, 1097, 1190, 689, 1232, 723, 1893, 1883, 1065, 360, 1529, 794,
                855, 1423, 1315, 1011,
            ],
            storedDistances: [
                "7210.829596151545", "7179.4088111950077", "7155.0275826298193", "7192.0121225153343",
                "7190.9717784684699", "7153.4394552342028",
            ]),
        GeoSearchFixture(
            centre: .member(5), shape: .radius(0, unit: "m"),
            members: [
                5,
            ],
            storedDistances: [
                "0",
            ]),
        GeoSearchFixture(
            centre: .member(7), shape: .box(0, 0, unit: "m"),
            members: [
                7,
            ],
            storedDistances: [
                "0",
            ]),
        GeoSearchFixture(
            centre: .lonLat("179.9", "80.5"), shape: .radius(3281, unit: "ft"),
            members: [
            ],
            storedDistances: [
            ]),
        GeoSearchFixture(
            centre: .lonLat("-150", "-70"), shape: .box(123.456, 78.9, unit: "km"),
            members: [
                969, 588, 27, 1260, 157, 1100, 531, 1844, 832, 1164, 1441, 934, 631, 611, 1970, 1482, 331,
                1632, 1357, 1384, 56, 1794, 1056, 1500, 418, 1036, 19, 1861, 550, 1935, 735, 1236, 17, 800,
                1367, 1952, 394, 146, 449, 1340, 91, 1608, 667, 1475, 480, 295, 501, 393, 1465, 705, 1719,
                11, 648, 585, 1740, 944, 1016, 971, 1637, 544, 1631, 1857, 503, 1795, 357, 487, 1707, 268,
                1592, 408, 896, 463, 1727, 362, 1908, 1827, 982, 58, 957, 1240, 292, 678, 326, 1497, 55,
                707, 891, 1197, 1428, 1135, 764, 852, 462, 160, 75, 1312, 298, 272, 530,
            ],
            storedDistances: [
                "43.177438965037247", "37.760828323193309", "27.564106305077409", "9.6396881840410789",
                "9.2009167580849969", "5.0724080014577035",
            ]),
        GeoSearchFixture(
            centre: .lonLat("-122.4194", "37.7749"), shape: .radius(12, unit: "mi"),
            members: [
                1354, 1721, 752, 1044, 101, 8, 691, 216, 1711, 893, 9, 1380, 1410, 706, 748, 1235, 1005,
                1113, 427, 255, 1101, 653, 199, 931, 1914, 879, 1587, 1659, 284, 1580, 967, 1569, 1349, 738,
                830, 168, 1810, 1860, 1444, 733, 1934, 447, 1245, 1092, 1605, 374, 1000, 370, 671, 775, 1688,
                347, 1839, 659, 20, 1037, 1793, 257, 281, 238, 489, 1668, 515, 471, 1206, 54, 1348, 903,
                222, 114, 638, 1750, 7, 37, 616, 1698, 1239, 425, 1033, 1879, 1407, 1478, 993, 1034, 1183,
                1809, 115, 1063, 484, 574,
            ],
            storedDistances: [
                "0.97393934638686974", "0.69998124125472894", "0.80639000795689642", "0.80292580360124366",
                "0.57396548426133431", "0.37541420855727109",
            ]),
        GeoSearchFixture(
            centre: .lonLat("0", "0"), shape: .box(10, 10, unit: "km"),
            members: [
                1307, 266, 881, 42, 1095, 1, 1414, 1353, 598, 1939, 745, 366, 579, 1347, 986, 980, 1496,
                563, 685, 376, 1778, 41, 1611, 1202, 978, 1427, 656, 1009, 1888, 475, 1249, 1648, 137, 398,
                436, 756, 1238, 1541, 1151, 320, 1751, 806, 854, 242, 1062, 1472, 1625, 1743, 1381, 1998, 766,
                155, 1498, 1456, 1046, 1365, 1020, 1885, 79, 1231, 1375, 1571, 1255, 1734, 882, 1527, 596, 1055,
                650, 375, 455, 1462, 1094, 681, 913, 1742, 95,
            ],
            storedDistances: [
                "0.00090602959770532039", "0.00090602959770532039", "0.00098987677958637418", "0.0014983067474192756",
                "0.005073605767813379", "0.0079246240797061114",
            ]),
        GeoSearchFixture(
            centre: .lonLat("179", "80.5"), shape: .radius(3000, unit: "km"),
            members: [
                613, 248, 1645, 1534, 1406, 1001, 468, 1244, 1137, 1747, 1753, 433, 1966, 1038, 1511, 673, 28,
                1112, 1107, 843, 251, 381, 1854, 908, 1815, 532, 1752, 1049, 1323, 1620, 1992, 713, 1878, 5,
                296, 332, 1700, 1767, 757, 1187, 1746, 1638, 1077, 1425, 1950, 1374, 925, 345, 790, 640, 610,
                700, 939, 1220, 1270, 404, 50, 1733, 1215, 1696, 208, 874, 1306, 1216, 1545, 1445, 1071, 1281,
                1673, 426, 1532, 1973, 581, 1134, 467, 576, 1213, 629, 841, 1162, 1259, 215, 324, 1779, 1629,
                47, 1563, 537, 1768, 138, 506, 80, 1958, 1435, 970, 1516, 577, 1737, 1526, 338, 229, 1217,
                1413, 1186, 1974, 152, 1087, 1263, 342, 1708, 1289, 164, 1566, 1108, 64, 1894, 857, 1118, 174,
                676, 252, 128, 297, 441, 1690, 273, 1513, 97, 478, 888, 904, 1324, 1104, 1066, 1985, 109,
                428, 807, 1487, 1484, 1868, 1225, 1344, 1951, 1295, 670, 1898, 992, 1093, 1968, 991, 859, 1726,
                1649, 479, 958, 996, 352, 466, 1504, 1539, 1575, 1687, 234, 1403, 597, 1677, 1398, 510, 1856,
                1987, 3, 1486, 1405, 1683, 1915, 1194, 947, 607, 1179, 287, 864, 715, 1330, 1664, 923, 634,
                603, 1832, 1570, 207, 378, 269, 1788, 334, 1714, 1124, 1285, 1639, 557, 1644, 1310, 921, 1654,
                1084, 626, 327, 887, 337, 1082, 343, 1927, 1565, 1199, 185, 499, 1684, 512, 922, 1864, 1555,
                318, 1928, 1230, 1556, 535, 346, 594, 1443, 694, 1699, 192, 1397, 1549, 1153, 1422, 1675, 1442,
                1789, 1326, 247, 825, 142, 122, 1319, 1954, 880, 1464, 1760, 227, 460, 552, 728, 294, 1167,
                979, 683, 712, 810, 1350, 505, 1728, 223, 184, 553, 481, 92, 445, 1424, 964, 1458, 1079,
                1282, 889, 1455, 886, 52, 1651, 39, 1184, 542, 769, 1924, 1317, 963, 750, 1787, 1948, 303,
                1030, 286, 551, 1493, 1298, 22, 165, 1859, 429, 1603, 1023, 183, 1061, 205, 379, 1301, 669,
                1964, 895, 1982, 1226, 1156, 907, 177, 601, 1212, 816, 1322, 565, 1399, 1680, 1429, 1875, 1528,
                1203, 1813, 831, 876, 554, 415, 1796, 200, 1146, 1610, 729, 890, 722, 1278, 1122, 1800, 737,
                1408, 62, 1817, 901, 1076, 905, 16, 1685, 519, 369, 180, 219, 655, 808, 1336, 1736, 703,
            ],
            storedDistances: [
                "2962.7578695110519", "2874.8340356854724", "2861.9995936039199", "2191.0037883740811",
                "1697.8760049041948", "1709.2745065826737",
            ]),
        GeoSearchFixture(
            centre: .lonLat("-179.999", "-0.5"), shape: .box(5000, 3000, unit: "km"),
            members: [
                1517, 940, 1241, 1127, 1655, 1946, 948, 98, 283, 1257, 1371, 863, 998, 232, 1453, 556, 877,
                237, 1772, 312, 1224, 1172, 1697, 1739, 1713, 573, 1064, 731, 699, 677, 259, 1208, 1836, 70,
                788, 51, 1963, 1321, 1452, 313, 829, 1831, 1593, 885, 1853, 1646, 1630, 561, 446, 1250, 31,
                687, 1852, 789, 371, 1029, 1175, 1744, 34, 1114, 477, 1177, 1264, 936, 1801, 178, 658, 256,
                1536, 1447, 1949, 1930, 71, 194, 442, 1045, 167, 744, 943, 1150, 434, 1837, 1369, 1594, 1913,
                195, 647, 472, 968, 113, 1962, 954, 1695, 774, 1358, 302, 162, 1907, 239, 1609, 1440, 1120,
                100, 709, 1826, 1189, 1669, 522, 1372, 1253, 179, 112, 1623, 271, 541, 65, 1012, 933, 44,
                1091, 571, 482, 1759, 821, 1136, 1110, 1294, 148, 1389, 1531, 1376, 360, 855, 1423, 1315, 1011,
                486, 1411, 1254, 1691, 299, 1205, 202, 485, 340, 1510, 67, 1141, 906, 348, 1653, 1738, 262,
                642, 73, 560, 1078, 1195, 1198, 314, 182, 1584, 301, 1512, 1243, 1515, 188, 1634, 1557, 725,
                521, 1537, 1182, 860, 356, 120, 608, 1366, 15, 1755, 498, 999, 856, 509, 1983, 680, 1096,
                444, 1990, 768, 1446, 1589, 955, 139, 1393, 1723, 305, 1834, 267, 1967, 176, 1877, 1471, 698,
                1959, 1327, 141, 1386, 866, 384, 1196, 1251, 710, 407, 1388, 94, 1426, 190, 240, 1288, 1059,
                439, 1689, 1329, 1819, 959, 1931,
            ],
            storedDistances: [
                "1513.8091592166647", "1084.5201894214586", "963.29930631923378", "649.11840695319268",
                "748.78432506157014", "120.1737074861571",
            ]),
        GeoSearchFixture(
            centre: .member(11), shape: .radius(150, unit: "km"),
            members: [
                660, 1209, 403, 502, 1606, 1117, 969, 588, 27, 567, 1260, 157, 1100, 531, 1844, 832, 1164,
                1441, 934, 631, 611, 1970, 1482, 331, 1632, 1357, 1384, 56, 1794, 1056, 1500, 418, 1036, 19,
                1861, 550, 1935, 735, 1236, 17, 800, 1367, 1952, 394, 146, 449, 1340, 91, 1608, 667, 1475,
                480, 295, 501, 393, 1465, 705, 1719, 11, 648, 585, 1740, 944, 1016, 971, 1637, 544, 1631,
                1857, 503, 1795, 357, 487, 1707, 268, 1592, 408, 896, 463, 1727, 362, 1908, 1827, 982, 58,
                957, 1240, 292, 678, 326, 1497, 55, 707, 891, 1197, 1428, 1135, 764, 852, 462, 160, 75,
                1312, 298, 1490, 272, 530, 1449, 111, 1600, 815, 1180,
            ],
            storedDistances: [
                "65.545780333894413", "105.65952529435839", "91.567113899920983", "73.584725770794336",
                "110.66437460784199", "70.495086173960857",
            ]),
        GeoSearchFixture(
            centre: .lonLat("0.0005", "-0.0005"), shape: .radius(0.5, unit: "km"),
            members: [
                1202, 978, 1427, 656, 1009, 1888, 475, 1249, 1648, 137, 398, 436, 756, 1238, 1307, 266, 881,
                42, 1095, 1, 1414, 1353, 598, 1939, 745, 366, 579, 1347, 79, 1231, 1375, 1571, 1255, 1734,
                882, 1527, 596, 1055, 650, 375, 455, 1462, 1094, 681, 913, 1742, 95, 1151, 320, 1751, 806,
                854, 242, 1062, 1472, 1625, 1743, 1381, 1998, 766, 155, 1498, 1456,
            ],
            storedDistances: [
                "0.041964680380516532", "0.049427711479008311", "0.071138405666965138", "0.067577951066350381",
                "0.065069680930140691", "0.069800445110098447",
            ]),
        GeoSearchFixture(
            centre: .lonLat("-180", "-85.05112878"), shape: .radius(800, unit: "km"),
            members: [
                1048, 1166, 1173, 1219, 1237, 1377, 147, 1533, 1548, 1582, 1643, 1780, 1865, 1869, 1890, 1902, 1904,
                1912, 1921, 1953, 221, 311, 78, 820, 835, 946, 321, 523, 962, 932, 36, 693, 989, 1804,
                325, 702, 1152, 1909, 1014, 1581, 1731, 153, 543, 4, 278, 21, 1710, 1722, 1463, 730, 1003,
                701, 1917, 1586, 1895, 1925, 1876, 226, 1782, 1866, 795, 621, 1986, 1906, 1450, 1919, 1174, 1694,
                1075, 1658, 587, 290, 780, 1119, 589, 868, 1331, 746, 1663, 1256, 1757, 1769, 1171, 1602, 1207,
                1715, 1364, 66, 1246, 1287, 848, 1409, 985, 451, 154, 875, 306, 894, 782, 243, 654, 1519,
                584, 1816, 1047, 1784, 911, 344,
            ],
            storedDistances: [
                "0.00014329392836110938", "0.00014329392836110938", "0.00014329392836110938", "0.00014329392836110938",
                "0.00014329392836110938", "0.00014329392836110938",
            ]),
        GeoSearchFixture(
            centre: .lonLat("13.361389", "38.115556"), shape: .box(200, 200, unit: "km"),
            members: [
                1457, 853, 1660, 1026, 470, 672, 189, 1356, 181, 1155, 1074, 1479, 1786, 796, 1671, 1568, 600,
                424, 674, 778, 1562, 389, 1477, 276, 315, 191, 1916, 341, 1420, 525, 1204, 1360, 817, 1140,
                244, 1642, 1604, 1971, 1626, 497, 1979, 1846, 718, 1918, 990, 1574, 1538, 1333, 1362, 747, 812,
                619, 214, 1887, 1871, 781, 1342, 823, 40, 514, 1981, 423, 1370, 1318, 761, 1805, 1766, 383,
                285, 437, 1470, 1522, 743, 636, 1564, 1616, 1943, 704, 110, 516, 135, 716, 218, 1547, 416,
                1806, 76, 351, 717, 1656, 197, 618, 107, 1116, 1933, 1957, 643, 696, 217, 739, 664, 1705,
                976, 86, 1850, 1468, 186, 1268,
            ],
            storedDistances: [
                "119.82418451598832", "99.554644935893734", "80.77904614807035", "80.008089038558779",
                "64.744924031120249", "70.477636471998025",
            ]),
        GeoSearchFixture(
            centre: .lonLat("-179.9999", "84.99"), shape: .box(300, 30, unit: "mi"),
            members: [
                626, 327, 887, 337, 1082, 343, 1927, 1565, 1199, 185, 499, 1684, 512, 922, 1864, 1555, 318,
                1928, 1230, 1556, 535, 346, 594, 1443, 694, 1699, 192, 1397, 1549, 1153, 1422, 1675, 1442, 1789,
                1326, 247, 825, 142, 122, 1319, 1954, 880, 1464, 1760, 227, 460, 552,
            ],
            storedDistances: [
                "15.03571125023141", "13.163438185122336", "5.7886894664129391", "5.4978382579881107",
                "4.2940715593131564", "4.9806861537850144",
            ]),
        GeoSearchFixture(
            centre: .lonLat("90", "0"), shape: .radius(9000, unit: "km"),
            members: [
                849, 1089, 846, 1109, 617, 1980, 926, 1004, 359, 488, 1031, 1858, 632, 319, 1978, 599, 1457,
                853, 1660, 1026, 470, 672, 189, 1356, 181, 1155, 1074, 1479, 1786, 796, 1671, 1568, 600, 424,
                674, 778, 1562, 389, 1477, 276, 315, 191, 1916, 341, 1420, 525, 1204, 1360, 817, 1140, 244,
                1642, 1604, 1971, 1626, 497, 1979, 1846, 718, 1918, 990, 1574, 1538, 1333, 1362, 747, 812, 619,
                214, 1887, 1871, 781, 1342, 823, 40, 514, 1981, 423, 1370, 1318, 761, 1805, 1766, 383, 285,
                437, 1470, 1522, 743, 636, 1564, 1616, 1943, 704, 110, 516, 135, 716, 218, 1547, 416, 1806,
                76, 351, 717, 1656, 197, 618, 107, 1116, 1933, 1957, 643, 696, 217, 739, 664, 1705, 976,
                86, 1850, 1468, 186, 1268, 385, 1068, 81, 1774, 329, 920, 1712, 448, 123, 1552, 435, 1583,
                727, 839, 84, 604, 103, 1143, 545, 1248, 540, 549, 422, 323, 1554, 1314, 1863, 539, 753,
                1553, 25, 454, 805, 1451, 759, 1491, 1590, 404, 1492, 1975, 1129, 1559, 1192, 1797, 930, 1640,
                1008, 198, 1696, 208, 874, 1306, 1216, 1545, 349, 89, 196, 131, 68, 1160, 45, 798, 249,
                1821, 453, 1233, 1922, 1454, 1261, 1221, 1995, 1848, 917, 1181, 1473, 1944, 77, 49, 486, 1704,
                1931, 1628, 151, 1043, 1672, 1335, 392, 1385, 1503, 1396, 777, 1716, 1131, 546, 1845, 377, 1128,
                1495, 628, 1201, 1735, 1157, 1445, 1007, 1799, 1337, 951, 950, 1071, 1281, 1673, 426, 1532, 1973,
                581, 467, 576, 494, 1434, 277, 1718, 1652, 1162, 1900, 942, 388, 1363, 288, 1994, 1416, 1132,
                1578, 1635, 1823, 211, 949, 784, 173, 1929, 912, 1002, 145, 755, 1598, 1019, 382, 1394, 1144,
                572, 1176, 1400, 300, 762, 1910, 469, 720, 714, 1345, 204, 915, 1996, 645, 1956, 1293, 508,
                1343, 900, 310, 1862, 99, 570, 1269, 827, 43, 527, 395, 440, 872, 1682, 1923, 518, 483,
                1050, 1969, 1280, 1154, 93, 1286, 1617, 1485, 1808, 787, 1211, 635, 559, 622, 1483, 1178, 966,
                1829, 736, 657, 1300, 0, 1505, 809, 914, 836, 526, 987, 72, 280, 1702, 984, 937, 1937,
                106, 144, 409, 983, 210, 997, 171, 170, 1551, 838, 828, 840, 457, 496, 633, 1338, 1692,
                1506, 1148, 1086, 867, 1773, 317, 850, 1290, 813, 870, 1872, 399, 391, 1439, 767, 156, 1041,
                1833, 1627, 771, 1339, 649, 1015, 1106, 1761, 264, 1139, 1756, 258, 1824, 1976, 833, 591, 421,
                1657, 57, 690, 732, 1328, 241, 1874, 29, 1276, 1820, 884, 569, 1052, 1271, 1123, 12, 802,
                291, 646, 786, 24, 1097, 1190, 689, 1232, 723, 1893, 1883, 1065, 360, 1529, 855,
            ],
            storedDistances: [
                "8382.5478947270785", "8611.4791557582394", "8436.3727384570848", "8992.7940880008464",
                "8422.8027565993361", "8623.9716793948464",
            ]),
        GeoSearchFixture(
            centre: .lonLat("0", "0"), shape: .radius(.infinity, unit: "km"),
            members: [
                1307, 266, 881, 42, 1095, 1, 1414, 1353, 598, 1939, 745, 366, 579, 1347, 986, 980, 1496,
                563, 685, 376, 1778, 41, 1619, 981, 1661, 1272, 1299, 609, 149, 849, 1089, 846, 918, 1901,
                1109, 617, 1980, 926, 1004, 359, 488, 1031, 1858, 632, 319, 1978, 599, 1457, 853, 1660, 1026,
                470, 672, 189, 1356, 181, 1155, 1074, 1479, 1786, 796, 1671, 1568, 600, 424, 674, 778, 1562,
                389, 1477, 276, 315, 191, 1916, 341, 1420, 525, 1204, 1360, 817, 1140, 244, 1642, 1604, 1971,
                1626, 497, 1979, 1846, 718, 1918, 990, 1574, 1538, 1333, 1362, 747, 812, 619, 214, 1887, 1871,
                781, 1342, 823, 40, 514, 1981, 423, 1370, 1318, 761, 1805, 1766, 383, 285, 437, 1470, 1522,
                743, 636, 1564, 1616, 1943, 704, 110, 516, 135, 716, 218, 1547, 416, 1806, 76, 351, 717,
                1656, 197, 618, 107, 1116, 1933, 1957, 643, 696, 217, 739, 664, 1705, 976, 86, 1850, 1468,
                186, 1268, 385, 1068, 81, 1774, 329, 920, 1712, 448, 123, 1552, 435, 1583, 727, 839, 84,
                604, 103, 1143, 545, 1248, 540, 549, 422, 323, 1554, 1314, 1863, 539, 169, 753, 1553, 411,
                1459, 1573, 25, 454, 805, 1451, 759, 1491, 1590, 1561, 613, 248, 246, 580, 1645, 1814, 1534,
                1406, 1001, 468, 1244, 1137, 1747, 1753, 433, 1966, 1038, 1511, 673, 28, 1112, 1107, 843, 251,
                381, 1854, 908, 1815, 532, 1752, 1049, 1323, 1620, 1992, 713, 1878, 5, 296, 332, 1700, 1767,
                757, 1187, 1746, 1638, 1077, 1425, 1950, 1374, 925, 345, 790, 640, 610, 700, 939, 1220, 1270,
                404, 50, 1733, 1215, 1492, 1975, 1129, 1559, 1192, 1797, 930, 1640, 1008, 198, 1696, 208, 874,
                1306, 1216, 1545, 349, 89, 196, 131, 68, 1160, 45, 798, 249, 1821, 453, 1233, 1922, 1454,
                1261, 1221, 1995, 1848, 917, 1181, 1473, 1944, 77, 49, 486, 1411, 1254, 1691, 299, 1205, 202,
                485, 340, 1510, 67, 1141, 906, 348, 1653, 1738, 262, 642, 73, 560, 1078, 1195, 1198, 314,
                182, 1584, 301, 1512, 1243, 1515, 188, 1634, 1557, 725, 521, 1537, 1182, 860, 356, 120, 608,
                1366, 15, 1755, 498, 999, 856, 509, 1983, 680, 1096, 444, 1990, 768, 1446, 1589, 955, 139,
                1393, 1723, 305, 1834, 267, 1967, 176, 1877, 1471, 698, 1959, 1327, 141, 1386, 866, 384, 1196,
                1251, 710, 407, 1388, 94, 1426, 190, 240, 1288, 1059, 439, 1689, 1329, 1819, 959, 1704, 1931,
                1628, 308, 1706, 151, 1043, 1672, 1335, 392, 1385, 1503, 1396, 225, 1275, 777, 1716, 1131, 546,
                1845, 377, 1128, 1495, 628, 1201, 1735, 1157, 1445, 1007, 1799, 1337, 951, 950, 1071, 1281, 1673,
                426, 1532, 1973, 581, 1134, 467, 576, 1213, 629, 841, 494, 1434, 277, 1718, 1652, 1162, 1900,
                942, 688, 1259, 215, 324, 1779, 1629, 47, 1563, 537, 1768, 138, 506, 80, 1958, 1435, 970,
                1516, 577, 1737, 1526, 338, 229, 1217, 1413, 1186, 1974, 152, 1087, 1263, 342, 1708, 1289, 164,
                1566, 1108, 64, 1894, 857, 1118, 174, 676, 252, 128, 297, 441, 1690, 273, 1513, 97, 478,
                888, 904, 1324, 1104, 1066, 1985, 109, 428, 807, 1487, 1484, 1868, 1225, 1344, 1951, 1295, 670,
                1898, 992, 1093, 1968, 991, 859, 1726, 1649, 479, 958, 996, 352, 466, 1504, 1539, 1575, 1687,
                234, 1403, 597, 1677, 1398, 510, 1856, 1987, 3, 1486, 1405, 1683, 1915, 1194, 947, 607, 1179,
                287, 864, 715, 1330, 1664, 923, 634, 603, 1832, 1570, 207, 378, 269, 1788, 334, 1714, 1124,
                1285, 1639, 557, 1644, 1310, 921, 1654, 1084, 626, 327, 887, 337, 1082, 343, 1927, 1565, 1199,
                185, 499, 1684, 512, 922, 1864, 1555, 318, 1928, 1230, 1556, 535, 346, 594, 1443, 694, 1699,
                192, 1397, 1549, 1153, 1422, 1675, 1442, 1789, 1326, 247, 825, 142, 122, 1319, 1954, 880, 1464,
                1760, 227, 460, 552, 1163, 1121, 692, 105, 1709, 862, 1882, 402, 365, 842, 927, 682, 1415,
                134, 1051, 1210, 1762, 1530, 364, 1387, 1432, 847, 102, 1072, 13, 1412, 1273, 159, 1313, 1889,
                456, 902, 1242, 1665, 1842, 59, 1621, 751, 187, 1701, 1088, 1032, 193, 1558, 443, 390, 1421,
                1729, 1999, 263, 1997, 988, 1892, 910, 1613, 869, 1305, 279, 1764, 1686, 82, 1302, 708, 355,
                85, 1880, 1509, 1222, 1392, 548, 388, 1363, 288, 1191, 1489, 1266, 517, 1099, 282, 1304, 1567,
                538, 1169, 1417, 1994, 1416, 1132, 1578, 1635, 1823, 211, 949, 784, 173, 1929, 912, 212, 1886,
                1002, 145, 755, 1598, 1019, 382, 1394, 1144, 572, 1176, 1400, 300, 762, 1910, 469, 720, 714,
                1345, 204, 915, 1996, 645, 1956, 1293, 508, 1343, 900, 310, 1862, 99, 1168, 570, 1214, 1316,
                166, 1269, 827, 43, 527, 395, 1546, 440, 872, 1682, 1332, 1611, 1202, 978, 1427, 656, 1009,
                1888, 475, 1249, 1648, 137, 398, 436, 756, 1238, 1763, 1942, 1467, 83, 1159, 1923, 518, 483,
                1050, 1969, 1280, 1154, 93, 1286, 1617, 1485, 1808, 787, 1211, 635, 559, 622, 1483, 1178, 966,
                1829, 736, 657, 1300, 0, 1505, 809, 914, 836, 526, 987, 72, 280, 1702, 984, 937, 1937,
                106, 144, 409, 983, 210, 584, 997, 171, 170, 1551, 838, 828, 840, 457, 496, 633, 1338,
                1692, 1506, 1148, 1086, 867, 1773, 1816, 1047, 1784, 1748, 317, 1274, 911, 344, 104, 336, 1542,
                850, 1290, 813, 870, 1872, 399, 391, 1439, 767, 156, 1060, 566, 304, 438, 1041, 1833, 1627,
                771, 1339, 649, 1015, 1106, 1761, 264, 1139, 1756, 258, 1824, 1976, 833, 591, 421, 1657, 57,
                690, 732, 1328, 241, 1874, 29, 1276, 1820, 884, 569, 1052, 1271, 1123, 12, 1941, 802, 291,
                1368, 646, 786, 24, 1097, 1190, 689, 1232, 723, 1893, 1883, 1065, 360, 1529, 794, 855, 1423,
                1315, 1011, 933, 44, 1091, 571, 482, 1759, 821, 1136, 1110, 1294, 148, 1389, 1531, 1376, 811,
                995, 129, 1401, 87, 90, 1847, 230, 401, 1897, 1229, 333, 834, 1022, 330, 1103, 824, 500,
                662, 492, 293, 1021, 1614, 614, 770, 289, 1624, 236, 1142, 1674, 1607, 23, 578, 973, 1615,
                1297, 1034, 1183, 1809, 115, 1063, 1354, 1721, 752, 1044, 101, 8, 691, 216, 1711, 893, 9,
                1380, 1410, 706, 748, 1235, 1005, 1113, 427, 255, 1101, 653, 199, 931, 1914, 879, 1587, 1659,
                284, 1580, 967, 1569, 1349, 738, 830, 168, 1810, 1860, 1444, 733, 1934, 447, 1245, 1092, 1605,
                374, 1000, 370, 671, 775, 1688, 347, 1839, 659, 20, 1037, 1793, 257, 281, 238, 489, 1668,
                515, 471, 1206, 54, 1348, 903, 222, 114, 638, 1750, 7, 37, 616, 1698, 1239, 425, 1033,
                1879, 1407, 1478, 993, 1920, 108, 1499, 898, 1633, 1158, 1070, 484, 574, 1960, 1147, 641, 1749,
                458, 960, 726, 1460, 1161, 1725, 1678, 1431, 1080, 353, 476, 878, 728, 294, 1540, 1167, 979,
                474, 683, 712, 810, 1350, 505, 1728, 223, 184, 553, 481, 92, 445, 1424, 964, 1283, 941,
                1309, 1792, 1458, 1636, 1732, 1469, 1851, 873, 1977, 1079, 1282, 889, 1455, 886, 52, 1651, 39,
                1184, 542, 769, 1924, 1317, 963, 750, 1787, 1948, 303, 1030, 286, 1024, 63, 533, 88, 1703,
                1830, 711, 363, 625, 450, 686, 373, 1488, 652, 1115, 1989, 270, 201, 1679, 380, 1601, 1054,
                1058, 261, 961, 1320, 865, 1404, 1991, 799, 1418, 1579, 10, 562, 161, 1612, 871, 929, 118,
                1138, 1541, 1151, 320, 1751, 806, 854, 242, 1062, 1472, 1625, 1743, 1381, 1998, 766, 155, 1498,
                1456, 1046, 1365, 899, 504, 741, 265, 1466, 1667, 1777, 136, 1790, 119, 851, 620, 1105, 612,
                1518, 1741, 26, 1303, 1666, 935, 529, 1508, 1599, 551, 1493, 1298, 22, 165, 1859, 1126, 797,
                1311, 1641, 637, 547, 1936, 1279, 883, 783, 1905, 121, 1765, 1881, 368, 429, 1603, 1023, 183,
                495, 1061, 274, 668, 1296, 205, 379, 1301, 669, 1964, 895, 1982, 1226, 1156, 907, 177, 601,
                1212, 816, 1322, 565, 1399, 1680, 1429, 1875, 1528, 1203, 1813, 831, 876, 554, 415, 1796, 200,
                1146, 1610, 729, 890, 722, 1278, 1122, 1800, 737, 1408, 62, 1817, 901, 1076, 905, 16, 1685,
                519, 369, 180, 219, 655, 808, 1336, 1736, 703, 1048, 1166, 1173, 1219, 1237, 1377, 147, 1533,
                1548, 1582, 1643, 1780, 1865, 1869, 1890, 1902, 1904, 1912, 1921, 1953, 221, 311, 78, 820, 835,
                946, 321, 523, 962, 932, 36, 693, 989, 1804, 325, 702, 1152, 1909, 1014, 1581, 1731, 153,
                543, 4, 278, 21, 1710, 1722, 1463, 730, 1003, 701, 1917, 1586, 1895, 1925, 1876, 226, 1782,
                1866, 795, 621, 1986, 1906, 1450, 1919, 1174, 1694, 1075, 1658, 587, 290, 780, 1119, 589, 868,
                1331, 746, 1663, 1256, 1757, 1769, 1171, 1602, 1207, 1715, 1364, 66, 1246, 1287, 848, 1409, 985,
                451, 154, 875, 306, 1622, 894, 397, 782, 158, 1111, 791, 1926, 1437, 243, 654, 1519, 117,
                660, 1209, 403, 502, 1606, 1117, 969, 588, 27, 567, 1260, 157, 1100, 531, 1844, 832, 1164,
                1441, 934, 631, 611, 1970, 1482, 331, 1632, 1357, 1384, 56, 1794, 1056, 1500, 418, 1036, 19,
                1861, 550, 1935, 735, 1236, 17, 800, 1367, 1952, 394, 146, 449, 1340, 91, 1608, 667, 1475,
                480, 295, 501, 393, 1465, 705, 1719, 11, 648, 585, 1740, 944, 1016, 971, 1637, 544, 1631,
                1857, 503, 1795, 357, 487, 1707, 268, 1592, 408, 896, 463, 1727, 362, 1908, 1827, 982, 58,
                957, 1240, 292, 678, 326, 1497, 55, 707, 891, 1197, 1428, 1135, 764, 852, 462, 160, 75,
                1312, 298, 1490, 272, 530, 1449, 111, 1600, 815, 372, 1180, 309, 615, 163, 742, 679, 623,
                965, 1448, 1170, 1524, 513, 1681, 763, 1803, 1035, 1840, 74, 339, 413, 132, 1165, 1993, 776,
                861, 1525, 1961, 220, 1812, 250, 1193, 844, 1081, 367, 1267, 663, 974, 956, 254, 1125, 1228,
                1591, 32, 1838, 419, 528, 1932, 1770, 606, 975, 412, 1098, 1325, 1745, 1517, 940, 1241, 1127,
                1655, 1946, 948, 98, 283, 1257, 1371, 863, 998, 232, 1453, 556, 877, 237, 1772, 312, 1224,
                1172, 1697, 1739, 1713, 573, 1064, 731, 699, 677, 259, 1208, 1836, 70, 788, 51, 1963, 1321,
                1452, 313, 829, 1831, 1593, 885, 1853, 1646, 1630, 561, 446, 1250, 31, 687, 1852, 789, 371,
                1029, 1175, 1744, 34, 1114, 477, 1177, 1264, 936, 1801, 178, 658, 256, 1536, 1447, 1949, 1930,
                71, 194, 442, 1045, 167, 744, 943, 1150, 434, 1837, 1369, 1594, 1913, 195, 647, 472, 968,
                113, 1962, 954, 1695, 774, 1358, 302, 162, 1907, 239, 1609, 1440, 1120, 100, 709, 1826, 1189,
                1669, 522, 1372, 1253, 179, 112, 1623, 271, 541, 65, 1012, 406, 724, 48, 235, 1185, 945,
                1758, 1849, 651, 1359, 490, 1781, 414, 1188, 779, 1200, 233, 1775, 358, 1596, 1073, 1791, 96,
                819, 213, 586, 1811, 1025, 1067, 758, 1133, 818, 1102, 464, 124, 127, 1543, 1899, 845, 1822,
                307, 125, 1402, 1730, 420, 405, 804, 1988, 1383, 35, 1433, 1724, 1395, 1090, 430, 1247, 1234,
                1802, 892, 386, 593, 1776, 1476, 740, 1218, 994, 1588, 1258, 400, 228, 695, 1361, 1825, 765,
                826, 897, 595, 1884, 1647, 1843, 1027, 1717, 1544, 126, 1911, 801, 1720, 1798, 1947, 206, 1771,
                245, 1419, 675, 410, 1521, 275, 1010, 909, 1818, 1474, 953, 1662, 1390, 661, 555, 919, 1514,
                116, 1676, 1057, 1352, 1265, 1083, 1223, 630, 1373, 1945, 627, 1040, 1855, 361, 452, 1346, 582,
                583, 1597, 605, 1430, 322, 140, 719, 1576, 684, 524, 760, 33, 1284, 803, 1378, 734, 1841,
                1873, 1480, 335, 1955, 417, 1018, 328, 354, 507, 1334, 1867, 952, 1382, 721, 316, 1351, 1572,
                697, 564, 14, 1550, 1520, 602, 69, 1039, 1807, 511, 231, 1783, 53, 1896, 793, 938, 459,
                133, 520, 1262, 1069, 1017, 1436, 1130, 534, 461, 396, 30, 1020, 1885, 79, 1231, 1375, 1571,
                1255, 1734, 882, 1527, 596, 1055, 650, 375, 455, 1462, 1094, 681, 913, 1742, 95,
            ],
            storedDistances: [
                "0.00090602959770532039", "0.00090602959770532039", "0.00098987677958637418", "0.0014983067474192756",
                "0.005073605767813379", "0.0079246240797061114",
            ]),
        GeoSearchFixture(
            centre: .lonLat("0.32215", "-59.444379"), shape: .radius(2031204, unit: "m"),
            members: [
                1686, 82, 1302, 708, 355, 1880, 1392, 548, 388, 1191, 1489, 1266, 517, 1099, 282, 1304, 1567,
                538, 1169, 1417, 1994, 386, 627, 1040, 1855, 361, 582, 583, 1430, 322, 140, 719,
            ],
            storedDistances: [
                "1982550.9724387291", "1611988.1709182248", "1633541.9092656814", "1355850.798912107",
                "1000257.4245546309", "1978436.0424043534",
            ]),
        GeoSearchFixture(
            centre: .lonLat("-0.549261", "-84.985887"), shape: .box(13921.6, 465822.3, unit: "m"),
            members: [
                1776, 1476, 740, 1218, 994, 1588, 1258, 400, 228, 695, 1361, 1825, 765, 826, 897, 595, 1884,
                1647, 1843, 1027, 1717, 1544, 126, 1911, 801, 1720, 1798, 1947, 206, 1771, 245, 1419, 675, 410,
                1521, 275, 1010, 909, 1818, 1474, 953, 1662, 1390, 661, 555, 919, 1514, 116, 1676, 1057, 1352,
                1265, 1083, 1223, 630, 1373, 1945, 1163, 1121, 692, 105, 1709, 862, 1882, 402, 365, 842, 927,
                682, 1415, 134, 1051, 1210, 1762, 1530, 364, 1387, 1432, 847, 102, 1072, 13, 1412, 1273, 159,
                1313, 1889, 456, 902, 1242, 1665, 1842, 59, 1621, 751, 187, 1088, 1032, 193, 1558, 443, 390,
                1421, 988,
            ],
            storedDistances: [
                "8134.9127876638559", "4526.8567866434869", "5197.4107044447755", "7446.5555079434571",
                "7200.3186929358999", "6891.9389299593431",
            ]),
        GeoSearchFixture(
            centre: .lonLat("180", "-85.05112878"), shape: .box(.infinity, .infinity, unit: "m"),
            members: [
                972, 1754, 1252, 1461, 1870, 473, 431, 928, 1341, 493, 1145, 1277, 814, 644, 1308, 6, 465,
                837, 432, 1502, 1595, 130, 1891, 46, 773, 209, 1577, 60, 38, 1028, 1053, 792, 639, 1085,
                1785, 858, 2, 143, 1828, 1501, 1938, 1379, 1585, 175, 61, 624, 253, 1670, 785, 491, 1693,
                822, 590, 1006, 754, 592, 1149, 1291, 1618, 18, 1972, 1013, 1042, 1227, 1292, 1355, 1391, 1438,
                1481, 1494, 150, 1507, 1523, 1535, 1560, 1650, 172, 1835, 1903, 1940, 1965, 1984, 203, 224, 260,
                350, 387, 536, 558, 568, 575, 665, 666, 749, 772, 916, 924, 977, 1163, 1121, 692, 105,
                1709, 862, 1882, 402, 365, 842, 927, 682, 1415, 134, 1051, 1210, 1762, 1530, 364, 1387, 1432,
                847, 102, 1072, 13, 1412, 1273, 159, 1313, 1889, 456, 902, 1242, 1665, 1842, 59, 1621, 751,
                187, 1701, 1088, 1032, 193, 1558, 443, 390, 1421, 1729, 1999, 263, 1997, 988, 1892, 910, 1613,
                869, 1305, 279, 1764, 1686, 82, 1302, 708, 355, 85, 1880, 1509, 1222, 1392, 548, 388, 1363,
                288, 1191, 1489, 1266, 517, 1099, 282, 1304, 1567, 538, 1169, 1417, 1994, 1416, 1132, 1578, 1635,
                1823, 211, 949, 784, 173, 1929, 912, 212, 1886, 1002, 145, 755, 1598, 1019, 382, 1394, 1144,
                572, 1176, 1400, 300, 762, 1910, 469, 720, 714, 1345, 204, 915, 1996, 645, 1956, 1293, 508,
                1343, 900, 310, 1862, 99, 1168, 570, 1214, 1316, 166, 1269, 827, 43, 527, 395, 1546, 440,
                872, 1682, 1332, 1611, 1202, 978, 1427, 656, 1009, 1888, 475, 1249, 1648, 137, 398, 436, 756,
                1238, 1763, 1942, 1467, 83, 1159, 1923, 518, 483, 1050, 1969, 1280, 1154, 93, 1286, 1617, 1485,
                1808, 787, 1211, 635, 559, 622, 1483, 1178, 966, 1829, 736, 657, 1300, 0, 1505, 809, 914,
                836, 526, 987, 72, 280, 1702, 984, 937, 1937, 106, 144, 409, 983, 210, 584, 997, 171,
                170, 1551, 838, 828, 840, 457, 496, 633, 1338, 1692, 1506, 1148, 1086, 867, 1773, 1816, 1047,
                1784, 1748, 317, 1274, 911, 344, 104, 336, 1542, 850, 1290, 813, 870, 1872, 399, 391, 1439,
                767, 156, 1060, 566, 304, 438, 1041, 1833, 1627, 771, 1339, 649, 1015, 1106, 1761, 264, 1139,
                1756, 258, 1824, 1976, 833, 591, 421, 1657, 57, 690, 732, 1328, 241, 1874, 29, 1276, 1820,
                884, 569, 1052, 1271, 1123, 12, 1941, 802, 291, 1368, 646, 786, 24, 1097, 1190, 689, 1232,
                723, 1893, 1883, 1065, 360, 1529, 794, 855, 1423, 1315, 1011, 1307, 266, 881, 42, 1095, 1,
                1414, 1353, 598, 1939, 745, 366, 579, 1347, 986, 980, 1496, 563, 685, 376, 1778, 41, 1619,
                981, 1661, 1272, 1299, 609, 149, 849, 1089, 846, 918, 1901, 1109, 617, 1980, 926, 1004, 359,
                488, 1031, 1858, 632, 319, 1978, 599, 1457, 853, 1660, 1026, 470, 672, 189, 1356, 181, 1155,
                1074, 1479, 1786, 796, 1671, 1568, 600, 424, 674, 778, 1562, 389, 1477, 276, 315, 191, 1916,
                341, 1420, 525, 1204, 1360, 817, 1140, 244, 1642, 1604, 1971, 1626, 497, 1979, 1846, 718, 1918,
                990, 1574, 1538, 1333, 1362, 747, 812, 619, 214, 1887, 1871, 781, 1342, 823, 40, 514, 1981,
                423, 1370, 1318, 761, 1805, 1766, 383, 285, 437, 1470, 1522, 743, 636, 1564, 1616, 1943, 704,
                110, 516, 135, 716, 218, 1547, 416, 1806, 76, 351, 717, 1656, 197, 618, 107, 1116, 1933,
                1957, 643, 696, 217, 739, 664, 1705, 976, 86, 1850, 1468, 186, 1268, 385, 1068, 81, 1774,
                329, 920, 1712, 448, 123, 1552, 435, 1583, 727, 839, 84, 604, 103, 1143, 545, 1248, 540,
                549, 422, 323, 1554, 1314, 1863, 539, 169, 753, 1553, 411, 1459, 1573, 25, 454, 805, 1451,
                759, 1491, 1590, 1561, 613, 248, 246, 580, 1645, 1814, 1534, 1406, 1001, 468, 1244, 1137, 1747,
                1753, 433, 1966, 1038, 1511, 673, 28, 1112, 1107, 843, 251, 381, 1854, 908, 1815, 532, 1752,
                1049, 1323, 1620, 1992, 713, 1878, 5, 296, 332, 1700, 1767, 757, 1187, 1746, 1638, 1077, 1425,
                1950, 1374, 925, 345, 790, 640, 610, 700, 939, 1220, 1270, 404, 50, 1733, 1215, 1492, 1975,
                1129, 1559, 1192, 1797, 930, 1640, 1008, 198, 1696, 208, 874, 1306, 1216, 1545, 349, 89, 196,
                131, 68, 1160, 45, 798, 249, 1821, 453, 1233, 1922, 1454, 1261, 1221, 1995, 1848, 917, 1181,
                1473, 1944, 77, 49, 486, 1411, 1254, 1691, 299, 1205, 202, 485, 340, 1510, 67, 1141, 906,
                348, 1653, 1738, 262, 642, 73, 560, 1078, 1195, 1198, 314, 182, 1584, 301, 1512, 1243, 1515,
                188, 1634, 1557, 725, 521, 1537, 1182, 860, 356, 120, 608, 1366, 15, 1755, 498, 999, 856,
                509, 1983, 680, 1096, 444, 1990, 768, 1446, 1589, 955, 139, 1393, 1723, 305, 1834, 267, 1967,
                176, 1877, 1471, 698, 1959, 1327, 141, 1386, 866, 384, 1196, 1251, 710, 407, 1388, 94, 1426,
                190, 240, 1288, 1059, 439, 1689, 1329, 1819, 959, 1704, 1931, 1628, 308, 1706, 151, 1043, 1672,
                1335, 392, 1385, 1503, 1396, 225, 1275, 777, 1716, 1131, 546, 1845, 377, 1128, 1495, 628, 1201,
                1735, 1157, 1445, 1007, 1799, 1337, 951, 950, 1071, 1281, 1673, 426, 1532, 1973, 581, 1134, 467,
                576, 1213, 629, 841, 494, 1434, 277, 1718, 1652, 1162, 1900, 942, 688, 1259, 215, 324, 1779,
                1629, 47, 1563, 537, 1768, 138, 506, 80, 1958, 1435, 970, 1516, 577, 1737, 1526, 338, 229,
                1217, 1413, 1186, 1974, 152, 1087, 1263, 342, 1708, 1289, 164, 1566, 1108, 64, 1894, 857, 1118,
                174, 676, 252, 128, 297, 441, 1690, 273, 1513, 97, 478, 888, 904, 1324, 1104, 1066, 1985,
                109, 428, 807, 1487, 1484, 1868, 1225, 1344, 1951, 1295, 670, 1898, 992, 1093, 1968, 991, 859,
                1726, 1649, 479, 958, 996, 352, 466, 1504, 1539, 1575, 1687, 234, 1403, 597, 1677, 1398, 510,
                1856, 1987, 3, 1486, 1405, 1683, 1915, 1194, 947, 607, 1179, 287, 864, 715, 1330, 1664, 923,
                634, 603, 1832, 1570, 207, 378, 269, 1788, 334, 1714, 1124, 1285, 1639, 557, 1644, 1310, 921,
                1654, 1084, 626, 327, 887, 337, 1082, 343, 1927, 1565, 1199, 185, 499, 1684, 512, 922, 1864,
                1555, 318, 1928, 1230, 1556, 535, 346, 594, 1443, 694, 1699, 192, 1397, 1549, 1153, 1422, 1675,
                1442, 1789, 1326, 247, 825, 142, 122, 1319, 1954, 880, 1464, 1760, 227, 460, 552,
            ],
            storedDistances: [
                "9450970.1751954965", "9456843.2921270579", "9458303.113530267", "9463535.1269718911",
                "9475838.4498834405", "9505631.436867876",
            ]),
    ]

    // GEOSEARCH ... WITHDIST WITHHASH WITHCOORD, first entries: member, distance text, hash, coordinate texts.
    static let withReplies: [(search: Int, member: Int, dist: String, hash: Int64, lon: String, lat: String)] = [
        (0, 853, "99.5546", 3478905628758492, "12.50867754220962524", "37.52611712877666861"),
        (0, 1660, "80.7790", 3478971494373813, "12.44088202714920044", "38.06467693766489191"),
        (0, 1026, "80.0081", 3478972592658934, "12.44844049215316772", "38.15813464153087153"),
        (0, 470, "64.7449", 3478975014800773, "12.6296880841255188", "38.20409674031316882"),
        (2, 1691, "17.1347", 4128316768856314, "179.94703978300094604", "0.35497375739904413"),
        (2, 299, "12.8304", 4128317025305650, "179.92312520742416382", "0.41311012190964647"),
        (2, 1205, "11.4947", 4128317056218294, "179.95303720235824585", "0.40743741595503735"),
        (2, 202, "9.4948", 4128317193410058, "179.98911827802658081", "0.41520887102957005"),
        (6, 1406, "74.5162", 3752941008702946, "0.70268243551254272", "84.23334789028073999"),
        (6, 1001, "86.0682", 3752960661369418, "0.85944145917892456", "84.13053960005794352"),
        (6, 468, "22.7013", 3752993776939503, "0.63626021146774292", "84.70420529700301415"),
        (6, 1244, "0.8403", 3752998262480176, "0.00156909227371216", "84.89244636390132825"),
        (9, 792, "47.2381", 10508330388964432, "180", "84.36763741730251809"),
        (9, 639, "41.0454", 10508376564846596, "180", "84.45723981028514515"),
        (9, 1085, "34.0904", 10508380520403264, "180", "84.55787330975321936"),
        (9, 1785, "32.9850", 10508380586120532, "180", "84.57386740026865368"),
        (26, 626, "15.0357", 4503583309051633, "179.41135436296463013", "84.7788731129148232"),
        (26, 327, "13.1634", 4503586373399215, "179.62697714567184448", "84.80245108913899799"),
        (26, 887, "5.7887", 4503588218855255, "179.34039920568466187", "85.05112751263942528"),
        (26, 337, "5.4978", 4503588746690559, "179.41360205411911011", "85.05112751263942528"),
    ]

    // GEOSEARCH ... COUNT n ANY (no ASC/DESC): the first n matches in scan order.
    static let countAny: [(search: Int, count: Int, members: [Int])] = [
        (0, 3, [853, 1660, 1026]),
        (10, 5, [1307, 266, 881, 42, 1095]),
        (13, 7, [933, 44, 1091, 571, 482, 1759, 821]),
        (4, 2, [1461, 1870]),
    ]
    // GEOSEARCHSTORE ... FROMMEMBER x STOREDIST for x=(lon, lat1), y=(lon, lat2): the exact distance of y, where
    // the haversine would differ in the last bits from the plain latitude arc Redis 7.0.15 uses.
    static let meridianDistances: [(lon: String, lat1: String, lat2: String, meters: String)] = [
        ("38.493461", "-45.329230", "64.319890", "12195865.903504264"),
        ("-54.805710", "71.497451", "4.594587", "7441358.1257604193"),
        ("52.473584", "24.538184", "-30.294974", "6098889.1093977438"),
        ("-21.142614", "74.209064", "-39.005994", "12592491.879480241"),
        ("60.602430", "16.684234", "77.966793", "6816232.3218764691"),
        ("131.743489", "-24.738786", "26.729809", "5724661.4399147537"),
        ("-91.379555", "57.680865", "-24.714182", "9164496.2946923133"),
        ("84.165243", "-53.222454", "45.579451", "10989370.313743724"),
    ]
}
