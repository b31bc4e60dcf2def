/*
 * CONFIG GET / SET / RESETSTAT / REWRITE, over the directive table in ConfigTable.swift.
 *
 * CONFIG SET applies every pair to a copy of the settings first and commits only if all of
 * them parse, then runs the side effects (log level, listening port, ...): several pairs
 * change atomically, as in Redis 7.
 *
 * CONFIG REWRITE edits the config file in place: lines of known directives get their current
 * values, comments and unknown text stay where they are, and directives that differ from
 * their defaults but were not in the file are appended — what redis-sentinel relies on.
 */
import Glibc
import Keyspace
import Platform
import RESP

extension Server {
    mutating func configCommand(_ c: ClientRef, _ id: CommandID) {
        switch id {
        case .configGet: configGet(c)
        case .configSet: configSet(c)
        case .configResetstat:
            resetStats()
            addOK(c)
        case .configRewrite: configRewrite(c)
        default: addHelp(c, HelpText.config)
        }
    }

    mutating func resetStats() {
        let keep = stats
        stats = ServerStats()
        LazyFree.resetStats()
        stats.lastSampleMillis = keep.lastSampleMillis
        errorStats = [:]
        errorsAttributed = 0
        commands.resetStats()
        // Replication's counters too, as Redis's resetServerStats.
        repl.syncFull = 0
        repl.syncPartialOK = 0
        repl.syncPartialErr = 0
        repl.netInputBytes = 0
        repl.netOutputBytes = 0
    }

    mutating func configGet(_ c: ClientRef) {
        var pairs: [(String, String)] = []
        var seen = Set<String>()
        for i in 2..<c.pointee.argc {
            let pattern = c.pointee.arg(i).string
            let isGlob = pattern.contains(where: { $0 == "*" || $0 == "?" || $0 == "[" })
            if !isGlob {
                if let d = ConfigTable.find(pattern), !seen.contains(pattern.lowercased()) {
                    seen.insert(pattern.lowercased())
                    pairs.append((pattern, ConfigTable.value(d, settings)))
                }
                continue
            }
            for d in ConfigTable.directives where !d.hidden {
                for name in [d.name] + d.aliases where Glob.match(pattern, name, nocase: true) && !seen.contains(name) {
                    seen.insert(name)
                    pairs.append((name, ConfigTable.value(d, settings)))
                }
            }
        }
        c.pointee.reply.appendMapHeader(pairs.count, resp3: c.pointee.resp3)
        for (k, v) in pairs {
            c.pointee.reply.appendBulk(k)
            c.pointee.reply.appendBulk(v)
        }
    }

    mutating func configSet(_ c: ClientRef) {
        let argc = c.pointee.argc
        if argc % 2 != 0 {
            addSyntaxError(c)
            return
        }
        var updated = settings
        var names: [String] = []
        var i = 2
        while i < argc {
            let name = c.pointee.arg(i).string
            guard let d = ConfigTable.find(name) else {
                addErrorString(c, "ERR Unknown option or number of arguments for CONFIG SET - '\(name)'")
                return
            }
            if names.contains(d.name) {
                addErrorString(c, "ERR CONFIG SET failed (possibly related to argument '\(name)') - duplicate parameter")
                return
            }
            names.append(d.name)
            // Redis refuses some configs while loading (where files go, AOF on/off).
            if persistence.loading && ["dir", "dbfilename", "appendonly"].contains(d.name) {
                addError(c, "-LOADING Redis is loading the dataset in memory\r\n")
                return
            }
            // Tandem's own fixed settings (repl-sender-workers) accept their current value, so a
            // tool that sets every config to itself (as Redis's test suite does) works.
            if !d.mutable && d.name.hasPrefix("repl-sender") && ConfigTable.value(d, settings) == c.pointee.arg(i + 1).string {
                i += 2
                continue
            }
            if !d.mutable {
                addErrorString(c, "ERR CONFIG SET failed (possibly related to argument '\(name)') - can't set immutable config")
                return
            }
            // Where the server writes files: only with enable-protected-configs (Redis 7.0).
            if (d.name == "dir" || d.name == "dbfilename") && !Self.localOptionAllows(settings.enableProtectedConfigs, c) {
                addErrorString(c, "ERR CONFIG SET failed (possibly related to argument '\(name)') - can't set protected config")
                return
            }
            do {
                try ConfigTable.apply(d, [c.pointee.arg(i + 1).string], to: &updated, fromFile: false)
            } catch {
                addErrorString(c, "ERR CONFIG SET failed (possibly related to argument '\(name)') - \(error.message)")
                return
            }
            i += 2
        }
        let previous = settings
        settings = updated
        if let failure = applySettingsChange(from: previous, names: names) {
            settings = previous
            _ = applySettingsChange(from: updated, names: names)
            addErrorString(c, "ERR CONFIG SET failed (possibly related to argument '\(failure.0)') - \(failure.1)")
            return
        }
        // maxmemory-clients (or maxmemory, for a percentage) applies at once.
        refreshClientEvictionLimit()
        addOK(c)
    }

