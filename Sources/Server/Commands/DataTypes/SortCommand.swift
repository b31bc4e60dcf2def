/*
 * SORT and SORT_RO — Redis 7.0's sort.c, replies and errors byte for byte.
 *
 *     SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA] [STORE dst]
 *
 * The order of work follows Redis exactly, because it decides which error a command gets
 * and what side effects are visible:
 *   1. options are parsed left to right (a bad LIMIT number or an unknown word stops there);
 *   2. the key is looked up for reading (WRONGTYPE unless list, set or sorted set; a missing
 *      key sorts as an empty list);
 *   3. a sorted set is converted to the skiplist encoding — even by SORT_RO, as Redis does;
 *   4. a BY pattern without '*' ("nosort") skips sorting: lists and sorted sets keep their
 *      order (DESC walks them backwards, LIMIT reads only the range), sets keep their
 *      iteration order — except with STORE, where Redis sorts the set ALPHA so the stored
 *      result is deterministic;
 *   5. weights are read (BY pattern lookups count keyspace hits/misses, like every
 *      lookupKeyRead in Redis), then sorted: a stable merge sort like glibc's qsort, or
 *      Redis's partial quicksort (pqsort, ported below) when BY and LIMIT are both given —
 *      the two differ in the order of equal elements, which is visible with ALPHA BY ties.
 *
 * Comparison as Redis's sortCompare: numeric by score, ties by the element's bytes; ALPHA
 * compares as strcoll (C locale: bytes up to the first NUL) when replying and as memcmp
 * then length when storing; with ALPHA BY, elements whose weight is missing come first.
 *
 * Elements and ALPHA weights are copied into one temporary byte arena for the command (the
 * lookups may delete expired keys, and STORE may replace the sorted key itself).
 */
import CTandem
import Glibc
import Keyspace
import Platform
import RESP

extension Server {
    /// One element to sort: its bytes in the arena, its numeric weight, and its ALPHA weight
    /// (cmpLength -1 = none, which sorts first).
    struct SortItem {
        var offset: Int
        var length: Int
        var score: Double
        var cmpOffset: Int
        var cmpLength: Int
    }

    /// What sortCompare reads from Redis's globals.
    struct SortOrder {
        var desc: Bool
        var alpha: Bool
        var byPattern: Bool
        var store: Bool
    }

