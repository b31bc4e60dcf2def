/*
 * Geohash: the arithmetic behind GEOADD, GEOPOS, GEOHASH, GEODIST, GEORADIUS and GEOSEARCH —
 * Redis 7.0's geohash.c, geohash_helper.c and the numeric parts of geo.c, rewritten.
 *
 * A geo set is an ordinary sorted set. Each member's score is a 52-bit integer (exact in a
 * Double) made by cutting the longitude range [-180, 180] and the latitude range
 * [-85.05112878, 85.05112878] (the Web-Mercator limits) into 2^26 slices each and
 * interleaving the two 26-bit slice numbers: latitude bits in the even positions, longitude
 * bits in the odd ones. Interleaving keeps nearby points at nearby scores, and every aligned
 * prefix of the 52 bits names a cell, so "every point inside this cell" is one contiguous score
 * range [min, max) that the sorted set can scan.
 *
 * Searching (GEOSEARCH BYRADIUS / BYBOX, GEORADIUS*) works as in Redis:
 *   1. pick a cell size (the "step", bits per axis) from the search radius and latitude, so the
 *      cell holding the centre plus its 8 neighbours cover the shape;
 *   2. if a neighbour still falls short of the shape's bounding box, use cells one step bigger;
 *   3. drop the neighbours on a side where the centre cell already covers the bounding box;
 *   4. scan the remaining cells' score ranges in the fixed order centre, N, S, E, W, NE, NW,
 *      SE, SW, skipping a cell equal to the one scanned just before it (huge radii make
 *      neighbours wrap onto each other), and keep the members whose decoded position passes
 *      the exact test (haversine distance for a radius, latitude / longitude distances for a box).
 * The scan order is observable: without ASC/DESC replies come in this order, and COUNT n ANY
 * stops after the first n matches in it.
 *
 * Why a literal transcription of the numbers rather than a cleaner formulation: clients see
 * Redis's results bit for bit — scores (ZSCORE), positions printed with 17 decimals (GEOPOS),
 * distances (STOREDIST keeps the full double) and, at the edges, which members a search finds.
 * So every floating-point expression below keeps Redis's operations in Redis's order (the
 * degree/radian constant, division then multiplication in the decode, the haversine terms, the
 * bounding box that widens toward the pole), and the integer paths keep its wrap-arounds
 * (moving past the last cell, scores of members added with plain ZADD). Where Redis 7.0.15
 * differs from older releases we follow 7.0.15 (checked against Debian's build): a distance
 * between two points on the same meridian is the plain latitude arc (no haversine), the box
 * test checks the latitude arc first, and GEODIST-style distances are printed by rounding
 * value * 10^4 half-to-even (not printf's exact "%.4f").
 *
 * One quirk worth knowing: a point at longitude 180 or latitude 85.05112878 gets slice 2^26 on
 * that axis (one past the last), so its score is >= 2^52. No search range reaches such scores
 * except those built from cells carrying the same overflow bit (a centre on that edge), so
 * Redis's searches elsewhere never return those members; we reproduce that.
 *
 * Everything is value types and static functions; the per-member tests allocate nothing.
 * Only Glibc's libm (sin, cos, asin, llrint) and vsnprintf are used, the same libm Redis
 * calls, so transcendental results agree too.
 */
import Glibc

// MARK: - Units and shapes

/// A distance unit of the GEO commands, with Redis's factors to meters.
public enum GeoUnit: Sendable, Equatable {
    case meters, kilometers, feet, miles

    /// Meters in one unit: m 1, km 1000, ft 0.3048, mi 1609.34. Replies divide meters by it.
    public var metersPerUnit: Double {
        switch self {
        case .meters: return 1
        case .kilometers: return 1000
        case .feet: return 0.3048
        case .miles: return 1609.34
        }
    }

