/*
 * OutputLimitRule: client-output-buffer-limit's rule for replicas, in one place for the two
 * processes that apply it — the primary, to what a replica's output buffer holds, and a sender
 * worker, to the stream bytes a replica has not taken yet. As in Redis: over the hard limit
 * drops at once; over the soft limit drops once it stayed over for more than its seconds.
 */
public enum OutputLimitRule {
    /// Whether `used` bytes break the limits (0 disables one). `softSince` remembers when the
    /// soft limit was first passed (0 while under it); the caller keeps it between calls.
    public static func exceeded(used: Int64, hard: Int64, soft: Int64, softSeconds: Int64,
                                softSince: inout Int64, nowMillis: Int64) -> Bool {
        if hard > 0 && used >= hard { return true }
        guard soft > 0 && used >= soft else {
            softSince = 0
            return false
        }
        if softSince == 0 { softSince = nowMillis }
        return nowMillis - softSince > softSeconds * 1000
    }
}
