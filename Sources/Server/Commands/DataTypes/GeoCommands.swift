/*
 * Geo commands — Redis 7.0's geo.c over sorted sets, replies and errors byte for byte: GEOADD
 * GEODIST GEOHASH GEOPOS GEORADIUS GEORADIUS_RO GEORADIUSBYMEMBER GEORADIUSBYMEMBER_RO
 * GEOSEARCH GEOSEARCHSTORE.
 *
 * A geo set is a sorted set whose scores are 52-bit interleaved geohashes; the math (encoding,
 * the neighbour cells a search scans, distances, reply text) is Keyspace/Geohash.swift. Here:
 *
 *  - GEOADD is ZADD with computed scores, and is propagated as that ZADD (Redis rewrites the
 *    command the same way), so replicas and the AOF never recompute a geohash.
 *  - A search walks the score ranges of up to nine cells in Redis's order, keeps the members
 *    inside the shape, then sorts by distance when asked (COUNT without ANY implies ASC, as
 *    in Redis); COUNT ANY stops the walk as soon as enough members matched. Members found
 *    are copied into one byte arena, since a listpack hands out integer members in a scratch
 *    buffer that does not outlive the walk.
 *  - STORE / STOREDIST / GEOSEARCHSTORE store the result as a sorted set (scores: the
 *    geohash, or the distance in the request's unit), or delete the destination when nothing
 *    matched; those forms are propagated verbatim (deterministic).
 */
import Glibc
import Keyspace
import Platform
import RESP

enum GeoCommand: UInt8 {
    case geoadd, geodist, geohash, geopos, georadius, georadiusRO, georadiusbymember, georadiusbymemberRO
    case geosearch, geosearchstore
}

enum GeoCommands {
    static let k1 = CommandTable.k1

    static let specs: [CommandSpec] = [
        .init("geoadd", .geo(.geoadd), -5, [.write, .denyoom], keys: k1, "geo", "3.2.0",
              "Add one or more geospatial items in the geospatial index represented using a sorted set"),
        .init("geodist", .geo(.geodist), -4, [.readonly], keys: k1, "geo", "3.2.0",
              "Returns the distance between two members of a geospatial index"),
        .init("geohash", .geo(.geohash), -2, [.readonly], keys: k1, "geo", "3.2.0",
              "Returns members of a geospatial index as standard geohash strings"),
        .init("geopos", .geo(.geopos), -2, [.readonly], keys: k1, "geo", "3.2.0",
              "Returns longitude and latitude of members of a geospatial index"),
        .init("georadius", .geo(.georadius), -6, [.write, .denyoom, .movableKeys], keys: k1, "geo", "3.2.0",
              "Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a point"),
        .init("georadius_ro", .geo(.georadiusRO), -6, [.readonly], keys: k1, "geo", "3.2.10",
              "A read-only variant for GEORADIUS"),
        .init("georadiusbymember", .geo(.georadiusbymember), -5, [.write, .denyoom, .movableKeys], keys: k1, "geo", "3.2.0",
              "Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a member"),
        .init("georadiusbymember_ro", .geo(.georadiusbymemberRO), -5, [.readonly], keys: k1, "geo", "3.2.10",
              "A read-only variant for GEORADIUSBYMEMBER"),
        .init("geosearch", .geo(.geosearch), -7, [.readonly], keys: k1, "geo", "6.2.0",
              "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle."),
        .init("geosearchstore", .geo(.geosearchstore), -8, [.write, .denyoom], keys: (1, 2, 1), "geo", "6.2.0",
              "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle, and store the result in another key."),
    ]

    /// GEORADIUS[BYMEMBER]'s keys: the source, and the key after the last STORE or STOREDIST
    /// (searched from the first optional argument), as Redis's georadiusGetKeys.
    static func radiusKeyPositions(argc: Int, arg: (Int) -> ByteView) -> [Int] {
        var store: Int? = nil
        var i = 5
        while i < argc {
            let a = arg(i)
            if (a.equalsLowercase("store") || a.equalsLowercase("storedist")) && i + 1 < argc {
                store = i + 1
                i += 1
            }
            i += 1
        }
        return [1] + (store.map { [$0] } ?? [])
    }
}

