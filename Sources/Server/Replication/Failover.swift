/*
 * Failover: FAILOVER, Redis 6.2's coordinated failover from a master to one of its replicas
 * (replication.c's failoverCommand / updateFailoverStatus / abortFailover).
 *
 *   no-failover --FAILOVER--> waiting-for-sync --target acked our offset--> failover-in-progress
 *        ^                        |  (writes paused)                         | (we are its replica,
 *        |                        +--TIMEOUT without FORCE, ABORT------------+  PSYNC ... FAILOVER)
 *        +-----------------------------------------------------+------------+
 *            the target answered +CONTINUE/+FULLRESYNC          rejected: abort, master again
 *
 *  - FAILOVER [TO host port [FORCE]] [TIMEOUT ms] pauses client writes, then waits until the
 *    target (or, without TO, any replica) has acknowledged master_repl_offset. With TIMEOUT the
 *    wait ends there: FORCE fails over anyway, otherwise the failover is aborted.
 *  - Failing over, this node becomes the target's replica and asks `PSYNC <replid> <offset>
 *    FAILOVER`: a replica that receives it with our replid promotes itself first (MASTER MODE
 *    enabled (failover request ...)), then answers +CONTINUE with its new id, so no data moves.
 *  - The pause ends with the failover (paused writes then meet -READONLY) or its abort.
 */
import Platform

/// Where a FAILOVER is (INFO's master_failover_state).
enum FailoverState {
    case none, waitingForSync, inProgress

    var name: String {
        switch self {
        case .none: "no-failover"
        case .waitingForSync: "waiting-for-sync"
        case .inProgress: "failover-in-progress"
        }
    }
}

struct FailoverStatus {
    var state = FailoverState.none
    var targetHost: String? = nil
    var targetPort = 0
    /// TIMEOUT's deadline (0: none), and FORCE.
    var endMillis: Int64 = 0
    var force = false
}

extension Server {
    // MARK: - The command

    mutating func failoverCommand(_ c: ClientRef) {
        let argc = c.pointee.argc
        if argc == 2 && c.pointee.arg(1).equalsLowercase("abort") {
            guard failover.state != .none else {
                addErrorString(c, "ERR No failover in progress.")
                return
            }
            abortFailover("Failover manually aborted")
            addOK(c)
            return
        }
        var timeout: Int64 = 0, force = false, host: String? = nil, port: Int64 = 0
        var j = 1
        while j < argc {
            let a = c.pointee.arg(j)
            if a.equalsLowercase("timeout") && j + 1 < argc && timeout == 0 {
                guard let t = c.pointee.arg(j + 1).int64 else { return addNotInteger(c) }
                if t <= 0 { return addErrorString(c, "ERR FAILOVER timeout must be greater than 0") }
                timeout = t
                j += 2
            } else if a.equalsLowercase("to") && j + 2 < argc && host == nil {
                guard let p = c.pointee.arg(j + 2).int64 else { return addNotInteger(c) }
                host = c.pointee.arg(j + 1).string
                port = p
                j += 3
            } else if a.equalsLowercase("force") && !force {
                force = true
                j += 1
            } else {
                return addSyntaxError(c)
            }
        }
        if failover.state != .none { return addErrorString(c, "ERR FAILOVER already in progress.") }
        if isReplicaNode { return addErrorString(c, "ERR FAILOVER is not valid when server is a replica.") }
        if repl.replicas.isEmpty { return addErrorString(c, "ERR FAILOVER requires connected replicas.") }
        if force && (timeout == 0 || host == nil) {
            return addErrorString(c, "ERR FAILOVER with force option requires both a timeout and target HOST and IP.")
        }
        if let host {
            guard let target = findReplica(host, Int(port)) else {
                return addErrorString(c, "ERR FAILOVER target HOST and PORT is not a replica.")
            }
            if target.pointee.replicaInfo.state != .online {
                return addErrorString(c, "ERR FAILOVER target replica is not online.")
            }
            Log.notice("FAILOVER requested to \(host):\(port).")
        } else {
            Log.notice("FAILOVER requested to any replica.")
        }
        failover = FailoverStatus(state: .waitingForSync, targetHost: host, targetPort: Int(port),
                                  endMillis: timeout > 0 ? Clock.unixMillis() + timeout : 0, force: force)
        // Writes wait until the failover ends (CLIENT PAUSE WRITE for as long as it takes).
        pauseMode = max(pauseMode, 1)
        pauseEndMillis = .max
        addOK(c)
    }

    /// The attached replica announcing `host:port`.
    func findReplica(_ host: String, _ port: Int) -> ClientRef? {
        repl.replicas.first { replicaIP($0) == host && $0.pointee.replicaInfo.listeningPort == port }
    }

    // MARK: - Progress

    /// From beforeSleep and the cron while waiting: fail over once the target (or any replica)
    /// acknowledged everything, or when TIMEOUT passed (FORCE), or give up.
    mutating func updateFailoverStatus() {
        guard failover.state == .waitingForSync else { return }
        if failover.endMillis != 0 && failover.endMillis <= Clock.unixMillis() {
            if failover.force, let host = failover.targetHost {
                Log.notice("FAILOVER to \(host):\(failover.targetPort) time out exceeded, failing over.")
                failOver(to: host, failover.targetPort)
            } else {
                abortFailover("Replica never caught up before timeout")
            }
            return
        }
        var target: ClientRef? = nil
        if let host = failover.targetHost {
            target = findReplica(host, failover.targetPort)
        } else if let r = repl.replicas.first(where: { $0.pointee.replicaInfo.ackOffset == repl.offset }) {
            target = r
            failover.targetHost = replicaIP(r)
            failover.targetPort = r.pointee.replicaInfo.listeningPort
        }
        guard let target, target.pointee.replicaInfo.ackOffset == repl.offset, let host = failover.targetHost else { return }
        Log.notice("Failover target \(host):\(failover.targetPort) is synced, failing over.")
        failOver(to: host, failover.targetPort)
    }

    /// Becomes the target's replica; the handshake's PSYNC carries FAILOVER.
    mutating func failOver(to host: String, _ port: Int) {
        failover.state = .inProgress
        startReplication(host: host, port: port)
        disconnectReplicas()
    }

    /// The handshake's PSYNC was answered: accepted ends the failover, anything else aborts it.
    mutating func failoverPsyncAnswered(accepted: Bool) {
        guard failover.state == .inProgress else { return }
        if accepted { clearFailoverState() } else { abortFailover("Failover target rejected psync request") }
    }

    mutating func abortFailover(_ why: String) {
        guard failover.state != .none else { return }
        if let host = failover.targetHost {
            Log.notice("FAILOVER to \(host):\(failover.targetPort) aborted: \(why)")
        } else {
            Log.notice("FAILOVER to any replica aborted: \(why)")
        }
        if failover.state == .inProgress { promoteToMaster() }
        clearFailoverState()
    }

    mutating func clearFailoverState() {
        failover = FailoverStatus()
        unpauseClients()
    }

    // MARK: - The target's side

    /// PSYNC <replid> <offset> FAILOVER: our master hands over to us. Returns false (after
    /// replying) when the request cannot be honoured.
    mutating func acceptFailoverRequest(_ c: ClientRef) -> Bool {
        let requested = c.pointee.arg(1).string
        Log.warning("Failover request received for replid \(requested).")
        guard requested == repl.replID else {
            addErrorString(c, "ERR PSYNC FAILOVER replid must match my replid.")
            return false
        }
        if isReplicaNode {
            promoteToMaster()
            Log.notice("MASTER MODE enabled (failover request from '\(clientDescription(c))')")
        }
        return true
    }
}
