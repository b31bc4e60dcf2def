/*
 * ZSetStore: sorted set values, in Redis 7.0's two encodings, behind one rank-based API.
 *
 *  - listpack: a PackedList of member, score, member, score, ... kept sorted by (score,
 *    member), while the set has at most zset-max-listpack-entries members of at most
 *    zset-max-listpack-value bytes. A score is stored as a 9-byte element: tag 0x08 (a
 *    string of 8 bytes) followed by the Double's bit pattern, so reading one back is a load,
 *    not a strtod, and round-trips exactly (-0, inf, 17 significant digits). Generic
 *    PackedList walks (next(after:), find(step: 2)) still see a well-formed element.
 *  - skiplist: SkipList (SkipList.swift), a skiplist with spans plus a member table.
 *
 * A set converts to skiplist when an insert would break either limit, and (as in Redis)
 * never converts back, except where Redis builds a result and then picks its encoding
 * (ZUNIONSTORE/ZINTERSTORE/ZDIFFSTORE call `convertToListpackIfNeeded`).
 *
 * Every range command reduces to ranks: a score or lex range is first turned into the
 * inclusive rank interval it covers (O(log n) on the skiplist), then `forEach(ranks...)`
 * walks it forwards or backwards and `removeRanks` deletes it. Ranks are 0-based here.
 */
import CTandem
import Platform

/// A score interval as ZRANGEBYSCORE parses it ("(1.5" is exclusive).
public struct ScoreRange {
    public var min: Double
    public var max: Double
    public var minExclusive: Bool
    public var maxExclusive: Bool

    public init(min: Double, max: Double, minExclusive: Bool, maxExclusive: Bool) {
        self.min = min
        self.max = max
        self.minExclusive = minExclusive
        self.maxExclusive = maxExclusive
    }

    @inline(__always)
    public func aboveMin(_ v: Double) -> Bool { minExclusive ? v > min : v >= min }
    @inline(__always)
    public func belowMax(_ v: Double) -> Bool { maxExclusive ? v < max : v <= max }

    public var isEmpty: Bool { min > max || (min == max && (minExclusive || maxExclusive)) }
}

/// One end of a lex range: "-" (before everything), "+" (after everything), "[x" or "(x".
public struct LexBound {
    public enum Kind { case minusInfinity, plusInfinity, value }
    public var kind: Kind
    public var value: ByteView
    public var exclusive: Bool

    public init(kind: Kind, value: ByteView, exclusive: Bool) {
        self.kind = kind
        self.value = value
        self.exclusive = exclusive
    }

    /// Redis's sdscmplex: `v` against this bound.
    @inline(__always)
    func compare(_ v: ByteView) -> Int {
        switch kind {
        case .minusInfinity: return 1
        case .plusInfinity: return -1
        case .value: return v.compare(value)
        }
    }
}

public struct LexRange {
    public var min: LexBound
    public var max: LexBound

    public init(min: LexBound, max: LexBound) {
        self.min = min
        self.max = max
    }

    @inline(__always)
    public func aboveMin(_ v: ByteView) -> Bool {
        let c = min.compare(v)
        return min.exclusive ? c > 0 : c >= 0
    }

    @inline(__always)
    public func belowMax(_ v: ByteView) -> Bool {
        let c = max.compare(v)
        return max.exclusive ? c < 0 : c <= 0
    }

    public var isEmpty: Bool {
        let c: Int
        switch (min.kind, max.kind) {
        case (.minusInfinity, .minusInfinity), (.plusInfinity, .plusInfinity): c = 0
        case (.minusInfinity, _), (_, .plusInfinity): c = -1
        case (.plusInfinity, _), (_, .minusInfinity): c = 1
        default: c = min.value.compare(max.value)
        }
        return c > 0 || (c == 0 && (min.exclusive || max.exclusive))
    }
}

/// ZADD's conditions (NX XX GT LT INCR).
public struct ZAddFlags: OptionSet, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let nx = ZAddFlags(rawValue: 1)
    public static let xx = ZAddFlags(rawValue: 2)
    public static let gt = ZAddFlags(rawValue: 4)
    public static let lt = ZAddFlags(rawValue: 8)
    public static let incr = ZAddFlags(rawValue: 16)
}

