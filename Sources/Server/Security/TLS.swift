/*
 * TLS: encrypted client connections on `tls-port`, beside the plain port — Redis 7.0's tls.c.
 *
 * OpenSSL does the cryptography (CTLS, a few C shims); this file fits it to the event loop:
 *   - the context is built from the tls-* directives at start-up and again when CONFIG SET changes
 *     one (a failure keeps the old context and refuses the change, as Redis);
 *   - an accepted connection does its handshake without blocking: each readable/writable event
 *     advances it, and epoll waits for what OpenSSL wants next, so a client that stops half way
 *     through holds only its own socket. A refused handshake (no or untrusted certificate with
 *     tls-auth-clients yes, a plain-text client, garbage) is logged at verbose level and closed;
 *   - reads and writes go through SSL_read/SSL_write instead of read/write (Networking.swift);
 *     OpenSSL may hold decrypted bytes epoll cannot see, so such clients are read again before
 *     the loop sleeps (`tls.pendingReads`);
 *   - renegotiation is refused (SSL_OP_NO_RENEGOTIATION).
 *
 * Replication: a replica on the TLS port stays with the primary, which owns its session (no
 * sender worker; its disk snapshot goes through the output buffer, and a diskless sync is done
 * from disk for it). With tls-replication yes, our link to a master does the TLS handshake
 * after connecting, and its reads and writes go through the session (`linkRead`/`linkWrite`),
 * which the master client takes over once the transfer is done; the snapshot then goes to a
 * file first.
 */
import CTLS
import Glibc
import Platform

struct TLSState {
    var serverContext: UnsafeMutableRawPointer? = nil
    var clientContext: UnsafeMutableRawPointer? = nil
    var listeners: [Int32] = []
    /// Clients with decrypted input OpenSSL holds: (fd, id) so a freed client is recognised.
    var pendingReads: [(Int32, Int64)] = []

    /// tls-auth-clients as CTLS takes it: 0 no, 1 yes, 2 optional.
    var authClients: Int32 = 1
}

extension Server {
    static let tlsDirectives: Set<String> = [
        "tls-cert-file", "tls-key-file", "tls-key-file-pass", "tls-client-cert-file", "tls-client-key-file",
        "tls-client-key-file-pass", "tls-dh-params-file", "tls-ca-cert-file", "tls-ca-cert-dir", "tls-protocols",
        "tls-ciphers", "tls-ciphersuites", "tls-prefer-server-ciphers", "tls-session-caching", "tls-session-cache-size",
        "tls-session-cache-timeout",
    ]

    var tlsPort: Int { Int(settings.storedValue("tls-port")) ?? 0 }

    var tlsEnabled: Bool { tlsPort != 0 }

