/*
 * ReplicationSenders: the primary's side of the sender worker processes (the workers
 * themselves are Replication/SenderWorker.swift).
 *
 *  - The ReplicaTable is mapped at start-up; the `repl-sender-workers` workers are forked when
 *    `repl-sender-workers-min-replicas` replicas first stream (below that the primary feeds
 *    them itself), and the primary keeps, per worker, a control socket, a "wake" eventfd and a
 *    "notify" eventfd (in its event loop).
 *  - A replica streams from the primary until it is caught up with what the primary buffered
 *    for it (its snapshot's writes, or its +CONTINUE). Then, once that
 *    output buffer is empty, it is handed over: a ReplicaTable slot, and a Handoff message with
 *    its socket and the ring attached. The primary never writes to the socket again, but keeps
 *    reading it: the replica's REPLCONF ACKs reach the primary directly (WAIT pays no extra
 *    process hop), and CLIENT LIST, ROLE and INFO still show the replica.
 *  - The stream reaches handed-over replicas through the ring only: appending to it sets a flag,
 *    and beforeSleep wakes the workers once per loop iteration.
 *  - Dropping a handed-over replica (CLIENT KILL, timeout, a new history) shuts its socket
 *    down: the worker sees the end and closes the slot. A worker that closed a slot itself says
 *    why (disconnected, behind the ring, over its output limit, garbage), and the primary frees
 *    the client with Redis's log line.
 *  - A worker that dies is forked again; its replicas are dropped and reconnect with PSYNC.
 *
 * `repl-sender-workers 0` keeps every replica in the primary (the stream is copied into each
 * replica's output buffer), which is also the fallback when the table is full.
 */
import CTandem
import Glibc
import Platform
import Replication

/// The primary's handle on one sender worker process.
struct SenderWorkerHandle {
    var pid: pid_t = -1
    var control: Int32 = -1
    var wake: Int32 = -1
    var notify: Int32 = -1
    /// Replicas handed to it and not yet released.
    var replicas = 0
}

extension Server {
    static let senderBit: UInt64 = 1 << 42
    static let replicaTableSlots = 1024

    // MARK: - Starting workers

    /// At start-up: the table the workers will report in (shared with processes forked later).
    /// The workers themselves are forked when the fan-out first needs them
    /// (`ensureSenderWorkers`): with one or two replicas the primary feeds them, and a server
    /// without replicas has no helper processes a tool could mistake for its snapshot child
    /// (Redis's test suite finds "the child" with `pgrep -P`).
    public mutating func startSenderWorkers() {
        guard settings.replSenderWorkers > 0 else { return }
        do {
            repl.table = try ReplicaTable(capacity: Self.replicaTableSlots)
        } catch {
            Log.warning("Can't create the replica table for the sender workers: \(error); replicas are fed by the main process")
            return
        }
        repl.workers = Array(repeating: SenderWorkerHandle(), count: settings.replSenderWorkers)
    }

    /// Forks the workers not running yet; true when at least one runs. Forked children close
    /// every inherited descriptor but their own, and touch no keyspace page, so forking with a
    /// loaded dataset costs the page-table copy once (as a BGSAVE's fork does).
    mutating func ensureSenderWorkers() -> Bool {
        guard repl.table != nil else { return false }
        if !repl.workersStarted {
            repl.workersStarted = true
            for i in repl.workers.indices where repl.workers[i].pid <= 0 { spawnSenderWorker(i) }
        }
        return sendersAvailable
    }

