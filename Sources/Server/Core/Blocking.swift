/*
 * Blocking: clients waiting on keys (BLPOP, BLMOVE, BZPOPMIN, ...) — Redis's blocked.c.
 *
 * A blocking command that finds nothing to pop calls `blockClient`: its arguments are copied
 * (the query buffer moves on), the client is listed under each key in FIFO order, and it
 * reads no more input until served or timed out. Every write signals `keyModified`; a key
 * with waiters then goes on the ready list, and before the loop sleeps `serveReadyKeys`
 * re-runs each waiter's command, oldest first, in "no blocking" mode: a command that now
 * finds data replies and the client is released; one that still finds nothing stays.
 * Serving may write other keys (BLMOVE pushes), which makes them ready in turn.
 *
 * Timeouts are absolute Unix ms, checked before each sleep; the loop's wait is shortened to
 * the nearest one so a 100 ms timeout fires on time. Inside MULTI/EXEC a blocking command
 * never blocks: it answers as if it had timed out.
 */
import CTandem
import Keyspace
import Platform
import RESP

struct BlockState: ~Copyable {
    var keys: [WatchKey] = []
    /// Unix ms, 0 for none.
    var timeoutAt: Int64 = 0
    /// The command to re-run, copied out of the query buffer.
    var command = CommandQueue()
    var commandIndex = -1
    /// Time spent running the command so far (its first call and every re-run).
    var micros: Int64 = 0
    /// What a timeout replies: a null array (BLPOP, BZPOPMIN, BLMPOP) or a null bulk (BLMOVE).
    var timeoutRepliesNullArray = true
    /// WAIT: the replication offset to be acknowledged, and by how many replicas.
    var isWait = false
    var waitOffset: Int64 = 0
    var waitReplicas = 0
    /// SHUTDOWN waiting for the replicas to catch up (Shutdown.swift).
    var isShutdown = false
    /// XREAD: what each `$` argument (by its index) meant when the client blocked.
    var streamIDs: [(argument: Int, id: StreamID)] = []
}

extension Server {
    /// Parses a blocking timeout in seconds (fractions allowed) into absolute Unix ms, 0 for
    /// "forever". Replies Redis's errors and returns nil on bad input.
    mutating func parseBlockTimeout(_ c: ClientRef, _ arg: ByteView) -> Int64? {
        guard let seconds = arg.double, seconds.isFinite else {
            addError(c, "-ERR timeout is not a float or out of range\r\n")
            return nil
        }
        if seconds < 0 {
            addError(c, "-ERR timeout is negative\r\n")
            return nil
        }
        // Seconds whose milliseconds do not fit in 64 bits: redis-server's conversion yields a
        // negative number, and so its answer.
        if seconds * 1000 >= 9.223372036854775807e18 {
            addError(c, "-ERR timeout is negative\r\n")
            return nil
        }
        let now = Clock.unixMillis()
        // A deadline past the 64-bit range waits forever (as redis-server does).
        if seconds * 1000 >= Double(Int64.max - now) { return .max }
        let ms = Int64(seconds * 1000)
        return ms == 0 ? 0 : now + ms
    }

    /// The Unix ms `ms` from now, saturated (a huge timeout means forever, never a trap).
    static func deadline(afterMillis ms: Int64) -> Int64 {
        let (at, overflow) = Clock.unixMillis().addingReportingOverflow(ms)
        return overflow ? .max : at
    }

    /// Parses a timeout in integer milliseconds (WAIT, CLIENT PAUSE), replying Redis's errors
    /// and returning nil on bad input.
    mutating func parseMillisTimeout(_ c: ClientRef, _ arg: ByteView) -> Int64? {
        guard let ms = arg.int64 else {
            addError(c, "-ERR timeout is not an integer or out of range\r\n")
            return nil
        }
        if ms < 0 {
            addError(c, "-ERR timeout is negative\r\n")
            return nil
        }
        return ms
    }

    /// True while the current command is being re-run for a blocked client.
    var reprocessingBlocked: Bool { servingBlockedClient }

    /// Suspends `c` on `keys` (in the client's database) until one is served or `timeoutAt`.
    mutating func blockClient(_ c: ClientRef, keys: [ByteView], timeoutAt: Int64, nullArray: Bool) {
        let db = c.pointee.db
        var state = BlockState()
        state.timeoutAt = timeoutAt
        state.commandIndex = c.pointee.lastCommand
        state.timeoutRepliesNullArray = nullArray
        let argv = c.pointee.argv
        state.command.append(argc: c.pointee.argc) { argv[$0] }
        for k in keys {
            let wk = WatchKey(db: db, key: k.array)
            if state.keys.contains(wk) { continue }
            state.keys.append(wk)
            blockedByKey[wk, default: []].append(c)
        }
        c.pointee.block = state
        c.pointee.flags.insert(.blocked)
        blockedClients += 1
    }

    /// Releases `c` from every key it waits on (served, timed out, killed, or RESET).
    mutating func unblockClient(_ c: ClientRef) {
        guard c.pointee.flags.contains(.blocked) else { return }
        if c.pointee.block.isWait { repl.waitingClients -= 1 }
        for k in c.pointee.block.keys {
            blockedByKey[k]?.removeAll { $0 == c }
            if blockedByKey[k]?.isEmpty == true { blockedByKey[k] = nil }
        }
        c.pointee.block.command.deallocate()
        c.pointee.block = BlockState()
        c.pointee.flags.remove(.blocked)
        blockedClients -= 1
    }

