/*
 * Dict: the keyspace hash table. Chained buckets, power-of-two sizes, two tables during an
 * incremental rehash — the design of Redis's dict.c, for the same reasons:
 *
 *  - Incremental rehashing. Growing a table of millions of keys in one go would stall every
 *    client for the duration. Instead a second table is allocated and buckets move over a
 *    few at a time: one bucket on every lookup/insert/delete, and ~1 ms per cron tick
 *    (`activerehashing`). Lookups consult both tables while a rehash is in progress.
 *
 *  - Resizing pauses while a fork child exists. A rehash writes to every bucket and entry it
 *    moves; with a snapshot child alive each touched page would be copied (copy-on-write).
 *    The server sets `resizeAllowed = false` while a child runs; the table then only grows
 *    when it is five times overloaded, as Redis does (dict_force_resize_ratio), never
 *    shrinks, and a rehash already under way only moves on when the sizes differ five times.
 *
 *  - SCAN's guarantee. Buckets are visited in reverse-binary cursor order, which stays
 *    correct when the table grows or shrinks between calls: every key present for the whole
 *    iteration is returned at least once (see `scan`).
 *
 * Entries are `Entry` blocks; the bucket chain goes through each entry's `next` field, so
 * the table itself is just two arrays of pointers. The hash is XXH3 with a per-process
 * random seed (hash flooding resistance; Redis uses SipHash for the same purpose).
 */
import CTandem
import Platform

public typealias Slot = UnsafeMutablePointer<UnsafeMutableRawPointer?>

public struct Dict: ~Copyable {
    static let initialSize = 4
    static let forceResizeRatio = 5

    var table0: Slot? = nil
    var size0: Int = 0
    var used0: Int = 0
    var table1: Slot? = nil
    var size1: Int = 0
    var used1: Int = 0
    /// Next bucket of table0 to move, -1 when not rehashing.
    var rehashIndex: Int = -1
    /// Which table the last `findSlot` found its key in (for `unlink`'s counters).
    var foundInTable1 = false
    let seed: UInt64
    var rng: UInt64

    /// Cleared while a fork child exists (see the comment at the top). The process-wide switch
    /// `tandem_set_resize_allowed` does the same for every table at once, including the tables
    /// nested inside hash, set and sorted-set values.
    public var resizeAllowed = true
    /// A database's own table: it does not grow past maxmemory (tandem_expand_limit) while its
    /// load factor is bearable, so a rehash does not make the server evict (Redis's
    /// dictExpandAllowed, set for the keyspace tables only).
    public var growthLimitedByMemory = false

    public init(seed: UInt64) {
        self.seed = seed
        self.rng = seed | 1
    }

    public var count: Int { used0 + used1 }
    public var isRehashing: Bool { rehashIndex != -1 }
    /// Total bucket slots (both tables), for INFO/DEBUG and tests.
    public var bucketCount: Int { size0 + size1 }

    @inline(__always)
    public func hash(_ key: ByteView) -> UInt64 {
        tandem_hash(key.base, key.count, seed)
    }

    // MARK: - Lookup

    /// The slot that points at `key`'s entry (a bucket head or the previous entry's `next`),
    /// or nil when the key is absent. Valid until the next mutation of the table.
    @inline(__always)
    public mutating func findSlot(_ key: ByteView) -> Slot? {
        if count == 0 { return nil }
        if isRehashing { rehash(steps: 1) }
        let h = hash(key)
        foundInTable1 = false
        if let s = findSlot(key, h, table0, size0) { return s }
        if isRehashing, let s = findSlot(key, h, table1, size1) {
            foundInTable1 = true
            return s
        }
        return nil
    }

    @inline(__always)
    func findSlot(_ key: ByteView, _ h: UInt64, _ table: Slot?, _ size: Int) -> Slot? {
        guard let table, size > 0 else { return nil }
        var slot = table + Int(h & UInt64(size - 1))
        while let p = slot.pointee {
            let e = Entry(p)
            if e.keyLength == key.count && ByteView.bytesEqual(p + Entry.headerSize, key.base, key.count) {
                return slot
            }
            slot = p.assumingMemoryBound(to: UnsafeMutableRawPointer?.self)
        }
        return nil
    }