/// What a search asks for, as georadiusGeneric's flags.
struct GeoSearchKind: OptionSet {
    let rawValue: UInt8
    /// GEORADIUS: the centre is lon lat at argument 2.
    static let byCoordinates = GeoSearchKind(rawValue: 1)
    /// GEORADIUSBYMEMBER: the centre is the member at argument 2.
    static let byMember = GeoSearchKind(rawValue: 2)
    /// The _RO variants: no STORE.
    static let noStore = GeoSearchKind(rawValue: 4)
    /// GEOSEARCH / GEOSEARCHSTORE: FROM... and BY... options.
    static let search = GeoSearchKind(rawValue: 8)
    static let searchStore = GeoSearchKind(rawValue: 16)
}

/// One member inside the searched shape.
struct GeoMatch {
    var memberOffset: Int
    var memberLength: Int
    var score: Double
    var meters: Double
    var longitude: Double
    var latitude: Double
}

extension Server {
    mutating func geoCommand(_ c: ClientRef, _ id: GeoCommand) {
        switch id {
        case .geoadd: geoaddCommand(c)
        case .geodist: geodistCommand(c)
        case .geohash: geohashCommand(c)
        case .geopos: geoposCommand(c)
        case .georadius: geoSearch(c, source: 1, .byCoordinates)
        case .georadiusRO: geoSearch(c, source: 1, [.byCoordinates, .noStore])
        case .georadiusbymember: geoSearch(c, source: 1, .byMember)
        case .georadiusbymemberRO: geoSearch(c, source: 1, [.byMember, .noStore])
        case .geosearch: geoSearch(c, source: 1, .search)
        case .geosearchstore: geoSearch(c, source: 2, [.search, .searchStore])
        }
    }

    // MARK: - Arguments

    /// Longitude and latitude at arguments `i` and `i + 1`; nil after replying the error.
    mutating func parseLongLat(_ c: ClientRef, at i: Int) -> (Double, Double)? {
        guard let lon = c.pointee.arg(i).double, let lat = c.pointee.arg(i + 1).double else {
            addError(c, "-ERR value is not a valid float\r\n")
            return nil
        }
        if !Geohash.isValid(longitude: lon, latitude: lat) {
            addErrorString(c, "ERR invalid longitude,latitude pair " + Self.cFormat("%f,%f", lon, lat))
            return nil
        }
        return (lon, lat)
    }

