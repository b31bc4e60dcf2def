/*
 * Glob: the pattern language of KEYS, SCAN MATCH, CONFIG GET and PSUBSCRIBE, with Redis's
 * exact rules (`*`, `?`, `[abc]`, `[^a-z]`, `\` escapes, an unclosed `[` matching as if
 * closed). Byte-oriented: patterns and subjects are arbitrary binary strings.
 *
 * The `*` case stops trying longer matches once a suffix failed to match anywhere, which
 * bounds the work on pathological patterns such as "a*a*a*a*...b".
 */

public enum Glob {
    public static func match(_ pattern: ByteView, _ subject: ByteView, nocase: Bool = false) -> Bool {
        var skipLonger = false
        return match(pattern.base, pattern.count, subject.base, subject.count, nocase, &skipLonger)
    }

    public static func match(_ pattern: String, _ subject: String, nocase: Bool = false) -> Bool {
        let p = Array(pattern.utf8)
        let s = Array(subject.utf8)
        return p.withUnsafeBufferPointer { pb in
            s.withUnsafeBufferPointer { sb in
                let dummy: StaticString = ""
                return match(
                    ByteView(pb.baseAddress ?? dummy.utf8Start, pb.count),
                    ByteView(sb.baseAddress ?? dummy.utf8Start, sb.count), nocase: nocase)
            }
        }
    }

    @inline(__always)
    static func lower(_ c: UInt8) -> UInt8 { c >= 65 && c <= 90 ? c + 32 : c }

    static func match(
        _ pat: UnsafePointer<UInt8>, _ patLen: Int, _ str: UnsafePointer<UInt8>, _ strLen: Int,
        _ nocase: Bool, _ skipLonger: inout Bool
    ) -> Bool {
        var p = 0
        var plen = patLen
        var s = 0
        var slen = strLen
        @inline(__always) func pc(_ i: Int) -> UInt8 { i < patLen ? pat[i] : 0 }

        while plen > 0 && slen > 0 {
            switch pat[p] {
            case 42:  // '*'
                while plen > 1 && pat[p + 1] == 42 {
                    p += 1
                    plen -= 1
                }
                if plen == 1 { return true }
                while slen > 0 {
                    if match(pat + p + 1, plen - 1, str + s, slen, nocase, &skipLonger) { return true }
                    if skipLonger { return false }
                    s += 1
                    slen -= 1
                }
                skipLonger = true
                return false
            case 63:  // '?'
                s += 1
                slen -= 1
            case 91:  // '['
                p += 1
                plen -= 1
                let negate = plen > 0 && pat[p] == 94  // '^'
                if negate {
                    p += 1
                    plen -= 1
                }
                var matched = false
                while true {
                    if plen >= 2 && pat[p] == 92 {  // '\'
                        p += 1
                        plen -= 1
                        if pat[p] == str[s] { matched = true }
                    } else if plen > 0 && pat[p] == 93 {  // ']'
                        break
                    } else if plen <= 0 {
                        p -= 1
                        plen += 1
                        break
                    } else if plen >= 3 && pat[p + 1] == 45 {  // a-z
                        var start = Int(Int8(bitPattern: pat[p]))
                        var end = Int(Int8(bitPattern: pat[p + 2]))
                        var c = Int(Int8(bitPattern: str[s]))
                        if start > end { swap(&start, &end) }
                        if nocase {
                            start = Int(Int8(bitPattern: lower(UInt8(bitPattern: Int8(start)))))
                            end = Int(Int8(bitPattern: lower(UInt8(bitPattern: Int8(end)))))
                            c = Int(Int8(bitPattern: lower(UInt8(bitPattern: Int8(c)))))
                        }
                        p += 2
                        plen -= 2
                        if c >= start && c <= end { matched = true }
                    } else if nocase ? lower(pat[p]) == lower(str[s]) : pat[p] == str[s] {
                        matched = true
                    }
                    p += 1
                    plen -= 1
                }
                if negate { matched = !matched }
                if !matched { return false }
                s += 1
                slen -= 1
            default:
                if pat[p] == 92 && plen >= 2 {  // '\'
                    p += 1
                    plen -= 1
                }
                if nocase ? lower(pat[p]) != lower(str[s]) : pat[p] != str[s] { return false }
                s += 1
                slen -= 1
            }
            p += 1
            plen -= 1
            if slen == 0 {
                while plen > 0 && pc(p) == 42 {
                    p += 1
                    plen -= 1
                }
                break
            }
        }
        _ = pc
        return plen == 0 && slen == 0
    }
}