public enum ZAddOutcome {
    case added(Double)
    case updated(Double)
    /// The member exists and kept its score (possibly because the new score was equal).
    case unchanged(Double)
    /// A condition prevented the change (NX on an existing member, XX on a missing one, GT/LT).
    case skipped
    /// INCR produced NaN.
    case nan
}

public enum ZSetStore {
    static let scoreTag: UInt8 = 0x08
    static let scoreSize = 9

    static func free(_ e: Entry) {
        if e.encoding == .listpack {
            PackedList(raw: e.valuePointer).free()
        } else {
            SkipList.destroy(skiplist(e))
        }
    }

    static func duplicate(_ e: Entry) -> Int64 {
        if e.encoding == .listpack {
            return Int64(Int(bitPattern: PackedList(raw: e.valuePointer).duplicate().raw))
        }
        let src = skiplist(e)
        let dst = SkipList.create()
        var n = src.pointee.first
        while let x = n {
            dst.pointee.insert(SkipList.Node.member(x), SkipList.Node.score(x))
            n = SkipList.Node.forward(x, 0)
        }
        return Int64(Int(bitPattern: dst))
    }

    @inline(__always)
    public static func skiplist(_ e: Entry) -> UnsafeMutablePointer<SkipList> {
        e.valuePointer.bindMemory(to: SkipList.self, capacity: 1)
    }

    /// A new empty value: (encoding, payload) for `addAggregate`.
    public static func makeEmpty(listpack: Bool) -> (ObjectEncoding, Int64) {
        if listpack { return (.listpack, Int64(Int(bitPattern: PackedList().raw))) }
        return (.skiplist, Int64(Int(bitPattern: SkipList.create())))
    }

    public static func count(_ e: Entry) -> Int {
        e.encoding == .listpack ? PackedList(raw: e.valuePointer).count / 2 : skiplist(e).pointee.length
    }

    // MARK: - Listpack primitives

    @inline(__always)
    static func lpScore(_ lp: PackedList, at off: Int) -> Double {
        Double(bitPattern: lp.raw.loadUnaligned(fromByteOffset: off + 1, as: UInt64.self))
    }

    /// Offset of `member` and its score, or nil.
    static func lpFind(_ lp: PackedList, _ member: ByteView) -> (Int, Double)? {
        guard let off = lp.find(member, step: 2) else { return nil }
        return (off, lpScore(lp, at: lp.next(after: off)))
    }

    /// Inserts (member, score) at its ordered position.
    static func lpInsert(_ lp: inout PackedList, _ member: ByteView, _ score: Double) {
        var off = PackedList.firstOffset
        let end = lp.endOffset
        while off < end {
            let (v, sOff) = lp.element(at: off)
            let s = lpScore(lp, at: sOff)
            if s > score || (s == score && v.withBytes { $0.compare(member) } > 0) { break }
            off = sOff + scoreSize
        }
        lpInsertPair(&lp, member, score, at: off)
    }

    /// Writes (member, score) before the element at `off`.
    /// A listpack holds scores as Redis writes them (text that reads back as an integer when
    /// it can), so -0 comes back as 0 there; the skiplist keeps -0. Mirrored here.
    static func lpInsertPair(_ lp: inout PackedList, _ member: ByteView, _ score: Double, at off: Int) {
        let score = score == 0 ? 0 : score
        let msize = PackedList.encodedSize(member)
        let size = msize + scoreSize
        lp.reserve(size)
        let end = lp.byteSize
        if off < end { memmove(lp.raw + off + size, lp.raw + off, end - off) }
        _ = PackedList.encode(member, at: lp.raw + off)
        lp.raw.storeBytes(of: scoreTag, toByteOffset: off + msize, as: UInt8.self)
        lp.raw.storeBytes(of: score.bitPattern, toByteOffset: off + msize + 1, as: UInt64.self)
        lp.setByteSize(end + size)
        lp.setCount(lp.count + 2)
    }