    /// SORT / SORT_RO (`readOnly`: no STORE option).
    mutating func sortCommand(_ c: ClientRef, readOnly: Bool) {
        let argc = c.pointee.argc
        var desc = false
        var alpha = false
        var limitStart: Int64 = 0
        var limitCount: Int64 = -1
        var dontsort = false
        var sortByIndex = -1
        var storeIndex = -1
        var getIndexes: [Int] = []

        // 1. Options. BY and GET read keys their patterns name: the user needs read access to
        // every key (Redis's user_has_full_key_access).
        var fullAccess: Bool? = nil
        func fullReadAccess() -> Bool {
            if let fullAccess { return fullAccess }
            let known = !c.pointee.checkAccess || hasUnrestrictedKeyAccess(c, c.pointee.lastCommand, .read)
            fullAccess = known
            return known
        }
        var j = 2
        while j < argc {
            let a = c.pointee.arg(j)
            let left = argc - j - 1
            if a.equalsLowercase("asc") {
                desc = false
            } else if a.equalsLowercase("desc") {
                desc = true
            } else if a.equalsLowercase("alpha") {
                alpha = true
            } else if a.equalsLowercase("limit") && left >= 2 {
                guard let s = c.pointee.arg(j + 1).int64, let n = c.pointee.arg(j + 2).int64 else {
                    addNotInteger(c)
                    return
                }
                limitStart = s
                limitCount = n
                j += 2
            } else if !readOnly && a.equalsLowercase("store") && left >= 1 {
                storeIndex = j + 1
                j += 1
            } else if a.equalsLowercase("by") && left >= 1 {
                sortByIndex = j + 1
                // Redis never clears dontsort: "BY nosort BY w_*" does not sort.
                if Self.sortFindStar(c.pointee.arg(j + 1)) == nil {
                    dontsort = true
                } else if !fullReadAccess() {
                    addErrorString(c, "ERR BY option of SORT denied due to insufficient ACL permissions.")
                    return
                }
                j += 1
            } else if a.equalsLowercase("get") && left >= 1 {
                if !fullReadAccess() {
                    addErrorString(c, "ERR GET option of SORT denied due to insufficient ACL permissions.")
                    return
                }
                getIndexes.append(j + 1)
                j += 1
            } else {
                addSyntaxError(c)
                return
            }
            j += 1
        }

        // 2. The key.
        let db = c.pointee.db
        let source = lookupRead(c, c.pointee.arg(1))
        if let source, source.type != .list && source.type != .set && source.type != .zset {
            addWrongType(c)
            return
        }
        let sourceType = source?.type ?? .list

        // A set sorted without sorting (BY nosort) would store or give a script a random order:
        // Redis sorts it ALPHA then.
        var hasSortBy = sortByIndex >= 0
        if dontsort && sourceType == .set && (storeIndex >= 0 || c == scriptClient) {
            dontsort = false
            alpha = true
            hasSortBy = false
        }

        // 3. Sorted sets are converted to a skiplist, as Redis's zsetConvert does.
        if let source, sourceType == .zset { ZSetStore.convertToSkiplist(source) }

        var vectorLength: Int
        if let source {
            switch sourceType {
            case .list: vectorLength = ListStore.list(source).count
            case .set: vectorLength = SetValue(source).count
            default: vectorLength = ZSetStore.count(source)
            }
        } else {
            vectorLength = 0
        }

        // LIMIT sanity, as Redis computes it.
        var start = Int(min(max(limitStart, 0), Int64(vectorLength)))
        let count = Int(min(max(limitCount, -1), Int64(vectorLength)))
        var end = count < 0 ? vectorLength - 1 : start + count - 1
        if start >= vectorLength {
            start = vectorLength - 1
            end = vectorLength - 2
        }
        if end >= vectorLength { end = vectorLength - 1 }

        let directRange = (sourceType == .zset || sourceType == .list) && dontsort
        if directRange && (start != 0 || end != vectorLength - 1) {
            vectorLength = end - start + 1
        }

        // 4. Load the elements.
        var arena: [UInt8] = []
        var items: [SortItem] = []
        items.reserveCapacity(max(vectorLength, 0))
        func add(_ v: PackedValue) {
            v.withBytes { b in
                items.append(SortItem(offset: arena.count, length: b.count, score: 0, cmpOffset: 0, cmpLength: -1))
                if b.count > 0 { arena.append(contentsOf: UnsafeBufferPointer(start: b.base, count: b.count)) }
            }
        }
        if let source {
            switch sourceType {
            case .list:
                let list = ListStore.list(source)
                if dontsort {
                    if end >= start {
                        let total = list.count
                        if let from = list.position(ofIndex: desc ? total - start - 1 : start) {
                            list.forEach(from: from, forward: !desc, limit: vectorLength, add)
                        }
                        end -= start
                        start = 0
                    }
                } else {
                    list.forEach(add)
                }
            case .set:
                SetValue(source).forEach(add)
            default:
                if dontsort {
                    let total = ZSetStore.count(source)
                    if vectorLength > 0 {
                        let lo = desc ? total - start - vectorLength : start
                        ZSetStore.forEach(source, from: lo, to: lo + vectorLength - 1, reverse: desc) { m, _ in
                            add(.bytes(m))
                        }
                    }
                    end -= start
                    start = 0
                } else {
                    ZSetStore.forEach(source, from: 0, to: vectorLength - 1, reverse: false) { m, _ in
                        add(.bytes(m))
                    }
                }
            }
        }

        // 5. Weights, then sort.
        var conversionError = false
        var keyBuffer: [UInt8] = []
        if !dontsort {
            let sortBy = hasSortBy ? c.pointee.arg(sortByIndex) : ByteView(c.pointee.arg(0).base, 0)
            var element: [UInt8] = []
            for i in 0..<items.count {
                // A copy: the ALPHA weights below grow the arena, which can move it.
                let item = items[i]
                element.removeAll(keepingCapacity: true)
                element.append(contentsOf: arena[item.offset ..< item.offset + item.length])
                element.withUnsafeBufferPointer { eb in
                    let element = ByteView(eb.baseAddress ?? sortBy.base, eb.count)
                    if hasSortBy {
                        sortLookup(c, sortBy, element, &keyBuffer) { v in
                            guard let v else { return }
                            if alpha {
                                items[i].cmpOffset = arena.count
                                items[i].cmpLength = v.count
                                if v.count > 0 { arena.append(contentsOf: UnsafeBufferPointer(start: v.base, count: v.count)) }
                            } else if let d = Self.sortScore(v) {
                                items[i].score = d
                            } else {
                                conversionError = true
                            }
                        }
                    } else if !alpha {
                        if let d = Self.sortScore(element) {
                            items[i].score = d
                        } else {
                            conversionError = true
                        }
                    }
                }
            }
            let order = SortOrder(desc: desc, alpha: alpha, byPattern: hasSortBy, store: storeIndex >= 0)
            arena.withUnsafeBufferPointer { raw in
                let base = raw.baseAddress ?? UnsafePointer(c.pointee.arg(0).base)
                items.withUnsafeMutableBufferPointer { v in
                    let less: (SortItem, SortItem) -> Int = { a, b in Self.sortCompare(a, b, base, order) }
                    if hasSortBy && (start != 0 || end != v.count - 1) {
                        Self.pqsort(v, start, end, less)
                    } else {
                        Self.mergeSort(v, less)
                    }
                }
            }
        }

        // 6. Output.
        let getCount = getIndexes.count
        let rangeLength = end - start + 1
        let outputLength = getCount > 0 ? getCount * rangeLength : rangeLength
        if conversionError {
            addError(c, "-ERR One or more scores can't be converted into double\r\n")
            return
        }
        let empty = ByteView(c.pointee.arg(0).base, 0)
        if storeIndex < 0 {
            c.pointee.reply.appendArrayHeader(outputLength)
            if rangeLength <= 0 { return }
            arena.withUnsafeBufferPointer { a in
                let base = a.baseAddress ?? empty.base
                for k in start...end {
                    let element = ByteView(base + items[k].offset, items[k].length)
                    if getCount == 0 { c.pointee.reply.appendBulk(element) }
                    for g in getIndexes {
                        sortLookup(c, c.pointee.arg(g), element, &keyBuffer) { v in
                            if let v { c.pointee.reply.appendBulk(v) } else { c.pointee.reply.appendNull(resp3: c.pointee.resp3) }
                        }
                    }
                }
            }
            return
        }

        // STORE: the list is built whole, then replaces the destination (which may be the
        // sorted key itself).
        let list = QuickList.create(fill: settings.listMaxListpackSize)
        if rangeLength > 0 {
            arena.withUnsafeBufferPointer { a in
                let base = a.baseAddress ?? empty.base
                for k in start...end {
                    let element = ByteView(base + items[k].offset, items[k].length)
                    if getCount == 0 { list.push(element, head: false) }
                    for g in getIndexes {
                        sortLookup(c, c.pointee.arg(g), element, &keyBuffer) { v in
                            list.push(v ?? empty, head: false)
                        }
                    }
                }
            }
        }
        let dst = c.pointee.arg(storeIndex)
        if outputLength > 0 {
            // setKey: replaces a value of any type and drops its TTL.
            var existed = false
            if let slot = lookupSlot(db, dst) {
                dbs[db].delete(at: slot, lazily: settings.lazyfreeLazyServerDel)
                existed = true
            }
            addAggregate(db, dst, .list, .quicklist, payload: list.payload, announceNew: !existed)
            keyModified(db, dst)
            notifyKeyspaceEvent(.list, "sortstore", dst, db)
            dirty += Int64(outputLength)
        } else {
            list.free()
            // dbDelete: no expiry check.
            if let slot = dbs[db].findSlot(dst) {
                dbs[db].delete(at: slot)
                keyModified(db, dst)
                notifyKeyspaceEvent(.generic, "del", dst, db)
                dirty += 1
            }
        }
        c.pointee.reply.appendInteger(Int64(outputLength))
    }