    /// Parses "m", "km", "ft" or "mi", case-insensitively as Redis 7.0 does; nil otherwise
    /// (Redis replies "ERR unsupported unit provided. please use M, KM, FT, MI").
    public init?<Bytes: Collection>(name: Bytes) where Bytes.Element == UInt8 {
        var folded: UInt32 = 0  // up to two lowercased ASCII letters, packed
        var length = 0
        for byte in name {
            length += 1
            if length > 2 { return nil }
            let lower = (byte >= 65 && byte <= 90) ? byte | 0x20 : byte
            folded = folded << 8 | UInt32(lower)
        }
        switch folded {
        case 0x6D: self = .meters  // "m"
        case 0x6B6D: self = .kilometers  // "km"
        case 0x6674: self = .feet  // "ft"
        case 0x6D69: self = .miles  // "mi"
        default: return nil
        }
    }
}

/// The area of a search, in its own unit (the numbers the client typed). The unit is kept apart
/// from the numbers because Redis converts at different points for different purposes (e.g. the
/// box's covering radius is sqrt of the squared half sides, then times the unit factor).
public struct GeoShape: Sendable, Equatable {
    public enum Extent: Sendable, Equatable {
        /// BYRADIUS / GEORADIUS: a circle of this radius.
        case radius(Double)
        /// BYBOX: a rectangle this wide (east-west) and high (north-south), centred on the point.
        case box(width: Double, height: Double)
    }

    public var extent: Extent
    public var unit: GeoUnit

    public init(_ extent: Extent, unit: GeoUnit) {
        self.extent = extent
        self.unit = unit
    }

    public static func radius(_ radius: Double, unit: GeoUnit) -> GeoShape {
        GeoShape(.radius(radius), unit: unit)
    }

    public static func box(width: Double, height: Double, unit: GeoUnit) -> GeoShape {
        GeoShape(.box(width: width, height: height), unit: unit)
    }
}

// MARK: - Geohash

public enum Geohash {
    /// Bits per axis in a stored score: 26 + 26 = 52, exact in a Double.
    public static let stepMax = 26
    public static let longitudeMin = -180.0
    public static let longitudeMax = 180.0
    public static let latitudeMin = -85.05112878
    public static let latitudeMax = 85.05112878
    /// Redis's EARTH_RADIUS_IN_METERS (the quadratic mean radius of WGS-84).
    public static let earthRadiusMeters = 6372797.560856
    /// Half the Mercator world width in meters, used to guess the step from a radius.
    static let mercatorMax = 20037726.37
    /// M_PI / 180, as Redis's D_R.
    static let radiansPerDegree = Double.pi / 180.0

    // MARK: Cells

    /// A cell: `step` bits per axis, interleaved into the low 2 * step bits (Redis's GeoHashBits).
    /// Cells next to the longitude or latitude maximum can carry a carry bit above those.
    struct Cell: Equatable {
        var bits: UInt64
        var step: Int
    }

    /// The corners of a cell in degrees (Redis's GeoHashArea).
    struct Area {
        var longitudeMin: Double
        var longitudeMax: Double
        var latitudeMin: Double
        var latitudeMax: Double
    }

    /// An axis range; geo sets use [-180, 180] × [-85.05112878, 85.05112878], GEOHASH strings
    /// re-encode with the standard [-90, 90] latitude range.
    struct Ranges {
        var longitudeMin: Double
        var longitudeMax: Double
        var latitudeMin: Double
        var latitudeMax: Double

        static let geoSet = Ranges(longitudeMin: Geohash.longitudeMin, longitudeMax: Geohash.longitudeMax,
                                   latitudeMin: Geohash.latitudeMin, latitudeMax: Geohash.latitudeMax)
        static let standard = Ranges(longitudeMin: -180, longitudeMax: 180, latitudeMin: -90, latitudeMax: 90)
    }