    mutating func spawnSenderWorker(_ i: Int) {
        guard let table = repl.table else { return }
        let pair: (Int32, Int32)
        do { pair = try DescriptorPassing.messagePair() } catch {
            Log.warning("Can't start sender worker \(i): \(error)")
            return
        }
        let wake = tandem_eventfd(), notify = tandem_eventfd()
        let forked = ChildProcess.fork()
        if case .child = forked {
            Log.role = "C"
            // Die with the primary whatever else holds the control socket (belt and braces).
            tandem_die_with_parent()
            signal(SIGTERM, SIG_DFL)
            signal(SIGINT, SIG_DFL)
            // Keep nothing of the primary's but these three: a worker holding a copy of a client's
            // socket would keep that connection open after the primary closes it.
            let keep: Set<Int32> = [pair.1, wake, notify]
            let limit = Int32(min(65536, max(1024, sysconf(Int32(_SC_OPEN_MAX)))))
            for fd in 3..<limit where !keep.contains(fd) { close(fd) }
            updateProcessTitle("tandem-repl-sender")
            SenderWorker.run(control: pair.1, wake: wake, notify: notify, table: table)
        }
        close(pair.1)
        guard case .parent(let pid) = forked else {
            Log.warning("Can't fork sender worker \(i): \(String(cString: strerror(errno)))")
            for fd in [pair.0, wake, notify] { close(fd) }
            return
        }
        repl.workers[i] = SenderWorkerHandle(pid: pid, control: pair.0, wake: wake, notify: notify)
        try? loop.add(notify, events: EventLoop.readable, token: Self.senderBit | UInt64(i))
        Log.notice("Replication sender worker \(i) started by pid \(pid)")
        if let ring = repl.backlog { announceRing(ring.pointee.fd, to: i) }
    }

    // MARK: - Handing replicas over

    /// Whether the sender workers can take replicas.
    var sendersAvailable: Bool { repl.table != nil && repl.workers.contains { $0.pid > 0 } }

    /// Whether streaming replicas go to the workers: once repl-sender-workers-min-replicas of
    /// them stream. Below that the primary writes to them itself, as Redis does: a WAIT round
    /// trip then costs no process wake-up, and one or two sockets cost the primary little;
    /// above it, fan-out is what the workers take off the primary (docs/operations.md,
    /// decision 4; bench/fanout measures both).
    mutating func feedsThroughWorkers() -> Bool {
        guard repl.table != nil else { return false }
        var streaming = 0
        for r in repl.replicas where r.pointee.replicaInfo.streaming && !r.pointee.flags.contains(.closeASAP) { streaming += 1 }
        return streaming >= settings.replSenderWorkersMinReplicas && ensureSenderWorkers()
    }

    /// Once the fan-out reaches the threshold, the replicas the primary feeds move to the
    /// workers too, each at the end of what its output buffer holds.
    mutating func moveReplicasToWorkersIfFanOut() {
        guard feedsThroughWorkers() else { return }
        for r in repl.replicas where r.pointee.replicaInfo.streaming && r.pointee.replicaInfo.slot < 0
            && r.pointee.replicaInfo.handoffOffset < 0 && !r.pointee.flags.contains(.closeASAP)
            && r.pointee.tlsConnection == nil
        {
            r.pointee.replicaInfo.handoffOffset = repl.offset
            endCompressedFrame(r)
            queueWrite(r)
        }
    }

    /// From writeToClient, once `r`'s output buffer is empty: hands it to the least busy worker,
    /// which continues the stream from the byte after `handoffOffset`.
    mutating func handOff(_ r: ClientRef) {
        let next = r.pointee.replicaInfo.handoffOffset + 1
        r.pointee.replicaInfo.handoffOffset = -1
        guard let table = repl.table, let ring = repl.backlog,
              let i = repl.workers.indices.filter({ repl.workers[$0].pid > 0 }).min(by: { repl.workers[$0].replicas < repl.workers[$1].replicas }),
              let slot = table.claim(worker: i, sentOffset: next - 1)
        else {
            // No worker can take it: the primary keeps feeding it.
            if appendBacklog(to: r, from: next) == nil { markClosing(r) } else { queueWrite(r) }
            return
        }
        let limit = settings.outputLimitReplica
        var message = Handoff(slot: Int64(slot), startOffset: next, generation: ring.pointee.generation,
                              hardLimit: effectiveHardLimit, softLimit: Int64(limit.soft), softSeconds: Int64(limit.softSeconds))
        message.compress = r.pointee.replicaInfo.lz4 != nil ? 1 : 0
        message.graceThrough = r.pointee.replicaInfo.graceThrough
        let sent = withUnsafeBytes(of: &message) { DescriptorPassing.send(repl.workers[i].control, $0, fds: [r.pointee.fd, ring.pointee.fd]) }
        guard sent else {
            table.close(slot, reason: .disconnected)
            table.release(slot)
            Log.warning("Can't hand replica \(replicaName(r)) to sender worker \(i): \(String(cString: strerror(errno)))")
            markClosing(r)
            return
        }
        r.pointee.flags.remove(.writeRegistered)
        r.pointee.flags.remove(.outputFull)
        updateInterest(r)  // reading only
        r.pointee.replicaInfo.slot = slot
        freeCompressor(r)
        repl.workers[i].replicas += 1
        repl.wakeWorkers = true
    }