    // MARK: - Patterns

    /// Position of the first '*' before the first NUL (Redis's strchr), or nil.
    static func sortFindStar(_ p: ByteView) -> Int? {
        var i = 0
        while i < p.count {
            let b = p[i]
            if b == 0 { return nil }
            if b == 42 { return i }
            i += 1
        }
        return nil
    }

    /// Redis's lookupKeyByPattern: "#" is the element itself; otherwise the first '*' is
    /// replaced by the element and the key read (a string, or with "->field" after the '*' a
    /// hash field). Calls `body` with the value, or nil when there is none.
    mutating func sortLookup(_ c: ClientRef, _ pattern: ByteView, _ subst: ByteView, _ keyBuffer: inout [UInt8],
                             _ body: (ByteView?) -> Void) {
        let plen = pattern.count
        if plen >= 1 && pattern[0] == 35 && (plen == 1 || pattern[1] == 0) {  // "#"
            body(subst)
            return
        }
        guard let star = Self.sortFindStar(pattern) else {
            body(nil)
            return
        }
        // strstr(p+1, "->") over the C string, with a non-empty field after it.
        var cLength = star + 1
        while cLength < plen && pattern[cLength] != 0 { cLength += 1 }
        var fieldStart = -1
        var i = star + 1
        while i + 1 < cLength {
            if pattern[i] == 45 && pattern[i + 1] == 62 {  // "->"
                if i + 2 < cLength { fieldStart = i + 2 }
                break
            }
            i += 1
        }
        let fieldLength = fieldStart >= 0 ? plen - fieldStart : 0
        let postfixLength = plen - (star + 1) - (fieldLength > 0 ? fieldLength + 2 : 0)
        keyBuffer.removeAll(keepingCapacity: true)
        keyBuffer.append(contentsOf: UnsafeBufferPointer(start: pattern.base, count: star))
        keyBuffer.append(contentsOf: UnsafeBufferPointer(start: subst.base, count: subst.count))
        keyBuffer.append(contentsOf: UnsafeBufferPointer(start: pattern.base + star + 1, count: postfixLength))
        let e: Entry? = keyBuffer.withUnsafeBufferPointer { kb in
            lookupRead(c, ByteView(kb.baseAddress ?? pattern.base, kb.count))
        }
        guard let e else {
            body(nil)
            return
        }
        if fieldLength > 0 {
            guard e.type == .hash,
                  let v = HashStore.get(e, ByteView(pattern.base + fieldStart, fieldLength))
            else {
                body(nil)
                return
            }
            v.withBytes { body($0) }
            return
        }
        guard e.type == .string else {
            body(nil)
            return
        }
        var scratch = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        withUnsafeMutableBytes(of: &scratch) { raw in
            body(stringBytes(e, raw.baseAddress!.assumingMemoryBound(to: UInt8.self)))
        }
    }