    /// A listpack of `pairs` appended in order (already sorted, members distinct).
    static func lpAppend(_ lp: inout PackedList, _ member: ByteView, _ score: Double) {
        lpInsertPair(&lp, member, score, at: lp.endOffset)
    }

    // MARK: - Conversion

    /// listpack -> skiplist.
    public static func convertToSkiplist(_ e: Entry) {
        guard e.encoding == .listpack else { return }
        let lp = PackedList(raw: e.valuePointer)
        let zs = SkipList.create()
        var off = PackedList.firstOffset
        let end = lp.endOffset
        while off < end {
            let (v, sOff) = lp.element(at: off)
            let s = lpScore(lp, at: sOff)
            v.withBytes { _ = zs.pointee.insert($0, s) }
            off = sOff + scoreSize
        }
        lp.free()
        e.encoding = .skiplist
        e.valuePointer = UnsafeMutableRawPointer(zs)
    }

    /// skiplist -> listpack when the set fits the listpack limits (result of a store).
    public static func convertToListpackIfNeeded(_ e: Entry, maxEntries: Int, maxValue: Int) {
        guard e.encoding == .skiplist else { return }
        let zs = skiplist(e)
        if zs.pointee.length > maxEntries { return }
        var n = zs.pointee.first
        while let x = n {
            if SkipList.Node.member(x).count > maxValue { return }
            n = SkipList.Node.forward(x, 0)
        }
        var lp = PackedList()
        n = zs.pointee.first
        while let x = n {
            lpAppend(&lp, SkipList.Node.member(x), SkipList.Node.score(x))
            n = SkipList.Node.forward(x, 0)
        }
        SkipList.destroy(zs)
        e.encoding = .listpack
        e.valuePointer = lp.raw
    }

    // MARK: - Members

    public static func score(_ e: Entry, _ member: ByteView) -> Double? {
        if e.encoding == .listpack { return lpFind(PackedList(raw: e.valuePointer), member)?.1 }
        guard let n = skiplist(e).pointee.find(member) else { return nil }
        return SkipList.Node.score(n)
    }

    /// Redis's zsetAdd: adds or updates `member` under ZADD's conditions, converting to
    /// skiplist when the insert would break the listpack limits.
    public static func add(_ e: Entry, _ member: ByteView, _ score: Double, _ flags: ZAddFlags,
                           maxEntries: Int, maxValue: Int) -> ZAddOutcome {
        if e.encoding == .listpack {
            var lp = PackedList(raw: e.valuePointer)
            if let (off, cur) = lpFind(lp, member) {
                guard let s = newScore(cur, score, flags) else { return flags.contains(.incr) && isNaNSum(cur, score, flags) ? .nan : .skipped }
                if s == cur { return .unchanged(cur) }
                lp.remove(at: off, count: 2)
                lpInsert(&lp, member, s)
                e.valuePointer = lp.raw
                return .updated(s)
            }
            if flags.contains(.xx) { return .skipped }
            if lp.count / 2 + 1 > maxEntries || member.count > maxValue {
                convertToSkiplist(e)
            } else {
                lpInsert(&lp, member, score)
                e.valuePointer = lp.raw
                return .added(score)
            }
        }
        let zs = skiplist(e)
        if let n = zs.pointee.find(member) {
            let cur = SkipList.Node.score(n)
            guard let s = newScore(cur, score, flags) else { return flags.contains(.incr) && isNaNSum(cur, score, flags) ? .nan : .skipped }
            if s == cur { return .unchanged(cur) }
            zs.pointee.updateScore(n, s)
            return .updated(s)
        }
        if flags.contains(.xx) { return .skipped }
        zs.pointee.insert(member, score)
        return .added(score)
    }

    @inline(__always)
    static func isNaNSum(_ cur: Double, _ score: Double, _ flags: ZAddFlags) -> Bool {
        !flags.contains(.nx) && (cur + score).isNaN
    }

