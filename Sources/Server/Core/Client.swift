/*
 * Client: the state of one connection, in a malloc'd struct reached through a pointer.
 *
 * Clients are not Swift class instances: the per-command path reads and writes this struct
 * through an UnsafeMutablePointer, which costs no reference counting and no runtime
 * exclusivity check (docs/performance.md: both were measured as the largest costs of an
 * idiomatic design). The few Swift values inside (name, address strings) are touched only
 * by CLIENT commands and INFO, never per command.
 *
 * The query buffer holds raw input from `queryStart` to `queryEnd`; the parser reads from
 * `queryStart` and command arguments (`argv`) are ByteViews into it, valid until the command
 * returns. Replies go to `reply` and leave in the event loop's before-sleep step.
 */
import CTandem
import Platform
import RESP

typealias ClientRef = UnsafeMutablePointer<Client>

struct ClientFlags: OptionSet, Sendable {
    let rawValue: UInt32
    init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Send pending replies, then close (QUIT, protocol errors).
    static let closeAfterReply = ClientFlags(rawValue: 1 << 0)
    /// Close as soon as possible, without flushing (CLIENT KILL, limits).
    static let closeASAP = ClientFlags(rawValue: 1 << 1)
    /// Waiting in the pending-writes list.
    static let pendingWrite = ClientFlags(rawValue: 1 << 2)
    /// EPOLLOUT is registered because a write was partial.
    static let writeRegistered = ClientFlags(rawValue: 1 << 3)
    static let monitor = ClientFlags(rawValue: 1 << 4)
    static let noEvict = ClientFlags(rawValue: 1 << 5)
    /// CLIENT REPLY OFF / SKIP.
    static let replyOff = ClientFlags(rawValue: 1 << 6)
    static let replySkipNext = ClientFlags(rawValue: 1 << 7)
    static let replySkip = ClientFlags(rawValue: 1 << 8)
    /// Holding input until CLIENT PAUSE ends.
    static let pausedInput = ClientFlags(rawValue: 1 << 9)
    /// Input processing stopped until the output drains (back-pressure).
    static let outputFull = ClientFlags(rawValue: 1 << 10)
    static let unixSocket = ClientFlags(rawValue: 1 << 11)
    /// Currently executing a command (so it must not be freed underneath).
    static let executing = ClientFlags(rawValue: 1 << 12)
    /// Inside MULTI: commands are queued.
    static let multi = ClientFlags(rawValue: 1 << 13)
    /// A WATCHed key changed: EXEC will fail.
    static let dirtyCAS = ClientFlags(rawValue: 1 << 14)
    /// A command was rejected while queuing: EXEC will abort.
    static let dirtyExec = ClientFlags(rawValue: 1 << 15)
    /// Subscribed to at least one channel or pattern.
    static let pubsub = ClientFlags(rawValue: 1 << 16)
    /// Waiting on keys in a blocking command.
    static let blocked = ClientFlags(rawValue: 1 << 17)
    /// OpenSSL needs the socket writable to go on (a handshake step): EPOLLOUT is wanted.
    static let tlsWantsWrite = ClientFlags(rawValue: 1 << 18)
    /// ASKING: the next command may use a slot this node is importing.
    static let asking = ClientFlags(rawValue: 1 << 19)
    /// READONLY: a cluster replica serves this client reads of its master's slots.
    static let readonlyCluster = ClientFlags(rawValue: 1 << 20)
}

struct Client: ~Copyable {
    var fd: Int32
    var id: Int64
    var db: Int = 0
    var flags: ClientFlags = []
    var resp3 = false
    var authenticated: Bool
    /// The ACL user (an index into Server.acl.users); -1 for internal clients, which run
    /// anything (AccessControl.swift).
    var user: Int32 = -1
    /// Not authenticated or restricted: dispatch runs the access checks (one byte when not).
    var checkAccess = false
    /// The OpenSSL connection of a client of the TLS port (Security/TLS.swift), and whether its
    /// handshake is still going on.
    var tlsConnection: UnsafeMutableRawPointer? = nil
    var tlsHandshaking = false

    // Input
    var query: UnsafeMutablePointer<UInt8>
    var queryCapacity: Int
    var queryStart = 0
    var queryEnd = 0
    var queryPeak = 0
    var parser = RequestParser()
    var argv: UnsafeMutablePointer<ByteView>
    var argvCapacity: Int
    var argc = 0
    /// Cluster mode: the hash slot of the running command's keys (-1: none), which a script it
    /// runs must stay in (Redis's c->slot).
    var clusterSlot = -1

    // Output
    var reply = ReplyBuffer()

    // Transactions and pub/sub (not per command)
    var multiQueue = CommandQueue()
    /// A queued command writes or replicates (EXEC then waits out CLIENT PAUSE WRITE).
    var multiQueuedWrite = false
    /// A queued command is flagged denyoom: EXEC is refused while memory is over maxmemory.
    var multiQueuedDenyOOM = false
    /// A queued command lacks the stale flag: EXEC is refused on a stale replica.
    var multiQueuedNonStale = false
    var watched: [WatchedKey] = []
    var channels: Set<[UInt8]> = []
    var patterns: [[UInt8]] = []
    /// SSUBSCRIBE's shard channels.
    var shardChannels: Set<[UInt8]> = []
    var block = BlockState()
    /// CLIENT TRACKING (Tracking.swift).
    var tracking = TrackingState()
    /// When the unsent output went over its soft limit (0: it is not over; OutputLimits.swift).
    var softLimitSinceMillis: Int64 = 0
    /// This client's share of Server.clientsMemory (ClientEviction.swift), and the cached size
    /// of its watched keys, subscriptions and prefixes with their number when it was measured.
    var memoryCounted = 0
    var collectionItems = 0
    var collectionBytes = 0