    /// A weight as Redis reads it: strtod over the C string (up to a NUL), all of it consumed,
    /// no overflow/underflow (ERANGE), not NaN.
    static func sortScore(_ v: ByteView) -> Double? {
        var len = 0
        while len < v.count && v[len] != 0 { len += 1 }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: len + 1) { buf -> Double? in
            let p = buf.baseAddress!
            if len > 0 { memcpy(p, v.base, len) }
            p[len] = 0
            var endp: UnsafeMutablePointer<CChar>? = nil
            errno = 0
            let d = strtod(p, &endp)
            if endp!.pointee != 0 || errno == ERANGE || d.isNaN { return nil }
            return d
        }
    }

    // MARK: - Comparison and sorting

    /// Bytes up to the first NUL compared like strcmp (strcoll in the C locale).
    @inline(__always)
    static func sortCStringCompare(_ a: UnsafePointer<UInt8>, _ alen: Int, _ b: UnsafePointer<UInt8>, _ blen: Int) -> Int {
        let la = memchr(a, 0, alen).map { UnsafeRawPointer($0) - UnsafeRawPointer(a) } ?? alen
        let lb = memchr(b, 0, blen).map { UnsafeRawPointer($0) - UnsafeRawPointer(b) } ?? blen
        return sortBinaryCompare(a, la, b, lb)
    }

    /// memcmp then length (Redis's compareStringObjects).
    @inline(__always)
    static func sortBinaryCompare(_ a: UnsafePointer<UInt8>, _ alen: Int, _ b: UnsafePointer<UInt8>, _ blen: Int) -> Int {
        let n = min(alen, blen)
        if n > 0 {
            let r = memcmp(a, b, n)
            if r != 0 { return r < 0 ? -1 : 1 }
        }
        return alen < blen ? -1 : (alen > blen ? 1 : 0)
    }

    /// Redis's sortCompare.
    static func sortCompare(_ x: SortItem, _ y: SortItem, _ base: UnsafePointer<UInt8>, _ o: SortOrder) -> Int {
        var cmp: Int
        if !o.alpha {
            if x.score > y.score {
                cmp = 1
            } else if x.score < y.score {
                cmp = -1
            } else {
                cmp = sortBinaryCompare(base + x.offset, x.length, base + y.offset, y.length)
            }
        } else if o.byPattern {
            if x.cmpLength < 0 || y.cmpLength < 0 {
                if x.cmpLength < 0 && y.cmpLength < 0 {
                    cmp = 0
                } else {
                    cmp = x.cmpLength < 0 ? -1 : 1
                }
            } else if o.store {
                cmp = sortBinaryCompare(base + x.cmpOffset, x.cmpLength, base + y.cmpOffset, y.cmpLength)
            } else {
                cmp = sortCStringCompare(base + x.cmpOffset, x.cmpLength, base + y.cmpOffset, y.cmpLength)
            }
        } else if o.store {
            cmp = sortBinaryCompare(base + x.offset, x.length, base + y.offset, y.length)
        } else {
            cmp = sortCStringCompare(base + x.offset, x.length, base + y.offset, y.length)
        }
        return o.desc ? -cmp : cmp
    }

    /// Stable top-down merge sort, as glibc's qsort (msort) sorts.
    static func mergeSort(_ v: UnsafeMutableBufferPointer<SortItem>, _ cmp: (SortItem, SortItem) -> Int) {
        let n = v.count
        if n < 2 { return }
        let tmp = UnsafeMutableBufferPointer<SortItem>.allocate(capacity: n)
        defer { tmp.deallocate() }
        func sort(_ lo: Int, _ n: Int) {
            if n <= 1 { return }
            let n1 = n / 2
            let n2 = n - n1
            sort(lo, n1)
            sort(lo + n1, n2)
            var i = lo
            var j = lo + n1
            var k = 0
            let iEnd = lo + n1
            let jEnd = lo + n
            while i < iEnd && j < jEnd {
                if cmp(v[i], v[j]) <= 0 {
                    tmp[k] = v[i]
                    i += 1
                } else {
                    tmp[k] = v[j]
                    j += 1
                }
                k += 1
            }
            while i < iEnd {
                tmp[k] = v[i]
                i += 1
                k += 1
            }
            // The rest of the right run is already in place.
            for t in 0..<k { v[lo + t] = tmp[t] }
        }
        sort(0, n)
    }

    /// Redis's pqsort (NetBSD's qsort, Bentley & McIlroy, skipping partitions outside
    /// lrange...rrange), on element indexes instead of bytes.
    static func pqsort(_ v: UnsafeMutableBufferPointer<SortItem>, _ lrange: Int, _ rrange: Int,
                       _ cmp: (SortItem, SortItem) -> Int) {
        @inline(__always) func swap(_ i: Int, _ j: Int) {
            let t = v[i]
            v[i] = v[j]
            v[j] = t
        }
        @inline(__always) func vecswap(_ i: Int, _ j: Int, _ n: Int) {
            var k = 0
            while k < n {
                swap(i + k, j + k)
                k += 1
            }
        }
        @inline(__always) func c(_ i: Int, _ j: Int) -> Int { cmp(v[i], v[j]) }
        func med3(_ a: Int, _ b: Int, _ cc: Int) -> Int {
            c(a, b) < 0 ? (c(b, cc) < 0 ? b : (c(a, cc) < 0 ? cc : a))
                : (c(b, cc) > 0 ? b : (c(a, cc) < 0 ? a : cc))
        }
        func insertionSort(_ a: Int, _ n: Int) {
            var pm = a + 1
            while pm < a + n {
                var pl = pm
                while pl > a && c(pl - 1, pl) > 0 {
                    swap(pl, pl - 1)
                    pl -= 1
                }
                pm += 1
            }
        }
        func outside(_ s: Int, _ n: Int) -> Bool {
            let e = s + n - 1
            return (lrange < s && rrange < s) || (lrange > e && rrange > e)
        }
        func run(_ a0: Int, _ n0: Int) {
            var a = a0
            var n = n0
            while true {
                var swapCount = false
                if n < 7 {
                    insertionSort(a, n)
                    return
                }
                var pm = a + n / 2
                if n > 7 {
                    var pl = a
                    var pn = a + n - 1
                    if n > 40 {
                        let d = n / 8
                        pl = med3(pl, pl + d, pl + 2 * d)
                        pm = med3(pm - d, pm, pm + d)
                        pn = med3(pn - 2 * d, pn - d, pn)
                    }
                    pm = med3(pl, pm, pn)
                }
                swap(a, pm)
                var pa = a + 1
                var pb = a + 1
                var pc = a + n - 1
                var pd = a + n - 1
                while true {
                    while pb <= pc {
                        let r = c(pb, a)
                        if r > 0 { break }
                        if r == 0 {
                            swapCount = true
                            swap(pa, pb)
                            pa += 1
                        }
                        pb += 1
                    }
                    while pb <= pc {
                        let r = c(pc, a)
                        if r < 0 { break }
                        if r == 0 {
                            swapCount = true
                            swap(pc, pd)
                            pd -= 1
                        }
                        pc -= 1
                    }
                    if pb > pc { break }
                    swap(pb, pc)
                    swapCount = true
                    pb += 1
                    pc -= 1
                }
                if !swapCount {
                    insertionSort(a, n)
                    return
                }
                let pn = a + n
                var r = min(pa - a, pb - pa)
                vecswap(a, pb - r, r)
                r = min(pd - pc, pn - pd - 1)
                vecswap(pb, pn - r, r)
                r = pb - pa
                if r > 1 && !outside(a, r) { run(a, r) }
                r = pd - pc
                if r > 1 {
                    a = pn - r
                    n = r
                    if !outside(a, n) { continue }
                }
                return
            }
        }
        run(0, v.count)
    }
}