    /// The score an existing member moves to, or nil when NX/GT/LT (or a NaN sum) stop it.
    @inline(__always)
    static func newScore(_ cur: Double, _ score: Double, _ flags: ZAddFlags) -> Double? {
        if flags.contains(.nx) { return nil }
        var s = score
        if flags.contains(.incr) {
            s += cur
            if s.isNaN { return nil }
        }
        if (flags.contains(.lt) && s >= cur) || (flags.contains(.gt) && s <= cur) { return nil }
        return s
    }

    /// Removes `member`; returns whether it was there.
    @discardableResult
    public static func remove(_ e: Entry, _ member: ByteView) -> Bool {
        if e.encoding == .listpack {
            var lp = PackedList(raw: e.valuePointer)
            guard let off = lp.find(member, step: 2) else { return false }
            lp.remove(at: off, count: 2)
            e.valuePointer = lp.raw
            return true
        }
        let zs = skiplist(e)
        guard let n = zs.pointee.find(member) else { return false }
        zs.pointee.delete(n)
        return true
    }

    /// 0-based rank of `member` in ascending order, or nil.
    public static func rank(_ e: Entry, _ member: ByteView) -> Int? {
        if e.encoding == .listpack {
            let lp = PackedList(raw: e.valuePointer)
            var off = PackedList.firstOffset
            let end = lp.endOffset
            var r = 0
            while off < end {
                let (v, sOff) = lp.element(at: off)
                if v.equals(member) { return r }
                off = sOff + scoreSize
                r += 1
            }
            return nil
        }
        let zs = skiplist(e)
        guard let n = zs.pointee.find(member) else { return nil }
        return zs.pointee.rank(of: n) - 1
    }

    // MARK: - Ranges as ranks

    /// The inclusive ranks [lo, hi] whose scores fall in `range` (lo > hi when none).
    public static func ranks(_ e: Entry, _ range: ScoreRange) -> (Int, Int) {
        if range.isEmpty { return (0, -1) }
        if e.encoding == .listpack {
            return lpRanks(e) { s, _ in range.aboveMin(s) } within: { s, _ in range.belowMax(s) }
        }
        let zs = skiplist(e)
        guard let first = zs.pointee.firstWhere(notBefore: { !range.aboveMin(SkipList.Node.score($0)) }),
              range.belowMax(SkipList.Node.score(first)),
              let last = zs.pointee.lastWhere({ range.belowMax(SkipList.Node.score($0)) })
        else { return (0, -1) }
        return (zs.pointee.rank(of: first) - 1, zs.pointee.rank(of: last) - 1)
    }

    /// How a lex range is resolved when scores differ (Redis's result then depends on the walk).
    public enum LexWalk { case count, forward, reverse }

    /// The inclusive ranks [lo, hi] whose members fall in `range` (meaningful when all scores
    /// are equal, as Redis documents). Otherwise the answer mirrors Redis's: ZLEXCOUNT takes
    /// the first and last nodes by skiplist descent; ZRANGEBYLEX walks forward from the first
    /// while members stay below max; ZREVRANGEBYLEX walks back from the last while above min;
    /// a listpack is always walked forward from its head.
    public static func ranks(_ e: Entry, _ range: LexRange, walk: LexWalk = .count) -> (Int, Int) {
        if range.isEmpty { return (0, -1) }
        if e.encoding == .listpack {
            if walk == .reverse {
                return lpRanksReverse(e, range)
            }
            return lpRanks(e) { _, m in range.aboveMin(m) } within: { _, m in range.belowMax(m) }
        }
        let zs = skiplist(e)
        typealias N = SkipList.Node
        // Redis's zslIsInLexRange: the tail must reach min and the head must not pass max.
        guard let head = zs.pointee.first, let tail = zs.pointee.tail, range.aboveMin(N.member(tail)), range.belowMax(N.member(head))
        else { return (0, -1) }
        if walk == .reverse {
            guard let last = zs.pointee.lastWhere({ range.belowMax(N.member($0)) }), range.aboveMin(N.member(last))
            else { return (0, -1) }
            let hi = zs.pointee.rank(of: last) - 1
            var lo = hi
            var n = N.backward(last)
            while let x = n, range.aboveMin(N.member(x)) {
                lo -= 1
                n = N.backward(x)
            }
            return (lo, hi)
        }
        guard let first = zs.pointee.firstWhere(notBefore: { !range.aboveMin(N.member($0)) }),
              range.belowMax(N.member(first))
        else { return (0, -1) }
        let lo = zs.pointee.rank(of: first) - 1
        if walk == .forward {
            var hi = lo
            var n = N.forward(first, 0)
            while let x = n, range.belowMax(N.member(x)) {
                hi += 1
                n = N.forward(x, 0)
            }
            return (lo, hi)
        }
        guard let last = zs.pointee.lastWhere({ range.belowMax(N.member($0)) }) else { return (0, -1) }
        return (lo, zs.pointee.rank(of: last) - 1)
    }