    /// Spreads the 32 bits of `value` to the even bit positions of the result.
    static func spreadBits(_ value: UInt32) -> UInt64 {
        var v = UInt64(value)
        v = (v | v << 16) & 0x0000_FFFF_0000_FFFF
        v = (v | v << 8) & 0x00FF_00FF_00FF_00FF
        v = (v | v << 4) & 0x0F0F_0F0F_0F0F_0F0F
        v = (v | v << 2) & 0x3333_3333_3333_3333
        v = (v | v << 1) & 0x5555_5555_5555_5555
        return v
    }

    /// Gathers the even bit positions of `value` into 32 bits (the inverse of spreadBits).
    static func gatherEvenBits(_ value: UInt64) -> UInt32 {
        var v = value & 0x5555_5555_5555_5555
        v = (v | v >> 1) & 0x3333_3333_3333_3333
        v = (v | v >> 2) & 0x0F0F_0F0F_0F0F_0F0F
        v = (v | v >> 4) & 0x00FF_00FF_00FF_00FF
        v = (v | v >> 8) & 0x0000_FFFF_0000_FFFF
        v = (v | v >> 16) & 0x0000_0000_FFFF_FFFF
        return UInt32(truncatingIfNeeded: v)
    }

    /// C's (int64_t)double on x86-64 (cvttsd2si): truncation, and INT64_MIN for NaN or out of range.
    static func truncatedInt64(_ x: Double) -> Int64 {
        if x >= -9_223_372_036_854_775_808.0 && x < 9_223_372_036_854_775_808.0 { return Int64(x) }
        return Int64.min
    }

    /// C's (uint64_t)double as GCC compiles it on x86-64, which Redis uses to read a score as a
    /// cell. Scores set by GEOADD are exact integers; scores set by ZADD can be anything, and
    /// the wrap-arounds here decide where GEOPOS puts them (-1 → all bits set, >= 2^64 → 0).
    static func bits(ofScore score: Double) -> UInt64 {
        let twoTo63 = 9_223_372_036_854_775_808.0
        if score >= twoTo63 {
            return UInt64(bitPattern: truncatedInt64(score - twoTo63)) ^ (1 << 63)
        }
        return UInt64(bitPattern: truncatedInt64(score))
    }

    /// C's (uint32_t)double: the low 32 bits of the 64-bit truncation.
    static func truncatedUInt32(_ x: Double) -> UInt32 {
        UInt32(truncatingIfNeeded: truncatedInt64(x))
    }

    /// True when GEOADD accepts the pair: longitude in [-180, 180], latitude in
    /// [-85.05112878, 85.05112878]. Written as Redis's rejection test, so NaN passes here
    /// (Redis's number parser rejects NaN before this check).
    public static func isValid(longitude: Double, latitude: Double) -> Bool {
        !(longitude > longitudeMax || longitude < longitudeMin || latitude > latitudeMax || latitude < latitudeMin)
    }

    /// The cell of `step` bits per axis holding the point, or nil outside the geo-set limits or
    /// `ranges` (geohashEncode). The offsets are scaled by 2^step and truncated, so the maximum
    /// longitude or latitude yields slice 2^step, one past the last: Redis keeps that carry.
    static func encode(longitude: Double, latitude: Double, step: Int, ranges: Ranges = .geoSet) -> Cell? {
        guard step >= 1 && step <= 32, isValid(longitude: longitude, latitude: latitude) else { return nil }
        if latitude < ranges.latitudeMin || latitude > ranges.latitudeMax
            || longitude < ranges.longitudeMin || longitude > ranges.longitudeMax
        {
            return nil
        }
        var latitudeOffset = (latitude - ranges.latitudeMin) / (ranges.latitudeMax - ranges.latitudeMin)
        var longitudeOffset = (longitude - ranges.longitudeMin) / (ranges.longitudeMax - ranges.longitudeMin)
        let slices = Double(UInt64(1) << UInt64(step))
        latitudeOffset *= slices
        longitudeOffset *= slices
        let bits = spreadBits(truncatedUInt32(latitudeOffset)) | spreadBits(truncatedUInt32(longitudeOffset)) << 1
        return Cell(bits: bits, step: step)
    }

