/*
 * Propagation: what each write sends to replicas — its effect, made deterministic. The rules
 * and their reasons are in docs/dev/propagation.md; this file is the one mechanism.
 *
 * After a command, `call()` propagates its own arguments when it changed the dataset (`dirty`
 * grew) and is flagged `write`. A command whose effect depends on time, randomness or blocking
 * instead states what to send with `propagateInstead(...)` (SET EX → SET PXAT, SPOP → SREM,
 * BLPOP → LPOP, ...); several such commands from one call are wrapped in MULTI/EXEC, and a
 * transaction's writes are wrapped in MULTI/EXEC as a unit. Keys found expired are sent as DEL
 * at the moment they are deleted.
 *
 * The stream is RESP with SELECT whenever the database changes. It is built while a backlog
 * exists (a master), while the AOF is on (any node: the AOF gets each complete batch, see
 * AppendOnly/AppendOnlyFile.swift), or on request for tests (`DEBUG REPLSTREAM START|READ`);
 * otherwise normal operation pays one flag test per command.
 */
import Keyspace
import Platform
import RESP

extension Server {
    /// Replaces the running command's default propagation with `args` (call once per command
    /// to send; the calls are sent in order).
    mutating func propagateInstead(_ db: Int, _ args: [[UInt8]]) {
        if !propagationEnabled { return }
        propagationOverridden = true
        pendingPropagation.append((db, args))
    }

    /// Convenience for arguments that are views into the query buffer or values.
    mutating func propagateInstead(_ db: Int, _ args: ByteView...) {
        if !propagationEnabled { return }
        propagateInstead(db, args.map { $0.array })
    }

    /// Sends nothing for the running command beyond what it states with `propagateInstead`
    /// (Redis's preventCommandPropagation: XREADGROUP, XCLAIM, XAUTOCLAIM).
    mutating func preventCommandPropagation() {
        if propagationEnabled { propagationOverridden = true }
    }

    /// Propagates the running command even if it changed nothing; `replicasOnly`: to replicas
    /// and not into the AOF (Redis's PROPAGATE_REPL for PUBLISH: old messages must not be
    /// published again when the file loads).
    mutating func forcePropagation(replicasOnly: Bool = false) {
        if propagationEnabled {
            propagationForced = true
            propagationForcedReplicasOnly = replicasOnly
        }
    }

    /// Sends DEL for a key deleted because it expired (on access or by the expire cycle) or was
    /// evicted; UNLINK when its value went to the lazy-free thread, as Redis's propagateDeletion.
    mutating func propagateExpiredDeletion(_ db: Int, _ key: ByteView, lazily: Bool) {
        if !propagationEnabled { return }
        // Both sides, even inside a script's REPL_AOF / REPL_REPLICA command.
        let targets = propagationTargets
        propagationTargets = 3
        emitPropagated(db, [Array((lazily ? "UNLINK" : "DEL").utf8), key.array])
        propagationTargets = targets
    }

    /// Called by `call()` after every command when propagation is on.
    mutating func finishPropagation(_ c: ClientRef, _ index: Int, db: Int, dirtyBefore: Int64) {
        let spec = commands.specs[index]
        let forced = propagationForced
        let replicasOnly = propagationForcedReplicasOnly
        propagationForced = false
        propagationForcedReplicasOnly = false
        if dirty == dirtyBefore && !forced {
            // Nothing changed (an error, a refused condition): nothing to send.
        } else if propagationOverridden {
            for (d, args) in pendingPropagation { emitPropagated(d, args) }
        } else if replicasOnly && !spec.flags.contains(.write) {
            let targets = propagationTargets
            propagationTargets = oneSided(2)
            emitCommandArguments(c, db)
            propagationTargets = targets
        } else if spec.flags.contains(.write) || forced {
            emitCommandArguments(c, db)
        }
        propagationOverridden = false
        pendingPropagation.removeAll(keepingCapacity: true)
    }

    /// Appends one command to the stream, preceded by SELECT when the database changes.
    mutating func emitPropagated(_ db: Int, _ args: [[UInt8]]) {
        let at = prepareToEmit(db)
        replicationStream.pointee.appendArrayHeader(args.count)
        for a in args {
            a.withUnsafeBufferPointer { replicationStream.pointee.appendBulk($0.baseAddress ?? UnsafePointer(bitPattern: 1)!, $0.count) }
        }
        commandEmitted(at)
    }

    /// The common case: the command as the client sent it, copied from the query buffer straight
    /// into the stream (no array per argument).
    mutating func emitCommandArguments(_ c: ClientRef, _ db: Int) {
        let at = prepareToEmit(db)
        replicationStream.pointee.appendArrayHeader(c.pointee.argc)
        for i in 0..<c.pointee.argc { replicationStream.pointee.appendBulk(c.pointee.arg(i)) }
        commandEmitted(at)
    }

    /// Writes SELECT when the database changes; returns where the command itself starts.
    mutating func prepareToEmit(_ db: Int) -> Int {
        // The batch's first command: the AOF copies the stream from here (SELECT included).
        if batchCommands == 0 { aof.batchStart = replicationStream.pointee.count }
        if propagationTargets != 3 {
            // A command for one side only carries its own SELECT, and the next one selects again.
            propagatedDB = -1
            partialCommandStart = replicationStream.pointee.count
        }
        if db != propagatedDB {
            propagatedDB = db
            replicationStream.pointee.appendArrayHeader(2)
            replicationStream.pointee.appendBulk("SELECT")
            replicationStream.pointee.appendBulk(String(db))
        }
        return replicationStream.pointee.count
    }

