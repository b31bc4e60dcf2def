/*
 * MIGRATE: moves keys to another server — Redis's migrateCommand (cluster.c), outside cluster
 * mode as in Redis.
 *
 *     MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE]
 *             [AUTH password | AUTH2 username password] [KEYS key ...]
 *
 * Like Redis, the exchange is synchronous: the loop stops while the target answers, bounded by
 * `timeout` ms for the connection and for each read and write. The commands go out in one
 * pipeline (AUTH, SELECT when the cached connection is on another database, one RESTORE per
 * key with its remaining TTL) and the replies are read in order. Keys the target accepted are
 * deleted here unless COPY, and replicas get a DEL for them. Connections are cached per
 * host:port for 10 seconds of idleness (INFO migrate_cached_sockets), so moving many keys one
 * MIGRATE at a time does not reconnect each time; a cached connection that fails is dropped and
 * the command retried once on a fresh one.
 *
 * With tls-cluster yes the connection is TLS, as Redis's (it presents tls-client-cert-file, or
 * tls-cert-file, and checks the target against tls-ca-cert-*); the handshake is bounded by the
 * same `timeout`. Reads go through the session before any poll: OpenSSL may already hold the
 * bytes the socket no longer shows.
 */
import CTLS
import Glibc
import Keyspace
import Persistence
import Platform
import RESP

/// A cached connection to a MIGRATE target.
struct MigrateSocket {
    var fd: Int32
    /// The TLS session over `fd` (tls-cluster yes), nil for plain TCP.
    var tls: UnsafeMutableRawPointer?
    /// The database the target connection has selected, -1 before any SELECT.
    var selectedDB: Int
    var lastUseMillis: Int64
}

extension Server {
    static let migrateSocketTTLMillis: Int64 = 10_000

    mutating func migrateCommand(_ c: ClientRef) {
        let argc = c.pointee.argc
        var copy = false, replace = false
        var auth: [[UInt8]] = []
        var firstKey = 3, keyCount = 1
        var i = 6
        while i < argc {
            let a = c.pointee.arg(i)
            if a.equalsLowercase("copy") {
                copy = true
            } else if a.equalsLowercase("replace") {
                replace = true
            } else if a.equalsLowercase("auth") && i + 1 < argc {
                auth = [Array("AUTH".utf8), c.pointee.arg(i + 1).array]
                i += 1
            } else if a.equalsLowercase("auth2") && i + 2 < argc {
                auth = [Array("AUTH".utf8), c.pointee.arg(i + 1).array, c.pointee.arg(i + 2).array]
                i += 2
            } else if a.equalsLowercase("keys") {
                if c.pointee.arg(3).count != 0 {
                    addError(c, "-ERR When using MIGRATE KEYS option, the key argument must be set to the empty string\r\n")
                    return
                }
                firstKey = i + 1
                keyCount = argc - i - 1
                break
            } else {
                addSyntaxError(c)
                return
            }
            i += 1
        }
        guard let port = c.pointee.arg(2).int64, let timeoutArg = c.pointee.arg(5).int64,
            let targetDB = c.pointee.arg(4).int64
        else {
            addNotInteger(c)
            return
        }
        let timeout = Int(timeoutArg <= 0 ? 1000 : min(timeoutArg, Int64(Int32.max)))
        // The keys that exist now, with their payloads and remaining TTLs.
        let db = c.pointee.db
        var keys: [(key: [UInt8], ttl: Int64, payload: [UInt8])] = []
        for k in firstKey..<(firstKey + keyCount) {
            guard let e = lookupWrite(db, c.pointee.arg(k)) else { continue }
            var ttl: Int64 = 0
            if e.expireAt != 0 {
                ttl = e.expireAt - commandTimeMillis
                if ttl < 0 { continue }
                if ttl < 1 { ttl = 1 }
            }
            keys.append((c.pointee.arg(k).array, ttl, RDBWriter.dumpPayload(e, compression: settings.rdbCompression)))
        }
        if keys.isEmpty {
            c.pointee.reply.append("+NOKEY\r\n" as StaticString)
            return
        }
        let host = c.pointee.arg(1).string
        let target = "\(host):\(port)"
        for attempt in 0..<2 {
            let cached = migrateSockets[target] != nil
            guard var socket = migrateSocket(host: host, port: Int(port), timeout: timeout) else {
                addError(c, "-IOERR error or timeout connecting to the client\r\n")
                return
            }
            var pipeline: [[[UInt8]]] = []
            if !auth.isEmpty { pipeline.append(auth) }
            let select = socket.selectedDB != Int(targetDB)
            if select { pipeline.append([Array("SELECT".utf8), Array(String(targetDB).utf8)]) }
            for k in keys {
                // RESTORE-ASKING in a cluster: the target is importing the slot (Redis's choice).
                var restore = [Array((cluster.enabled ? "RESTORE-ASKING" : "RESTORE").utf8), k.key, Array(String(k.ttl).utf8), k.payload]
                if replace { restore.append(Array("REPLACE".utf8)) }
                pipeline.append(restore)
            }
            let outcome = exchange(socket, pipeline, timeout: timeout)
            guard let replies = outcome else {
                closeMigrateSocket(target)
                // A cached connection may have been closed by the target meanwhile: retry once.
                if cached && attempt == 0 { continue }
                addError(c, "-IOERR error or timeout reading to target instance\r\n")
                return
            }
            var error: String? = nil
            var r = 0
            if !auth.isEmpty {
                if replies[r].hasPrefix("-") { error = String(replies[r].dropFirst()) }
                r += 1
            }
            if select {
                if replies[r].hasPrefix("-") {
                    error = String(replies[r].dropFirst())
                } else {
                    socket.selectedDB = Int(targetDB)
                }
                r += 1
            }
            var moved: [[UInt8]] = []
            if error == nil {
                for k in keys {
                    let reply = replies[r]
                    r += 1
                    if reply.hasPrefix("-") {
                        error = String(reply.dropFirst())
                    } else if !copy {
                        moved.append(k.key)
                    }
                }
            }
            socket.lastUseMillis = Clock.unixMillis()
            if error != nil { socket.selectedDB = -1 }
            migrateSockets[target] = socket
            if !moved.isEmpty {
                for k in moved { _ = k.withUnsafeBufferPointer { deleteKey(db, ByteView($0.baseAddress!, $0.count)) } }
                dirty += Int64(moved.count)
                propagateInstead(db, [Array("DEL".utf8)] + moved)
            }
            if let error {
                addErrorString(c, "ERR Target instance replied with error: \(error)")
            } else {
                addOK(c)
            }
            return
        }
    }

