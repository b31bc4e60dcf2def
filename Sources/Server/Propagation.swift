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
 * The stream is RESP with SELECT whenever the database changes. Until the replication backlog
 * exists it is only recorded on request, for tests (`DEBUG REPLSTREAM START|READ`), so normal
 * operation pays one flag test per command.
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

    /// Sends DEL for a key deleted because it expired (lazily or by the expire cycle).
    mutating func propagateExpiredDeletion(_ db: Int, _ key: ByteView) {
        if !propagationEnabled { return }
        emitPropagated(db, [Array("DEL".utf8), key.array])
    }

    /// Called by `call()` after every command when propagation is on.
    mutating func finishPropagation(_ c: ClientRef, _ index: Int, db: Int, dirtyBefore: Int64) {
        let spec = commands.specs[index]
        if dirty == dirtyBefore {
            // Nothing changed (an error, a refused condition): nothing to send.
        } else if propagationOverridden {
            let wrap = pendingPropagation.count > 1 && !inExec
            if wrap { emitPropagated(db, [Array("MULTI".utf8)]) }
            for (d, args) in pendingPropagation { emitPropagated(d, args) }
            if wrap { emitPropagated(db, [Array("EXEC".utf8)]) }
        } else if spec.flags.contains(.write) {
            emitCommandArguments(c, db)
        }
        propagationOverridden = false
        pendingPropagation.removeAll(keepingCapacity: true)
    }

    /// Appends one command to the stream, preceded by SELECT when the database changes and,
    /// inside EXEC, by the transaction's MULTI the first time.
    mutating func emitPropagated(_ db: Int, _ args: [[UInt8]]) {
        prepareToEmit(db)
        replicationStream.appendArrayHeader(args.count)
        for a in args {
            a.withUnsafeBufferPointer { replicationStream.appendBulk($0.baseAddress ?? UnsafePointer(bitPattern: 1)!, $0.count) }
        }
        if repl.backlog != nil { feedReplicationStream() }
    }

    /// The common case: the command as the client sent it, copied from the query buffer straight
    /// into the stream (no array per argument).
    mutating func emitCommandArguments(_ c: ClientRef, _ db: Int) {
        prepareToEmit(db)
        replicationStream.appendArrayHeader(c.pointee.argc)
        for i in 0..<c.pointee.argc { replicationStream.appendBulk(c.pointee.arg(i)) }
        if repl.backlog != nil { feedReplicationStream() }
    }

    /// What goes before a command in the stream: the transaction's MULTI the first time inside
    /// EXEC, and SELECT when the database changes.
    mutating func prepareToEmit(_ db: Int) {
        if inExec && !execMultiPropagated {
            execMultiPropagated = true
            emitPropagated(db, [Array("MULTI".utf8)])
        }
        if db != propagatedDB {
            propagatedDB = db
            emitPropagated(db, [Array("SELECT".utf8), Array(String(db).utf8)])
        }
    }

    /// Closes a transaction's MULTI in the stream if any of its commands propagated.
    mutating func finishExecPropagation(_ db: Int) {
        if execMultiPropagated {
            inExec = false
            emitPropagated(db, [Array("EXEC".utf8)])
            execMultiPropagated = false
        }
    }

    /// DEBUG REPLSTREAM START | READ: the testing window onto the stream.
    mutating func debugReplStream(_ c: ClientRef) {
        let sub = c.pointee.arg(2)
        if sub.equalsLowercase("start") {
            propagationEnabled = true
            replStreamRecording = true
            propagatedDB = -1
            replicationStream.clear()
            addOK(c)
        } else if sub.equalsLowercase("read") {
            c.pointee.reply.appendBulk(replicationStream.base + replicationStream.sent, replicationStream.pending)
            replicationStream.clear()
        } else {
            addSyntaxError(c)
        }
    }

    /// An integer as argument bytes.
    static func argBytes(_ v: Int64) -> [UInt8] { Array(String(v).utf8) }
}
