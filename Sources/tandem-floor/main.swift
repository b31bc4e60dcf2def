/*
 * tandem-floor: the kernel's floor for a request, on Tandem's own event loop (issue 20).
 *
 * A server that answers every request with "+OK" and does nothing else: no command table, no
 * keyspace, no reply encoding — only what every RESP server must do per request: epoll_wait,
 * read, find where each request ends, write. Its CPU per request is the least a server on this
 * loop can spend, so bench/instructions reports Tandem's (and redis-server's) CPU per request
 * against it: what lies above the floor is what user space can still win.
 *
 * Request framing is the minimum that keeps pipelining right: an inline request ends at its
 * newline; a multibulk one ("*N") after its N bulk strings, skipped by their lengths.
 *
 * Usage: tandem-floor --port N [other redis-server arguments, ignored]. Not a product: it
 * binds 127.0.0.1 only and stops on SIGTERM/SIGINT (the default actions).
 */
import CTandem
import Glibc
import Platform

/// One connection: its unparsed input and its pending output, in buffers made at accept.
struct FloorClient {
    static let capacity = 1 << 16
    var input = [UInt8](repeating: 0, count: capacity)
    var inputCount = 0
    var output = [UInt8](repeating: 0, count: capacity)
    var outputCount = 0
    var outputSent = 0

    /// The end of the first complete request in `input[start...]`, or nil if it is incomplete.
    func requestEnd(from start: Int) -> Int? {
        guard start < inputCount else { return nil }
        if input[start] != UInt8(ascii: "*") {
            var i = start
            while i < inputCount {
                if input[i] == 10 { return i + 1 }
                i += 1
            }
            return nil
        }
        guard let (count, afterHeader) = number(at: start + 1) else { return nil }
        var i = afterHeader
        for _ in 0..<max(count, 0) {
            guard i < inputCount, input[i] == UInt8(ascii: "$"), let (length, afterLength) = number(at: i + 1) else { return nil }
            i = afterLength + length + 2
            if i > inputCount { return nil }
        }
        return i
    }

    /// The decimal number at `start` up to its CRLF, and the index after the CRLF.
    func number(at start: Int) -> (Int, Int)? {
        var value = 0, i = start
        while i < inputCount && input[i] != 13 {
            value = value &* 10 &+ Int(input[i]) &- 48
            i += 1
        }
        return i + 1 < inputCount ? (value, i + 2) : nil
    }

    /// Answers every complete request with +OK; keeps the incomplete tail.
    mutating func answerRequests() {
        var start = 0
        while outputCount + 5 <= Self.capacity, let end = requestEnd(from: start) {
            output[outputCount] = 43  // "+OK\r\n"
            output[outputCount + 1] = 79
            output[outputCount + 2] = 75
            output[outputCount + 3] = 13
            output[outputCount + 4] = 10
            outputCount += 5
            start = end
        }
        if start > 0 {
            input.withUnsafeMutableBufferPointer { b in
                _ = memmove(b.baseAddress!, b.baseAddress! + start, inputCount - start)
            }
            inputCount -= start
        }
    }
}

/// The listener, the loop and the clients by descriptor.
struct FloorServer {
    let loop: EventLoop
    let listener: Int32
    var clients = [FloorClient?](repeating: nil, count: 65536)

    init(port: Int) throws(SystemError) {
        loop = try EventLoop(capacity: 1024)
        listener = try Socket.listenTCP(host: "127.0.0.1", port: port, backlog: 511)
        try loop.add(listener, events: EventLoop.readable, token: UInt64(UInt32(bitPattern: listener)))
    }

    mutating func drop(_ fd: Int32) {
        loop.remove(fd)
        Socket.close(fd)
        clients[Int(fd)] = nil
    }

    /// Writes what the socket takes; watches for writability only while something is left.
    mutating func flush(_ fd: Int32) {
        let i = Int(fd)
        guard clients[i] != nil else { return }
        while clients[i]!.outputSent < clients[i]!.outputCount {
            let sent = clients[i]!.outputSent, count = clients[i]!.outputCount
            let n = clients[i]!.output.withUnsafeBytes { Socket.write(fd, from: $0.baseAddress! + sent, count: count - sent) }
            if n == -1 { break }
            if n < 0 {
                drop(fd)
                return
            }
            clients[i]!.outputSent += n
        }
        if clients[i]!.outputSent < clients[i]!.outputCount {
            loop.modify(fd, events: EventLoop.readable | EventLoop.writable, token: UInt64(UInt32(bitPattern: fd)))
        } else {
            clients[i]!.outputSent = 0
            clients[i]!.outputCount = 0
        }
    }

    mutating func acceptClients() {
        while let accepted = Socket.accept(listener) {
            guard Int(accepted.fd) < clients.count else {
                Socket.close(accepted.fd)
                continue
            }
            Socket.setNoDelay(accepted.fd)
            clients[Int(accepted.fd)] = FloorClient()
            try? loop.add(accepted.fd, events: EventLoop.readable, token: UInt64(UInt32(bitPattern: accepted.fd)))
        }
    }

    /// A ready client: finish its output, read, answer what arrived.
    mutating func serve(_ fd: Int32, events: UInt32) {
        let i = Int(fd)
        guard clients[i] != nil else { return }
        if events & EventLoop.writable != 0 {
            flush(fd)
            if clients[i]?.outputCount == 0 { loop.modify(fd, events: EventLoop.readable, token: UInt64(UInt32(bitPattern: fd))) }
        }
        guard clients[i] != nil, clients[i]!.inputCount < FloorClient.capacity else { return }
        let have = clients[i]!.inputCount
        let got = clients[i]!.input.withUnsafeMutableBytes { Socket.read(fd, into: $0.baseAddress! + have, count: $0.count - have) }
        if got == 0 || got == -2 {
            drop(fd)
        } else if got > 0 {
            clients[i]!.inputCount += got
            clients[i]!.answerRequests()
            flush(fd)
        }
    }

    mutating func run() -> Never {
        while true {
            let n = loop.wait(timeoutMillis: -1)
            for e in 0..<n {
                let fd = Int32(truncatingIfNeeded: loop.readyTokens[e])
                if fd == listener { acceptClients() } else { serve(fd, events: loop.readyEvents[e]) }
            }
        }
    }
}

func startFloor() -> Never {
    var port = 6379
    var arguments = CommandLine.arguments.dropFirst().makeIterator()
    while let a = arguments.next() {
        if a == "--port", let p = arguments.next(), let n = Int(p) { port = n }
    }
    signal(SIGPIPE, SIG_IGN)
    do {
        var server = try FloorServer(port: port)
        server.run()
    } catch {
        print("tandem-floor: cannot listen on port \(port): \(error)")
        exit(1)
    }
}

startFloor()