    @inline(__always)
    public mutating func find(_ key: ByteView) -> Entry? {
        guard let s = findSlot(key), let p = s.pointee else { return nil }
        return Entry(p)
    }

    // MARK: - Insert, replace, remove

    /// Links a new entry whose key is not in the table.
    public mutating func insert(_ e: Entry) {
        if isRehashing { rehash(steps: 1) }
        expandIfNeeded()
        let h = hash(e.key)
        if isRehashing {
            let b = table1! + Int(h & UInt64(size1 - 1))
            e.next = b.pointee
            b.pointee = e.raw
            used1 += 1
        } else {
            let b = table0! + Int(h & UInt64(size0 - 1))
            e.next = b.pointee
            b.pointee = e.raw
            used0 += 1
        }
    }

    /// Puts `new` in place of the entry `slot` points at (after a realloc moved it, or to
    /// swap in a new value block). `new` must carry the same key.
    @inline(__always)
    public func replace(at slot: Slot, with new: Entry) {
        if slot.pointee != new.raw {
            new.next = Entry(slot.pointee!).next
            slot.pointee = new.raw
        }
    }

    /// Unlinks and returns the entry `slot` points at; `slot` must come from the last
    /// `findSlot`. The caller frees the entry.
    @inline(__always)
    public mutating func unlink(at slot: Slot) -> Entry {
        let e = Entry(slot.pointee!)
        slot.pointee = e.next
        e.next = nil
        if foundInTable1 { used1 -= 1 } else { used0 -= 1 }
        return e
    }

    /// Removes `key`; returns its entry (to be freed by the caller) or nil.
    public mutating func remove(_ key: ByteView) -> Entry? {
        guard let s = findSlot(key) else { return nil }
        return unlink(at: s)
    }

    /// Calls `body` on every entry chained from `table` (which may be nil), then frees it.
    static func drain(_ table: Slot?, _ size: Int, _ body: (Entry) -> Void) {
        guard let table else { return }
        var i = 0
        while i < size {
            var p = table[i]
            while let cur = p {
                let e = Entry(cur)
                p = e.next
                body(e)
            }
            i += 1
            if i & 4095 == 0 { tandem_lazyfree_progress() }
        }
        tandem_free(table)
    }

    /// Unlinks every entry, calling `body` on each (to free it), and frees the tables.
    /// Allocates nothing (the lazy-free thread runs it for the tables inside values).
    public mutating func removeAll(_ body: (Entry) -> Void) {
        Self.drain(table0, size0, body)
        Self.drain(table1, size1, body)
        forgetTables()
    }

    /// Leaves the table empty without freeing anything (the tables were freed or handed over).
    mutating func forgetTables() {
        table0 = nil
        table1 = nil
        size0 = 0
        size1 = 0
        used0 = 0
        used1 = 0
        rehashIndex = -1
    }

    /// Calls `body` on every entry. `body` must not change the table.
    public func forEach(_ body: (Entry) -> Void) {
        for (table, size) in [(table0, size0), (table1, size1)] {
            guard let table else { continue }
            for i in 0..<size {
                var p = table[i]
                while let cur = p {
                    let e = Entry(cur)
                    p = e.next
                    body(e)
                }
            }
        }
    }

    // MARK: - Resizing

    static func nextPower(_ n: Int) -> Int {
        var s = initialSize
        while s < n { s *= 2 }
        return s
    }

    mutating func expandIfNeeded() {
        if isRehashing { return }
        if size0 == 0 {
            startResize(to: Self.initialSize)
            return
        }
        let allowed = resizeAllowed && tandem_resize_allowed() != 0
        if used0 >= size0 && (allowed || used0 / size0 > Self.forceResizeRatio) {
            let newSize = Self.nextPower(used0 + 1)
            if growthLimitedByMemory && !growthFitsInMemory(newSize) { return }
            startResize(to: newSize)
        }
    }

    /// Whether a bucket array of `size` fits under the memory limit, or the table is too full
    /// (load factor over 1.618) to wait.
    func growthFitsInMemory(_ size: Int) -> Bool {
        let limit = tandem_expand_limit()
        if limit == 0 || used0 * 1000 > size0 * 1618 { return true }
        return tandem_used_memory() + size * MemoryLayout<UnsafeMutableRawPointer?>.stride <= limit
    }