    /// The cached connection to `host:port`, or a new one (connected within `timeout` ms).
    mutating func migrateSocket(host: String, port: Int, timeout: Int) -> MigrateSocket? {
        let target = "\(host):\(port)"
        if let s = migrateSockets[target] { return s }
        guard let fd = try? Socket.startConnectTCP(host: host, port: port) else { return nil }
        guard Socket.waitReady(fd, writable: true, timeoutMillis: timeout), Socket.connectError(fd) == 0 else {
            Socket.close(fd)
            return nil
        }
        Socket.setNoDelay(fd)
        var s = MigrateSocket(fd: fd, selectedDB: -1, lastUseMillis: Clock.unixMillis())
        if settings.storedValue("tls-cluster") == "yes" {
            guard let conn = startMigrateTLS(fd, timeout: timeout) else {
                Socket.close(fd)
                return nil
            }
            s.tls = conn
        }
        migrateSockets[target] = s
        return s
    }

    /// The client side of a TLS handshake on `fd`, each step bounded by `timeout` ms.
    func startMigrateTLS(_ fd: Int32, timeout: Int) -> UnsafeMutableRawPointer? {
        guard let ctx = tls.clientContext, let conn = tandem_tls_connect_new(ctx, fd) else {
            Log.warning("MIGRATE: TLS is not configured (tls-cluster yes needs certificates)")
            return nil
        }
        while true {
            let (r, error) = Self.tlsHandshakeStep(conn)
            if r == 1 { return conn }
            if r != TANDEM_TLS_WANT_READ && r != TANDEM_TLS_WANT_WRITE
                || !Socket.waitReady(fd, writable: r == TANDEM_TLS_WANT_WRITE, timeoutMillis: timeout) {
                if !error.isEmpty { Log.verbose("MIGRATE: TLS handshake failed: \(error)") }
                tandem_tls_free(conn)
                return nil
            }
        }
    }

    mutating func closeMigrateSocket(_ target: String) {
        guard let s = migrateSockets.removeValue(forKey: target) else { return }
        if let conn = s.tls { tandem_tls_free(conn) }
        Socket.close(s.fd)
    }

    /// From the cron: connections idle for 10 s are closed, as Redis's migrateCloseTimedoutSockets.
    mutating func closeIdleMigrateSockets(_ now: Int64) {
        for (target, s) in migrateSockets where now - s.lastUseMillis > Self.migrateSocketTTLMillis {
            closeMigrateSocket(target)
        }
    }

    /// Writes the commands and reads one reply line each (RESTORE, AUTH and SELECT answer with
    /// a status or an error). nil on a timeout or a connection error.
    func exchange(_ socket: MigrateSocket, _ commands: [[[UInt8]]], timeout: Int) -> [String]? {
        // The commands in RESP, with the encoders replies use.
        var out = ReplyBuffer()
        defer { out.deallocate() }
        for args in commands {
            out.appendArrayHeader(args.count)
            for a in args { a.withUnsafeBufferPointer { out.appendBulk($0.baseAddress ?? UnsafePointer(bitPattern: 1)!, $0.count) } }
        }
        while out.pending > 0 {
            let n = socket.tls.map { Self.tlsWrite($0, from: out.base + out.sent, count: out.pending) }
                ?? Socket.write(socket.fd, from: out.base + out.sent, count: out.pending)
            if n == -1 {
                guard Socket.waitReady(socket.fd, writable: true, timeoutMillis: timeout) else { return nil }
                continue
            }
            if n <= 0 { return nil }
            out.didSend(n)
        }
        var replies: [String] = []
        var line: [UInt8] = []
        var input = [UInt8](repeating: 0, count: 4096)
        while replies.count < commands.count {
            let n = input.withUnsafeMutableBytes { b in
                socket.tls.map { Self.tlsRead($0, into: b.baseAddress!, count: b.count) }
                    ?? Socket.read(socket.fd, into: b.baseAddress!, count: b.count)
            }
            if n == -1 {
                guard Socket.waitReady(socket.fd, writable: false, timeoutMillis: timeout) else { return nil }
                continue
            }
            if n <= 0 { return nil }
            for byte in input[0..<n] {
                if byte == 10 && line.last == 13 {
                    line.removeLast()
                    replies.append(String(decoding: line, as: UTF8.self))
                    line.removeAll(keepingCapacity: true)
                } else {
                    line.append(byte)
                }
            }
        }
        return replies
    }
}
