/*
 * OutputLimits: client-output-buffer-limit for normal and pubsub clients — Redis's
 * checkClientOutputBufferLimits / closeClientOnOutputBufferLimitReached. (Replicas have their
 * own accounting over the shared replication buffer: Replication/ReplicationState.swift.)
 *
 * A client's class is pubsub while it is subscribed to something, normal otherwise (a MONITOR
 * client is normal; our master's connection is never limited). Its unsent output is checked
 * against the class's limits:
 *   hard  at or over it, the client is closed at once;
 *   soft  over it continuously for soft-seconds, the client is closed.
 * Closing discards what was not sent: a command whose reply broke the limit gets no reply at
 * all, as in Redis, and a transaction still runs to its end.
 *
 * Checks happen where output grows: after each command for its client, when a message is
 * queued for another client (PUBLISH, keyspace notifications, invalidations), and in the
 * client cron for soft limits reached without traffic. The reply buffer itself raises a flag
 * when it grows past the hard limit mid-command, so commands with unbounded output can stop.
 */
import Platform
import RESP

extension Server {
    /// The limits that apply to `c` (nil: none, for our master and for replicas).
    func outputLimit(_ c: ClientRef) -> OutputBufferLimit? {
        if c.pointee.isMaster || c.pointee.isReplica { return nil }
        return c.pointee.flags.contains(.pubsub) ? settings.outputLimitPubsub : settings.outputLimitNormal
    }

    /// The cheap test on the paths where output grows; the work is in `enforceOutputLimits`.
    @inline(__always)
    mutating func checkOutputLimits(_ c: ClientRef) {
        if c.pointee.reply.overLimit || c.pointee.reply.pending > ReplyBuffer.initialCapacity
            || c.pointee.softLimitSinceMillis != 0 || c.pointee.reply.hardLimit != currentHardLimit(c)
        {
            enforceOutputLimits(c, now: Clock.unixMillis())
        }
    }

    @inline(__always)
    func currentHardLimit(_ c: ClientRef) -> Int {
        guard !c.pointee.isMaster && !c.pointee.isReplica else { return 0 }
        return c.pointee.flags.contains(.pubsub) ? settings.outputLimitPubsub.hard : settings.outputLimitNormal.hard
    }

    /// Closes `c` if its output broke a limit; returns whether it did.
    @discardableResult
    mutating func enforceOutputLimits(_ c: ClientRef, now: Int64) -> Bool {
        if c.pointee.flags.contains(.closeASAP) { return false }
        c.pointee.reply.hardLimit = currentHardLimit(c)
        guard let limit = outputLimit(c) else {
            c.pointee.reply.overLimit = false
            return false
        }
        let used = c.pointee.reply.pending
        var broken = c.pointee.reply.overLimit || (limit.hard > 0 && used >= limit.hard)
        if !broken && limit.soft > 0 && used >= limit.soft {
            if c.pointee.softLimitSinceMillis == 0 {
                c.pointee.softLimitSinceMillis = now
            } else if now - c.pointee.softLimitSinceMillis > Int64(limit.softSeconds) * 1000 {
                broken = true
            }
        } else if !broken {
            c.pointee.softLimitSinceMillis = 0
        }
        if !broken { return false }
        Log.warning("Client \(clientDescription(c)) scheduled to be closed ASAP for overcoming of output buffer limits.")
        c.pointee.reply.clear()
        c.pointee.reply.overLimit = false
        markClosing(c)
        return true
    }
}