    /// Shrinks a table filled under 10% (cron calls this when no child exists).
    public mutating func shrinkIfSparse() {
        if isRehashing || !resizeAllowed || tandem_resize_allowed() == 0 || size0 <= Self.initialSize { return }
        if used0 * 100 / size0 < 10 {
            startResize(to: Self.nextPower(Swift.max(used0, Self.initialSize)))
        }
    }

    /// Allocates the new table; buckets then move incrementally. The first table is
    /// allocated directly.
    mutating func startResize(to size: Int) {
        if size == size0 { return }
        let t = tandem_malloc(size * MemoryLayout<UnsafeMutableRawPointer?>.stride)!
            .bindMemory(to: UnsafeMutableRawPointer?.self, capacity: size)
        t.initialize(repeating: nil, count: size)
        if table0 == nil {
            table0 = t
            size0 = size
            return
        }
        table1 = t
        size1 = size
        used1 = 0
        rehashIndex = 0
    }

    /// While a fork child exists a rehash only moves on when the two tables differ five times or
    /// more in size (Redis 7.0's DICT_RESIZE_AVOID): a modest resize can wait for the child, a
    /// table far too big or too small for its contents cannot.
    static func ratioIsExtreme(_ a: Int, _ b: Int) -> Bool {
        max(a, b) / max(min(a, b), 1) >= forceResizeRatio
    }

    /// Moves up to `steps` non-empty buckets to the new table. Returns true while more remain
    /// that may move now (false while a fork child holds a modest rehash back).
    @discardableResult
    public mutating func rehash(steps: Int) -> Bool {
        guard isRehashing, let t0 = table0, let t1 = table1 else { return false }
        if !(resizeAllowed && tandem_resize_allowed() != 0) && !Self.ratioIsExtreme(size0, size1) { return false }
        var n = steps
        var emptyVisits = steps * 10
        let mask1 = UInt64(size1 - 1)
        while n > 0 && used0 != 0 {
            while t0[rehashIndex] == nil {
                rehashIndex += 1
                emptyVisits -= 1
                if emptyVisits == 0 { return true }
            }
            var p = t0[rehashIndex]
            while let cur = p {
                let e = Entry(cur)
                p = e.next
                let b = t1 + Int(hash(e.key) & mask1)
                e.next = b.pointee
                b.pointee = cur
                used0 -= 1
                used1 += 1
            }
            t0[rehashIndex] = nil
            rehashIndex += 1
            n -= 1
        }
        if used0 == 0 {
            tandem_free(t0)
            table0 = table1
            size0 = size1
            used0 = used1
            table1 = nil
            size1 = 0
            used1 = 0
            rehashIndex = -1
            return false
        }
        return true
    }

    // MARK: - SCAN

    @inline(__always)
    static func reverseBits(_ v: UInt64) -> UInt64 {
        var x = v
        x = ((x >> 1) & 0x5555_5555_5555_5555) | ((x & 0x5555_5555_5555_5555) << 1)
        x = ((x >> 2) & 0x3333_3333_3333_3333) | ((x & 0x3333_3333_3333_3333) << 2)
        x = ((x >> 4) & 0x0F0F_0F0F_0F0F_0F0F) | ((x & 0x0F0F_0F0F_0F0F_0F0F) << 4)
        return x.byteSwapped
    }

    @inline(__always)
    static func emit(_ table: Slot, _ index: Int, _ body: (Entry) -> Void) {
        var p = table[index]
        while let cur = p {
            let e = Entry(cur)
            p = e.next
            body(e)
        }
    }