    /// Inside a command (callDepth > 0) the stream waits for the end of the outermost call,
    /// which wraps it in MULTI/EXEC when it holds more than one command (a write that met an
    /// expired key, a transaction, SPOP's SREMs...), as Redis 7.0's propagatePendingCommands.
    /// Outside (the expire cycle, PING, GETACK) it goes at once.
    @inline(__always)
    mutating func commandEmitted(_ at: Int) {
        if propagationTargets != 3 { excludeFromOneSide() }
        if callDepth == 0 {
            feedPropagatedBatch()
            return
        }
        if batchCommands == 0 { batchFirstCommandAt = at }
        batchCommands += 1
    }

    /// From call(), after the outermost command: wraps its batch if needed and feeds it. A
    /// read-only command's batch holds only the DELs of keys it found expired: those go out
    /// one by one, as Redis 7.0 sends them (SCAN, RANDOMKEY, MGET).
    @inline(__always)
    mutating func closePropagationBatch(wrap: Bool = true) {
        if batchCommands == 0 { return }
        if batchCommands > 1 && wrap {
            var at = batchFirstCommandAt
            if !excludedFromAOF.isEmpty || !excludedFromReplicas.isEmpty {
                // A one-sided first command owns its SELECT: MULTI goes before the whole range,
                // so both sides get it.
                for r in excludedFromAOF + excludedFromReplicas where r.lowerBound < at && r.upperBound > at { at = r.lowerBound }
                shiftExcludedRanges(after: at, by: 15)
            }
            replicationStream.pointee.insert("*1\r\n$5\r\nMULTI\r\n", at: at)
            replicationStream.pointee.append("*1\r\n$4\r\nEXEC\r\n" as StaticString)
        }
        batchCommands = 0
        batchFirstCommandAt = -1
        feedPropagatedBatch()
    }

    /// A complete batch goes to the AOF, then to the backlog and replicas (a master's), or is
    /// dropped (a replica forwards its master's bytes instead; its own stream feeds its AOF).
    @inline(__always)
    mutating func feedPropagatedBatch() {
        if aof.status != .off { feedAppendOnlyFile() }
        if !excludedFromReplicas.isEmpty || !excludedFromAOF.isEmpty { dropExcludedFromReplicas() }
        if replStreamRecording { return }
        if repl.backlog != nil && !isReplicaNode {
            feedReplicationStream()
        } else {
            replicationStream.pointee.clear()
        }
    }

    // MARK: - redis.set_repl (REPL_AOF, REPL_REPLICA)

    /// `targets` (1: AOF, 2: replicas), or 3 when the other side is not live: then nothing needs
    /// excluding, and the stream stays exactly Redis's (no extra SELECTs around the command).
    func oneSided(_ targets: Int) -> Int {
        let replicasLive = replStreamRecording || (repl.backlog != nil && !isReplicaNode)
        if targets == 1 && !replicasLive { return 3 }
        if targets == 2 && aof.status == .off { return 3 }
        return targets
    }

    /// The command just emitted goes to one side only: remember its bytes for the other.
    mutating func excludeFromOneSide() {
        let range = partialCommandStart..<replicationStream.pointee.count
        if propagationTargets & 1 == 0 { excludedFromAOF.append(range) }
        if propagationTargets & 2 == 0 { excludedFromReplicas.append(range) }
        propagatedDB = -1
    }

    mutating func shiftExcludedRanges(after position: Int, by n: Int) {
        func shifted(_ r: Range<Int>) -> Range<Int> { r.lowerBound >= position ? (r.lowerBound + n)..<(r.upperBound + n) : r }
        excludedFromAOF = excludedFromAOF.map(shifted)
        excludedFromReplicas = excludedFromReplicas.map(shifted)
    }

    /// After the AOF took its copy: the bytes meant for the AOF only leave the stream.
    mutating func dropExcludedFromReplicas() {
        let base = replicationStream.pointee.base
        var removed = 0
        for r in excludedFromReplicas.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            let from = r.lowerBound - removed, to = r.upperBound - removed
            let tail = replicationStream.pointee.count - to
            (base + from).update(from: base + to, count: tail)
            replicationStream.pointee.count -= to - from
            removed += to - from
        }
        excludedFromReplicas.removeAll(keepingCapacity: true)
        excludedFromAOF.removeAll(keepingCapacity: true)
    }

    /// DEBUG REPLSTREAM START | READ: the testing window onto the stream.
    mutating func debugReplStream(_ c: ClientRef) {
        let sub = c.pointee.arg(2)
        if sub.equalsLowercase("start") {
            propagationEnabled = true
            replStreamRecording = true
            propagatedDB = -1
            replicationStream.pointee.clear()
            addOK(c)
        } else if sub.equalsLowercase("read") {
            c.pointee.reply.appendBulk(replicationStream.pointee.base + replicationStream.pointee.sent, replicationStream.pointee.pending)
            replicationStream.pointee.clear()
        } else {
            addSyntaxError(c)
        }
    }

    /// An integer as argument bytes.
    static func argBytes(_ v: Int64) -> [UInt8] { Array(String(v).utf8) }
}