    // Bookkeeping (not per command)
    var createdAtMillis: Int64
    var lastInteractionMillis: Int64
    var lastCommand: Int = -1
    var totalCommands: Int64 = 0
    /// master_repl_offset right after this client's last command that propagated (Redis's
    /// c->woff): the offset its WAIT waits for.
    var writeOffset: Int64 = 0
    var name: [UInt8] = []
    var address: String
    var localAddress: String
    var isLoopback: Bool
    /// This connection is a replica of ours (after SYNC/PSYNC): ReplicationMaster.swift.
    var isReplica = false
    /// This connection is our master's (ReplicaLink.swift): commands run without replies.
    var isMaster = false
    var replicaInfo = AttachedReplica()

    static let readChunk = 16 * 1024

    @inline(__always)
    func arg(_ i: Int) -> ByteView { argv[i] }

    init(fd: Int32, id: Int64, address: String, localAddress: String, isLoopback: Bool, authenticated: Bool, now: Int64) {
        self.fd = fd
        self.id = id
        self.address = address
        self.localAddress = localAddress
        self.isLoopback = isLoopback
        self.authenticated = authenticated
        self.queryCapacity = Client.readChunk
        self.query = tandem_malloc(queryCapacity).assumingMemoryBound(to: UInt8.self)
        self.argvCapacity = 16
        self.argv = .allocate(capacity: 16)
        self.createdAtMillis = now
        self.lastInteractionMillis = now
        self.parser.authenticated = authenticated
    }

    static func create(fd: Int32, id: Int64, address: String, localAddress: String, isLoopback: Bool,
                       authenticated: Bool, now: Int64) -> ClientRef {
        let c = ClientRef.allocate(capacity: 1)
        c.initialize(to: Client(fd: fd, id: id, address: address, localAddress: localAddress,
                                isLoopback: isLoopback, authenticated: authenticated, now: now))
        return c
    }

    /// Frees the buffers and the struct. The descriptor is closed by the caller.
    static func destroy(_ c: ClientRef) {
        c.pointee.multiQueue.deallocate()
        c.pointee.block.command.deallocate()
        tandem_free(c.pointee.query)
        c.pointee.argv.deallocate()
        c.pointee.parser.deallocate()
        c.pointee.reply.deallocate()
        c.deinitialize(count: 1)
        c.deallocate()
    }

    // MARK: - Query buffer

    /// Makes room for at least `n` more bytes after `queryEnd`, compacting first; `exact`: no
    /// more than that (a big argument's bytes, as Redis sizes its query buffer for them).
    /// (The test for room is inlined; making it is not.)
    @inline(__always)
    mutating func reserveQuery(_ n: Int, exact: Bool = false) {
        if queryCapacity - queryEnd < n { makeQueryRoom(n, exact: exact) }
    }

    mutating func makeQueryRoom(_ n: Int, exact: Bool) {
        if queryStart > 0 && (queryCapacity - queryEnd < n) {
            let live = queryEnd - queryStart
            if live > 0 { memmove(query, query + queryStart, live) }
            queryStart = 0
            queryEnd = live
        }
        if queryCapacity - queryEnd < n {
            var c = max(queryCapacity * 2, Client.readChunk)
            if exact { c = queryEnd + n }
            while c - queryEnd < n { c *= 2 }
            query = tandem_realloc(query, c).assumingMemoryBound(to: UInt8.self)
            queryCapacity = c
        }
    }

    /// Fills `argv` from the parser's offsets (relative to `queryStart`).
    @inline(__always)
    mutating func loadArguments() {
        let n = parser.argc
        if n > argvCapacity {
            argv.deallocate()
            argvCapacity = max(n, argvCapacity * 2)
            argv = .allocate(capacity: argvCapacity)
        }
        let base = UnsafePointer(query + queryStart)
        let offsets = parser.offsets
        for i in 0..<n {
            argv[i] = ByteView(base + offsets[2 * i], offsets[2 * i + 1])
        }
        argc = n
    }

    /// From the client cron, with the buffer empty: a large query buffer goes back to its
    /// normal 16 KB, and a client idle for 2 s or more gives it up entirely (CLIENT LIST
    /// qbuf-free=0) until it sends again, as Redis's clientsCronResizeQueryBuffer.
    mutating func shrinkQueryIfIdle(idleMillis: Int64) {
        guard queryStart == queryEnd else { return }
        let target = idleMillis >= 2000 ? 0 : queryCapacity > 4 * Client.readChunk ? Client.readChunk : queryCapacity
        if target == queryCapacity { return }
        tandem_free(query)
        queryCapacity = target
        // A one-byte block keeps `query` valid while the capacity is 0.
        query = tandem_malloc(max(target, 1)).assumingMemoryBound(to: UInt8.self)
        queryStart = 0
        queryEnd = 0
    }

    // MARK: - Reply helpers

    /// False while CLIENT REPLY OFF/SKIP silences this client.
    @inline(__always)
    var repliesEnabled: Bool { !flags.contains(.replyOff) && !flags.contains(.replySkip) }

    /// Seconds since the last interaction.
    func idleSeconds(now: Int64) -> Int64 { (now - lastInteractionMillis) / 1000 }

    var nameString: String { String(decoding: name, as: UTF8.self) }
}
