/*
 * SkipList: the large encoding of a sorted set ("skiplist" in OBJECT ENCODING) — Redis's
 * zskiplist plus the member -> score hash table, in manually managed memory.
 *
 * Why a skiplist: ZRANK, ZRANGE by rank and range deletions need O(log n) access by
 * position as well as by (score, member) order; a skiplist whose forward links carry a
 * `span` (how many level-0 nodes they jump) gives both, as in Redis (William Pugh's
 * structure with p = 0.25, at most 32 levels, repeated scores ordered by member bytes, and
 * a backward link on level 0 for reverse walks).
 *
 * Why one block per member: each node *is* the Dict entry for its member (an `Entry`
 * block: the member is the entry's key), so ZSCORE is one hash lookup and a member costs
 * one allocation instead of Redis's node + sds + dictEntry. The Entry header's fields are
 * reused (nothing else ever sees these entries):
 *
 *     0  next       Dict bucket chain
 *     8  backward   previous node on level 0 (Entry.expireAt's slot), nil for the first
 *    16  score      Double bit pattern (Entry.payload)
 *    24  keyLength  member length
 *    28  level      number of levels of this node (1...32)
 *    38  member bytes, padding to 8, then `level` pairs (forward pointer, span: Int)
 *
 * The header node is the same shape with an empty member and 32 levels.
 * SkipList itself (dict + header + tail + length + level) lives in one malloc'd struct
 * that the key's Entry points at.
 */
import CTandem
import Platform

public struct SkipList: ~Copyable {
    public static let maxLevel = 32
    /// Redis's ZSKIPLIST_P = 0.25, as the 16-bit threshold it compares random() against.
    static let promoteThreshold: UInt64 = 0xFFFF / 4

    public var dict: Dict
    public var header: UnsafeMutableRawPointer
    public var tail: UnsafeMutableRawPointer?
    public var length: Int = 0
    public var level: Int = 1

    /// Per-process seed for the member tables (hash flooding resistance).
    static let seed: UInt64 = UInt64.random(in: 1...UInt64.max)

    // MARK: - Creation and teardown

    /// A new empty skiplist in its own malloc'd block.
    public static func create() -> UnsafeMutablePointer<SkipList> {
        let p = tandem_malloc(MemoryLayout<SkipList>.stride)!.bindMemory(to: SkipList.self, capacity: 1)
        let header = Node.allocate(member: ByteView(UnsafePointer(bitPattern: 1)!, 0), score: 0, level: maxLevel)
        p.initialize(to: SkipList(dict: Dict(seed: seed ^ UInt64(UInt(bitPattern: p))), header: header, tail: nil))
        return p
    }

    /// Frees every node, the table and the struct.
    public static func destroy(_ p: UnsafeMutablePointer<SkipList>) {
        p.pointee.dict.removeAll { e in tandem_free(e.raw) }
        tandem_free(p.pointee.header)
        p.deinitialize(count: 1)
        tandem_free(p)
    }

    // MARK: - Nodes

    public enum Node {
        @inline(__always)
        static func levelsOffset(_ keyLength: Int) -> Int { (Entry.headerSize + keyLength + 7) & ~7 }

        static func allocate(member: ByteView, score: Double, level: Int) -> UnsafeMutableRawPointer {
            let off = levelsOffset(member.count)
            let e = Entry.allocate(key: member, valueCapacity: off - Entry.headerSize - member.count + level * 16)
            let n = e.raw
            n.storeBytes(of: score.bitPattern, toByteOffset: 16, as: UInt64.self)
            n.storeBytes(of: UInt32(level), toByteOffset: 28, as: UInt32.self)
            memset(n + off, 0, level * 16)
            return n
        }

        @inline(__always)
        public static func score(_ n: UnsafeMutableRawPointer) -> Double {
            Double(bitPattern: n.load(fromByteOffset: 16, as: UInt64.self))
        }

        @inline(__always)
        static func setScore(_ n: UnsafeMutableRawPointer, _ s: Double) {
            n.storeBytes(of: s.bitPattern, toByteOffset: 16, as: UInt64.self)
        }

        @inline(__always)
        public static func member(_ n: UnsafeMutableRawPointer) -> ByteView { Entry(n).key }

        @inline(__always)
        static func level(_ n: UnsafeMutableRawPointer) -> Int { Int(n.load(fromByteOffset: 28, as: UInt32.self)) }

