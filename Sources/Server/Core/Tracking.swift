/*
 * Tracking: server-assisted client-side caching (CLIENT TRACKING) — Redis's tracking.c.
 *
 * Default mode: after a read-only command of a tracking client, the keys it read go into the
 * tracking table (key -> IDs of the clients that may cache it). When a key changes
 * (keyModified: every write, expiry, eviction) its entry is removed and each of those clients
 * gets an "invalidate" message with the key; a client that reads the key again is tracked again.
 * OPTIN tracks only after CLIENT CACHING yes, OPTOUT all but after CLIENT CACHING no, NOLOOP
 * skips the client's own writes.
 *
 * BCAST mode tracks nothing per client: every modified key matching a subscribed prefix is
 * collected during the event-loop turn and sent in one message per prefix in beforeSleep.
 *
 * Delivery: RESP3 clients get a push frame `>2 invalidate [keys]`; a client may redirect its
 * messages to another connection (REDIRECT id), which in RESP2 must be subscribed to something
 * and gets them as a Pub/Sub message on __redis__:invalidate. A redirect to a connection that
 * is gone marks the client "broken_redirect" (RESP3 clients are told with a
 * tracking-redir-broken push). Messages for the client whose command caused them wait until
 * its reply is written (tracking_pending_keys), so they never interleave with a reply. FLUSHALL
 * and FLUSHDB invalidate everything with a null instead of keys.
 *
 * The tracking table holds at most tracking-table-max-keys keys: before each command the
 * server drops random keys beyond the limit (their clients are told they changed).
 *
 * The table is a Swift dictionary keyed by key bytes: it exists only while clients ask for
 * tracking and is not on the path of a server that nobody tracks (one emptiness test per write).
 */
import Keyspace
import Platform

/// A client's CLIENT TRACKING state.
struct TrackingState {
    struct Flags: OptionSet {
        let rawValue: UInt8
        static let on = Flags(rawValue: 1 << 0)
        static let bcast = Flags(rawValue: 1 << 1)
        static let optin = Flags(rawValue: 1 << 2)
        static let optout = Flags(rawValue: 1 << 3)
        static let noloop = Flags(rawValue: 1 << 4)
        /// CLIENT CACHING yes (OPTIN) / no (OPTOUT) was given for the next command.
        static let caching = Flags(rawValue: 1 << 5)
        static let brokenRedirect = Flags(rawValue: 1 << 6)
    }
    var flags: Flags = []
    /// REDIRECT's client ID (0: none).
    var redirect: Int64 = 0
    /// BCAST prefixes, sorted.
    var prefixes: [[UInt8]] = []
}

/// One BCAST prefix: its subscribers and the keys modified under it in this loop turn (with the
/// first client that modified each, for NOLOOP).
struct BroadcastPrefix {
    var clients: [Int64] = []
    var keys: [[UInt8]: Int64] = [:]
}

/// Server-wide tracking tables.
struct TrackingTables {
    /// key -> IDs of the clients that read it.
    var keys: [[UInt8]: [Int64]] = [:]
    /// Sum of the ID lists' lengths (INFO tracking_total_items).
    var items = 0
    var prefixes: [[UInt8]: BroadcastPrefix] = [:]
    /// Clients with tracking on (INFO tracking_clients).
    var clients = 0
    /// Invalidations for the client running a command, sent after its reply (nil: a flush).
    var pending: [[UInt8]?] = []
    /// How many times in a row the key limit could not be reached (the eviction effort grows).
    var limitTimeouts = 0

    var active: Bool { !keys.isEmpty || !prefixes.isEmpty }
}

extension Server {
    // MARK: - CLIENT TRACKING / CACHING / GETREDIR / TRACKINGINFO