    /// Builds the contexts from the tls-* settings; on failure logs why and keeps the old ones.
    mutating func configureTLS() -> Bool {
        let s = settings
        func v(_ name: String) -> String { s.storedValue(name) }
        var error = [CChar](repeating: 0, count: 512)
        var client: UnsafeMutableRawPointer? = nil
        let strings = ["tls-cert-file", "tls-key-file", "tls-key-file-pass", "tls-client-cert-file", "tls-client-key-file",
                       "tls-client-key-file-pass", "tls-dh-params-file", "tls-ca-cert-file", "tls-ca-cert-dir",
                       "tls-protocols", "tls-ciphers", "tls-ciphersuites"].map { strdup(v($0)) }
        defer { for p in strings { free(p) } }
        var config = tandem_tls_config(
            cert_file: strings[0], key_file: strings[1], key_file_pass: strings[2], client_cert_file: strings[3],
            client_key_file: strings[4], client_key_file_pass: strings[5], dh_params_file: strings[6],
            ca_cert_file: strings[7], ca_cert_dir: strings[8], protocols: strings[9], ciphers: strings[10],
            ciphersuites: strings[11], prefer_server_ciphers: v("tls-prefer-server-ciphers") == "yes" ? 1 : 0,
            session_caching: v("tls-session-caching") == "yes" ? 1 : 0,
            session_cache_size: Int32(clamping: Int(v("tls-session-cache-size")) ?? 20480),
            session_cache_timeout: Int32(clamping: Int(v("tls-session-cache-timeout")) ?? 300))
        let server = tandem_tls_context_new(&config, &client, &error, error.count)
        guard let server else {
            Log.warning(String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
            return false
        }
        tandem_tls_context_free(tls.serverContext)
        tandem_tls_context_free(tls.clientContext)
        tls.serverContext = server
        tls.clientContext = client
        switch v("tls-auth-clients") {
        case "no": tls.authClients = 0
        case "optional": tls.authClients = 2
        default: tls.authClients = 1
        }
        return true
    }

    /// At start-up: the contexts (for tls-port or tls-replication) and the listeners of
    /// tls-port (exits on errors, as Redis).
    public mutating func startTLS() {
        guard tlsEnabled || settings.storedValue("tls-replication") == "yes" else { return }
        if !configureTLS() {
            Log.warning("Failed to configure TLS. Check logs for more info.")
            exit(1)
        }
        do {
            try listenTLS()
        } catch {
            Log.warning("Failed listening on port \(tlsPort) (tls), aborting.")
            exit(1)
        }
    }

    /// tls-port's listeners on every `bind` address.
    mutating func listenTLS() throws(SystemError) {
        for fd in tls.listeners {
            loop.remove(fd)
            Socket.close(fd)
        }
        tls.listeners = []
        let port = tlsPort
        if port == 0 { return }
        for address in settings.bind {
            let optional = address.hasPrefix("-")
            let host = optional ? String(address.dropFirst()) : address
            do {
                let fd = try Socket.listenTCP(host: host, port: port, backlog: Int32(settings.tcpBacklog))
                applySocketMark(fd)
                try loop.add(fd, events: EventLoop.readable, token: Self.listenerToken(fd))
                tls.listeners.append(fd)
            } catch {
                if optional || error.errno == EAFNOSUPPORT { continue }
                Log.warning("Warning: Could not create server TCP listening socket \(host):\(port): \(error.message)")
                throw error
            }
        }
    }

    /// CONFIG SET of a tls-* directive.
    mutating func applyTLSChange(_ name: String) -> String? {
        if name == "tls-port" {
            if tlsEnabled && tls.serverContext == nil && !configureTLS() { return "Unable to update TLS configuration. Check server logs." }
            do { try listenTLS() } catch { return "Unable to listen on this port" }
            return nil
        }
        if name == "tls-replication" {
            if settings.storedValue("tls-replication") == "yes" && tls.clientContext == nil && !configureTLS() {
                return "Unable to update TLS configuration. Check server logs."
            }
            return nil
        }
        if name == "tls-auth-clients" {
            switch settings.storedValue("tls-auth-clients") {
            case "no": tls.authClients = 0
            case "optional": tls.authClients = 2
            default: tls.authClients = 1
            }
            return nil
        }
        // Contexts are only needed (and checked) once TLS is on.
        if !tlsEnabled && settings.storedValue("tls-replication") != "yes" { return nil }
        return configureTLS() ? nil : "Unable to update TLS configuration. Check server logs."
    }

    // MARK: - Connections

    /// A connection accepted on a TLS listener: its handshake starts with the first event.
    func attachTLS(_ c: ClientRef) -> Bool {
        guard let ctx = tls.serverContext, let conn = tandem_tls_accept_new(ctx, c.pointee.fd, tls.authClients) else {
            return false
        }
        c.pointee.tlsConnection = conn
        c.pointee.tlsHandshaking = true
        return true
    }

    /// Advances the handshake; true once it is done (the connection then reads as any other).
    mutating func continueTLSHandshake(_ c: ClientRef) -> Bool {
        guard let conn = c.pointee.tlsConnection else { return true }
        let (r, error) = Self.tlsHandshakeStep(conn)
        switch r {
        case 1:
            c.pointee.tlsHandshaking = false
            c.pointee.flags.remove(.tlsWantsWrite)
            updateInterest(c)
            // A reply written before the handshake (protected mode's refusal) goes out now.
            if c.pointee.reply.pending > 0 { queueWrite(c) }
            return true
        case TANDEM_TLS_WANT_WRITE:
            c.pointee.flags.insert(.tlsWantsWrite)
            updateInterest(c)
            return false
        case TANDEM_TLS_WANT_READ:
            if c.pointee.flags.contains(.tlsWantsWrite) {
                c.pointee.flags.remove(.tlsWantsWrite)
                updateInterest(c)
            }
            return false
        default:
            Log.verbose("Error accepting a client connection: \(error) (addr=\(c.pointee.address) laddr=\(c.pointee.localAddress))")
            markClosing(c)
            return false
        }
    }

    /// SSL_read: bytes, 0 at end of stream, -1 would block, -2 error (logged at verbose level
    /// after `what` when given). The error text goes to a stack buffer: nothing is allocated per call.
    static func tlsRead(_ conn: UnsafeMutableRawPointer, into buffer: UnsafeMutableRawPointer, count: Int,
                        logging what: StaticString? = nil) -> Int {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 256) { error in
            error[0] = 0
            let n = tandem_tls_read(conn, buffer, count, error.baseAddress, 256)
            if n >= 0 { return n }
            if n == TANDEM_TLS_WANT_READ || n == TANDEM_TLS_WANT_WRITE { return -1 }
            if let what { Log.verbose("\(what)\(String(cString: error.baseAddress!))") }
            return -2
        }
    }

