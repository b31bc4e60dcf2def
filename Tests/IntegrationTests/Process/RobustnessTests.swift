/*
 * RobustnessTests.swift — limits, hostile and heavy clients, signals and sockets: what a server has to
 * survive, checked on real processes.
 *
 *   maxclients, timeout, client-query-buffer-limit, proto-max-bulk-len, 1 MB / 10 MB values, a 10 000
 *   command pipeline, a client that does not read 2 GB of replies (back-pressure), seeded garbage input,
 *   SIGTERM with a pidfile, a Unix socket, CONFIG SET port, CLIENT KILL, RESP3 replies.
 *
 * Every test runs for both flavours (`ServerFlavour.allCases`): the redis-server run proves the test
 * states Redis's behaviour, the Tandem run is the check. The RESP3 test compares each flavour with a
 * redis-server started next to it (redis vs redis for the redis flavour). The suite is serialized: the
 * heavy tests (back-pressure, fuzz) would otherwise disturb the timing ones (timeout, ping latency) on a
 * small machine. Every loop is bounded in count and time; the whole file runs in well under a minute.
 *
 * `Wire` below is a raw socket with non-blocking, deadline-bounded writes: tests that push more than the
 * kernel buffers hold (pipelines, a 2 MB partial bulk, a client that does not read) must never block on
 * a server that stopped reading. Set ITEST_FUZZ_SEED=<n> to run the garbage test with another seed.
 */