    /// CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX p]... [BCAST] [OPTIN] [OPTOUT] [NOLOOP]
    mutating func clientTracking(_ c: ClientRef) {
        var redirect: Int64 = 0
        var options: TrackingState.Flags = []
        var prefixes: [[UInt8]] = []
        let argc = c.pointee.argc
        var j = 3
        while j < argc {
            let a = c.pointee.arg(j)
            let more = j + 1 < argc
            if a.equalsLowercase("redirect") && more {
                j += 1
                if redirect != 0 {
                    addErrorString(c, "ERR A client can only redirect to a single other client")
                    return
                }
                guard let id = c.pointee.arg(j).int64 else {
                    addNotInteger(c)
                    return
                }
                if clientsByID[id] == nil {
                    addErrorString(c, "ERR The client ID you want redirect to does not exist")
                    return
                }
                redirect = id
            } else if a.equalsLowercase("bcast") {
                options.insert(.bcast)
            } else if a.equalsLowercase("optin") {
                options.insert(.optin)
            } else if a.equalsLowercase("optout") {
                options.insert(.optout)
            } else if a.equalsLowercase("noloop") {
                options.insert(.noloop)
            } else if a.equalsLowercase("prefix") && more {
                j += 1
                prefixes.append(c.pointee.arg(j).array)
            } else {
                addSyntaxError(c)
                return
            }
            j += 1
        }
        let mode = c.pointee.arg(2)
        if mode.equalsLowercase("off") {
            disableTracking(c)
            addOK(c)
            return
        }
        guard mode.equalsLowercase("on") else {
            addSyntaxError(c)
            return
        }
        let current = c.pointee.tracking.flags
        if !options.contains(.bcast) && !prefixes.isEmpty {
            addErrorString(c, "ERR PREFIX option requires BCAST mode to be enabled")
            return
        }
        if current.contains(.on) && current.contains(.bcast) != options.contains(.bcast) {
            addErrorString(c, "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.")
            return
        }
        if options.contains(.bcast) && !options.isDisjoint(with: [.optin, .optout]) {
            addErrorString(c, "ERR OPTIN and OPTOUT are not compatible with BCAST")
            return
        }
        if options.isSuperset(of: [.optin, .optout]) {
            addErrorString(c, "ERR You can't specify both OPTIN mode and OPTOUT mode")
            return
        }
        if (options.contains(.optin) && current.contains(.optout)) || (options.contains(.optout) && current.contains(.optin)) {
            addErrorString(c, "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.")
            return
        }
        if options.contains(.bcast), let error = prefixCollision(c, prefixes) {
            addErrorString(c, error)
            return
        }
        enableTracking(c, redirect: redirect, options: options, prefixes: prefixes)
        addOK(c)
    }

    /// Redis's checkPrefixCollisionsOrReply: no new prefix may be a prefix of (or have as prefix)
    /// one the client has, or another new one.
    func prefixCollision(_ c: ClientRef, _ prefixes: [[UInt8]]) -> String? {
        func overlap(_ a: [UInt8], _ b: [UInt8]) -> Bool {
            let n = min(a.count, b.count)
            return a[0..<n] == b[0..<n]
        }
        func text(_ b: [UInt8]) -> String { String(decoding: b, as: UTF8.self) }
        for (i, p) in prefixes.enumerated() {
            for existing in c.pointee.tracking.prefixes where overlap(existing, p) {
                return "ERR Prefix '\(text(p))' overlaps with an existing prefix '\(text(existing))'. Prefixes for a single client must not overlap."
            }
            for q in prefixes[(i + 1)...] where overlap(p, q) {
                return "ERR Prefix '\(text(p))' overlaps with another provided prefix '\(text(q))'. Prefixes for a single client must not overlap."
            }
        }
        return nil
    }

    mutating func enableTracking(_ c: ClientRef, redirect: Int64, options: TrackingState.Flags, prefixes: [[UInt8]]) {
        if !c.pointee.tracking.flags.contains(.on) { tracking.clients += 1 }
        c.pointee.tracking.flags.remove([.brokenRedirect, .bcast, .optin, .optout, .noloop])
        c.pointee.tracking.flags.insert(.on)
        c.pointee.tracking.redirect = redirect
        if options.contains(.bcast) {
            c.pointee.tracking.flags.insert(.bcast)
            for p in prefixes.isEmpty ? [[]] : prefixes { subscribeBroadcast(c, p) }
        }
        c.pointee.tracking.flags.formUnion(options.intersection([.optin, .optout, .noloop]))
    }

