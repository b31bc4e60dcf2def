/*
 * INFO: the sections and field names of Redis 7.0, so redis-cli --stat, redis-sentinel and
 * Prometheus exporters read Tandem unchanged. A `# Tandem` section carries Tandem's own
 * figures. Sections follow Redis's selection rules: no argument or "default" gives the
 * default set, "all" adds commandstats and latencystats, "everything" adds the (absent) module
 * sections too.
 */
import CTandem
import Glibc
import Keyspace
import Platform
import RESP

extension Server {
    static let defaultSections = ["server", "clients", "memory", "persistence", "stats", "replication", "cpu",
                                  "modules", "errorstats", "cluster", "keyspace", "tandem"]
    static let allSections = ["server", "clients", "memory", "persistence", "stats", "replication", "cpu",
                              "modules", "commandstats", "errorstats", "latencystats", "cluster", "keyspace", "tandem"]

    mutating func infoCommand(_ c: ClientRef) {
        var wanted: [String] = []
        if c.pointee.argc == 1 {
            wanted = Self.defaultSections
        } else {
            for i in 1..<c.pointee.argc {
                let s = c.pointee.arg(i).string.lowercased()
                switch s {
                case "default": wanted += Self.defaultSections
                case "all": wanted += Self.allSections
                case "everything": wanted += Self.allSections
                default: wanted.append(s)
                }
            }
        }
        var text = ""
        var seen = Set<String>()
        for name in Self.allSections where wanted.contains(name) && !seen.contains(name) {
            seen.insert(name)
            guard let body = infoSection(name) else { continue }
            if !text.isEmpty { text += "\r\n" }
            text += body
        }
        c.pointee.reply.appendVerbatim(text, resp3: c.pointee.resp3)
    }

    static func human(_ bytes: Int) -> String {
        let d = Double(bytes)
        func f(_ v: Double, _ unit: String) -> String {
            let r = (v * 100).rounded() / 100
            var s = String(r)
            if let dot = s.firstIndex(of: ".") {
                let decimals = s.distance(from: dot, to: s.endIndex) - 1
                if decimals < 2 { s += String(repeating: "0", count: 2 - decimals) }
            }
            return s + unit
        }
        if bytes < 1024 { return "\(bytes)B" }
        if bytes < 1024 * 1024 { return f(d / 1024, "K") }
        if bytes < 1024 * 1024 * 1024 { return f(d / 1024 / 1024, "M") }
        return f(d / 1024 / 1024 / 1024, "G")
    }