    /// Visits the bucket(s) at `cursor` and returns the next cursor (0 when done).
    ///
    /// The cursor counts with its bits reversed, so it walks the high bits of the bucket index
    /// first. When the table doubles, bucket i splits into i and i+size, which the reversed
    /// increment visits consecutively; when it halves, buckets merge into ones not yet visited.
    /// Either way a key that stays in the table the whole time is reported at least once.
    /// While rehashing, the small table's bucket and every bucket of the big table that
    /// expands from it are visited together.
    public func scan(cursor: UInt64, _ body: (Entry) -> Void) -> UInt64 {
        if count == 0 { return 0 }
        var v = cursor
        if !isRehashing {
            guard let t0 = table0 else { return 0 }
            let m0 = UInt64(size0 - 1)
            Self.emit(t0, Int(v & m0), body)
            v |= ~m0
            v = Self.reverseBits(Self.reverseBits(v) &+ 1)
            return v
        }
        var (small, smallSize, big, bigSize) = (table0!, size0, table1!, size1)
        if smallSize > bigSize { (small, smallSize, big, bigSize) = (big, bigSize, small, smallSize) }
        let m0 = UInt64(smallSize - 1)
        let m1 = UInt64(bigSize - 1)
        Self.emit(small, Int(v & m0), body)
        repeat {
            Self.emit(big, Int(v & m1), body)
            v |= ~m1
            v = Self.reverseBits(Self.reverseBits(v) &+ 1)
        } while v & (m0 ^ m1) != 0
        return v
    }

    // MARK: - Random

    @inline(__always)
    public mutating func random() -> UInt64 {
        // xorshift64*: fast, good enough for sampling, no global state.
        rng ^= rng >> 12
        rng ^= rng << 25
        rng ^= rng >> 27
        return rng &* 2_685_821_657_736_338_717
    }

    /// A random entry, or nil when empty — Redis's dictGetFairRandomKey: up to 20 entries
    /// from consecutive buckets at a random place (a chain is sampled whole, reservoir-style, as in
    /// Redis 7.0.12+), one of them picked uniformly. Picking a
    /// bucket and then a chain member (`bucketRandomEntry`) favours members of short chains;
    /// on a small table this sees every entry, so SRANDMEMBER, HRANDFIELD and RANDOMKEY are
    /// uniform there and nearly so on big ones.
    public mutating func randomEntry() -> Entry? {
        if count == 0 { return nil }
        if isRehashing { rehash(steps: 1) }
        let wanted = 20
        let total = size0 + (isRehashing ? size1 : 0)
        // A sparse table (a big one emptied while a fork child forbade shrinking) holds a few
        // chains far apart, and any window sees one chain at most: pick a chain, then accept
        // a position in it with probability length/16, so members of long and short chains come
        // out alike (every member of a chain longer than 16 is still reachable).
        if count * 8 < total { return chainFairRandomEntry() }
        return withUnsafeTemporaryAllocation(of: UnsafeMutableRawPointer.self, capacity: wanted) { found in
            var n = 0
            var index = Int(random() % UInt64(total))
            var visited = 0
            // Bounded work on a sparse table: at most 10 buckets per wanted entry.
            var seen = 0
            while n < wanted && visited < total && visited < wanted * 10 {
                var p = index < size0 ? table0![index] : table1![index - size0]
                // The whole chain is sampled even past `wanted` (reservoir sampling keeps a
                // uniform `wanted` of everything seen), or members deep in a long chain could
                // never come out.
                while let cur = p {
                    seen += 1
                    if n < wanted {
                        found[n] = cur
                        n += 1
                    } else {
                        let j = Int(random() % UInt64(seen))
                        if j < wanted { found[j] = cur }
                    }
                    p = Entry(cur).next
                }
                index = index + 1 == total ? 0 : index + 1
                visited += 1
            }
            if n == 0 { return bucketRandomEntry() }
            return Entry(found[Int(random() % UInt64(n))])
        }
    }

    /// The first entry of a random non-empty bucket (the table must not be empty).
    mutating func randomBucketHead() -> UnsafeMutableRawPointer {
        var head: UnsafeMutableRawPointer?
        if isRehashing {
            repeat {
                let h = rehashIndex + Int(random() % UInt64(size0 + size1 - rehashIndex))
                head = h >= size0 ? table1![h - size0] : table0![h]
            } while head == nil
        } else {
            repeat {
                head = table0![Int(random() & UInt64(size0 - 1))]
            } while head == nil
        }
        return head!
    }