    /// Listpack, from the tail: the last member below max (it must be above min), then back
    /// while above min.
    static func lpRanksReverse(_ e: Entry, _ range: LexRange) -> (Int, Int) {
        let n = count(e)
        var hi = -1
        var lo = 0
        var i = n - 1
        var done = false
        while i >= 0 && !done {
            withElement(e, atRank: i) { m, _ in
                if hi < 0 {
                    if range.belowMax(m) {
                        if !range.aboveMin(m) { done = true; return }
                        hi = i
                        lo = i
                    }
                } else if range.aboveMin(m) {
                    lo = i
                } else {
                    done = true
                }
            }
            i -= 1
        }
        return hi < 0 ? (0, -1) : (lo, hi)
    }

    /// Listpack scan: first rank where `started` holds, last rank after it where `within` holds.
    static func lpRanks(_ e: Entry, started: (Double, ByteView) -> Bool, within: (Double, ByteView) -> Bool)
        -> (Int, Int)
    {
        let lp = PackedList(raw: e.valuePointer)
        var off = PackedList.firstOffset
        let end = lp.endOffset
        var r = 0
        var lo = -1
        var hi = -2
        while off < end {
            let (v, sOff) = lp.element(at: off)
            let s = lpScore(lp, at: sOff)
            let stop = v.withBytes { m -> Bool in
                if lo < 0 {
                    if started(s, m) {
                        if !within(s, m) { return true }
                        lo = r
                        hi = r
                    }
                    return false
                }
                if !within(s, m) { return true }
                hi = r
                return false
            }
            if stop { break }
            off = sOff + scoreSize
            r += 1
        }
        return lo < 0 ? (0, -1) : (lo, hi)
    }

    /// Calls `body(member, score)` for ranks start...end (0-based, in range), ascending, or
    /// descending from `end` when `reverse`.
    public static func forEach(_ e: Entry, from start: Int, to end: Int, reverse: Bool,
                               _ body: (ByteView, Double) -> Void) {
        if start > end { return }
        if e.encoding == .listpack {
            let lp = PackedList(raw: e.valuePointer)
            if !reverse {
                var off = lp.offset(ofIndex: start * 2)
                for _ in start...end {
                    let (v, sOff) = lp.element(at: off)
                    let s = lpScore(lp, at: sOff)
                    v.withBytes { body($0, s) }
                    off = sOff + scoreSize
                }
                return
            }
            let n = end - start + 1
            withUnsafeTemporaryAllocation(of: Int.self, capacity: n) { offs in
                var off = lp.offset(ofIndex: start * 2)
                for i in 0..<n {
                    offs[i] = off
                    off = lp.next(after: off) + scoreSize
                }
                var i = n - 1
                while i >= 0 {
                    let (v, sOff) = lp.element(at: offs[i])
                    let s = lpScore(lp, at: sOff)
                    v.withBytes { body($0, s) }
                    i -= 1
                }
            }
            return
        }
        let zs = skiplist(e)
        var node = zs.pointee.node(atRank: (reverse ? end : start) + 1)
        var left = end - start + 1
        while let x = node, left > 0 {
            body(SkipList.Node.member(x), SkipList.Node.score(x))
            node = reverse ? SkipList.Node.backward(x) : SkipList.Node.forward(x, 0)
            left -= 1
        }
    }