    mutating func subscribeBroadcast(_ c: ClientRef, _ prefix: [UInt8]) {
        if c.pointee.tracking.prefixes.contains(prefix) { return }
        c.pointee.tracking.prefixes.append(prefix)
        c.pointee.tracking.prefixes.sort { $0.lexicographicallyPrecedes($1) }
        tracking.prefixes[prefix, default: BroadcastPrefix()].clients.append(c.pointee.id)
    }

    /// Turns tracking off for `c` (CLIENT TRACKING OFF, RESET, disconnection).
    mutating func disableTracking(_ c: ClientRef) {
        let id = c.pointee.id
        for p in c.pointee.tracking.prefixes {
            tracking.prefixes[p]?.clients.removeAll { $0 == id }
            if tracking.prefixes[p]?.clients.isEmpty == true { tracking.prefixes[p] = nil }
        }
        c.pointee.tracking.prefixes = []
        if c.pointee.tracking.flags.contains(.on) {
            tracking.clients -= 1
            c.pointee.tracking.flags = []
        }
    }

    /// CLIENT CACHING YES|NO
    mutating func clientCaching(_ c: ClientRef) {
        let flags = c.pointee.tracking.flags
        guard flags.contains(.on) else {
            addErrorString(c, "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled")
            return
        }
        let v = c.pointee.arg(2)
        if v.equalsLowercase("yes") {
            guard flags.contains(.optin) else {
                addErrorString(c, "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.")
                return
            }
        } else if v.equalsLowercase("no") {
            guard flags.contains(.optout) else {
                addErrorString(c, "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.")
                return
            }
        } else {
            addSyntaxError(c)
            return
        }
        c.pointee.tracking.flags.insert(.caching)
        addOK(c)
    }

    mutating func clientGetredir(_ c: ClientRef) {
        let t = c.pointee.tracking
        c.pointee.reply.appendInteger(t.flags.contains(.on) ? t.redirect : -1)
    }

    mutating func clientTrackinginfo(_ c: ClientRef) {
        let t = c.pointee.tracking
        let resp3 = c.pointee.resp3
        var flags: [StaticString] = [t.flags.contains(.on) ? "on" : "off"]
        if t.flags.contains(.bcast) { flags.append("bcast") }
        if t.flags.contains(.optin) {
            flags.append("optin")
            if t.flags.contains(.caching) { flags.append("caching-yes") }
        }
        if t.flags.contains(.optout) {
            flags.append("optout")
            if t.flags.contains(.caching) { flags.append("caching-no") }
        }
        if t.flags.contains(.noloop) { flags.append("noloop") }
        if t.flags.contains(.brokenRedirect) { flags.append("broken_redirect") }
        c.pointee.reply.appendMapHeader(3, resp3: resp3)
        c.pointee.reply.appendBulk("flags")
        c.pointee.reply.appendSetHeader(flags.count, resp3: resp3)
        for f in flags { c.pointee.reply.appendBulk(ByteView(f)) }
        c.pointee.reply.appendBulk("redirect")
        c.pointee.reply.appendInteger(t.flags.contains(.on) ? t.redirect : -1)
        c.pointee.reply.appendBulk("prefixes")
        c.pointee.reply.appendArrayHeader(t.prefixes.count)
        for p in t.prefixes { p.withUnsafeBufferPointer { c.pointee.reply.appendBulk($0.baseAddress ?? UnsafePointer(bitPattern: 1)!, $0.count) } }
    }

    // MARK: - Remembering what a client read