    /// The corners of a cell (geohashDecode): slice / 2^step of the range, plus the minimum.
    /// The slice numbers are 32-bit, so slice + 1 wraps to 0 for all-ones (scores like -1).
    static func area(of cell: Cell, ranges: Ranges = .geoSet) -> Area {
        let latitudeSlice = gatherEvenBits(cell.bits)
        let longitudeSlice = gatherEvenBits(cell.bits >> 1)
        let slices = Double(UInt64(1) << UInt64(cell.step))
        let latitudeScale = ranges.latitudeMax - ranges.latitudeMin
        let longitudeScale = ranges.longitudeMax - ranges.longitudeMin
        return Area(
            longitudeMin: ranges.longitudeMin + (Double(longitudeSlice) / slices) * longitudeScale,
            longitudeMax: ranges.longitudeMin + (Double(longitudeSlice &+ 1) / slices) * longitudeScale,
            latitudeMin: ranges.latitudeMin + (Double(latitudeSlice) / slices) * latitudeScale,
            latitudeMax: ranges.latitudeMin + (Double(latitudeSlice &+ 1) / slices) * latitudeScale)
    }

    /// The centre of a cell, clamped to the geo-set limits (geohashDecodeAreaToLongLat).
    static func centre(of area: Area) -> (longitude: Double, latitude: Double) {
        var longitude = (area.longitudeMin + area.longitudeMax) / 2
        if longitude > longitudeMax { longitude = longitudeMax }
        if longitude < longitudeMin { longitude = longitudeMin }
        var latitude = (area.latitudeMin + area.latitudeMax) / 2
        if latitude > latitudeMax { latitude = latitudeMax }
        if latitude < latitudeMin { latitude = latitudeMin }
        return (longitude, latitude)
    }

    // MARK: Scores

    /// The sorted-set score GEOADD stores for a point, or nil when the pair is out of range
    /// (Redis replies "ERR invalid longitude,latitude pair %f,%f"). The 52-bit value goes
    /// through a decimal string and strtod in Redis; Double(_:) rounds the same way (a point at
    /// longitude 180 has bit 53 set and can round to an even neighbour).
    public static func score(longitude: Double, latitude: Double) -> Double? {
        guard let cell = encode(longitude: longitude, latitude: latitude, step: stepMax) else { return nil }
        return Double(cell.bits << UInt64(52 - 2 * cell.step))
    }

    /// The position GEOPOS (and every search) reports for a score: the centre of its 52-bit
    /// cell, clamped to the limits. Defined for any score, as in Redis.
    public static func decode(score: Double) -> (longitude: Double, latitude: Double) {
        centre(of: area(of: Cell(bits: bits(ofScore: score), step: stepMax)))
    }

    /// The value WITHHASH replies (an integer reply): C's (long long)score.
    public static func hashInteger(score: Double) -> Int64 {
        truncatedInt64(score)
    }

    private static let base32: [UInt8] = Array("0123456789bcdefghjkmnpqrstuvwxyz".utf8)

    /// GEOHASH's 11-character string: the decoded position re-encoded at 26 bits per axis with
    /// the standard latitude range [-90, 90], cut into ten 5-bit base32 digits (the two lowest
    /// bits dropped), and a final '0' because only 52 bits exist.
    public static func hashString(score: Double) -> String {
        let position = decode(score: score)
        let bits = encode(longitude: position.longitude, latitude: position.latitude, step: stepMax,
                          ranges: .standard)?.bits ?? 0
        var text = [UInt8](repeating: UInt8(ascii: "0"), count: 11)
        for i in 0..<10 {
            text[i] = base32[Int((bits >> UInt64(52 - (i + 1) * 5)) & 0x1F)]
        }
        return String(decoding: text, as: UTF8.self)
    }

    // MARK: Distance