    /// Removes ranks start...end (0-based, in range); returns how many went.
    @discardableResult
    public static func removeRanks(_ e: Entry, from start: Int, to end: Int) -> Int {
        if start > end { return 0 }
        let n = end - start + 1
        if e.encoding == .listpack {
            var lp = PackedList(raw: e.valuePointer)
            lp.remove(at: lp.offset(ofIndex: start * 2), count: n * 2)
            e.valuePointer = lp.raw
            return n
        }
        let zs = skiplist(e)
        var node = zs.pointee.node(atRank: start + 1)
        var left = n
        while let x = node, left > 0 {
            node = SkipList.Node.forward(x, 0)
            zs.pointee.delete(x)
            left -= 1
        }
        zs.pointee.dict.shrinkIfSparse()
        return n
    }

    /// Member and score at rank `r` (0-based, in range), passed to `body`.
    public static func withElement<R>(_ e: Entry, atRank r: Int, _ body: (ByteView, Double) -> R) -> R {
        if e.encoding == .listpack {
            let lp = PackedList(raw: e.valuePointer)
            let (v, sOff) = lp.element(at: lp.offset(ofIndex: r * 2))
            let s = lpScore(lp, at: sOff)
            return v.withBytes { body($0, s) }
        }
        let x = skiplist(e).pointee.node(atRank: r + 1)!
        return body(SkipList.Node.member(x), SkipList.Node.score(x))
    }

    // MARK: - Pop (ZPOPMIN/ZPOPMAX, ZMPOP, and the blocking variants)

    /// Removes up to `count` members from the low (or high, `max`) end, calling `body` with
    /// each before it goes; returns how many were popped.
    @discardableResult
    public static func pop(_ e: Entry, max: Bool, count: Int, _ body: (ByteView, Double) -> Void) -> Int {
        let n = Swift.min(count, self.count(e))
        if n <= 0 { return 0 }
        let total = self.count(e)
        if e.encoding == .listpack {
            if max {
                forEach(e, from: total - n, to: total - 1, reverse: true, body)
                removeRanks(e, from: total - n, to: total - 1)
            } else {
                forEach(e, from: 0, to: n - 1, reverse: false, body)
                removeRanks(e, from: 0, to: n - 1)
            }
            return n
        }
        let zs = skiplist(e)
        for _ in 0..<n {
            let x = max ? zs.pointee.tail! : zs.pointee.first!
            body(SkipList.Node.member(x), SkipList.Node.score(x))
            zs.pointee.delete(x)
        }
        return n
    }

    // MARK: - Scan

    /// One ZSCAN step: calls `body(member, score)` for the bucket(s) at `cursor` and returns
    /// the next cursor. A listpack is returned whole with cursor 0, as Redis does.
    public static func scan(_ e: Entry, cursor: UInt64, _ body: (ByteView, Double) -> Void) -> UInt64 {
        if e.encoding == .listpack {
            forEach(e, from: 0, to: count(e) - 1, reverse: false, body)
            return 0
        }
        return skiplist(e).pointee.dict.scan(cursor: cursor) { n in
            body(n.key, SkipList.Node.score(n.raw))
        }
    }

    /// A random rank (ZRANDMEMBER).
    public static func randomRank(_ e: Entry) -> Int {
        Int(UInt64.random(in: 0..<UInt64(count(e))))
    }

    /// Checks the skiplist's links and spans (tests and DEBUG).
    public static func validate(_ e: Entry) -> Bool {
        if e.encoding == .listpack {
            let lp = PackedList(raw: e.valuePointer)
            var prev: (Double, [UInt8])? = nil
            var ok = true
            forEach(e, from: 0, to: lp.count / 2 - 1, reverse: false) { m, s in
                if let p = prev {
                    let cmp = p.1.withUnsafeBufferPointer { ByteView($0.baseAddress ?? m.base, $0.count).compare(m) }
                    if p.0 > s || (p.0 == s && cmp >= 0) { ok = false }
                }
                prev = (s, m.array)
            }
            return ok
        }
        return skiplist(e).pointee.validate()
    }
}