    /// Sends the ring's (new) mapping to worker `i` (after a resize, or when it starts).
    mutating func announceRing(_ ringFD: Int32, to i: Int) {
        guard repl.workers[i].pid > 0 else { return }
        var message = Handoff(slot: -1, startOffset: 0, generation: 0, hardLimit: 0, softLimit: 0, softSeconds: 0)
        _ = withUnsafeBytes(of: &message) { DescriptorPassing.send(repl.workers[i].control, $0, fds: [ringFD, ringFD]) }
    }

    mutating func announceRingToAll() {
        guard let ring = repl.backlog else { return }
        for i in repl.workers.indices { announceRing(ring.pointee.fd, to: i) }
    }

    /// From beforeSleep: the ring grew; wake the workers that feed replicas.
    mutating func wakeSenderWorkers() {
        repl.wakeWorkers = false
        var one: UInt64 = 1
        for w in repl.workers where w.pid > 0 && w.replicas > 0 { _ = write(w.wake, &one, 8) }
    }

    // MARK: - What the workers report

    /// A worker's notify eventfd is readable.
    mutating func senderWorkerNotified(_ i: Int) {
        var value: UInt64 = 0
        _ = read(repl.workers[i].notify, &value, 8)
        syncReplicaTable()
    }

    /// Frees the replicas the workers dropped, and the slots of replicas already forgotten once
    /// their worker closed them.
    mutating func syncReplicaTable() {
        guard let table = repl.table else { return }
        for r in repl.replicas where r.pointee.replicaInfo.slot >= 0 {
            if collectWorkerDrop(r) { markClosing(r) }
        }
        let orphans = repl.orphanSlots
        repl.orphanSlots = []
        for slot in orphans {
            if table.state(slot) == .closed { releaseSlot(slot) } else { repl.orphanSlots.append(slot) }
        }
    }

    /// When `r`'s worker dropped it: logs why, keeps its offset for a replica dropped for its
    /// output limit (it comes back with PSYNC), frees the slot and returns true. Also called
    /// when the primary frees the client first: the worker's shutdown() ends the connection
    /// for the primary's reads too, and the primary may see that before the notification.
    mutating func collectWorkerDrop(_ r: ClientRef) -> Bool {
        let slot = r.pointee.replicaInfo.slot
        guard slot >= 0, let table = repl.table, table.state(slot) == .closed else { return false }
        logWorkerDrop(r, table.reason(slot))
        if table.reason(slot) == .outputLimit { pinDroppedReplica(r) }
        releaseSlot(slot)
        r.pointee.replicaInfo.slot = -1
        return true
    }

    func logWorkerDrop(_ r: ClientRef, _ reason: ReplicaTable.CloseReason) {
        switch reason {
        case .outputLimit:
            Log.warning("Client \(clientDescription(r)) scheduled to be closed ASAP for overcoming of output buffer limits.")
        case .fellBehind:
            Log.warning("Replica \(replicaName(r)) is more than the replication buffer's capacity behind; dropping it (it will resynchronize)")
        case .disconnected:
            break
        }
    }

    mutating func releaseSlot(_ slot: Int) {
        guard let table = repl.table else { return }
        let (lz4In, lz4Out) = table.compression(slot)
        repl.lz4BytesIn += lz4In
        repl.lz4BytesOut += lz4Out
        repl.netOutputBytes += table.wireBytes(slot)
        let w = table.worker(slot)
        if w >= 0 && w < repl.workers.count { repl.workers[w].replicas = max(0, repl.workers[w].replicas - 1) }
        table.release(slot)
    }

