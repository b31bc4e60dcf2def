/*
 * LCS: the longest common subsequence of two strings (Redis 7's LCS command), by the
 * classic dynamic-programming table, then a walk back from the corner that emits the
 * matching ranges (IDX) in the same order and grouping as Redis.
 */
import CTandem
import Keyspace
import Platform
import RESP

extension Server {
    mutating func lcsCommand(_ c: ClientRef) {
        var getIdx = false, getLen = false, withMatchLen = false
        var minMatchLen: Int64 = 0
        var j = 3
        let argc = c.pointee.argc
        while j < argc {
            let opt = c.pointee.arg(j)
            let more = argc - 1 - j
            if opt.equalsLowercase("idx") {
                getIdx = true
            } else if opt.equalsLowercase("len") {
                getLen = true
            } else if opt.equalsLowercase("withmatchlen") {
                withMatchLen = true
            } else if opt.equalsLowercase("minmatchlen") && more > 0 {
                guard let v = c.pointee.arg(j + 1).int64 else {
                    addNotInteger(c)
                    return
                }
                minMatchLen = max(0, v)
                j += 1
            } else {
                addSyntaxError(c)
                return
            }
            j += 1
        }
        let ea = lookupRead(c, c.pointee.arg(1))
        let eb = lookupRead(c, c.pointee.arg(2))
        if (ea != nil && ea!.type != .string) || (eb != nil && eb!.type != .string) {
            addError(c, "-ERR The specified keys must contain string values\r\n")
            return
        }
        if getIdx && getLen {
            addError(c, "-ERR If you want both the length and indexes, please just use IDX.\r\n")
            return
        }
        var scratchA = (UInt64(0), UInt64(0), UInt64(0))
        var scratchB = (UInt64(0), UInt64(0), UInt64(0))
        let empty: StaticString = ""
        withUnsafeMutableBytes(of: &scratchA) { ra in
            withUnsafeMutableBytes(of: &scratchB) { rb in
                let a = ea.map { stringBytes($0, ra.baseAddress!.assumingMemoryBound(to: UInt8.self)) } ?? ByteView(empty)
                let b = eb.map { stringBytes($0, rb.baseAddress!.assumingMemoryBound(to: UInt8.self)) } ?? ByteView(empty)
                lcsReply(c, a, b, getIdx: getIdx, getLen: getLen, withMatchLen: withMatchLen, minMatchLen: minMatchLen)
            }
        }
    }

    mutating func lcsReply(_ c: ClientRef, _ a: ByteView, _ b: ByteView, getIdx: Bool, getLen: Bool,
                           withMatchLen: Bool, minMatchLen: Int64) {
        let alen = a.count
        let blen = b.count
        let (cells, overflow) = (alen + 1).multipliedReportingOverflow(by: blen + 1)
        if overflow || cells > settings.protoMaxBulkLen / 4 {
            addError(c, "-ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len\r\n")
            return
        }
        let dp = UnsafeMutablePointer<UInt32>.allocate(capacity: cells)
        defer { dp.deallocate() }
        @inline(__always) func at(_ i: Int, _ j: Int) -> Int { j + i * (blen + 1) }
        for i in 0...alen {
            for j in 0...blen {
                if i == 0 || j == 0 {
                    dp[at(i, j)] = 0
                } else if a[i - 1] == b[j - 1] {
                    dp[at(i, j)] = dp[at(i - 1, j - 1)] + 1
                } else {
                    dp[at(i, j)] = max(dp[at(i - 1, j)], dp[at(i, j - 1)])
                }
            }
        }
        var idx = Int(dp[at(alen, blen)])
        let total = idx
        var result = [UInt8](repeating: 0, count: (!getLen && !getIdx) ? idx : 0)
        var header = 0
        var ranges = 0
        if getIdx {
            c.pointee.reply.appendMapHeader(2, resp3: c.pointee.resp3)
            c.pointee.reply.appendBulk("matches")
            header = c.pointee.reply.reserveDeferredHeader()
        }
        var i = alen
        var j = blen
        var aStart = alen, aEnd = 0, bStart = 0, bEnd = 0
        let compute = getIdx || !getLen
        while compute && i > 0 && j > 0 {
            var emit = false
            if a[i - 1] == b[j - 1] {
                if !result.isEmpty { result[idx - 1] = a[i - 1] }
                if aStart == alen {
                    aStart = i - 1
                    aEnd = i - 1
                    bStart = j - 1
                    bEnd = j - 1
                } else if aStart == i && bStart == j {
                    aStart -= 1
                    bStart -= 1
                } else {
                    emit = true
                }
                if aStart == 0 || bStart == 0 { emit = true }
                idx -= 1
                i -= 1
                j -= 1
            } else {
                if dp[at(i - 1, j)] > dp[at(i, j - 1)] { i -= 1 } else { j -= 1 }
                if aStart != alen { emit = true }
            }
            let matchLen = aEnd - aStart + 1
            if emit {
                if minMatchLen == 0 || Int64(matchLen) >= minMatchLen, getIdx {
                    c.pointee.reply.appendArrayHeader(withMatchLen ? 3 : 2)
                    c.pointee.reply.appendArrayHeader(2)
                    c.pointee.reply.appendInteger(Int64(aStart))
                    c.pointee.reply.appendInteger(Int64(aEnd))
                    c.pointee.reply.appendArrayHeader(2)
                    c.pointee.reply.appendInteger(Int64(bStart))
                    c.pointee.reply.appendInteger(Int64(bEnd))
                    if withMatchLen { c.pointee.reply.appendInteger(Int64(matchLen)) }
                    ranges += 1
                }
                aStart = alen
            }
        }
        if getIdx {
            c.pointee.reply.patchHeader(at: header, prefix: 42, ranges)
            c.pointee.reply.appendBulk("len")
            c.pointee.reply.appendInteger(Int64(total))
        } else if getLen {
            c.pointee.reply.appendInteger(Int64(total))
        } else {
            result.withUnsafeBufferPointer { c.pointee.reply.appendBulk($0.baseAddress ?? UnsafePointer(a.base), $0.count) }
        }
    }
}