    /// After a read-only command: the keys it read are cached by its client, unless
    /// OPTIN/OPTOUT says otherwise. A read inside a script makes the script's caller cache the
    /// keys its EVAL / FCALL declared (as Redis 7.0: the caller's arguments are what is tracked).
    mutating func trackingRememberKeys(_ c: ClientRef, _ index: Int) {
        switch commands.specs[index].id {
        case .scripting(.evalRO), .scripting(.evalshaRO), .scripting(.fcallRO): return
        default: break
        }
        let caller = (c == scriptClient ? scriptRun.pointee.caller : nil) ?? c
        let spec = commands.specs[caller == c ? index : caller.pointee.lastCommand]
        let flags = caller.pointee.tracking.flags
        guard flags.contains(.on), !flags.contains(.bcast) else { return }
        let caching = flags.contains(.caching)
        if (flags.contains(.optin) && !caching) || (flags.contains(.optout) && caching) { return }
        if spec.flags.contains(.pubsub) { return }
        guard let positions = keyPositions(spec, argc: caller.pointee.argc, arg: { caller.pointee.arg($0) }) else { return }
        let id = caller.pointee.id
        for k in positions {
            let key = caller.pointee.arg(k).array
            if tracking.keys[key, default: []].contains(id) { continue }
            tracking.keys[key, default: []].append(id)
            tracking.items += 1
        }
    }

    // MARK: - Invalidation

    /// A key changed: its tracking clients are told (Redis's trackingInvalidateKey). `bcast`:
    /// also collect it for the BCAST prefixes it matches; `byCommand` false: no client changed
    /// it (expiry), so a NOLOOP subscriber hears of it too.
    mutating func trackingInvalidateKey(_ key: ByteView, bcast: Bool = true, byCommand: Bool = true) {
        if bcast && !tracking.prefixes.isEmpty {
            rememberKeyToBroadcast(key, modifier: byCommand ? commandClient?.pointee.id ?? 0 : 0)
        }
        if tracking.keys.isEmpty { return }
        let k = key.array
        guard let ids = tracking.keys.removeValue(forKey: k) else { return }
        tracking.items -= ids.count
        for id in ids {
            guard let target = clientsByID[id] else { continue }
            let flags = target.pointee.tracking.flags
            if !flags.contains(.on) || flags.contains(.bcast) { continue }
            if flags.contains(.noloop) && target == commandClient { continue }
            if target == commandClient {
                // After the reply of the command being run (never inside it).
                tracking.pending.append(k)
            } else {
                k.withUnsafeBufferPointer { b in
                    sendTrackingMessage(target, keys: [ByteView(b.baseAddress ?? UnsafePointer(bitPattern: 1)!, b.count)])
                }
            }
        }
    }

    /// Collects `key` for each BCAST prefix it matches, with the client that changed it last
    /// (0: none), as Redis's raxInsert there.
    mutating func rememberKeyToBroadcast(_ key: ByteView, modifier: Int64) {
        let k = key.array
        // Matches first, writes after: writing while iterating the keys would copy the tables.
        let hits = tracking.prefixes.keys.filter { k.count >= $0.count && k[0..<$0.count] == $0[...] }
        for p in hits { tracking.prefixes[p]!.keys[k] = modifier }
    }

    /// FLUSHALL / FLUSHDB: every tracking client is told everything changed (a null), and the
    /// table is emptied.
    mutating func trackingInvalidateAll() {
        if tracking.clients > 0 {
            for target in allClients() where target.pointee.tracking.flags.contains(.on) {
                if target == commandClient {
                    tracking.pending.append(nil)
                } else {
                    sendTrackingMessage(target, keys: nil)
                }
            }
        }
        tracking.keys = [:]
        tracking.items = 0
    }

    /// After a command's reply: the invalidations it caused for its own client.
    mutating func flushTrackingPending(_ c: ClientRef) {
        let pending = tracking.pending
        tracking.pending = []
        for k in pending {
            if let k {
                k.withUnsafeBufferPointer { b in
                    sendTrackingMessage(c, keys: [ByteView(b.baseAddress ?? UnsafePointer(bitPattern: 1)!, b.count)])
                }
            } else {
                sendTrackingMessage(c, keys: nil)
            }
        }
    }