    /// A handed-over replica is being freed by the primary: end its connection so the worker
    /// lets go of it; the slot is freed once the worker closed it.
    mutating func releaseHandedOff(_ c: ClientRef) {
        let slot = c.pointee.replicaInfo.slot
        guard slot >= 0 else { return }
        c.pointee.replicaInfo.slot = -1
        shutdown(c.pointee.fd, Int32(SHUT_RDWR))
        repl.orphanSlots.append(slot)
    }

    // MARK: - Cron

    /// Every cron tick: free what the workers dropped, and restart dead workers.
    mutating func senderWorkersCron() {
        guard repl.table != nil else { return }
        syncReplicaTable()
        for i in repl.workers.indices where repl.workers[i].pid > 0 {
            guard ChildProcess.reap(repl.workers[i].pid) != nil else { continue }
            Log.warning("Replication sender worker \(i) (pid \(repl.workers[i].pid)) exited; starting it again")
            senderWorkerDied(i)
            spawnSenderWorker(i)
        }
    }

    /// Drops the replicas of a dead worker (they reconnect and continue with PSYNC).
    mutating func senderWorkerDied(_ i: Int) {
        guard let table = repl.table else { return }
        let w = repl.workers[i]
        loop.remove(w.notify)
        for fd in [w.control, w.wake, w.notify] { close(fd) }
        repl.workers[i] = SenderWorkerHandle()
        for r in repl.replicas where r.pointee.replicaInfo.slot >= 0 && table.worker(r.pointee.replicaInfo.slot) == i {
            table.close(r.pointee.replicaInfo.slot, reason: .disconnected)
            markClosing(r)
        }
        for slot in 0..<table.capacity where table.state(slot) != .free && table.worker(slot) == i {
            table.close(slot, reason: .disconnected)
        }
        syncReplicaTable()
    }

    /// total_net_repl_output_bytes: what the primary sent and what the workers sent.
    func replicationOutputBytes() -> Int64 {
        var total = repl.netOutputBytes
        if let table = repl.table {
            for slot in 0..<table.capacity where table.state(slot) != .free { total += table.wireBytes(slot) }
        }
        return total
    }

    /// At shutdown: closing its control socket makes each worker exit; reap them (briefly) so
    /// none outlives the server, then kill any that did not go.
    mutating func stopSenderWorkers() {
        for w in repl.workers where w.pid > 0 { close(w.control) }
        let deadline = Clock.monotonicMillis() + 1000
        for w in repl.workers where w.pid > 0 {
            while ChildProcess.reap(w.pid) == nil {
                if Clock.monotonicMillis() > deadline {
                    kill(w.pid, SIGKILL)
                    ChildProcess.wait(w.pid)
                    break
                }
                usleep(1000)
            }
        }
        repl.workers = []
    }

    /// INFO's `# Tandem` figures for the workers and the LZ4 stream.
    func senderWorkerFields() -> [(String, String)] {
        var f: [(String, String)] = [("repl_sender_workers", "\(repl.workers.filter { $0.pid > 0 }.count)")]
        for (i, w) in repl.workers.enumerated() {
            f.append(("repl_sender_worker\(i)", "pid=\(w.pid),replicas=\(w.replicas)"))
        }
        var bytesIn = repl.lz4BytesIn, bytesOut = repl.lz4BytesOut
        if let table = repl.table {
            for slot in 0..<table.capacity where table.state(slot) != .free {
                let c = table.compression(slot)
                bytesIn += c.bytesIn
                bytesOut += c.bytesOut
            }
        }
        let ratio = bytesOut > 0 ? Double(bytesIn) / Double(bytesOut) : 0
        f += [("repl_lz4_bytes_in", "\(bytesIn)"), ("repl_lz4_bytes_out", "\(bytesOut)"),
              ("repl_lz4_ratio", String(format2: ratio)), ("repl_lz4_replica_input_bytes", "\(link.lz4BytesIn + (link.lz4Reader?.pointee.bytesIn ?? 0))"),
              ("repl_lz4_replica_output_bytes", "\(link.lz4BytesOut + (link.lz4Reader?.pointee.bytesOut ?? 0))")]
        return f
    }
}