    /// Rejection sampling over chain lengths (see randomEntry), bounded tries.
    mutating func chainFairRandomEntry() -> Entry? {
        for _ in 0..<64 {
            let head = randomBucketHead()
            var length = 0
            var p: UnsafeMutableRawPointer? = head
            while let cur = p {
                length += 1
                p = Entry(cur).next
            }
            let j = Int(random() % UInt64(max(16, length)))
            if j >= length { continue }
            p = head
            for _ in 0..<j { p = Entry(p!).next }
            return Entry(p!)
        }
        return bucketRandomEntry()
    }

    /// A random bucket that holds entries, then a random member of its chain.
    public mutating func bucketRandomEntry() -> Entry? {
        if count == 0 { return nil }
        if isRehashing { rehash(steps: 1) }
        let head: UnsafeMutableRawPointer? = randomBucketHead()
        var length = 0
        var p = head
        while let cur = p {
            length += 1
            p = Entry(cur).next
        }
        var pick = Int(random() % UInt64(length))
        p = head
        while pick > 0 {
            p = Entry(p!).next
            pick -= 1
        }
        return Entry(p!)
    }
}

extension Dict {
    /// Grows the table ahead of a bulk insert (DEBUG POPULATE, RDB loading).
    public mutating func reserve(_ n: Int) {
        if isRehashing || n <= size0 { return }
        if table0 == nil {
            startResize(to: Self.nextPower(n))
        } else if resizeAllowed {
            startResize(to: Self.nextPower(n))
        }
    }
}

// MARK: - DEBUG HTSTATS

extension Dict {
    /// Redis's dictGetStats text: per table its size, elements, used buckets and chain lengths;
    /// the second table appears while rehashing, as the "rehashing target".
    public func statsReport() -> String {
        if count == 0 { return Self.emptyStatsReport }
        var out = Self.tableReport(0, "main hash table", table0, size0, used0)
        if isRehashing { out += Self.tableReport(1, "rehashing target", table1, size1, used1) }
        return out
    }

    public static let emptyStatsReport = "Hash table 0 stats (main hash table):\nNo stats available for empty dictionaries\n"

    static func tableReport(_ n: Int, _ role: String, _ table: Slot?, _ size: Int, _ used: Int) -> String {
        var out = "Hash table \(n) stats (\(role)):\n table size: \(size)\n number of elements: \(used)\n"
        guard let table, used > 0 else { return out }
        var slots = 0, longest = 0, total = 0
        var lengths = [Int](repeating: 0, count: 50)
        for b in 0..<size {
            var length = 0
            var e = table[b]
            while let raw = e {
                length += 1
                e = Entry(raw).next
            }
            lengths[min(length, 49)] += 1
            if length > 0 { slots += 1 }
            longest = max(longest, length)
            total += length
        }
        let counted = slots == 0 ? 0 : Double(total) / Double(slots)
        out += " different slots: \(slots)\n max chain length: \(longest)\n"
        out += " avg chain length (counted): \(Self.twoDecimals(counted))\n"
        out += " avg chain length (computed): \(Self.twoDecimals(Double(used) / Double(max(slots, 1))))\n"
        out += " Chain length distribution:\n"
        for (length, buckets) in lengths.enumerated() where buckets > 0 {
            out += "   \(length): \(buckets) (\(Self.twoDecimals(Double(buckets) * 100 / Double(size)))%)\n"
        }
        return out
    }

    static func twoDecimals(_ v: Double) -> String {
        let hundredths = Int((v * 100).rounded())
        let frac = hundredths % 100
        return "\(hundredths / 100)." + (frac < 10 ? "0" : "") + "\(frac)"
    }
}

extension Entry {
    /// DEBUG HTSTATS-KEY: the statistics of a hash, set or sorted set's own table; nil for a
    /// value in another encoding.
    public var hashTableStats: String? {
        switch (type, encoding) {
        case (.string, _), (.list, _), (.stream, _), (_, .listpack), (_, .intset): return nil
        case (.zset, _): return valuePointer.assumingMemoryBound(to: SkipList.self).pointee.dict.statsReport()
        default: return valuePointer.assumingMemoryBound(to: Dict.self).pointee.statsReport()
        }
    }
}