    /// Great-circle distance in meters between two points on a sphere of Redis's radius
    /// (geohashGetDistance): the haversine formula, or the plain latitude arc when the two
    /// longitudes give sin(Δλ/2) == 0.
    public static func distance(longitude1: Double, latitude1: Double, longitude2: Double, latitude2: Double)
        -> Double
    {
        let longitude1r = longitude1 * radiansPerDegree
        let longitude2r = longitude2 * radiansPerDegree
        let v = sin((longitude2r - longitude1r) / 2)
        if v == 0.0 { return latitudeDistance(latitude1, latitude2) }
        let latitude1r = latitude1 * radiansPerDegree
        let latitude2r = latitude2 * radiansPerDegree
        let u = sin((latitude2r - latitude1r) / 2)
        let a = u * u + cos(latitude1r) * cos(latitude2r) * v * v
        return 2.0 * earthRadiusMeters * asin(a.squareRoot())
    }

    /// The arc between two latitudes on one meridian, in meters (geohashGetLatDistance).
    static func latitudeDistance(_ latitude1: Double, _ latitude2: Double) -> Double {
        earthRadiusMeters * abs(latitude2 * radiansPerDegree - latitude1 * radiansPerDegree)
    }

    // MARK: Search areas

    /// A score range of the sorted set to scan: min <= score < max.
    public struct ScoreRange: Sendable, Equatable {
        public var min: Double
        public var max: Double
    }

    /// Up to nine score ranges, in the order Redis scans them (no allocation).
    public struct ScoreRanges: RandomAccessCollection, Sendable {
        private var storage: (ScoreRange, ScoreRange, ScoreRange, ScoreRange, ScoreRange, ScoreRange, ScoreRange,
                              ScoreRange, ScoreRange)
        public private(set) var count = 0
        /// Bits per axis of the cells scanned (1...26); exposed for tests and debugging.
        public let step: Int

        init(step: Int) {
            let empty = ScoreRange(min: 0, max: 0)
            storage = (empty, empty, empty, empty, empty, empty, empty, empty, empty)
            self.step = step
        }

        public var startIndex: Int { 0 }
        public var endIndex: Int { count }

        public subscript(position: Int) -> ScoreRange {
            precondition(position >= 0 && position < count, "score range index out of bounds")
            // A homogeneous tuple is laid out like a C array; the pointer does not escape.
            return withUnsafeBytes(of: storage) {
                $0.load(fromByteOffset: position * MemoryLayout<ScoreRange>.stride, as: ScoreRange.self)
            }
        }

        mutating func append(_ range: ScoreRange) {
            precondition(count < 9, "at most nine score ranges")
            let offset = count * MemoryLayout<ScoreRange>.stride
            withUnsafeMutableBytes(of: &storage) { $0.storeBytes(of: range, toByteOffset: offset, as: ScoreRange.self) }
            count += 1
        }
    }

    /// The score ranges to scan for a search centred on a valid point (validate with isValid
    /// first; an invalid centre yields no ranges), exactly as Redis's
    /// geohashCalculateAreasByShapeWGS84 + membersOfAllNeighbors choose them and in their order.
    public static func searchRanges(centerLongitude: Double, centerLatitude: Double, shape: GeoShape) -> ScoreRanges {
        let bounds = boundingBox(centerLongitude: centerLongitude, centerLatitude: centerLatitude, shape: shape)
        var step = estimatedStep(radiusMeters: coveringRadiusMeters(shape), latitude: centerLatitude)
        guard var centre = encode(longitude: centerLongitude, latitude: centerLatitude, step: step) else {
            return ScoreRanges(step: step)
        }
        var neighbours = Neighbours(of: centre)
        if step > 1 && neighbours.fallShort(of: bounds) {
            step -= 1
            centre = encode(longitude: centerLongitude, latitude: centerLatitude, step: step)!
            neighbours = Neighbours(of: centre)
        }
        if step >= 2 {
            neighbours.dropUseless(centreArea: area(of: centre), bounds: bounds)
        }
        return scanOrder(centre: centre, neighbours: neighbours)
    }