        @inline(__always)
        public static func backward(_ n: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer? {
            n.load(fromByteOffset: 8, as: UnsafeMutableRawPointer?.self)
        }

        @inline(__always)
        static func setBackward(_ n: UnsafeMutableRawPointer, _ b: UnsafeMutableRawPointer?) {
            n.storeBytes(of: b, toByteOffset: 8, as: UnsafeMutableRawPointer?.self)
        }

        @inline(__always)
        static func slot(_ n: UnsafeMutableRawPointer, _ i: Int) -> UnsafeMutableRawPointer {
            n + levelsOffset(Int(n.load(fromByteOffset: 24, as: UInt32.self))) + i * 16
        }

        @inline(__always)
        public static func forward(_ n: UnsafeMutableRawPointer, _ i: Int) -> UnsafeMutableRawPointer? {
            slot(n, i).load(as: UnsafeMutableRawPointer?.self)
        }

        @inline(__always)
        static func setForward(_ n: UnsafeMutableRawPointer, _ i: Int, _ f: UnsafeMutableRawPointer?) {
            slot(n, i).storeBytes(of: f, as: UnsafeMutableRawPointer?.self)
        }

        @inline(__always)
        static func span(_ n: UnsafeMutableRawPointer, _ i: Int) -> Int { slot(n, i).load(fromByteOffset: 8, as: Int.self) }

        @inline(__always)
        static func setSpan(_ n: UnsafeMutableRawPointer, _ i: Int, _ s: Int) {
            slot(n, i).storeBytes(of: s, toByteOffset: 8, as: Int.self)
        }
    }

    /// (score, member) order: by score, then member bytes (memcmp, shorter first on a tie).
    @inline(__always)
    static func precedes(_ n: UnsafeMutableRawPointer, _ score: Double, _ member: ByteView) -> Bool {
        let s = Node.score(n)
        if s != score { return s < score }
        return Node.member(n).compare(member) < 0
    }

    @inline(__always)
    mutating func randomLevel() -> Int {
        var l = 1
        while l < Self.maxLevel && (dict.random() & 0xFFFF) < Self.promoteThreshold { l += 1 }
        return l
    }

    // MARK: - Insert and delete

    /// Adds `member` (absent) with `score`; returns its node.
    @discardableResult
    public mutating func insert(_ member: ByteView, _ score: Double) -> UnsafeMutableRawPointer {
        let n = Node.allocate(member: member, score: score, level: randomLevel())
        link(n)
        dict.insert(Entry(n))
        return n
    }

    /// Links node `x` (level already chosen) at its (score, member) position.
    mutating func link(_ x: UnsafeMutableRawPointer) {
        let score = Node.score(x)
        let member = Node.member(x)
        let lvl = Node.level(x)
        withUnsafeTemporaryAllocation(of: UnsafeMutableRawPointer.self, capacity: Self.maxLevel) { update in
            withUnsafeTemporaryAllocation(of: Int.self, capacity: Self.maxLevel) { rank in
                var h = header
                var i = level - 1
                while i >= 0 {
                    rank[i] = i == level - 1 ? 0 : rank[i + 1]
                    while let f = Node.forward(h, i), Self.precedes(f, score, member) {
                        rank[i] += Node.span(h, i)
                        h = f
                    }
                    update[i] = h
                    i -= 1
                }
                if lvl > level {
                    for j in level..<lvl {
                        rank[j] = 0
                        update[j] = header
                        Node.setSpan(header, j, length)
                    }
                    level = lvl
                }
                for j in 0..<lvl {
                    Node.setForward(x, j, Node.forward(update[j], j))
                    Node.setForward(update[j], j, x)
                    Node.setSpan(x, j, Node.span(update[j], j) - (rank[0] - rank[j]))
                    Node.setSpan(update[j], j, rank[0] - rank[j] + 1)
                }
                if lvl < level {
                    for j in lvl..<level { Node.setSpan(update[j], j, Node.span(update[j], j) + 1) }
                }
                Node.setBackward(x, update[0] == header ? nil : update[0])
                if let f = Node.forward(x, 0) { Node.setBackward(f, x) } else { tail = x }
                length += 1
            }
        }
    }