    /// SSL_write: bytes, -1 would block, -2 error (logged at verbose level).
    static func tlsWrite(_ conn: UnsafeMutableRawPointer, from buffer: UnsafeRawPointer, count: Int) -> Int {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 256) { error in
            error[0] = 0
            let n = tandem_tls_write(conn, buffer, count, error.baseAddress, 256)
            if n >= 0 { return n }
            if n == TANDEM_TLS_WANT_READ || n == TANDEM_TLS_WANT_WRITE { return -1 }
            Log.verbose("Error writing to client: \(String(cString: error.baseAddress!))")
            return -2
        }
    }

    /// After a read: if OpenSSL still holds decrypted input, read it before sleeping.
    mutating func noteTLSPending(_ c: ClientRef) {
        guard let conn = c.pointee.tlsConnection, tandem_tls_pending(conn) > 0 else { return }
        tls.pendingReads.append((c.pointee.fd, c.pointee.id))
    }

    /// beforeSleep: reads what OpenSSL buffered for clients epoll will not wake for.
    mutating func readTLSPending() {
        var rounds = 0
        while !tls.pendingReads.isEmpty && rounds < 16 {
            let batch = tls.pendingReads
            tls.pendingReads = []
            for (fd, id) in batch {
                guard Int(fd) < clientsCapacity, let c = clientsByFD[Int(fd)], c.pointee.id == id,
                    !c.pointee.flags.contains(.closeASAP), !c.pointee.flags.contains(.outputFull)
                else { continue }
                readFromClient(c)
            }
            rounds += 1
        }
    }

    /// One step of a handshake: 1 done, TANDEM_TLS_WANT_READ/_WRITE, or an error and its text.
    static func tlsHandshakeStep(_ conn: UnsafeMutableRawPointer) -> (Int32, String) {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 512) { error in
            error[0] = 0
            let r = tandem_tls_handshake(conn, error.baseAddress, 512)
            return (r, r == 1 || r == TANDEM_TLS_WANT_READ || r == TANDEM_TLS_WANT_WRITE ? "" : String(cString: error.baseAddress!))
        }
    }

    // MARK: - The replication link (tls-replication yes)

    /// The master link's session: the link's during the handshake and transfer, then the
    /// master client's.
    var linkSession: UnsafeMutableRawPointer? { link.tls ?? link.masterClient?.pointee.tlsConnection }

    /// Socket.read on the master link, through its TLS session when there is one.
    func linkRead(_ fd: Int32, into buffer: UnsafeMutableRawPointer, count: Int) -> Int {
        if let conn = linkSession { return Self.tlsRead(conn, into: buffer, count: count) }
        return Socket.read(fd, into: buffer, count: count)
    }

    /// Socket.write on the master link, through its TLS session when there is one.
    func linkWrite(_ fd: Int32, from buffer: UnsafeRawPointer, count: Int) -> Int {
        if let conn = linkSession { return Self.tlsWrite(conn, from: buffer, count: count) }
        return Socket.write(fd, from: buffer, count: count)
    }

    /// Closes the master link's socket and its session (not yet handed to the master client).
    mutating func closeLinkSocket(_ fd: Int32) {
        if let conn = link.tls { tandem_tls_free(conn) }
        link.tls = nil
        link.tlsHandshaking = false
        Socket.close(fd)
    }


    func freeTLS(_ c: ClientRef) {
        if let conn = c.pointee.tlsConnection {
            tandem_tls_free(conn)
            c.pointee.tlsConnection = nil
        }
    }
}