    /// The shape's latitude / longitude bounding box (geohashBoundingBox). The longitude half
    /// width is taken at the box edge nearer the pole (the top edge in the north, the bottom one
    /// in the south), where a meter spans more degrees.
    static func boundingBox(centerLongitude: Double, centerLatitude: Double, shape: GeoShape) -> Area {
        let conversion = shape.unit.metersPerUnit
        let halfHeight: Double
        let halfWidth: Double
        switch shape.extent {
        case .radius(let radius):
            halfHeight = conversion * radius
            halfWidth = conversion * radius
        case .box(let width, let height):
            halfHeight = conversion * (height / 2)
            halfWidth = conversion * (width / 2)
        }
        let latitudeDelta = halfHeight / earthRadiusMeters / radiansPerDegree
        let topRadians = (centerLatitude + latitudeDelta) * radiansPerDegree
        let bottomRadians = (centerLatitude - latitudeDelta) * radiansPerDegree
        let longitudeDeltaTop = halfWidth / earthRadiusMeters / cos(topRadians) / radiansPerDegree
        let longitudeDeltaBottom = halfWidth / earthRadiusMeters / cos(bottomRadians) / radiansPerDegree
        let longitudeDelta = centerLatitude < 0 ? longitudeDeltaBottom : longitudeDeltaTop
        return Area(longitudeMin: centerLongitude - longitudeDelta, longitudeMax: centerLongitude + longitudeDelta,
                    latitudeMin: centerLatitude - latitudeDelta, latitudeMax: centerLatitude + latitudeDelta)
    }

    /// The radius in meters whose circle covers the shape: the radius, or the centre-to-corner
    /// distance of the box (computed in the shape's unit, then converted, as Redis does).
    static func coveringRadiusMeters(_ shape: GeoShape) -> Double {
        var radius: Double
        switch shape.extent {
        case .radius(let r):
            radius = r
        case .box(let width, let height):
            radius = ((width / 2) * (width / 2) + (height / 2) * (height / 2)).squareRoot()
        }
        radius *= shape.unit.metersPerUnit
        return radius
    }

    /// Bits per axis for cells about as big as the radius (geohashEstimateStepsByRadius): one
    /// more bit each time the radius doubles short of the Mercator half width, minus two for
    /// margin, minus one more past 66° and another past 80° of latitude, within 1...26.
    static func estimatedStep(radiusMeters: Double, latitude: Double) -> Int {
        if radiusMeters == 0 { return stepMax }
        var step = 1
        var range = radiusMeters
        while range < mercatorMax && range > 0 {  // `> 0` only guards negatives, which Redis rejects earlier
            range *= 2
            step += 1
        }
        step -= 2
        if latitude > 66 || latitude < -66 {
            step -= 1
            if latitude > 80 || latitude < -80 { step -= 1 }
        }
        return Swift.min(Swift.max(step, 1), stepMax)
    }

    /// The eight cells around a centre cell; nil once dropped as useless.
    struct Neighbours {
        var north, south, east, west, northEast, northWest, southEast, southWest: Cell?

        init(of cell: Cell) {
            north = movedY(cell, north: true)
            south = movedY(cell, north: false)
            east = movedX(cell, east: true)
            west = movedX(cell, east: false)
            northEast = movedY(movedX(cell, east: true), north: true)
            northWest = movedY(movedX(cell, east: false), north: true)
            southEast = movedY(movedX(cell, east: true), north: false)
            southWest = movedY(movedX(cell, east: false), north: false)
        }

