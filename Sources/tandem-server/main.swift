/*
 * tandem-server: command line, config, daemon mode, pidfile, signals, then the event loop.
 *
 *     tandem-server [/path/to/tandem.conf] [--directive value ...]
 *
 * The order mirrors redis-server's main(): parse the configuration (fatal errors name the
 * line), daemonize if asked (fork, setsid, stdio to /dev/null), write the pidfile, open the
 * listening sockets (a busy port is fatal), then log "Ready to accept connections" — the line
 * scripts wait for — and run until SHUTDOWN or SIGTERM/SIGINT.
 */
import CTandem
import Glibc
import Platform
import Server

func printUsage() {
    let text = """
        Usage: ./tandem-server [/path/to/tandem.conf] [options] [-]
               ./tandem-server - (read config from stdin)
               ./tandem-server -v or --version
               ./tandem-server -h or --help

        Examples:
               ./tandem-server (run the server with default conf)
               ./tandem-server /etc/tandem/6379.conf
               ./tandem-server --port 7777
               ./tandem-server --port 7777 --replicaof 127.0.0.1 8888
               ./tandem-server /etc/mytandem.conf --loglevel verbose

        """
    writeStderr(text)
}

func writeStderr(_ s: String) {
    _ = s.withCString { write(2, $0, strlen($0)) }
}

func daemonize() {
    let pid = fork()
    if pid < 0 { exit(1) }
    if pid > 0 { exit(0) }
    setsid()
    let fd = open("/dev/null", O_RDWR)
    if fd != -1 {
        dup2(fd, 0)
        dup2(fd, 1)
        dup2(fd, 2)
        if fd > 2 { close(fd) }
    }
}

func writePidfile(_ path: String) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    if fd == -1 {
        Log.warning("Failed to write PID file: \(String(cString: strerror(errno)))")
        return
    }
    let text = "\(getpid())\n"
    _ = text.withCString { write(fd, $0, strlen($0)) }
    close(fd)
}

let args = Array(CommandLine.arguments.dropFirst())
if let first = args.first {
    if first == "-v" || first == "--version" {
        print("Tandem server v=\(ServerInfo.tandemVersion) (Redis-compatible \(ServerInfo.redisVersion)) bits=64")
        exit(0)
    }
    if first == "-h" || first == "--help" {
        printUsage()
        exit(0)
    }
}

let parsed = ConfigLoader.parseArguments(args)
let config: LoadedConfig
do {
    config = try ConfigLoader.load(file: parsed.file, lines: parsed.lines)
} catch {
    writeStderr(error.description)
    exit(1)
}
let settings = config.settings
let clusterMode = settings.storedValue("cluster-enabled") == "yes"
if clusterMode && settings.replicaOf != nil {
    writeStderr("\n*** FATAL CONFIG FILE ERROR (Redis \(ServerInfo.redisVersion)) ***\nreplicaof directive not allowed in cluster mode\n")
    exit(1)
}
Log.level = LogLevel(name: settings.loglevel) ?? .notice
Log.path = settings.logfile

if settings.daemonize { daemonize() }
tandem_install_signal_handlers()

Log.notice("oO0OoO0OoO0Oo Tandem is starting oO0OoO0OoO0Oo")
Log.notice(
    "Redis version=\(ServerInfo.redisVersion), bits=64, commit=00000000, modified=0, pid=\(getpid()), just started"
)
Log.notice("Tandem version=\(ServerInfo.tandemVersion)")
if config.path == nil {
    Log.warning(
        "Warning: no config file specified, using the default config. In order to specify a config file use \(CommandLine.arguments[0]) /path/to/tandem.conf"
    )
} else {
    Log.notice("Configuration loaded")
}

var pidfile = settings.pidfile
if settings.daemonize && pidfile.isEmpty { pidfile = "/var/run/tandem.pid" }

var cwd = [CChar](repeating: 0, count: 4096)
let executable: String = {
    let argv0 = CommandLine.arguments[0]
    if argv0.hasPrefix("/") { return argv0 }
    return (getcwd(&cwd, cwd.count) != nil ? String(cString: cwd) : ".") + "/" + argv0
}()

var loaded = config
loaded.settings.pidfile = pidfile
let server = UnsafeMutablePointer<Server>.allocate(capacity: 1)
do {
    server.initialize(to: try Server(config: loaded, executable: executable))
} catch {
    Log.warning("Failed creating the event loop: \(error)")
    exit(1)
}
if !pidfile.isEmpty { writePidfile(pidfile) }

if clusterMode {
    if settings.port > 55535 && settings.storedValue("cluster-port") == "0" {
        Log.warning("Redis port number too high. Cluster communication port is 10,000 port numbers higher than your Redis port. Your Redis port number must be 55535 or less.")
        exit(1)
    }
    // nodes.conf, as Redis: before the banner (it logs who this node is).
    server.pointee.startCluster()
}
let mode = clusterMode ? "cluster" : "standalone"
if settings.alwaysShowLogo {
    Log.raw(
        """
                        Tandem \(ServerInfo.tandemVersion) (Redis \(ServerInfo.redisVersion) compatible) 64 bit
                        Running mode=\(mode), port=\(settings.port).
                        PID: \(getpid())
        """)
} else {
    Log.notice("Running mode=\(mode), port=\(settings.port).")
}
server.pointee.openSyslogIfEnabled()
server.pointee.installCrashHandlerIfEnabled()
server.pointee.disableTransparentHugePagesIfNeeded()
server.pointee.applyOOMScoreAdj()
Log.notice("Server initialized")
// ACL users from the config file and the aclfile (exits on errors, as Redis).
server.pointee.loadUsersAtStartup()

// tls-port: the contexts from the tls-* directives, then its listeners (exits on errors) —
// before the plain port, so that whoever sees the plain port answer finds the TLS one ready.
server.pointee.startTLS()
do {
    try server.pointee.listen()
} catch {
    Log.warning("Failed listening on port \(settings.port) (TCP), aborting.")
    if !pidfile.isEmpty { unlink(pidfile) }
    exit(1)
}
// set-proc-title: the command line's memory becomes the title (after everything that reads it).
server.pointee.executableName = CommandLine.arguments[0]
server.pointee.processTitle = ProcessTitle.claim()
server.pointee.updateProcessTitle()
// The shared table the sender workers report in; the workers themselves are forked when the
// fan-out first needs them (ReplicationSenders.swift).
server.pointee.startSenderWorkers()
// As Redis: the port is open while the dump loads, so clients get -LOADING, not a refusal.
if !server.pointee.loadDataFromDisk() {
    if !pidfile.isEmpty { unlink(pidfile) }
    exit(1)
}
if clusterMode {
    server.pointee.verifyOnlyDatabaseZeroHasKeys()
    server.pointee.claimSlotsWithKeys()
}
Log.notice("Ready to accept connections tcp")
if let master = settings.replicaOf { server.pointee.startReplication(host: master.host, port: master.port, atStartUp: true) }
let code = server.pointee.run()
exit(code)