    static func rssBytes() -> Int {
        guard let text = ConfigLoader.readFile("/proc/self/statm") else { return 0 }
        let parts = text.split(separator: " ")
        guard parts.count > 1, let pages = Int(parts[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    static func totalSystemMemory() -> Int {
        Int(sysconf(Int32(_SC_PHYS_PAGES))) * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    func fields(_ title: String, _ pairs: [(String, String)]) -> String {
        var s = "# \(title)\r\n"
        for (k, v) in pairs { s += "\(k):\(v)\r\n" }
        return s
    }

    mutating func infoSection(_ name: String) -> String? {
        let now = Clock.unixMillis()
        switch name {
        case "server":
            var uts = utsname()
            uname(&uts)
            func field<T>(_ t: T) -> String {
                withUnsafeBytes(of: t) { String(cString: $0.baseAddress!.assumingMemoryBound(to: CChar.self)) }
            }
            let uptime = (now - startMillis) / 1000
            return fields("Server", [
                ("redis_version", ServerInfo.redisVersion), ("tandem_version", ServerInfo.tandemVersion),
                ("redis_git_sha1", "00000000"), ("redis_git_dirty", "0"), ("redis_build_id", "0"),
                ("redis_mode", cluster.enabled ? "cluster" : "standalone"),
                ("os", "\(field(uts.sysname)) \(field(uts.release)) \(field(uts.machine))"), ("arch_bits", "64"),
                ("monotonic_clock", "POSIX clock_gettime"), ("multiplexing_api", "epoll"),
                ("atomicvar_api", "c11-builtin"), ("gcc_version", "0.0.0"), ("process_id", "\(getpid())"),
                ("process_supervised", "no"), ("run_id", runID), ("tcp_port", "\(settings.port)"),
                ("server_time_usec", "\(Clock.unixMicros())"), ("uptime_in_seconds", "\(uptime)"),
                ("uptime_in_days", "\(uptime / 86400)"), ("hz", "\(settings.hz)"), ("configured_hz", "\(settings.hz)"),
                ("lru_clock", "\(lruClock & 0xFFFFFF)"), ("executable", executable),
                ("config_file", configPath ?? ""), ("io_threads_active", "0"),
            ] + (pendingShutdown != nil ? [("shutdown_in_milliseconds", "\(shutdownInMilliseconds)")] : []))
        case "clients":
            var maxIn = 0
            var maxOut = 0
            for cl in allClients() {
                maxIn = max(maxIn, cl.pointee.queryCapacity)
                maxOut = max(maxOut, cl.pointee.reply.allocatedBytes)
            }
            return fields("Clients", [
                ("connected_clients", "\(clientCount - closeCount - repl.replicas.count)"), ("cluster_connections", "0"),
                ("maxclients", "\(settings.maxclients)"), ("client_recent_max_input_buffer", "\(maxIn)"),
                ("client_recent_max_output_buffer", "\(maxOut)"), ("blocked_clients", "\(blockedClients + allClients().filter { $0.pointee.flags.contains(.pausedInput) }.count)"),
                ("tracking_clients", "\(tracking.clients)"), ("clients_in_timeout_table", "0"),
            ])
        case "memory":
            let used = tandem_used_memory()
            let rss = Self.rssBytes()
            let peak = max(memoryPeak, used)
            let total = Self.totalSystemMemory()
            let luaMemory = scripting.pointee.memoryBytes
            let functionsMemory = functionsEngine.pointee.memoryBytes
            let functionsOverhead = functionsEngine.pointee.overheadBytes
            let evalScriptsMemory = scripting.pointee.scriptsMemoryBytes
            let scriptsMemory = evalScriptsMemory + functionsOverhead
            let functionSet = functionsEngine.pointee.current
            // Redis 7.0's split of the one replication buffer: up to repl-backlog-size is the
            // backlog's, the excess the replicas' (getMemoryOverheadData).
            let replTotal = replicationBufferBytes()
            let excess = !repl.replicas.isEmpty && replTotal > backlogSize
            let replBuffers = (total: replTotal, backlog: excess ? backlogSize : replTotal, replicas: excess ? replTotal - backlogSize : 0)
            let frag = used > 0 ? Double(rss) / Double(used) : 0
            return fields("Memory", [
                ("used_memory", "\(used)"), ("used_memory_human", Self.human(used)),
                ("used_memory_rss", "\(rss)"), ("used_memory_rss_human", Self.human(rss)),
                ("used_memory_peak", "\(peak)"), ("used_memory_peak_human", Self.human(peak)),
                ("used_memory_peak_perc", String(format2: Double(used) * 100 / Double(max(1, peak))) + "%"),
                ("used_memory_overhead", "0"), ("used_memory_startup", "0"), ("used_memory_dataset", "\(used)"),
                ("allocator_allocated", "\(used)"), ("allocator_active", "\(used)"), ("allocator_resident", "\(rss)"),
                // glibc malloc has no active/allocated split: fragmentation inside the heap reads
                // as none, and everything above it as RSS overhead.
                ("allocator_frag_ratio", "1.00"), ("allocator_frag_bytes", "0"),
                ("allocator_rss_ratio", String(format2: used > 0 ? Double(rss) / Double(used) : 1)),
                ("allocator_rss_bytes", "\(rss - used)"),
                ("total_system_memory", "\(total)"), ("total_system_memory_human", Self.human(total)),
                ("used_memory_lua", "\(luaMemory)"), ("used_memory_vm_eval", "\(luaMemory)"),
                ("used_memory_lua_human", Self.human(luaMemory)), ("used_memory_scripts_eval", "\(evalScriptsMemory)"),
                ("number_of_cached_scripts", "\(scripting.pointee.scripts.count)"),
                ("number_of_functions", "\(functionSet.indexedCount)"), ("number_of_libraries", "\(functionSet.libraries.count)"),
                ("used_memory_vm_functions", "\(functionsMemory)"), ("used_memory_vm_total", "\(luaMemory + functionsMemory)"),
                ("used_memory_vm_total_human", Self.human(luaMemory + functionsMemory)),
                ("used_memory_functions", "\(functionsOverhead)"),
                ("used_memory_scripts", "\(scriptsMemory)"), ("used_memory_scripts_human", Self.human(scriptsMemory)),
                ("maxmemory", "\(settings.maxmemory)"), ("maxmemory_human", Self.human(settings.maxmemory)),
                ("maxmemory_policy", settings.maxmemoryPolicy),
                ("mem_fragmentation_ratio", String(format2: frag)),
                ("mem_fragmentation_bytes", "\(rss - used)"), ("mem_not_counted_for_evict", "\(memoryNotCountedForEviction)"),
                ("mem_replication_backlog", "\(replBuffers.backlog)"),
                ("mem_total_replication_buffers", "\(replBuffers.total)"),
                ("mem_clients_slaves", "\(replBuffers.replicas)"), ("mem_clients_normal", "0"), ("mem_aof_buffer", "\(aof.buffer.pointee.capacity)"),
                ("mem_allocator", "libc"), ("active_defrag_running", "0"), ("lazyfree_pending_objects", "\(LazyFree.pendingObjects)"),
                ("lazyfreed_objects", "\(LazyFree.freedObjects)"),
            ])
        case "persistence":
            let p = persistence
            let now = Clock.unixMillis()
            let inProgress = hasActiveChild
            var loadingFields: [(String, String)] = [("loading", p.loading && !p.asyncLoading ? "1" : "0"),
                                                     ("async_loading", p.asyncLoading ? "1" : "0")]
            if p.loading {
                let elapsed = max(0, now / 1000 - p.loadingStartSeconds)
                let perc = p.loadingTotalBytes > 0 ? Double(p.loadingLoadedBytes) * 100 / Double(p.loadingTotalBytes) : 0
                let rate = elapsed > 0 ? Double(p.loadingLoadedBytes) / Double(elapsed) : 0
                let eta = rate > 0 ? Int64(Double(p.loadingTotalBytes - p.loadingLoadedBytes) / rate) : 1
                loadingFields += [
                    ("loading_start_time", "\(p.loadingStartSeconds)"), ("loading_total_bytes", "\(p.loadingTotalBytes)"),
                    ("loading_rdb_used_mem", "0"), ("loading_loaded_bytes", "\(p.loadingLoadedBytes)"),
                    ("loading_loaded_perc", String(format2: perc)), ("loading_eta_seconds", "\(eta)"),
                ]
            }
            return fields("Persistence", loadingFields + [
                ("current_cow_peak", "\(p.currentCowPeak)"), ("current_cow_size", "\(p.currentCowBytes)"),
                ("current_cow_size_age", inProgress && p.currentCowUpdatedMillis > 0 ? "\((now - p.currentCowUpdatedMillis) / 1000)" : "0"),
                // How far the child got, from its once-a-second reports (Redis's current_fork_perc).
                ("current_fork_perc", String(format2: inProgress && p.currentSaveKeysTotal > 0
                    ? Double(p.currentSaveKeysProcessed) * 100 / Double(p.currentSaveKeysTotal) : 0)),
                ("current_save_keys_processed", "\(inProgress ? p.currentSaveKeysProcessed : 0)"),
                ("current_save_keys_total", "\(inProgress ? p.currentSaveKeysTotal : 0)"),
                ("rdb_changes_since_last_save", "\(dirty)"),
                ("rdb_bgsave_in_progress", inProgress && !aof.rewriteChildRunning ? "1" : "0"),
                ("rdb_last_save_time", "\(lastSaveTime)"),
                ("rdb_last_bgsave_status", p.lastBgsaveOK ? "ok" : "err"),
                ("rdb_last_bgsave_time_sec", "\(p.lastBgsaveSeconds)"),
                ("rdb_current_bgsave_time_sec", inProgress && !aof.rewriteChildRunning ? "\((now - p.childStartMillis) / 1000)" : "-1"),
                ("rdb_saves", "\(p.saves)"), ("rdb_last_cow_size", "\(p.lastCowBytes)"),
                ("rdb_last_load_keys_expired", "\(p.lastLoadKeysExpired)"),
                ("rdb_last_load_keys_loaded", "\(p.lastLoadKeysLoaded)"),
            ] + appendOnlyInfoFields())
        case "stats":
            let ops = stats.opsSamples.reduce(0, +) / 16
            let inKbps = Double(stats.inputSamples.reduce(0, +)) / 16 / 1024
            let outKbps = Double(stats.outputSamples.reduce(0, +)) / 16 / 1024
            return fields("Stats", [
                ("total_connections_received", "\(stats.connectionsReceived)"),
                ("total_commands_processed", "\(stats.commandsProcessed)"),
                ("instantaneous_ops_per_sec", "\(ops)"), ("total_net_input_bytes", "\(stats.netInputBytes)"),
                ("total_net_output_bytes", "\(stats.netOutputBytes)"), ("total_net_repl_input_bytes", "\(repl.netInputBytes)"),
                ("total_net_repl_output_bytes", "\(replicationOutputBytes())"), ("instantaneous_input_kbps", String(format2: inKbps)),
                ("instantaneous_output_kbps", String(format2: outKbps)),
                ("instantaneous_input_repl_kbps", "0.00"), ("instantaneous_output_repl_kbps", "0.00"),
                ("rejected_connections", "\(stats.rejectedConnections)"), ("sync_full", "\(repl.syncFull)"),
                ("sync_partial_ok", "\(repl.syncPartialOK)"), ("sync_partial_err", "\(repl.syncPartialErr)"), ("expired_keys", "\(stats.expiredKeys)"),
                ("expired_stale_perc", String(format2: stats.expiredStalePercent * 100)),
                ("expired_time_cap_reached_count", "\(stats.expiredTimeCapReached)"),
                ("expire_cycle_cpu_milliseconds", "\(stats.expireCycleMicros / 1000)"), ("evicted_keys", "\(stats.evictedKeys)"),
                ("evicted_clients", "\(stats.evictedClients)"), ("total_eviction_exceeded_time", "0"),
                ("current_eviction_exceeded_time", "0"), ("keyspace_hits", "\(stats.keyspaceHits)"),
                ("keyspace_misses", "\(stats.keyspaceMisses)"), ("pubsub_channels", "0"), ("pubsub_patterns", "0"),
                ("pubsubshard_channels", "\(shardChannelSubscribers.count)"), ("latest_fork_usec", "\(persistence.latestForkMicros)"),
                ("total_forks", "\(persistence.totalForks)"),
                ("migrate_cached_sockets", "\(migrateSockets.count)"), ("slave_expires_tracked_keys", "0"), ("active_defrag_hits", "0"),
                ("active_defrag_misses", "0"), ("active_defrag_key_hits", "0"), ("active_defrag_key_misses", "0"),
                ("total_active_defrag_time", "0"), ("current_active_defrag_time", "0"),
                ("tracking_total_keys", "\(tracking.keys.count)"), ("tracking_total_items", "\(tracking.items)"),
                ("tracking_total_prefixes", "\(tracking.prefixes.count)"),
                ("unexpected_error_replies", "\(stats.unexpectedErrorReplies)"), ("total_error_replies", "\(stats.errorReplies)"),
                ("dump_payload_sanitizations", "0"), ("total_reads_processed", "\(stats.readsProcessed)"),
                ("total_writes_processed", "\(stats.writesProcessed)"), ("io_threaded_reads_processed", "0"),
                ("io_threaded_writes_processed", "0"), ("reply_buffer_shrinks", "0"), ("reply_buffer_expands", "0"),
            ])
        case "replication":
            return fields("Replication", replicationInfoFields())
        case "cpu":
            return fields("CPU", [
                ("used_cpu_sys", String(format6: tandem_cpu_seconds(0, 1))),
                ("used_cpu_user", String(format6: tandem_cpu_seconds(0, 0))),
                ("used_cpu_sys_children", String(format6: tandem_cpu_seconds(1, 1))),
                ("used_cpu_user_children", String(format6: tandem_cpu_seconds(1, 0))),
                ("used_cpu_sys_main_thread", String(format6: tandem_cpu_seconds(0, 1))),
                ("used_cpu_user_main_thread", String(format6: tandem_cpu_seconds(0, 0))),
            ])
        case "modules":
            return "# Modules\r\n"
        case "commandstats":
            var pairs: [(String, String)] = []
            for i in 0..<commands.count where commands.stats[i].calls > 0 || commands.stats[i].rejected > 0 || commands.stats[i].failed > 0 {
                let s = commands.stats[i]
                let perCall = s.calls > 0 ? Double(s.microseconds) / Double(s.calls) : 0
                pairs.append(("cmdstat_\(commands.specs[i].nameString)",
                              "calls=\(s.calls),usec=\(s.microseconds),usec_per_call=\(String(format2: perCall)),rejected_calls=\(s.rejected),failed_calls=\(s.failed)"))
            }
            return fields("Commandstats", pairs)
        case "errorstats":
            return fields("Errorstats", errorStats.sorted { $0.key < $1.key }.map { ("errorstat_\($0.key)", "count=\($0.value)") })
        case "cluster":
            return fields("Cluster", [("cluster_enabled", cluster.enabled ? "1" : "0")])
        case "keyspace":
            var pairs: [(String, String)] = []
            for i in 0..<dbCount where dbs[i].count > 0 {
                pairs.append(("db\(i)", "keys=\(dbs[i].count),expires=\(dbs[i].expiresCount),avg_ttl=\(dbs[i].averageTTL)"))
            }
            return fields("Keyspace", pairs)
        case "latencystats":
            return latencyStatsSection()
        case "tandem":
            return fields("Tandem", [
                ("tandem_version", ServerInfo.tandemVersion), ("repl_compression", settings.replCompression),
                ("repl_backlog_ring_capacity", "\(repl.backlog.map { $0.pointee.capacity } ?? 0)"),
            ] + senderWorkerFields())
        default:
            return nil
        }
    }
}

extension String {
    /// "%.2f"
    init(format2 v: Double) {
        var buf = [CChar](repeating: 0, count: 64)
        _ = withVaList([v]) { vsnprintf(&buf, 64, "%.2f", $0) }
        self = String(cString: buf)
    }

    /// "%.6f"
    init(format6 v: Double) {
        var buf = [CChar](repeating: 0, count: 64)
        _ = withVaList([v]) { vsnprintf(&buf, 64, "%.6f", $0) }
        self = String(cString: buf)
    }
}