    /// Called for every write: queues the key for serving when someone waits on it.
    @inline(__always)
    mutating func signalKeyAsReady(_ db: Int, _ key: ByteView) {
        let k = WatchKey(db: db, key: key.array)
        if blockedByKey[k] != nil && !readyKeys.contains(k) { readyKeys.append(k) }
    }

    /// Marks every key clients wait on in database `db` (-1: all) as ready, after FLUSH* or
    /// SWAPDB replaced the database under them: each waiter's re-run decides (a list waiter
    /// keeps waiting on a missing key, XREADGROUP answers that its stream is gone).
    mutating func signalBlockedKeys(inDatabase db: Int) {
        if blockedClients == 0 { return }
        for k in blockedByKey.keys where (db < 0 || k.db == db) && !readyKeys.contains(k) {
            readyKeys.append(k)
        }
    }

    /// Re-runs the commands of clients blocked on ready keys, oldest waiter first.
    mutating func serveReadyKeys() {
        var rounds = 0
        while !readyKeys.isEmpty && rounds < 1000 {
            rounds += 1
            let batch = readyKeys
            readyKeys.removeAll()
            for k in batch {
                guard let waiters = blockedByKey[k] else { continue }
                for w in waiters where w.pointee.flags.contains(.blocked) {
                    // A pop that finds nothing means the key is drained for everyone after it;
                    // stream readers are independent (each wants entries after its own ID), so
                    // every one of them gets its turn, as Redis's serveClientsBlockedOnStreamKey.
                    if !rerunBlockedCommand(w) && !isStreamRead(w.pointee.block.commandIndex) { break }
                }
            }
        }
    }

    func isStreamRead(_ index: Int) -> Bool {
        guard index >= 0 else { return false }
        switch commands.specs[index].id {
        case .streams(.xread), .streams(.xreadgroup): return true
        default: return false
        }
    }

    /// Re-executes a blocked client's command. Returns true when it was served (so the next
    /// waiter may try too), false when it found nothing and stays blocked.
    mutating func rerunBlockedCommand(_ c: ClientRef) -> Bool {
        let before = c.pointee.reply.count
        let errorsBefore = stats.errorReplies
        c.pointee.argc = c.pointee.block.command.load(at: 0, into: &c.pointee.argv, capacity: &c.pointee.argvCapacity)
        servingBlockedClient = true
        call(c, c.pointee.block.commandIndex)
        servingBlockedClient = false
        let served = c.pointee.reply.count != before
        c.pointee.argc = 0
        if served {
            countUnblockedCall(c, failed: stats.errorReplies != errorsBefore)
            unblockClient(c)
            queueWrite(c)
            resumeAfterUnblock(c)
        }
        return served
    }

    /// Replies to clients whose timeout passed. Returns ms until the next timeout (or -1).
    /// Inlined test, out-of-line sweep: with no client blocked, every turn of the loop paid the
    /// sweep's call and frame (~20 instructions, issue 20).
    @inline(__always)
    mutating func handleBlockedTimeouts() -> Int64 {
        blockedClients == 0 ? -1 : sweepBlockedTimeouts()
    }

    mutating func sweepBlockedTimeouts() -> Int64 {
        let now = Clock.unixMillis()
        var next: Int64 = -1
        for c in allClients() where c.pointee.flags.contains(.blocked) {
            let at = c.pointee.block.timeoutAt
            if at == 0 { continue }
            if at <= now {
                replyBlockTimeout(c)
            } else if next < 0 || at - now < next {
                next = at - now
            }
        }
        return next
    }

    mutating func replyBlockTimeout(_ c: ClientRef) {
        if c.pointee.block.isWait {
            // WAIT answers how many replicas did acknowledge in time.
            c.pointee.reply.appendInteger(Int64(replicasAcknowledging(c.pointee.block.waitOffset)))
        } else if c.pointee.block.timeoutRepliesNullArray {
            c.pointee.reply.appendNullArray(resp3: c.pointee.resp3)
        } else {
            c.pointee.reply.appendNull(resp3: c.pointee.resp3)
        }
        countUnblockedCall(c, failed: false)
        unblockClient(c)
        queueWrite(c)
        resumeAfterUnblock(c)
    }

    /// A released client may have pipelined more commands meanwhile.
    mutating func resumeAfterUnblock(_ c: ClientRef) {
        if c.pointee.queryStart < c.pointee.queryEnd { processInputBuffer(c) }
    }

    /// CLIENT UNBLOCK id [TIMEOUT|ERROR]
    mutating func clientUnblock(_ c: ClientRef) {
        guard let id = c.pointee.arg(2).int64 else {
            addNotInteger(c)
            return
        }
        var asError = false
        if c.pointee.argc == 4 {
            let mode = c.pointee.arg(3)
            if mode.equalsLowercase("error") {
                asError = true
            } else if !mode.equalsLowercase("timeout") {
                addError(c, "-ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR\r\n")
                return
            }
        }
        guard let target = allClients().first(where: { $0.pointee.id == id }),
            target.pointee.flags.contains(.blocked)
        else {
            c.pointee.reply.append(":0\r\n" as StaticString)
            return
        }
        if asError {
            addError(target, "-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n")
            countUnblockedCall(target, failed: true)
            unblockClient(target)
            queueWrite(target)
            resumeAfterUnblock(target)
        } else {
            replyBlockTimeout(target)
        }
        c.pointee.reply.append(":1\r\n" as StaticString)
    }
}