        /// True when the N, S, E or W cell ends inside the bounding box, so nine cells of this
        /// size cannot cover the shape.
        func fallShort(of bounds: Area) -> Bool {
            var short = false
            if area(of: north!).latitudeMax < bounds.latitudeMax { short = true }
            if area(of: south!).latitudeMin > bounds.latitudeMin { short = true }
            if area(of: east!).longitudeMax < bounds.longitudeMax { short = true }
            if area(of: west!).longitudeMin > bounds.longitudeMin { short = true }
            return short
        }

        /// Drops the three cells on each side where the centre cell already reaches past the
        /// bounding box (Redis's "exclude the search areas that are useless").
        mutating func dropUseless(centreArea: Area, bounds: Area) {
            if centreArea.latitudeMin < bounds.latitudeMin { (south, southWest, southEast) = (nil, nil, nil) }
            if centreArea.latitudeMax > bounds.latitudeMax { (north, northEast, northWest) = (nil, nil, nil) }
            if centreArea.longitudeMin < bounds.longitudeMin { (west, southWest, northWest) = (nil, nil, nil) }
            if centreArea.longitudeMax > bounds.longitudeMax { (east, southEast, northEast) = (nil, nil, nil) }
        }
    }

    /// One cell east or west: add or subtract one in the odd (longitude) bit lane, wrapping
    /// around within 2 * step bits.
    static func movedX(_ cell: Cell, east: Bool) -> Cell {
        let width = UInt64(64 - 2 * cell.step)
        var x = cell.bits & 0xAAAA_AAAA_AAAA_AAAA
        let y = cell.bits & 0x5555_5555_5555_5555
        let fill: UInt64 = 0x5555_5555_5555_5555 >> width
        if east {
            x = x &+ (fill &+ 1)
        } else {
            x = (x | fill) &- (fill &+ 1)
        }
        x &= 0xAAAA_AAAA_AAAA_AAAA >> width
        return Cell(bits: x | y, step: cell.step)
    }

    /// One cell north or south: the same in the even (latitude) bit lane.
    static func movedY(_ cell: Cell, north: Bool) -> Cell {
        let width = UInt64(64 - 2 * cell.step)
        let x = cell.bits & 0xAAAA_AAAA_AAAA_AAAA
        var y = cell.bits & 0x5555_5555_5555_5555
        let fill: UInt64 = 0xAAAA_AAAA_AAAA_AAAA >> width
        if north {
            y = y &+ (fill &+ 1)
        } else {
            y = (y | fill) &- (fill &+ 1)
        }
        y &= 0x5555_5555_5555_5555 >> width
        return Cell(bits: x | y, step: cell.step)
    }

    /// The score ranges in scan order: centre, N, S, E, W, NE, NW, SE, SW, leaving out dropped
    /// cells and a cell equal to the last neighbour scanned (never compared with the centre).
    static func scanOrder(centre: Cell, neighbours n: Neighbours) -> ScoreRanges {
        var ranges = ScoreRanges(step: centre.step)
        ranges.append(scoreRange(of: centre))
        var previous: Cell? = nil
        for cell in [n.north, n.south, n.east, n.west, n.northEast, n.northWest, n.southEast, n.southWest] {
            guard let cell, cell != previous else { continue }
            ranges.append(scoreRange(of: cell))
            previous = cell
        }
        return ranges
    }

    /// All 52-bit scores starting with the cell's bits: [bits, bits + 1) shifted to 52 bits.
    static func scoreRange(of cell: Cell) -> ScoreRange {
        let shift = UInt64(52 - 2 * cell.step)
        return ScoreRange(min: Double(cell.bits &<< shift), max: Double((cell.bits &+ 1) &<< shift))
    }

    // MARK: Membership