    /// Side effects of changed settings. Returns (name, reason) when one cannot be applied.
    mutating func applySettingsChange(from old: Settings, names: [String]) -> (String, String)? {
        for name in names {
            switch name {
            case "loglevel": Log.level = LogLevel(name: settings.loglevel) ?? .notice
            case "port", "bind":
                if old.port != settings.port || old.bind != settings.bind {
                    if !rebind() {
                        // Back to the addresses that worked, as Redis's changeBindAddr.
                        let wanted = settings
                        settings.port = old.port
                        settings.bind = old.bind
                        _ = rebind()
                        settings = wanted
                        return (name, name == "port" ? "Unable to listen on this port" : "Failed to bind to specified addresses.")
                    }
                }
            case "proto-max-bulk-len":
                for cl in allClients() { cl.pointee.parser.maxBulkLength = settings.protoMaxBulkLen }
            case "requirepass":
                setDefaultUserPassword(settings.requirepass)
            case "tls-port", "tls-auth-clients", "tls-replication":
                if let failure = applyTLSChange(name) { return (name, failure) }
            case _ where Self.tlsDirectives.contains(name):
                if let failure = applyTLSChange(name) { return (name, failure) }
            case "cluster-announce-ip", "cluster-announce-port", "cluster-announce-bus-port", "cluster-announce-tls-port",
                "cluster-announce-hostname":
                // What this node announces changes at once; gossip spreads it.
                if cluster.enabled { refreshMyAddress() }
            case "acl-pubsub-default":
                acl.pubsubDefault = settings.aclPubsubDefault == "allchannels" ? .allChannels : []
            case "appendonly":
                if !applyAppendOnlyConfig() { return (name, "Unable to turn on AOF. Check server logs.") }
            case "aof-disable-auto-gc":
                // Turning the collection back on removes the history kept meanwhile, as Redis.
                if !settings.aofDisableAutoGC { deleteAOFHistoryFiles() }
            case "proc-title-template":
                updateProcessTitle()
            case "oom-score-adj", "oom-score-adj-values":
                if !applyOOMScoreAdj(nil) { return (name, "Failed to set current oom_score_adj. Check server logs.") }
            default: break
            }
        }
        return nil
    }

    mutating func configRewrite(_ c: ClientRef) {
        guard let path = configPath else {
            addError(c, "-ERR The server is running without a config file\r\n")
            return
        }
        do {
            try Self.rewriteConfig(path: path, settings: settings, userLines: configUserLines)
            Log.notice("CONFIG REWRITE executed with success.")
            addOK(c)
        } catch {
            Log.warning("CONFIG REWRITE failed: \(error.message)")
            addErrorString(c, "ERR Rewriting config file: \(error.message)")
        }
    }

    static let rewriteSignature = "# Generated by CONFIG REWRITE"

    /// Rewrites `path` keeping comments and the order of existing lines. See the top.
    /// `userLines` replace the file's `user` lines (Security/ACLFile.swift).
    static func rewriteConfig(path: String, settings: Settings, userLines: [String] = []) throws(ConfigError) {
        let text = ConfigLoader.readFile(path) ?? ""
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
            .map(String.init)
        if lines.last == "" { lines.removeLast() }
        let defaults = Settings()
        var handled = Set<String>()
        var output: [String] = []
        var signatureSeen = false
        var usersWritten = false
        for line in lines {
            let trimmed = line.trimmingCharacters(in: " \t")
            if trimmed == rewriteSignature {
                signatureSeen = true
                output.append(line)
                continue
            }
            if !trimmed.hasPrefix("#"), let words = ConfigLine.split(trimmed), words.first?.lowercased() == "user" {
                // ACL users: all of them where the first `user` line was.
                if !usersWritten { output.append(contentsOf: userLines) }
                usersWritten = true
                continue
            }
            guard !trimmed.hasPrefix("#"), let words = ConfigLine.split(trimmed), let first = words.first,
                let d = ConfigTable.find(first)
            else {
                output.append(line)
                continue
            }
            if handled.contains(d.name) { continue }  // later lines of save / client-output-buffer-limit
            handled.insert(d.name)
            if d.name == "dir" { output.append(line); continue }
            output.append(contentsOf: ConfigTable.rewriteLines(d, settings))
        }
        var appended: [String] = []
        if !usersWritten { appended.append(contentsOf: userLines) }
        for d in ConfigTable.directives where !handled.contains(d.name) && d.name != "dir" {
            if ConfigTable.value(d, settings) != ConfigTable.value(d, defaults) {
                appended.append(contentsOf: ConfigTable.rewriteLines(d, settings))
            }
        }
        if !appended.isEmpty {
            if !signatureSeen { output.append(rewriteSignature) }
            output.append(contentsOf: appended)
        }
        let content = output.joined(separator: "\n") + "\n"
        let tmp = path + ".tmp-\(getpid())"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd == -1 { throw ConfigError(String(cString: strerror(errno))) }
        let bytes = Array(content.utf8)
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, bytes.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                let e = ConfigError(String(cString: strerror(errno)))
                close(fd)
                unlink(tmp)
                throw e
            }
            written += n
        }
        fsync(fd)
        close(fd)
        if rename(tmp, path) == -1 {
            let e = ConfigError(String(cString: strerror(errno)))
            unlink(tmp)
            throw e
        }
    }
}