    /// printf-style formatting of doubles (Redis's error texts use %f).
    static func cFormat(_ format: String, _ values: Double...) -> String {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 700) { out -> String in
            let n = withVaList(values) { vsnprintf(out.baseAddress!, out.count, format, $0) }
            let bytes = UnsafeRawBufferPointer(start: out.baseAddress!, count: Int(max(0, min(n, Int32(out.count - 1)))))
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    /// m, km, ft or mi; nil after replying the error.
    mutating func parseGeoUnit(_ c: ClientRef, _ arg: ByteView) -> GeoUnit? {
        guard let unit = GeoUnit(name: UnsafeBufferPointer(start: arg.base, count: arg.count)) else {
            addError(c, "-ERR unsupported unit provided. please use M, KM, FT, MI\r\n")
            return nil
        }
        return unit
    }

    /// A radius and its unit at arguments `i`, `i + 1`.
    mutating func parseRadius(_ c: ClientRef, at i: Int) -> GeoShape? {
        guard let radius = c.pointee.arg(i).double else {
            addError(c, "-ERR need numeric radius\r\n")
            return nil
        }
        if radius < 0 {
            addError(c, "-ERR radius cannot be negative\r\n")
            return nil
        }
        guard let unit = parseGeoUnit(c, c.pointee.arg(i + 1)) else { return nil }
        return .radius(radius, unit: unit)
    }

    /// A box's width, height and unit at arguments `i`...`i + 2`.
    mutating func parseBox(_ c: ClientRef, at i: Int) -> GeoShape? {
        guard let width = c.pointee.arg(i).double else {
            addError(c, "-ERR need numeric width\r\n")
            return nil
        }
        guard let height = c.pointee.arg(i + 1).double else {
            addError(c, "-ERR need numeric height\r\n")
            return nil
        }
        if width < 0 || height < 0 {
            addError(c, "-ERR height or width cannot be negative\r\n")
            return nil
        }
        guard let unit = parseGeoUnit(c, c.pointee.arg(i + 2)) else { return nil }
        return .box(width: width, height: height, unit: unit)
    }

    /// The geo set at `key` for reading: nil when missing; `ok` false after WRONGTYPE.
    mutating func lookupGeoSet(_ c: ClientRef, _ key: ByteView) -> (Entry?, ok: Bool) {
        lookupTyped(c, key, .zset, forWrite: false)
    }

    /// A coordinate as a reply: a bulk string in RESP2, a double in RESP3.
    func addCoordinate(_ c: ClientRef, _ value: Double) {
        let text = Geohash.coordinateText(value)
        if c.pointee.resp3 {
            c.pointee.reply.append("," + text + "\r\n")
        } else {
            c.pointee.reply.appendBulk(text)
        }
    }

    // MARK: - GEOADD

    /// GEOADD key [NX|XX] [CH] longitude latitude member [...]: ZADD with geohash scores.
    mutating func geoaddCommand(_ c: ClientRef) {
        let argc = c.pointee.argc
        var flags: ZAddFlags = []
        var ch = false
        var first = 2
        while first < argc {
            let o = c.pointee.arg(first)
            if o.equalsLowercase("nx") { flags.insert(.nx) }
            else if o.equalsLowercase("xx") { flags.insert(.xx) }
            else if o.equalsLowercase("ch") { ch = true }
            else { break }
            first += 1
        }
        let elements = (argc - first) / 3
        if (argc - first) % 3 != 0 || elements == 0 || (flags.contains(.nx) && flags.contains(.xx)) {
            addSyntaxError(c)
            return
        }
        // Every pair is checked before anything changes; the scores kept for the second pass.
        var scores = [Double]()
        scores.reserveCapacity(elements)
        for i in 0..<elements {
            guard let (lon, lat) = parseLongLat(c, at: first + i * 3) else { return }
            scores.append(Geohash.score(longitude: lon, latitude: lat)!)
        }
        let key = c.pointee.arg(1)
        let db = c.pointee.db
        let (found, ok) = lookupTyped(c, key, .zset, forWrite: true)
        guard ok else { return }
        var added = 0, updated = 0
        if let e = found ?? createZSet(c, key, flags: flags, firstMember: c.pointee.arg(first + 2)) {
            for i in 0..<elements {
                switch ZSetStore.add(e, c.pointee.arg(first + i * 3 + 2), scores[i], flags,
                                     maxEntries: settings.zsetMaxListpackEntries, maxValue: settings.zsetMaxListpackValue) {
                case .added: added += 1
                case .updated: updated += 1
                default: break
                }
            }
        }
        if added + updated > 0 {
            keyModified(db, key)
            notifyKeyspaceEvent(.zset, "zadd", key, db)
            dirty += Int64(added + updated)
            // Replicas get the ZADD this became (scores as integers, as Redis writes them).
            var args: [[UInt8]] = [Array("zadd".utf8)]
            for i in 1..<first { args.append(c.pointee.arg(i).array) }
            for i in 0..<elements {
                args.append(Self.argBytes(Int64(scores[i])))
                args.append(c.pointee.arg(first + i * 3 + 2).array)
            }
            propagateInstead(db, args)
        }
        c.pointee.reply.appendInteger(Int64(ch ? added + updated : added))
    }

    // MARK: - GEODIST, GEOHASH, GEOPOS

    mutating func geodistCommand(_ c: ClientRef) {
        let argc = c.pointee.argc
        var unit = GeoUnit.meters
        if argc == 5 {
            guard let u = parseGeoUnit(c, c.pointee.arg(4)) else { return }
            unit = u
        } else if argc > 5 {
            addSyntaxError(c)
            return
        }
        let (found, ok) = lookupGeoSet(c, c.pointee.arg(1))
        guard ok else { return }
        guard let e = found, let s1 = ZSetStore.score(e, c.pointee.arg(2)), let s2 = ZSetStore.score(e, c.pointee.arg(3)) else {
            addNull(c)
            return
        }
        let a = Geohash.decode(score: s1), b = Geohash.decode(score: s2)
        let meters = Geohash.distance(longitude1: a.longitude, latitude1: a.latitude, longitude2: b.longitude, latitude2: b.latitude)
        c.pointee.reply.appendBulk(Geohash.distanceText(meters / unit.metersPerUnit))
    }

    /// GEOHASH and GEOPOS: the score of each member argument (nil: missing member or key);
    /// nil after replying WRONGTYPE. The reply's array header is written.
    mutating func memberScores(_ c: ClientRef) -> [Double?]? {
        let (found, ok) = lookupGeoSet(c, c.pointee.arg(1))
        guard ok else { return nil }
        let argc = c.pointee.argc
        c.pointee.reply.appendArrayHeader(argc - 2)
        return (2..<argc).map { i in found.flatMap { ZSetStore.score($0, c.pointee.arg(i)) } }
    }

    mutating func geohashCommand(_ c: ClientRef) {
        for score in memberScores(c) ?? [] {
            if let score { c.pointee.reply.appendBulk(Geohash.hashString(score: score)) } else { addNull(c) }
        }
    }

    mutating func geoposCommand(_ c: ClientRef) {
        for score in memberScores(c) ?? [] {
            guard let score else {
                c.pointee.reply.appendNullArray(resp3: c.pointee.resp3)
                continue
            }
            let p = Geohash.decode(score: score)
            c.pointee.reply.appendArrayHeader(2)
            addCoordinate(c, p.longitude)
            addCoordinate(c, p.latitude)
        }
    }

    // MARK: - Searches

    /// GEORADIUS, GEORADIUSBYMEMBER (and _RO), GEOSEARCH, GEOSEARCHSTORE: Redis's
    /// georadiusGeneric, with its order of checks (errors from options before the missing-key
    /// replies, STORE's incompatibilities, FROM/BY required for GEOSEARCH).
    mutating func geoSearch(_ c: ClientRef, source: Int, _ kind: GeoSearchKind) {
        let argc = c.pointee.argc
        let (found, ok) = lookupGeoSet(c, c.pointee.arg(source))
        guard ok else { return }
        var center: (Double, Double)? = nil
        var shape: GeoShape? = nil
        var base: Int
        var store: ByteView? = nil
        var storeDistances = false
        if kind.contains(.byCoordinates) {
            base = 6
            guard let point = parseLongLat(c, at: 2), let radius = parseRadius(c, at: 4) else { return }
            center = point
            shape = radius
        } else if kind.contains(.byMember) {
            base = 5
            if let e = found {
                guard let score = ZSetStore.score(e, c.pointee.arg(2)) else {
                    addError(c, "-ERR could not decode requested zset member\r\n")
                    return
                }
                let p = Geohash.decode(score: score)
                center = (p.longitude, p.latitude)
                guard let radius = parseRadius(c, at: 3) else { return }
                shape = radius
            }
        } else {
            base = kind.contains(.searchStore) ? 3 : 2
            if kind.contains(.searchStore) { store = c.pointee.arg(1) }
        }
        var withDist = false, withHash = false, withCoord = false
        var fromMember = false, fromLonLat = false, byRadius = false, byBox = false
        var sort = 0  // 0 none, 1 ascending, -1 descending
        var any = false
        var count = 0
        var i = base
        let search = kind.contains(.search)
        while i < argc {
            let a = c.pointee.arg(i)
            let left = argc - i - 1
            if a.equalsLowercase("withdist") {
                withDist = true
            } else if a.equalsLowercase("withhash") {
                withHash = true
            } else if a.equalsLowercase("withcoord") {
                withCoord = true
            } else if a.equalsLowercase("any") {
                any = true
            } else if a.equalsLowercase("asc") {
                sort = 1
            } else if a.equalsLowercase("desc") {
                sort = -1
            } else if a.equalsLowercase("count") && left >= 1 {
                guard let n = c.pointee.arg(i + 1).int64 else {
                    addNotInteger(c)
                    return
                }
                if n <= 0 {
                    addError(c, "-ERR COUNT must be > 0\r\n")
                    return
                }
                count = Int(n)
                i += 1
            } else if (a.equalsLowercase("store") || a.equalsLowercase("storedist")) && left >= 1
                        && !kind.contains(.noStore) && !search {
                store = c.pointee.arg(i + 1)
                storeDistances = a.equalsLowercase("storedist")
                i += 1
            } else if a.equalsLowercase("storedist") && kind.contains(.searchStore) {
                storeDistances = true
            } else if a.equalsLowercase("frommember") && left >= 1 && search && !fromLonLat {
                if let e = found {
                    guard let score = ZSetStore.score(e, c.pointee.arg(i + 1)) else {
                        addError(c, "-ERR could not decode requested zset member\r\n")
                        return
                    }
                    let p = Geohash.decode(score: score)
                    center = (p.longitude, p.latitude)
                }
                fromMember = true
                i += 1
            } else if a.equalsLowercase("fromlonlat") && left >= 2 && search && !fromMember {
                guard let point = parseLongLat(c, at: i + 1) else { return }
                center = point
                fromLonLat = true
                i += 2
            } else if a.equalsLowercase("byradius") && left >= 2 && search && !byBox {
                guard let radius = parseRadius(c, at: i + 1) else { return }
                shape = radius
                byRadius = true
                i += 2
            } else if a.equalsLowercase("bybox") && left >= 3 && search && !byRadius {
                guard let box = parseBox(c, at: i + 1) else { return }
                shape = box
                byBox = true
                i += 3
            } else {
                addSyntaxError(c)
                return
            }
            i += 1
        }
        if store != nil && (withDist || withHash || withCoord) {
            addErrorString(c, "ERR " + (kind.contains(.searchStore) ? "GEOSEARCHSTORE" : "STORE option in GEORADIUS")
                + " is not compatible with WITHDIST, WITHHASH and WITHCOORD options")
            return
        }
        let name = c.pointee.arg(0).string
        if search && !(fromMember || fromLonLat) {
            addErrorString(c, "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for \(name)")
            return
        }
        if search && !(byRadius || byBox) {
            addErrorString(c, "ERR exactly one of BYRADIUS and BYBOX can be specified for \(name)")
            return
        }
        if any && count == 0 {
            addError(c, "-ERR the ANY argument requires COUNT argument\r\n")
            return
        }
        let db = c.pointee.db
        guard let e = found, let (lon, lat) = center, let shape else {
            // No source: an empty reply, or the destination deleted.
            if let store {
                if deleteKey(db, store) {
                    notifyKeyspaceEvent(.generic, "del", store, db)
                    dirty += 1
                }
                c.pointee.reply.append(":0\r\n" as StaticString)
            } else {
                c.pointee.reply.appendArrayHeader(0)
            }
            return
        }
        if count != 0 && sort == 0 && !any { sort = 1 }
        // One byte first, so the arena always has storage even when every member is "".
        var arena: [UInt8] = [0]
        var matches = geoMembersInShape(e, shape, centerLongitude: lon, centerLatitude: lat, limit: any ? count : 0, arena: &arena)
        if sort != 0 {
            // Stable, as glibc's qsort (a merge sort) is for Redis: ties keep the scan order.
            let ascending = sort > 0
            matches = Self.stableSorted(matches) { ascending ? $0.meters < $1.meters : $0.meters > $1.meters }
        }
        let returned = count == 0 ? matches.count : min(count, matches.count)
        let perUnit = shape.unit.metersPerUnit
        if let store {
            geoStoreResult(c, store, matches.prefix(returned), arena, distances: storeDistances, perUnit: perUnit,
                           event: search ? "geosearchstore" : "georadiusstore")
            return
        }
        let options = (withDist ? 1 : 0) + (withHash ? 1 : 0) + (withCoord ? 1 : 0)
        c.pointee.reply.appendArrayHeader(returned)
        for m in matches.prefix(returned) {
            if options > 0 { c.pointee.reply.appendArrayHeader(options + 1) }
            arena.withUnsafeBufferPointer { b in
                c.pointee.reply.appendBulk(b.baseAddress! + m.memberOffset, m.memberLength)
            }
            if withDist { c.pointee.reply.appendBulk(Geohash.distanceText(m.meters / perUnit)) }
            if withHash { c.pointee.reply.appendInteger(Geohash.hashInteger(score: m.score)) }
            if withCoord {
                c.pointee.reply.appendArrayHeader(2)
                addCoordinate(c, m.longitude)
                addCoordinate(c, m.latitude)
            }
        }
    }

    /// The members of `e` inside `shape`, cell by cell in Redis's order; with `limit`, the
    /// first `limit` found (COUNT ANY). Member bytes are appended to `arena`.
    func geoMembersInShape(_ e: Entry, _ shape: GeoShape, centerLongitude: Double, centerLatitude: Double, limit: Int,
                           arena: inout [UInt8]) -> [GeoMatch] {
        var matches: [GeoMatch] = []
        let ranges = Geohash.searchRanges(centerLongitude: centerLongitude, centerLatitude: centerLatitude, shape: shape)
        for r in ranges {
            if limit > 0 && matches.count >= limit { break }
            let (lo, hi) = ZSetStore.ranks(e, ScoreRange(min: r.min, max: r.max, minExclusive: false, maxExclusive: true))
            ZSetStore.forEach(e, from: lo, to: hi, reverse: false) { member, score in
                if limit > 0 && matches.count >= limit { return }
                guard let m = Geohash.match(score: score, shape: shape, centerLongitude: centerLongitude,
                                            centerLatitude: centerLatitude) else { return }
                matches.append(GeoMatch(memberOffset: arena.count, memberLength: member.count, score: score, meters: m.meters,
                                        longitude: m.longitude, latitude: m.latitude))
                arena.append(contentsOf: UnsafeBufferPointer(start: member.base, count: member.count))
            }
        }
        return matches
    }

    static func stableSorted(_ matches: [GeoMatch], by before: (GeoMatch, GeoMatch) -> Bool) -> [GeoMatch] {
        matches.enumerated().sorted { a, b in
            before(a.element, b.element) || (!before(b.element, a.element) && a.offset < b.offset)
        }.map(\.element)
    }

    /// STORE / STOREDIST / GEOSEARCHSTORE: the matches as a sorted set under `dest`.
    mutating func geoStoreResult(_ c: ClientRef, _ dest: ByteView, _ matches: ArraySlice<GeoMatch>, _ arena: [UInt8],
                                 distances: Bool, perUnit: Double, event: StaticString) {
        let acc = SkipList.create()
        arena.withUnsafeBufferPointer { b in
            for m in matches {
                acc.pointee.insert(ByteView(b.baseAddress! + m.memberOffset, m.memberLength),
                                   distances ? m.meters / perUnit : m.score)
            }
        }
        zStoreResult(c, acc, event: event, dest: dest, changes: matches.count)
    }
}
