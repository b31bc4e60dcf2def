/*
 * SplitArgs: Redis's sdssplitargs — how redis.conf lines and AOF manifest lines are split into
 * words: blanks separate words; "double quotes" take \n \r \t \b \a, \xHH and \<any>; 'single
 * quotes' take \'; a closing quote must be followed by a blank; a NUL ends the line as in C.
 * nil for unbalanced quotes. (Inline commands are split in place by RequestParser, zero-copy.)
 */

public enum SplitArgs {
    public static func split(_ b: [UInt8]) -> [[UInt8]]? {
        var words: [[UInt8]] = []
        var i = 0
        func isSpace(_ c: UInt8) -> Bool { c == 32 || (c >= 9 && c <= 13) }
        func hex(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: c - 48
            case 97...102: c - 87
            case 65...70: c - 55
            default: nil
            }
        }
        while true {
            while i < b.count && isSpace(b[i]) { i += 1 }
            if i >= b.count { return words }
            var cur: [UInt8] = []
            var inDouble = false
            var inSingle = false
            var done = false
            while !done {
                let c: UInt8 = i < b.count ? b[i] : 0
                let n: UInt8 = i + 1 < b.count ? b[i + 1] : 0
                if inDouble {
                    if c == 92 && n == 120, i + 3 < b.count, let h = hex(b[i + 2]), let l = hex(b[i + 3]) {
                        cur.append(h << 4 | l)
                        i += 3
                    } else if c == 92 && n != 0 {
                        i += 1
                        switch n {
                        case 110: cur.append(10)
                        case 114: cur.append(13)
                        case 116: cur.append(9)
                        case 98: cur.append(8)
                        case 97: cur.append(7)
                        default: cur.append(n)
                        }
                    } else if c == 34 {
                        if n != 0 && !isSpace(n) { return nil }
                        done = true
                    } else if c == 0 {
                        return nil
                    } else {
                        cur.append(c)
                    }
                } else if inSingle {
                    if c == 92 && n == 39 {
                        i += 1
                        cur.append(39)
                    } else if c == 39 {
                        if n != 0 && !isSpace(n) { return nil }
                        done = true
                    } else if c == 0 {
                        return nil
                    } else {
                        cur.append(c)
                    }
                } else {
                    switch c {
                    case 32, 10, 13, 9, 0: done = true
                    case 34: inDouble = true
                    case 39: inSingle = true
                    default: cur.append(c)
                    }
                }
                if i < b.count { i += 1 }
            }
            words.append(cur)
        }
    }
}