    /// Redis's sendTrackingMessage: `keys` nil is the flush message (a null).
    mutating func sendTrackingMessage(_ client: ClientRef, keys: [ByteView]?) {
        var target = client
        var redirected = false
        let redirect = client.pointee.tracking.redirect
        if redirect != 0 {
            guard let r = clientsByID[redirect], !r.pointee.flags.contains(.closeASAP) else {
                client.pointee.tracking.flags.insert(.brokenRedirect)
                if client.pointee.resp3 {
                    client.pointee.reply.appendHeader(62, 2)
                    client.pointee.reply.appendBulk("tracking-redir-broken")
                    client.pointee.reply.appendInteger(redirect)
                    queueWrite(client)
                }
                return
            }
            target = r
            redirected = true
        }
        if target.pointee.resp3 {
            target.pointee.reply.appendHeader(62, 2)
            target.pointee.reply.appendBulk("invalidate")
        } else if redirected && target.pointee.flags.contains(.pubsub) {
            target.pointee.reply.appendHeader(42, 3)
            target.pointee.reply.appendBulk("message")
            target.pointee.reply.appendBulk("__redis__:invalidate")
        } else {
            return
        }
        if let keys {
            target.pointee.reply.appendArrayHeader(keys.count)
            for k in keys { target.pointee.reply.appendBulk(k) }
        } else if client.pointee.resp3 {
            target.pointee.reply.append("_\r\n" as StaticString)
        } else {
            target.pointee.reply.append("$-1\r\n" as StaticString)
        }
        queueWrite(target)
    }

    /// From beforeSleep: each BCAST prefix's collected keys to its subscribers, one message per
    /// prefix (a NOLOOP client without the keys it modified itself).
    mutating func broadcastTrackingInvalidations() {
        for p in tracking.prefixes.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            guard let state = tracking.prefixes[p], !state.keys.isEmpty else { continue }
            tracking.prefixes[p]?.keys = [:]
            let sortedKeys = state.keys.keys.sorted { $0.lexicographicallyPrecedes($1) }
            for id in state.clients {
                guard let c = clientsByID[id] else { continue }
                let noloop = c.pointee.tracking.flags.contains(.noloop)
                let keys = noloop ? sortedKeys.filter { state.keys[$0] != id } : sortedKeys
                if keys.isEmpty { continue }
                withByteViews(keys) { sendTrackingMessage(c, keys: $0) }
            }
        }
    }

    /// Before each command: forgets random keys while the table holds more than
    /// tracking-table-max-keys (their clients are told they changed), with an effort that grows
    /// each time the limit could not be reached.
    mutating func trackingLimitUsedSlots() {
        let max = settings.trackingTableMaxKeys
        if max == 0 || tracking.keys.count <= max {
            tracking.limitTimeouts = 0
            return
        }
        // Redis walks the table at random; a dictionary picks a random key in O(n), so the keys
        // go in the table's own (hash) order instead, a batch taken in one pass.
        let effort = 100 * (tracking.limitTimeouts + 1)
        for key in Array(tracking.keys.keys.prefix(effort)) {
            key.withUnsafeBufferPointer { b in
                trackingInvalidateKey(ByteView(b.baseAddress ?? UnsafePointer(bitPattern: 1)!, b.count), bcast: false)
            }
            if tracking.keys.count <= max {
                tracking.limitTimeouts = 0
                return
            }
        }
        tracking.limitTimeouts += 1
    }
}

/// Calls `body` with views of `arrays` (valid only inside it).
func withByteViews(_ arrays: [[UInt8]], _ body: ([ByteView]) -> Void) {
    let flat: [UInt8] = arrays.flatMap { $0 } + [0]
    flat.withUnsafeBufferPointer { b in
        var views: [ByteView] = []
        views.reserveCapacity(arrays.count)
        var offset = 0
        for a in arrays {
            views.append(ByteView(b.baseAddress! + offset, a.count))
            offset += a.count
        }
        body(views)
    }
}