    /// Unlinks node `x` from the list (not from the dict).
    mutating func unlink(_ x: UnsafeMutableRawPointer) {
        let score = Node.score(x)
        let member = Node.member(x)
        withUnsafeTemporaryAllocation(of: UnsafeMutableRawPointer.self, capacity: Self.maxLevel) { update in
            var h = header
            var i = level - 1
            while i >= 0 {
                while let f = Node.forward(h, i), f != x, Self.precedes(f, score, member) { h = f }
                update[i] = h
                i -= 1
            }
            unlink(x, update)
        }
    }

    mutating func unlink(_ x: UnsafeMutableRawPointer, _ update: UnsafeMutableBufferPointer<UnsafeMutableRawPointer>) {
        for i in 0..<level {
            if Node.forward(update[i], i) == x {
                Node.setSpan(update[i], i, Node.span(update[i], i) + Node.span(x, i) - 1)
                Node.setForward(update[i], i, Node.forward(x, i))
            } else {
                Node.setSpan(update[i], i, Node.span(update[i], i) - 1)
            }
        }
        if let f = Node.forward(x, 0) { Node.setBackward(f, Node.backward(x)) } else { tail = Node.backward(x) }
        while level > 1 && Node.forward(header, level - 1) == nil { level -= 1 }
        length -= 1
    }

    /// Removes and frees node `x` (from the list and the dict).
    public mutating func delete(_ x: UnsafeMutableRawPointer) {
        unlink(x)
        _ = dict.remove(Node.member(x))
        tandem_free(x)
    }

    /// Moves node `x` to `score`, keeping its block (Redis's zslUpdateScore).
    public mutating func updateScore(_ x: UnsafeMutableRawPointer, _ score: Double) {
        let prevOK = Node.backward(x).map { Node.score($0) < score } ?? true
        let nextOK = Node.forward(x, 0).map { Node.score($0) > score } ?? true
        if prevOK && nextOK {
            Node.setScore(x, score)
            return
        }
        unlink(x)
        Node.setScore(x, score)
        link(x)
    }

    // MARK: - Lookup

    /// The node of `member`, or nil.
    @inline(__always)
    public mutating func find(_ member: ByteView) -> UnsafeMutableRawPointer? {
        dict.find(member)?.raw
    }

    @inline(__always)
    public var first: UnsafeMutableRawPointer? { Node.forward(header, 0) }

    /// 1-based rank of node `x`.
    public func rank(of x: UnsafeMutableRawPointer) -> Int {
        let score = Node.score(x)
        let member = Node.member(x)
        var r = 0
        var h = header
        var i = level - 1
        while i >= 0 {
            while let f = Node.forward(h, i), f == x || Self.precedes(f, score, member) {
                r += Node.span(h, i)
                h = f
                if f == x { return r }
            }
            i -= 1
        }
        return r
    }

    /// The node at 1-based `rank` (1...length).
    public func node(atRank rank: Int) -> UnsafeMutableRawPointer? {
        var traversed = 0
        var h = header
        var i = level - 1
        while i >= 0 {
            while let f = Node.forward(h, i), traversed + Node.span(h, i) <= rank {
                traversed += Node.span(h, i)
                h = f
            }
            if traversed == rank { return h == header ? nil : h }
            i -= 1
        }
        return nil
    }

    /// The first node for which `before` is false (nodes are ordered so that `before` holds
    /// for a prefix), or nil.
    public func firstWhere(notBefore before: (UnsafeMutableRawPointer) -> Bool) -> UnsafeMutableRawPointer? {
        var h = header
        var i = level - 1
        while i >= 0 {
            while let f = Node.forward(h, i), before(f) { h = f }
            i -= 1
        }
        return Node.forward(h, 0)
    }

    /// The last node for which `within` holds (`within` holds for a prefix), or nil.
    public func lastWhere(_ within: (UnsafeMutableRawPointer) -> Bool) -> UnsafeMutableRawPointer? {
        var h = header
        var i = level - 1
        while i >= 0 {
            while let f = Node.forward(h, i), within(f) { h = f }
            i -= 1
        }
        return h == header ? nil : h
    }

    /// Checks every link and span (tests).
    public func validate() -> Bool {
        var n = first
        var count = 0
        var prev: UnsafeMutableRawPointer? = nil
        while let x = n {
            count += 1
            if Node.backward(x) != prev { return false }
            if let p = prev, !Self.precedes(p, Node.score(x), Node.member(x)) { return false }
            if rank(of: x) != count { return false }
            prev = x
            n = Node.forward(x, 0)
        }
        return count == length && tail == prev && dict.count == length
    }
}