import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite(.serialized) struct RobustnessTests {
    static let pong = bytes("+PONG\r\n")
    static let ok = bytes("+OK\r\n")

    // MARK: - 1. maxclients

    @Test(arguments: ServerFlavour.allCases)
    func maxclientsRejectsTheThirdConnection(_ flavour: ServerFlavour) throws {
        let server = try ServerProcess.start(flavour, extraArgs: ["--maxclients", "2"])
        defer { server.stop() }
        // One at a time: a connection answered means every connection closed before it (the harness's
        // readiness probe) has been freed too, so the count is exactly ours.
        let first = try server.connect(timeoutSeconds: 2)
        #expect(try first.call("PING") == Self.pong)
        let second = try server.connect(timeoutSeconds: 2)
        #expect(try second.call("PING") == Self.pong)

        let third = try server.connect(timeoutSeconds: 2)
        #expect(try third.readReply() == Self.bytes("-ERR max number of clients reached\r\n"),
                "\(flavour): third connection was not refused with Redis's error")
        #expect(third.waitForClose(milliseconds: 2000), "\(flavour): refused connection was not closed")
        third.close()

        // Closing one frees a slot as soon as the server sees the close; a connection that races ahead of
        // that is still refused, so retry (bounded).
        first.close()
        var served = false
        var last = ""
        for _ in 0..<40 {
            if served { break }
            let c = try server.connect(timeoutSeconds: 2)
            do {
                let reply = try c.call("PING")
                served = reply == Self.pong
                last = RESP.escape(reply)
            } catch {
                last = "\(error)"
            }
            if !served { Harness.sleep(milliseconds: 50) }
        }
        #expect(served, "\(flavour): no new connection was served after closing one; last: \(last)")
        #expect(try second.call("PING") == Self.pong)
    }

    // MARK: - 2. timeout

    @Test(arguments: ServerFlavour.allCases)
    func idleClientIsDisconnectedButABusyOneIsNot(_ flavour: ServerFlavour) throws {
        let server = try ServerProcess.start(flavour, extraArgs: ["--timeout", "1"])
        defer { server.stop() }
        let idle = try server.connect(timeoutSeconds: 2)
        let busy = try server.connect(timeoutSeconds: 2)
        #expect(try idle.call("PING") == Self.pong)  // registered; idle from now on
        let start = Self.now()
        var idleClosedAfter: Double? = nil
        var busyFailure: String? = nil
        var pings = 0
        // The busy client pings every ~300 ms for 3.6 s (> 3 × timeout); meanwhile watch the idle one.
        for _ in 0..<40 {
            if Self.now() - start >= 3.6 { break }
            do {
                let reply = try busy.call("PING")
                if reply != Self.pong {
                    busyFailure = "PING answered \"\(RESP.escape(reply))\""
                    break
                }
                pings += 1
            } catch {
                busyFailure = "\(error)"
                break
            }
            if idleClosedAfter == nil {
                if idle.waitForClose(milliseconds: 300) { idleClosedAfter = Self.now() - start }
            } else {
                Harness.sleep(milliseconds: 300)
            }
        }
        #expect(busyFailure == nil, "\(flavour): the busy client lost its connection after \(pings) PINGs: \(busyFailure ?? "")")
        #expect(try busy.call("PING") == Self.pong)
        let closed = try #require(idleClosedAfter, "\(flavour): the idle client was not disconnected within 3.6 s")
        print("[robustness] \(flavour) timeout 1: idle client closed after \(String(format: "%.2f", closed)) s; busy client sent \(pings) PINGs")
        #expect(closed >= 0.9 && closed <= 3.5,
                "\(flavour): idle client closed after \(closed) s; expected between 1 and ~3 s with timeout 1")
    }

    // MARK: - 3. client-query-buffer-limit

    @Test(arguments: ServerFlavour.allCases)
    func queryBufferLimitDisconnectsAHugePartialBulk(_ flavour: ServerFlavour) throws {
        let server = try ServerProcess.start(flavour, extraArgs: ["--client-query-buffer-limit", "1mb"])
        defer { server.stop() }
        let other = try server.connect(timeoutSeconds: 2)
        #expect(try other.call("SET", "k", "v") == Self.ok)

        let hog = try Wire(port: server.port)
        var payload = Self.bytes("*1\r\n$3000000\r\n")
        payload += [UInt8](repeating: UInt8(ascii: "x"), count: 2_000_000)  // no end: the bulk stays partial
        var sent = 0
        var peerClosed = false
        var otherFailure: String? = nil
        let slice = 128 * 1024
        for _ in 0..<64 where sent < payload.count && !peerClosed {
            let chunk = Array(payload[sent..<min(payload.count, sent + slice)])
            if hog.writeAll(chunk, milliseconds: 2000) {
                sent += chunk.count
            } else {
                peerClosed = true
            }
            // Other clients keep being served while the hog's buffer grows.
            do {
                let reply = try other.call("GET", "k")
                if reply != Self.bytes("$1\r\nv\r\n") { otherFailure = "GET k answered \"\(RESP.escape(reply))\"" }
            } catch {
                otherFailure = "\(error)"
            }
            if otherFailure != nil { break }
        }
        #expect(otherFailure == nil, "\(flavour): another client was not served meanwhile: \(otherFailure ?? "")")
        #expect(peerClosed || hog.waitForEOF(milliseconds: 3000),
                "\(flavour): a client with a 2 MB partial bulk (limit 1mb) was not disconnected (sent \(sent) bytes)")
        #expect(sent > 1024 * 1024 - slice, "\(flavour): disconnected after only \(sent) bytes, below the 1mb limit")
        #expect(!server.hasExited, "\(flavour): the server died")
        #expect(try other.call("GET", "k") == Self.bytes("$1\r\nv\r\n"))
        let fresh = try server.connect(timeoutSeconds: 2)
        #expect(try fresh.call("PING") == Self.pong)
    }

    // MARK: - 4. proto-max-bulk-len

    @Test(arguments: ServerFlavour.allCases)
    func protoMaxBulkLenRejectsALongerBulk(_ flavour: ServerFlavour) throws {
        let server = try ServerProcess.start(flavour, extraArgs: ["--proto-max-bulk-len", "1mb"])
        defer { server.stop() }
        // Exactly the limit is accepted.
        let c = try server.connect(timeoutSeconds: 5)
        let atLimit = [UInt8](repeating: UInt8(ascii: "a"), count: 1024 * 1024)
        try c.sendRaw(Self.command([Self.bytes("SET"), Self.bytes("k"), atLimit]))
        #expect(try c.readReply() == Self.ok, "\(flavour): a bulk of exactly proto-max-bulk-len was refused")
        #expect(try c.call("STRLEN", "k") == Self.bytes(":1048576\r\n"))

        let bad = try server.connect(timeoutSeconds: 2)
        try bad.sendRaw(Self.bytes("*1\r\n$2000000\r\n"))
        #expect(try bad.readReply() == Self.bytes("-ERR Protocol error: invalid bulk length\r\n"))
        #expect(bad.waitForClose(milliseconds: 2000), "\(flavour): connection not closed after the protocol error")
        #expect(try c.call("PING") == Self.pong)
    }

    // MARK: - 5. Large values

    @Test(arguments: ServerFlavour.allCases)
    func largeValuesRoundTripExactly(_ flavour: ServerFlavour) throws {
        let server = try ServerProcess.start(flavour)
        defer { server.stop() }
        let c = try server.connect(timeoutSeconds: 10)
        var rng = SplitMix64(seed: 5)
        for size in [1 << 20, 10 << 20] {
            let value = rng.bytes(size)  // binary: CR, LF and NUL included
            try c.sendRaw(Self.command([Self.bytes("SET"), Self.bytes("big"), value]))
            #expect(try c.readReply() == Self.ok, "\(flavour): SET of \(size) bytes")
            try c.send(["GET", "big"])
            let reply = try c.readReply()
            let expected = Self.bytes("$\(size)\r\n") + value + [13, 10]
            let same = reply == expected
            #expect(same, "\(flavour): GET of a \(size)-byte value returned \(reply.count) bytes, first difference at \(Self.firstDifference(reply, expected))")
            #expect(try c.call("STRLEN", "big") == Self.bytes(":\(size)\r\n"))
        }
    }

    // MARK: - 6. Pipelining

    @Test(arguments: ServerFlavour.allCases)
    func tenThousandPipelinedCommandsInOneWrite(_ flavour: ServerFlavour) throws {
        let server = try ServerProcess.start(flavour)
        defer { server.stop() }
        let count = 10_000
        let one = RESP.command(["INCR", "counter"])
        var all: [UInt8] = []
        all.reserveCapacity(one.count * count)
        for _ in 0..<count { all += one }
        var expected: [UInt8] = []
        for i in 1...count { expected += Self.bytes(":\(i)\r\n") }

        let w = try Wire(port: server.port)
        // One write() call (blocking, bounded by SO_SNDTIMEO) carrying all 10 000 commands.
        let written = w.writeOnce(all, blocking: true) ?? -1
        #expect(written == all.count, "\(flavour): one write() took \(written) of \(all.count) bytes")
        if written >= 0 && written < all.count {
            _ = w.writeAll(Array(all[written...]), milliseconds: 5000)
        }
        let (got, eof) = w.readBytes(expected.count, milliseconds: 10_000)
        #expect(!eof, "\(flavour): connection closed during the pipeline")
        let same = got == expected
        #expect(same, "\(flavour): got \(got.count) of \(expected.count) reply bytes, first difference at \(Self.firstDifference(got, expected))")
        #expect(!w.hasPendingBytes(milliseconds: 100), "\(flavour): more replies than commands")
        let c = try server.connect()
        #expect(try c.call("GET", "counter") == Self.bytes("$5\r\n10000\r\n"))
    }

    // MARK: - 7. Back-pressure

    @Test(arguments: ServerFlavour.allCases)
    func clientThatDoesNotReadDoesNotStallOthers(_ flavour: ServerFlavour) throws {
        let count = 200_000
        let valueSize = 10 * 1024
        let server = try ServerProcess.start(flavour)
        defer { server.stop() }
        var rng = SplitMix64(seed: 7)
        let value = rng.bytes(valueSize)
        let setup = try server.connect()
        try setup.sendRaw(Self.command([Self.bytes("SET"), Self.bytes("big"), value]))
        #expect(try setup.readReply() == Self.ok)
        setup.close()

        let one = RESP.command(["GET", "big"])
        var requests: [UInt8] = []
        requests.reserveCapacity(one.count * count)
        for _ in 0..<count { requests += one }
        let reply = Self.bytes("$\(valueSize)\r\n") + value + [13, 10]
        let total = reply.count * count  // ~2 GB

        let a = try Wire(port: server.port)
        let b = try server.connect(timeoutSeconds: 2)
        let start = Self.now()
        var sent = 0
        var aFailure: String? = nil
        var worstPing = 0.0
        var pings = 0
        var pingFailure: String? = nil

        // Phase 1, 3 s: A writes whatever the server accepts and reads nothing; B pings every 200 ms.
        var nextPing = start
        for _ in 0..<1_000_000 {
            if Self.now() - start >= 3.0 { break }
            if sent < requests.count {
                guard let n = a.writeOnce(requests, from: sent, blocking: false) else {
                    aFailure = "A's connection was closed while it was writing (\(sent) bytes sent)"
                    break
                }
                sent += n
            }
            if Self.now() >= nextPing {
                let t0 = Self.now()
                do {
                    let r = try b.call("PING")
                    if r != Self.pong { pingFailure = "PING answered \"\(RESP.escape(r))\"" }
                } catch {
                    pingFailure = "\(error)"
                }
                if pingFailure != nil { break }
                worstPing = max(worstPing, Self.now() - t0)
                pings += 1
                nextPing = Self.now() + 0.2
            }
            if sent < requests.count { a.waitWritable(milliseconds: 20) } else { Harness.sleep(milliseconds: 20) }
        }
        let sentInPhase1 = sent

        // Phase 2: A reads everything (writing the rest of its requests as the server takes them). Every
        // byte is checked against the expected reply stream with memcmp (no per-byte Swift loop).
        var received = 0
        var mismatchAt: Int? = nil
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        let deadline = start + 18.0
        for _ in 0..<10_000_000 {
            if received >= total || aFailure != nil || Self.now() >= deadline { break }
            if sent < requests.count {
                guard let n = a.writeOnce(requests, from: sent, blocking: false) else {
                    aFailure = "A's connection was closed while it was writing (\(sent) bytes sent)"
                    break
                }
                sent += n
            }
            switch a.read(into: &buffer, milliseconds: sent < requests.count ? 5 : 200) {
            case .timeout:
                continue
            case .eof:
                aFailure = "A's connection was closed after \(received) reply bytes"
            case .data(let n):
                if mismatchAt == nil {
                    mismatchAt = Self.compareStream(buffer, n, at: received, with: reply)
                }
                received += n
            }
        }
        let elapsed = Self.now() - start
        print("[robustness] \(flavour) back-pressure: phase 1 sent \(sentInPhase1) of \(requests.count) request "
              + "bytes, \(pings) PINGs (worst \(String(format: "%.3f", worstPing)) s); \(received / reply.count) of "
              + "\(count) replies in \(String(format: "%.1f", elapsed)) s")
        #expect(pingFailure == nil, "\(flavour): B was not served while A did not read: \(pingFailure ?? "")")
        #expect(pings >= 5, "\(flavour): only \(pings) PINGs completed in 3 s")
        #expect(worstPing < 1.0, "\(flavour): B's PING took \(worstPing) s while A did not read")
        #expect(aFailure == nil, "\(flavour): \(aFailure ?? "")")
        #expect(sent == requests.count, "\(flavour): only \(sent) of \(requests.count) request bytes were taken")
        #expect(received == total, "\(flavour): A got \(received) of \(total) reply bytes (\(received / reply.count) of \(count) replies) within 18 s")
        #expect(mismatchAt == nil, "\(flavour): reply stream differs from \(count) × GET big at byte \(mismatchAt ?? -1)")
        #expect(try b.call("PING") == Self.pong)
    }

    // MARK: - 8. Garbage input

    @Test(arguments: ServerFlavour.allCases)
    func garbageInputDoesNotKillTheServer(_ flavour: ServerFlavour) throws {
        let seed = ProcessInfo.processInfo.environment["ITEST_FUZZ_SEED"].flatMap { UInt64($0) } ?? 20_240_612
        let connections = 300
        let server = try ServerProcess.start(flavour)
        defer { server.stop() }
        let control = try server.connect(timeoutSeconds: 2)
        var rng = SplitMix64(seed: seed)
        var recent: [String] = []  // the last payloads, for the failure message
        var buffer = [UInt8](repeating: 0, count: 65536)
        var failure: String? = nil
        let start = Self.now()
        for i in 0..<connections where Self.now() - start < 25 {
            let (kind, payload) = Self.garbage(&rng)
            recent.append("#\(i) \(kind): \"\(RESP.escape(payload.prefix(200)))\"\(payload.count > 200 ? "… (\(payload.count) bytes)" : "")")
            if recent.count > 5 { recent.removeFirst() }
            do {
                let w = try Wire(port: server.port)
                _ = w.writeAll(payload, milliseconds: 1000)  // the server may close first: fine
                if rng.below(2) == 0 {
                    for _ in 0..<4 {
                        guard case .data = w.read(into: &buffer, milliseconds: 5) else { break }
                    }
                }
                w.close()
            } catch {
                failure = "connection #\(i) failed: \(error)"
            }
            if failure == nil && (i % 25 == 24 || i == connections - 1) {
                do {
                    let r = try control.call("PING")
                    if r != Self.pong { failure = "control PING answered \"\(RESP.escape(r))\"" }
                } catch {
                    failure = "control PING failed: \(error)"
                }
            }
            if failure != nil { break }
        }
        #expect(failure == nil, """
            \(flavour) (seed \(seed)): \(failure ?? "")
            server exited: \(server.hasExited); last payloads:
            \(recent.joined(separator: "\n"))
            """)
        #expect(!server.hasExited, "\(flavour): the server process died (seed \(seed))")
        let c = try server.connect(timeoutSeconds: 2)
        #expect(try c.call("PING") == Self.pong)
        let size = try c.callValue("DBSIZE")
        guard case .integer = size else {
            Issue.record("\(flavour): DBSIZE answered \(size)")
            return
        }
    }

    // MARK: - 9. SIGTERM

    @Test(arguments: ServerFlavour.allCases)
    func sigtermExitsZeroAndRemovesThePidfile(_ flavour: ServerFlavour) throws {
        try flavour.checkBinary()
        let dir = try Harness.makeTempDir("tandem-itest-sigterm")
        defer { Harness.removeDir(dir) }
        let port = try Harness.freePort()
        let pidfile = dir + "/p.pid", logfile = dir + "/server.log"
        let args = ServerProcess.commonArguments(port: port, dir: dir) + ["--pidfile", pidfile]
        let pid = try Harness.spawn(
            flavour.binaryPath, args, cwd: dir, stdout: dir + "/stdout.txt", stderr: dir + "/stderr.txt")
        var status: ExitStatus? = nil
        defer {
            if status == nil {
                kill(pid, SIGKILL)
                var raw: Int32 = 0
                waitpid(pid, &raw, 0)
            }
            Harness.killProcesses(withArgumentContaining: dir)
        }
        let ready = Harness.waitUntil(milliseconds: 10_000) {
            if let s = Harness.reap(pid) {
                status = s
                return true
            }
            return Harness.portAccepts(port) && Harness.readFile(logfile).contains("Ready to accept connections")
        }
        try #require(status == nil && ready,
                     "\(flavour): did not start (\(status?.description ?? "no exit")); log:\n\(Harness.readFile(logfile))")
        #expect(Harness.readFile(pidfile).trimmingCharacters(in: .whitespacesAndNewlines) == String(pid),
                "\(flavour): pidfile holds '\(Harness.readFile(pidfile))', expected \(pid)")
        let client = try RawClient(port: port, timeoutSeconds: 2)
        #expect(try client.call("PING") == Self.pong)

        let t0 = Self.now()
        kill(pid, SIGTERM)
        Harness.waitUntil(milliseconds: 5000) {
            status = Harness.reap(pid)
            return status != nil
        }
        let exit = try #require(status, "\(flavour): still running 5 s after SIGTERM")
        #expect(exit.code == 0, "\(flavour): exited with \(exit) after SIGTERM")
        print("[robustness] \(flavour) SIGTERM: exited in \(String(format: "%.3f", Self.now() - t0)) s with \(exit)")
        let log = Harness.readFile(logfile)
        #expect(log.contains("Received SIGTERM scheduling shutdown..."), "\(flavour): log:\n\(log)")
        #expect(log.contains("ready to exit, bye bye"), "\(flavour): log:\n\(log)")
        #expect(!FileManager.default.fileExists(atPath: pidfile), "\(flavour): pidfile not removed")
        #expect(client.waitForClose(milliseconds: 1000), "\(flavour): client connection not closed by the exit")
    }

    // MARK: - 10. Unix socket

    @Test(arguments: ServerFlavour.allCases)
    func unixSocketServesPing(_ flavour: ServerFlavour) throws {
        let socketDir = try Harness.makeTempDir("tandem-itest-unix")
        defer { Harness.removeDir(socketDir) }
        let path = socketDir + "/t.sock"
        let server = try ServerProcess.start(flavour, extraArgs: ["--unixsocket", path, "--unixsocketperm", "700"])
        defer { server.stop() }
        var st = stat()
        // Ready means the TCP port answers; the socket file may come a moment later on a busy machine.
        _ = Harness.waitUntil(milliseconds: 2000) { stat(path, &st) == 0 }
        try #require(stat(path, &st) == 0, "\(flavour): no socket file at \(path)")
        #expect(st.st_mode & S_IFMT == S_IFSOCK, "\(flavour): \(path) is not a socket")
        #expect(st.st_mode & 0o777 == 0o700, "\(flavour): socket mode is \(String(st.st_mode & 0o777, radix: 8))")

        let c = try RawClient(unixSocketPath: path, timeoutSeconds: 2)
        #expect(try c.call("PING") == Self.pong)
        #expect(try c.call("SET", "via", "unix") == Self.ok)
        let info = try c.callValue("CLIENT", "INFO").text ?? ""
        #expect(info.contains(" addr=\(path):0 laddr=\(path):0 "), "\(flavour): CLIENT INFO over the socket: \(info)")
        #expect(info.contains(" flags=U "), "\(flavour): CLIENT INFO over the socket: \(info)")
        #expect(try c.callValue("CONFIG", "GET", "unixsocketperm") == .array([.bulk("unixsocketperm"), .bulk("700")]))
        let tcp = try server.connect()
        #expect(try tcp.call("GET", "via") == Self.bytes("$4\r\nunix\r\n"))
    }

    // MARK: - 11. CONFIG SET port

    @Test(arguments: ServerFlavour.allCases)
    func configSetPortMovesTheListener(_ flavour: ServerFlavour) throws {
        let server = try ServerProcess.start(flavour)
        defer { server.stop() }
        let c = try server.connect(timeoutSeconds: 2)
        let newPort = try Harness.freePort()
        #expect(try c.call("CONFIG", "SET", "port", String(newPort)) == Self.ok)
        let moved = try RawClient(port: newPort, timeoutSeconds: 2)
        #expect(try moved.call("PING") == Self.pong)
        #expect(try moved.callValue("CONFIG", "GET", "port") == .array([.bulk("port"), .bulk(String(newPort))]))
        var refused: Int32 = 0
        do {
            let fd = try RawClient.connectLoopback(port: server.port)
            close(fd)
        } catch ClientError.connect(_, let e) {
            refused = e
        }
        #expect(refused == ECONNREFUSED, "\(flavour): old port \(server.port) still accepts connections (errno \(refused))")
        #expect(try c.call("PING") == Self.pong, "\(flavour): the existing connection did not survive the move")
    }

    // MARK: - 12. CLIENT KILL

    @Test(arguments: ServerFlavour.allCases)
    func clientKillClosesConnections(_ flavour: ServerFlavour) throws {
        let server = try ServerProcess.start(flavour)
        defer { server.stop() }
        let victim = try server.connect(timeoutSeconds: 2)
        let killer = try server.connect(timeoutSeconds: 2)
        guard case .integer(let victimID) = try victim.callValue("CLIENT", "ID") else {
            Issue.record("\(flavour): CLIENT ID did not answer an integer")
            return
        }
        #expect(try killer.call("CLIENT", "KILL", "ID", String(victimID)) == Self.bytes(":1\r\n"))
        #expect(victim.waitForClose(milliseconds: 2000), "\(flavour): the killed connection stayed open")
        #expect(try killer.call("CLIENT", "KILL", "ID", String(victimID)) == Self.bytes(":0\r\n"))
        #expect(try killer.call("PING") == Self.pong)

        // SKIPME no: every normal client goes, the caller too, after it got its reply.
        let bystander = try server.connect(timeoutSeconds: 2)
        #expect(try bystander.call("PING") == Self.pong)
        #expect(try killer.call("CLIENT", "KILL", "SKIPME", "no", "TYPE", "normal") == Self.bytes(":2\r\n"))
        #expect(killer.waitForClose(milliseconds: 2000), "\(flavour): the caller was not closed after its reply")
        #expect(bystander.waitForClose(milliseconds: 2000), "\(flavour): the other normal client stayed open")
        let fresh = try server.connect(timeoutSeconds: 2)
        #expect(try fresh.call("PING") == Self.pong)
    }

    // MARK: - 13. RESP3

    @Test(arguments: ServerFlavour.allCases)
    func resp3RepliesMatchRedis(_ flavour: ServerFlavour) throws {
        let server = try ServerProcess.start(flavour)
        defer { server.stop() }
        let reference = try ServerProcess.start(.redis)
        defer { reference.stop() }
        let x = try server.connect(timeoutSeconds: 2)
        let y = try reference.connect(timeoutSeconds: 2)

        let hx = try x.callValue("HELLO", "3"), hy = try y.callValue("HELLO", "3")
        if case .map(let ex) = hx, case .map(let ey) = hy, ex.count == ey.count {
            for i in stride(from: 0, to: ex.count, by: 2) where ex[i].text != "id" {
                #expect(ex[i] == ey[i] && ex[i + 1] == ey[i + 1],
                        "\(flavour): HELLO 3 field \(i / 2 + 1): \(ex[i]) \(ex[i + 1]) vs redis \(ey[i]) \(ey[i + 1])")
            }
        } else {
            Issue.record("\(flavour): HELLO 3 answered \(RESP.escape(hx.encoded)); redis \(RESP.escape(hy.encoded))")
        }

        let getX = try x.call("GET", "missing"), getY = try y.call("GET", "missing")
        #expect(getY == Self.bytes("_\r\n"))
        #expect(getX == getY, "\(flavour): GET missing → \"\(RESP.escape(getX))\"; redis \"\(RESP.escape(getY))\"")

        let hzX = try x.call("CONFIG", "GET", "hz"), hzY = try y.call("CONFIG", "GET", "hz")
        #expect(hzY == Self.bytes("%1\r\n$2\r\nhz\r\n$2\r\n10\r\n"))
        #expect(hzX == hzY, "\(flavour): CONFIG GET hz → \"\(RESP.escape(hzX))\"; redis \"\(RESP.escape(hzY))\"")

        let infoX = try x.call("CLIENT", "INFO"), infoY = try y.call("CLIENT", "INFO")
        let differences = Self.clientInfoDifferences(infoX, infoY)
        #expect(differences.isEmpty, """
            \(flavour): CLIENT INFO differs from redis (volatile fields \(Self.volatileClientFields.sorted()) ignored):
              \(differences.joined(separator: "\n  "))
              \(flavour): "\(RESP.escape(infoX))"
              redis:  "\(RESP.escape(infoY))"
            """)
    }

    /// CLIENT INFO fields whose values depend on the connection, the clock or the allocator.
    static let volatileClientFields: Set<String> = [
        "id", "addr", "laddr", "fd", "age", "idle", "qbuf-free", "rbs", "rbp", "tot-mem",
    ]

    /// Differences between two RESP3 CLIENT INFO replies: both verbatim `txt:` strings ending in "\n", the
    /// same fields in the same order, equal values except the volatile ones.
    static func clientInfoDifferences(_ a: [UInt8], _ b: [UInt8]) -> [String] {
        guard case .verbatim(let va) = try? RESPReader.decode(a) else { return ["not a RESP3 verbatim string"] }
        guard case .verbatim(let vb) = try? RESPReader.decode(b) else { return ["reference is not verbatim"] }
        let ta = String(decoding: va, as: UTF8.self), tb = String(decoding: vb, as: UTF8.self)
        var out: [String] = []
        if !ta.hasPrefix("txt:") { out.append("verbatim format is not txt:") }
        if !ta.hasSuffix("\n") { out.append("line does not end with \\n") }
        func fields(_ t: String) -> [(String, String)] {
            t.dropFirst(4).trimmingCharacters(in: .newlines).split(separator: " ").map { f in
                let parts = f.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                return (String(parts[0]), parts.count > 1 ? String(parts[1]) : "")
            }
        }
        let fa = fields(ta), fb = fields(tb)
        if fa.map(\.0) != fb.map(\.0) {
            out.append("field names differ: \(fa.map(\.0).joined(separator: " ")) vs redis \(fb.map(\.0).joined(separator: " "))")
            return out
        }
        for ((k, v), (_, w)) in zip(fa, fb) where !volatileClientFields.contains(k) && v != w {
            out.append("\(k)=\(v), redis \(k)=\(w)")
        }
        return out
    }

    // MARK: - Garbage generator

    static let templates: [[String]] = [
        ["PING"], ["SET", "k", "v"], ["GET", "k"], ["INCR", "n"], ["APPEND", "k", "xyz"],
        ["MSET", "a", "1", "b", "2"], ["DEL", "a"], ["EXISTS", "a", "b"], ["ECHO", "hello"], ["STRLEN", "k"],
        ["EXPIRE", "k", "100"], ["TYPE", "k"], ["SELECT", "1"], ["INCRBYFLOAT", "f", "1.5"], ["GETRANGE", "k", "0", "-1"],
    ]

    static func validCommands(_ rng: inout SplitMix64, count: Int) -> [UInt8] {
        var out: [UInt8] = []
        for _ in 0..<count { out += RESP.command(templates[rng.below(templates.count)]) }
        return out
    }

    /// One hostile payload and the name of its kind.
    static func garbage(_ rng: inout SplitMix64) -> (String, [UInt8]) {
        switch rng.below(8) {
        case 0:
            return ("random bytes", rng.bytes(1 + rng.below(512)))
        case 1:
            let valid = validCommands(&rng, count: 1 + rng.below(3))
            return ("truncated", Array(valid.prefix(rng.below(valid.count))))
        case 2:
            // Flip bytes of the `*n` / `$n` header lines (CR and LF included).
            var valid = validCommands(&rng, count: 1 + rng.below(3))
            var headerBytes: [Int] = []
            var i = 0
            while i < valid.count {
                if valid[i] == UInt8(ascii: "*") || valid[i] == UInt8(ascii: "$") {
                    var j = i
                    while j < valid.count && valid[j] != 10 { headerBytes.append(j); j += 1 }
                    if j < valid.count { headerBytes.append(j) }
                    if valid[i] == UInt8(ascii: "$"), let n = Int(String(decoding: valid[(i + 1)..<(j - 1)], as: UTF8.self)) {
                        i = j + 1 + n + 2
                        continue
                    }
                    i = j + 1
                } else {
                    i += 1
                }
            }
            for _ in 0..<(1 + rng.below(3)) where !headerBytes.isEmpty {
                let at = headerBytes[rng.below(headerBytes.count)]
                valid[at] = rng.below(2) == 0 ? UInt8(truncatingIfNeeded: rng.next()) : Array("0123456789-*$\r\n".utf8)[rng.below(15)]
            }
            return ("header flips", valid)
        case 3:
            let huge = ["2147483648", "9223372036854775807", "99999999999999999999999", "536870913", "4294967296",
                        "1000000", "2147483647", "18446744073709551616", "1e9", "0x10", " 5", "5 "][rng.below(12)]
            let forms = [
                "*1\r\n$\(huge)\r\n", "*\(huge)\r\n", "*2\r\n$3\r\nGET\r\n$\(huge)\r\nabc",
                "*\(huge)\r\n$4\r\nPING\r\n", "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$\(huge)\r\nvalue\r\n",
            ]
            return ("huge length", Self.bytes(forms[rng.below(forms.count)]))
        case 4:
            let forms = [
                "*-1\r\n", "*-5\r\n$4\r\nPING\r\n", "*1\r\n$-1\r\n", "*2\r\n$3\r\nGET\r\n$-7\r\nabc\r\n", "$-1\r\n",
                "*-9223372036854775808\r\n", "*1\r\n$-0\r\n\r\n", "*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n", "*1\r\n$-2147483649\r\n",
            ]
            return ("negative length", Self.bytes(forms[rng.below(forms.count)]))
        case 5:
            var out: [UInt8] = []
            let depth = 1 + rng.below(3000)
            for _ in 0..<depth { out += Self.bytes(rng.below(4) == 0 ? "*2\r\n" : "*1\r\n") }
            if rng.below(2) == 0 { out += RESP.command(["PING"]) }
            return ("deep nesting", out)
        case 6:
            // Inline lines: words, unbalanced quotes, escapes, NULs, sometimes longer than 64 KB.
            let pieces = ["GET", "SET", "k", "\"unbalanced", "'single", "\"\\x4", "\"a\"b", "\\", "\0", "\t", "\"\\xZZ\"",
                          "''", "\"\"", "PING", "\r", "x"]
            var line = ""
            for _ in 0..<(1 + rng.below(12)) { line += pieces[rng.below(pieces.count)] + (rng.below(3) == 0 ? "" : " ") }
            var out = Self.bytes(line)
            if rng.below(8) == 0 { out += [UInt8](repeating: UInt8(ascii: "a"), count: 70_000) }
            if rng.below(2) == 0 { out += Self.bytes("\r\n") }
            return ("inline junk", out)
        default:
            var out = validCommands(&rng, count: 1 + rng.below(3))
            var bad = validCommands(&rng, count: 1)
            for _ in 0..<(1 + rng.below(4)) { bad[rng.below(bad.count)] = UInt8(truncatingIfNeeded: rng.next()) }
            out += bad
            out += validCommands(&rng, count: rng.below(3))
            return ("mutated pipeline", out)
        }
    }

    // MARK: - Helpers

    static func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    /// A multibulk command from binary-safe arguments.
    static func command(_ args: [[UInt8]]) -> [UInt8] {
        var out = bytes("*\(args.count)\r\n")
        for a in args {
            out += bytes("$\(a.count)\r\n")
            out += a
            out += [13, 10]
        }
        return out
    }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    static func firstDifference(_ a: [UInt8], _ b: [UInt8]) -> Int {
        let n = min(a.count, b.count)
        var i = 0
        while i < n && a[i] == b[i] { i += 1 }
        return i == n && a.count == b.count ? -1 : i
    }

    /// Checks `buffer[0..<count]`, found at offset `at` of a stream made of `reply` repeated, with memcmp per
    /// reply-sized piece. Returns the stream offset of the first mismatching piece, or nil.
    static func compareStream(_ buffer: [UInt8], _ count: Int, at: Int, with reply: [UInt8]) -> Int? {
        buffer.withUnsafeBytes { got in
            reply.withUnsafeBytes { want in
                var i = 0
                while i < count {
                    let p = (at + i) % reply.count
                    let len = min(reply.count - p, count - i)
                    if memcmp(got.baseAddress! + i, want.baseAddress! + p, len) != 0 { return at + i }
                    i += len
                }
                return nil
            }
        }
    }

    // MARK: - Wire

    /// A raw loopback TCP connection whose writes can be non-blocking and whose reads are bounded by poll.
    final class Wire {
        enum ReadResult {
            case data(Int)
            case timeout
            case eof
        }

        private(set) var fd: Int32

        init(port: UInt16) throws {
            fd = try RawClient.connectLoopback(port: port)
            var tv = timeval(tv_sec: 5, tv_usec: 0)  // bounds the one deliberately blocking write
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        }

        deinit { close() }

        func close() {
            if fd >= 0 {
                Glibc.close(fd)
                fd = -1
            }
        }

        /// One send() of `bytes[offset...]`. Blocking sends wait at most 5 s. Returns the bytes taken (0 when
        /// the socket is full), nil when the peer closed or reset the connection.
        func writeOnce(_ bytes: [UInt8], from offset: Int = 0, blocking: Bool) -> Int? {
            guard offset < bytes.count else { return 0 }
            let flags = Int32(MSG_NOSIGNAL) | (blocking ? 0 : Int32(MSG_DONTWAIT))
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, bytes.count - offset, flags) }
            if n >= 0 { return n }
            if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { return 0 }
            return nil
        }

        func waitWritable(milliseconds: Int) {
            var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            _ = poll(&p, 1, Int32(milliseconds))
        }

        /// Writes all of `bytes` within `milliseconds`; false when time ran out or the peer went away.
        func writeAll(_ bytes: [UInt8], milliseconds: Int) -> Bool {
            let deadline = RobustnessTests.now() + Double(milliseconds) / 1000
            var offset = 0
            while offset < bytes.count {
                guard let n = writeOnce(bytes, from: offset, blocking: false) else { return false }
                offset += n
                if offset < bytes.count {
                    let left = deadline - RobustnessTests.now()
                    if left <= 0 { return false }
                    if n == 0 { waitWritable(milliseconds: min(100, Int(left * 1000) + 1)) }
                }
            }
            return true
        }

        /// Waits up to `milliseconds` for input, then reads what is there into `buffer`.
        func read(into buffer: inout [UInt8], milliseconds: Int) -> ReadResult {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if poll(&p, 1, Int32(milliseconds)) <= 0 { return .timeout }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if n > 0 { return .data(n) }
            if n == 0 { return .eof }
            if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { return .timeout }
            return .eof  // ECONNRESET and the like: the connection is gone
        }

        func hasPendingBytes(milliseconds: Int) -> Bool {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            return poll(&p, 1, Int32(milliseconds)) > 0
        }

        /// Reads until `count` bytes arrived, the peer closed, or `milliseconds` passed.
        func readBytes(_ count: Int, milliseconds: Int) -> (bytes: [UInt8], eof: Bool) {
            let deadline = RobustnessTests.now() + Double(milliseconds) / 1000
            var out: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65536)
            while out.count < count {
                let left = deadline - RobustnessTests.now()
                if left <= 0 { break }
                switch read(into: &buffer, milliseconds: min(200, Int(left * 1000) + 1)) {
                case .data(let n): out += buffer[0..<n]
                case .timeout: continue
                case .eof: return (out, true)
                }
            }
            return (out, false)
        }

        /// Reads and discards until the peer closes; true when that happens within `milliseconds`.
        func waitForEOF(milliseconds: Int) -> Bool {
            let deadline = RobustnessTests.now() + Double(milliseconds) / 1000
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let left = deadline - RobustnessTests.now()
                if left <= 0 { return false }
                if case .eof = read(into: &buffer, milliseconds: min(200, Int(left * 1000) + 1)) { return true }
            }
        }
    }
}

extension SplitMix64 {
    /// A uniform-enough integer in 0..<n (n > 0).
    fileprivate mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }

    /// `n` pseudo-random bytes, eight per step.
    fileprivate mutating func bytes(_ n: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: n)
        var i = 0
        while i + 8 <= n {
            let v = next()
            out.withUnsafeMutableBytes { $0.storeBytes(of: v, toByteOffset: i, as: UInt64.self) }
            i += 8
        }
        while i < n {
            out[i] = UInt8(truncatingIfNeeded: next())
            i += 1
        }
        return out
    }
}