    /// The distance in meters from the centre when the point lies inside the shape, nil
    /// otherwise. Radius: haversine distance <= radius. Box (Redis 7.0.15's rectangle test):
    /// the latitude arc to the centre's latitude <= height / 2, then the distance along the
    /// point's latitude to the centre's longitude <= width / 2; the result is the distance.
    public static func distanceIfInside(_ shape: GeoShape, centerLongitude: Double, centerLatitude: Double,
                                        longitude: Double, latitude: Double) -> Double?
    {
        let conversion = shape.unit.metersPerUnit
        switch shape.extent {
        case .radius(let radius):
            let meters = distance(longitude1: centerLongitude, latitude1: centerLatitude,
                                  longitude2: longitude, latitude2: latitude)
            return meters > radius * conversion ? nil : meters
        case .box(let width, let height):
            let widthMeters = width * conversion
            let heightMeters = height * conversion
            if latitudeDistance(latitude, centerLatitude) > heightMeters / 2 { return nil }
            let eastWest = distance(longitude1: longitude, latitude1: latitude,
                                    longitude2: centerLongitude, latitude2: latitude)
            if eastWest > widthMeters / 2 { return nil }
            return distance(longitude1: centerLongitude, latitude1: centerLatitude,
                            longitude2: longitude, latitude2: latitude)
        }
    }

    /// A member found by a search: its decoded position and its distance from the centre in meters
    /// (divide by the unit's metersPerUnit for WITHDIST / STOREDIST).
    public struct Match: Sendable, Equatable {
        public var longitude: Double
        public var latitude: Double
        public var meters: Double
    }

    /// Decodes a member's score and tests it against the shape (Redis's geoWithinShape).
    public static func match(score: Double, shape: GeoShape, centerLongitude: Double, centerLatitude: Double)
        -> Match?
    {
        let position = decode(score: score)
        guard let meters = distanceIfInside(shape, centerLongitude: centerLongitude, centerLatitude: centerLatitude,
                                            longitude: position.longitude, latitude: position.latitude)
        else { return nil }
        return Match(longitude: position.longitude, latitude: position.latitude, meters: meters)
    }

    // MARK: Reply text

    /// A distance as GEODIST and WITHDIST print it (a bulk string in RESP2 and RESP3): four
    /// decimals from llrint(value * 10^4), i.e. rounded half to even after the multiplication
    /// (Redis 7.0.15's fixedpoint_d2string; 34219797.17925 prints as "34219797.1792").
    public static func distanceText(_ value: Double) -> String {
        if value == 0 { return "0.0000" }
        let scaled = Int64(llrint(value * 10000.0))
        var digits = Array(String(scaled.magnitude).utf8)
        if digits.count < 5 {  // at least one integer digit: 0.0005, not .0005
            digits.insert(contentsOf: repeatElement(UInt8(ascii: "0"), count: 5 - digits.count), at: 0)
        }
        digits.insert(UInt8(ascii: "."), at: digits.count - 4)
        if scaled < 0 { digits.insert(UInt8(ascii: "-"), at: 0) }
        return String(decoding: digits, as: UTF8.self)
    }

    /// A coordinate as GEOPOS and WITHCOORD print it (bulk string in RESP2, RESP3 double
    /// ",<text>"): "%.17f" (Redis's "%.17Lf" of the same value), trailing zeros and a trailing
    /// dot removed, "-0" written "0".
    public static func coordinateText(_ value: Double) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value > 0 ? "inf" : "-inf" }
        // Wide enough for any finite double in "%.17f" (up to 309 integer digits).
        var bytes = withUnsafeTemporaryAllocation(of: CChar.self, capacity: 400) { out -> [UInt8] in
            let length = withVaList([value]) { Int(vsnprintf(out.baseAddress!, out.count, "%.17f", $0)) }
            return out[0..<Swift.min(Swift.max(length, 0), out.count - 1)].map { UInt8(bitPattern: $0) }
        }
        if bytes.contains(UInt8(ascii: ".")) {
            while bytes.last == UInt8(ascii: "0") { bytes.removeLast() }
            if bytes.last == UInt8(ascii: ".") { bytes.removeLast() }
        }
        if bytes == Array("-0".utf8) { bytes = [UInt8(ascii: "0")] }
        return String(decoding: bytes, as: UTF8.self)
    }
}
