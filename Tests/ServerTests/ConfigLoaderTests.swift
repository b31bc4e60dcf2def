// ConfigLoaderTests.swift — unit tests for the config parser (Sources/Server/Configuration/ConfigLoader.swift,
// ConfigTable.swift, Settings.swift).
//
// Covers ConfigLoader.parseArguments (argv → directive lines, Redis's quoting), loading files:
// defaults, quoting, comments, blank lines, CRLF, `include`, old directive names, memory units,
// `save` lines (the first replaces the defaults, later ones add, `save ""` clears),
// client-output-buffer-limit per class, command-line lines overriding the file; every fatal
// error with Redis's message and line number (checked against redis-server 7.0.15), including
// command-line options counted after a blank line; ConfigLine.split's quoting rules; and
// ConfigTable.value's printing (memory in bytes, save, client-output-buffer-limit, octal).
@testable import Server
import Testing

// MARK: - Command-line arguments

@Test func parseArgumentsBuildsDirectiveLines() {
    let (file, lines) = ConfigLoader.parseArguments(["/etc/tandem.conf", "--port", "1", "--save", "", "--bind", "a", "b"])
    #expect(file == "/etc/tandem.conf")
    #expect(lines == ["port \"1\"", "save \"\"", "bind \"a\" \"b\""])
}

@Test func parseArgumentsWithoutFile() {
    let (file, lines) = ConfigLoader.parseArguments(["--port", "7000", "--loglevel", "debug"])
    #expect(file == nil)
    #expect(lines == ["port \"7000\"", "loglevel \"debug\""])
    let (noFile, none) = ConfigLoader.parseArguments([])
    #expect(noFile == nil && none.isEmpty)
}

@Test func parseArgumentsQuotesLikeSdscatrepr() {
    let (_, lines) = ConfigLoader.parseArguments(["--requirepass", "a\"b\\c\nd\te\rf g"])
    #expect(lines == ["requirepass \"a\\\"b\\\\c\\nd\\te\\rf g\""])
    // …and the quoted line splits back into the original argument.
    #expect(ConfigLine.split(lines[0]) == ["requirepass", "a\"b\\c\nd\te\rf g"])
}

@Test func parseArgumentsSaveWithNoValue() {
    // `--save --port 1` and a trailing `--save` mean `save ""` in Redis 7.
    let (_, lines) = ConfigLoader.parseArguments(["--save", "--port", "1"])
    let s = try? ConfigLoader.load(file: nil, lines: lines).settings
    #expect(s?.save == [])
    #expect(s?.port == 1)
    let (_, trailing) = ConfigLoader.parseArguments(["--port", "2", "--save"])
    let t = try? ConfigLoader.load(file: nil, lines: trailing).settings
    #expect(t?.save == [])
}

/// Redis takes the word after an option name as its value even if it starts with "--"
/// (`redis-server --requirepass --secret` sets the password "--secret").
@Test func parseArgumentsValueStartingWithDashes() {
    let (_, lines) = ConfigLoader.parseArguments(["--requirepass", "--secret", "--port", "0"])
    #expect(lines == ["requirepass \"--secret\"", "port \"0\""])
}

// MARK: - Loading files

@Test func defaultsWithAnEmptyFile() throws {
    let dir = TempDir()
    let p = dir.write("empty.conf", "")
    let loaded = try ConfigLoader.load(file: p, lines: [])
    let s = loaded.settings
    #expect(loaded.path == p)
    #expect(s.port == 6379)
    #expect(s.bind == ["*", "-::*"])
    #expect(s.hashMaxListpackEntries == 512)
    #expect(s.hashMaxListpackValue == 64)
    #expect(s.zsetMaxListpackEntries == 128)
    #expect(s.setMaxIntsetEntries == 512)
    #expect(s.listMaxListpackSize == -2)
    #expect(s.save == saves([(3600, 1), (300, 100), (60, 10000)]))
    #expect(s.maxmemory == 0 && s.maxmemoryPolicy == "noeviction")
    #expect(s.protoMaxBulkLen == 512 * 1024 * 1024)
    #expect(s.outputLimitReplica == OutputBufferLimit(hard: 256 << 20, soft: 64 << 20, softSeconds: 60))
    #expect(s.replicaOf == nil)
    #expect(s.databases == 16 && s.hz == 10 && s.loglevel == "notice")
}

@Test func noFileAndNoArguments() throws {
    let loaded = try ConfigLoader.load(file: nil, lines: [])
    #expect(loaded.path == nil)
    #expect(loaded.settings.port == 6379)
}

@Test func missingFileIsFatal() {
    #expect(configError(nil, lines: []) == nil)
    do {
        _ = try ConfigLoader.load(file: "/nonexistent/dir/tandem.conf", lines: [])
        Issue.record("loaded a missing file")
    } catch {
        #expect(error.message.hasPrefix("Fatal error, can't open config file '/nonexistent/dir/tandem.conf'"))
    }
}

@Test func commentsBlankLinesQuotesAndCase() throws {
    let s = try loadConfig(
        """
        # a comment
           # an indented comment

        PORT 7000
        \tHz   20\t
        requirepass "pass word \\"quoted\\""
        masterauth 'single quoted'
        masteruser "\\x41\\x42c"
        replica-announce-ip ""
        loglevel WARNING
        protected-mode No

        """)
    #expect(s.port == 7000)
    #expect(s.hz == 20)
    #expect(s.requirepass == "pass word \"quoted\"")
    #expect(s.masterauth == "single quoted")
    #expect(s.masteruser == "ABc")
    #expect(s.replicaAnnounceIP == "")
    #expect(s.loglevel == "warning")
    #expect(s.protectedMode == false)
}

@Test func crlfLineEndings() throws {
    let s = try loadConfig("# comment\r\nport 7001\r\nhz 30\r\n\r\nrequirepass \"a b\"\r\n")
    #expect(s.port == 7001)
    #expect(s.hz == 30)
    #expect(s.requirepass == "a b")
}

@Test func includeFiles() throws {
    let dir = TempDir()
    let sub = dir.write("sub.conf", "port 2000\ntimeout 5\n")
    let main = dir.write("main.conf", "port 1000\ninclude \(sub)\nhz 20\n")
    let s = try ConfigLoader.load(file: main, lines: []).settings
    #expect(s.port == 2000 && s.timeout == 5 && s.hz == 20)
    // A later line of the including file wins.
    let main2 = dir.write("main2.conf", "include \(sub)\nport 3000\n")
    #expect(try ConfigLoader.load(file: main2, lines: []).settings.port == 3000)
    // Nested includes.
    let mid = dir.write("mid.conf", "include \(sub)\nmaxclients 77\n")
    let main3 = dir.write("main3.conf", "include \(mid)\n")
    let s3 = try ConfigLoader.load(file: main3, lines: []).settings
    #expect(s3.maxclients == 77 && s3.port == 2000)
}

@Test func errorInsideAnIncludedFileNamesItsOwnLine() {
    let dir = TempDir()
    let sub = dir.write("bad.conf", "port 1\nnot-a-directive 1\n")
    let main = dir.write("main.conf", "hz 20\n\n\ninclude \(sub)\n")
    do {
        _ = try ConfigLoader.load(file: main, lines: [])
        Issue.record("no error")
    } catch {
        #expect(error.line == 2)
        #expect(error.text == "not-a-directive 1")
        #expect(error.message == "Bad directive or wrong number of arguments")
    }
}

@Test func oldDirectiveNames() throws {
    let s = try loadConfig(
        """
        slaveof 10.0.0.1 6380
        hash-max-ziplist-entries 100
        hash-max-ziplist-value 32
        zset-max-ziplist-entries 64
        list-max-ziplist-size -1
        slave-read-only no
        slave-priority 7
        min-slaves-to-write 2
        repl-ping-slave-period 3
        """)
    #expect(s.replicaOf?.host == "10.0.0.1" && s.replicaOf?.port == 6380)
    #expect(s.hashMaxListpackEntries == 100 && s.hashMaxListpackValue == 32)
    #expect(s.zsetMaxListpackEntries == 64 && s.listMaxListpackSize == -1)
    #expect(s.replicaReadOnly == false && s.replicaPriority == 7)
    #expect(s.minReplicasToWrite == 2 && s.replPingReplicaPeriod == 3)
    let t = try loadConfig("replicaof 10.0.0.1 6380\nreplicaof no one\n")
    #expect(t.replicaOf == nil)
}

@Test(arguments: [
    ("1mb", 1_048_576), ("1gb", 1_073_741_824), ("100k", 100_000), ("2GB", 2_147_483_648), ("1b", 1), ("5", 5),
    ("1m", 1_000_000), ("3g", 3_000_000_000), ("10KB", 10_240), ("0", 0), ("7Mb", 7_340_032),
])
func memoryUnits(_ text: String, _ bytes: Int) throws {
    #expect(try loadConfig("maxmemory \(text)\n").maxmemory == bytes)
    #expect(try loadConfig("repl-backlog-size \(text == "0" ? "1" : text)\n").replBacklogSize == max(bytes, 1))
}

@Test func saveLines() throws {
    // The first `save` line of a file replaces the defaults, later ones add.
    #expect(try loadConfig("save 900 1\n").save == saves([(900, 1)]))
    #expect(try loadConfig("save 900 1\nsave 300 10\nsave 60 10000\n").save == saves([(900, 1), (300, 10), (60, 10000)]))
    #expect(try loadConfig("save \"\"\n").save == [])
    #expect(try loadConfig("save 900 1\nsave \"\"\n").save == [])
    #expect(try loadConfig("save \"\"\nsave 60 5\n").save == saves([(60, 5)]))
    #expect(try loadConfig("hz 20\n").save == saves([(3600, 1), (300, 100), (60, 10000)]))
    // From the command line.
    #expect(try loadConfig("", lines: ["save \"\""]).save == [])
    #expect(try loadConfig("", lines: ["save \"100\" \"2\""]).save == saves([(100, 2)]))
    #expect(try loadConfig("", lines: ["save \"100 2 50 3\""]).save == saves([(100, 2), (50, 3)]))
}

/// A `save` line may carry several pairs; in a file it adds them like single-pair lines
/// (redis-server 7.0.15: `save 900 1` + `save 300 10 60 10000` → "900 1 300 10 60 10000").
@Test func saveLinesWithSeveralPairsAdd() throws {
    #expect(
        try loadConfig("save 900 1\nsave 300 10 60 10000\n").save == saves([(900, 1), (300, 10), (60, 10000)]))
    #expect(try loadConfig("save \"900 1 300 10\"\nsave 60 5\n").save == saves([(900, 1), (300, 10), (60, 5)]))
}

@Test func clientOutputBufferLimitPerClass() throws {
    let s = try loadConfig(
        """
        client-output-buffer-limit normal 1mb 2mb 3
        client-output-buffer-limit replica 10 20 30
        client-output-buffer-limit pubsub 0 0 0
        """)
    #expect(s.outputLimitNormal == OutputBufferLimit(hard: 1_048_576, soft: 2_097_152, softSeconds: 3))
    #expect(s.outputLimitReplica == OutputBufferLimit(hard: 10, soft: 20, softSeconds: 30))
    #expect(s.outputLimitPubsub == OutputBufferLimit(hard: 0, soft: 0, softSeconds: 0))
    // `slave` is the old class name; several classes may share a line; others keep defaults.
    let t = try loadConfig("client-output-buffer-limit slave 1 2 3 PUBSUB 4 5 6\n")
    #expect(t.outputLimitReplica == OutputBufferLimit(hard: 1, soft: 2, softSeconds: 3))
    #expect(t.outputLimitPubsub == OutputBufferLimit(hard: 4, soft: 5, softSeconds: 6))
    #expect(t.outputLimitNormal == OutputBufferLimit(hard: 0, soft: 0, softSeconds: 0))
}

@Test func commandLineOverridesTheFile() throws {
    let s = try loadConfig("port 1000\nhz 20\nsave 900 1\n", lines: ["port \"2000\"", "maxmemory \"1gb\""])
    #expect(s.port == 2000)
    #expect(s.hz == 20)
    #expect(s.maxmemory == 1 << 30)
    #expect(s.save == saves([(900, 1)]))
    let (_, lines) = ConfigLoader.parseArguments(["x.conf", "--port", "3000", "--bind", "127.0.0.1", "::1"])
    let t = try loadConfig("port 1000\nbind 0.0.0.0\n", lines: lines)
    #expect(t.port == 3000)
    #expect(t.bind == ["127.0.0.1", "::1"])
}

// MARK: - Fatal errors

struct ConfigErrorCase: Sendable, CustomTestStringConvertible {
    let file: String?
    let lines: [String]
    let line: Int
    let text: String
    let message: String
    init(_ file: String?, lines: [String] = [], _ line: Int, _ text: String, _ message: String) {
        self.file = file
        self.lines = lines
        self.line = line
        self.text = text
        self.message = message
    }
    var testDescription: String { "\(file ?? "no file") + \(lines) → line \(line): \(message)" }
}

let policyMessage =
    "argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction"

let configErrorCases: [ConfigErrorCase] = [
    .init("port 1\nfoo bar\n", 2, "foo bar", "Bad directive or wrong number of arguments"),
    .init("hz abc\n", 1, "hz abc", "argument couldn't be parsed into an integer"),
    .init("hz +5\n", 1, "hz +5", "argument couldn't be parsed into an integer"),
    .init("hz -1\n", 1, "hz -1", "argument must be between 0 and 2147483647 inclusive"),
    .init("# c\n\nport 70000\n", 3, "port 70000", "argument must be between 0 and 65535 inclusive"),
    .init("databases 0\n", 1, "databases 0", "argument must be between 1 and 2147483647 inclusive"),
    .init("port 1 2\n", 1, "port 1 2", "wrong number of arguments"),
    .init("daemonize maybe\n", 1, "daemonize maybe", "argument must be 'yes' or 'no'"),
    .init("maxmemory-policy foo\n", 1, "maxmemory-policy foo", policyMessage),
    .init("loglevel loud\n", 1, "loglevel loud", "argument(s) must be one of the following: debug, verbose, notice, warning"),
    .init("requirepass \"abc\n", 1, "requirepass \"abc", "Unbalanced quotes in configuration line"),
    .init("masterauth 'a'b\n", 1, "masterauth 'a'b", "Unbalanced quotes in configuration line"),
    .init("maxmemory 10zb\n", 1, "maxmemory 10zb", "argument must be a memory value"),
    .init("maxmemory 1.5gb\n", 1, "maxmemory 1.5gb", "argument must be a memory value"),
    .init(
        "proto-max-bulk-len 1000\n", 1, "proto-max-bulk-len 1000",
        "argument must be between 1048576 and 9223372036854775807 inclusive"),
    .init("save 900\n", 1, "save 900", "Invalid save parameters"),
    .init("save 0 1\n", 1, "save 0 1", "Invalid save parameters"),
    .init(
        "client-output-buffer-limit foo 1 2 3\n", 1, "client-output-buffer-limit foo 1 2 3",
        "Invalid client class specified in buffer limit configuration."),
    .init(
        "client-output-buffer-limit normal 1 2\n", 1, "client-output-buffer-limit normal 1 2",
        "Wrong number of arguments in buffer limit configuration."),
    .init(
        "client-output-buffer-limit normal 1 2 x\n", 1, "client-output-buffer-limit normal 1 2 x",
        "Error in hard, soft or soft_seconds setting in buffer limit configuration."),
    .init("slaveof 1.2.3.4\n", 1, "slaveof 1.2.3.4", "wrong number of arguments"),
    .init("replicaof a 70000\n", 1, "replicaof a 70000", "Invalid master port"),
    .init("  hz   abc  \r\n", 1, "hz   abc", "argument couldn't be parsed into an integer"),
    // Command-line options: Redis appends them after a newline, so with no file the first one
    // is line 2; after a file that ends in a newline there is a blank line in between.
    .init(nil, lines: ["port \"70000\""], 2, "port \"70000\"", "argument must be between 0 and 65535 inclusive"),
    .init(nil, lines: ["hz \"20\"", "port \"70000\""], 3, "port \"70000\"", "argument must be between 0 and 65535 inclusive"),
    .init("port 6399\n", lines: ["port \"70000\""], 3, "port \"70000\"", "argument must be between 0 and 65535 inclusive"),
    .init("port 6399", lines: ["port \"70000\""], 2, "port \"70000\"", "argument must be between 0 and 65535 inclusive"),
]

@Test(arguments: configErrorCases)
func fatalErrors(_ c: ConfigErrorCase) {
    guard let e = configError(c.file, lines: c.lines) else {
        Issue.record("loaded without error")
        return
    }
    #expect(e.line == c.line)
    #expect(e.text == c.text)
    #expect(e.message == c.message)
}

/// More Redis 7.0.15 texts (each checked with redis-server) for inputs where the generic
/// checks answer differently.
@Test(arguments: [
    ConfigErrorCase("port 007\n", 1, "port 007", "argument couldn't be parsed into an integer"),
    ConfigErrorCase("port\n", 1, "port", "wrong number of arguments"),
    ConfigErrorCase("daemonize yes no\n", 1, "daemonize yes no", "wrong number of arguments"),
    ConfigErrorCase("maxmemory -1\n", 1, "maxmemory -1", "argument must be a memory value"),
    ConfigErrorCase("unixsocketperm 999\n", 1, "unixsocketperm 999", "argument couldn't be parsed as an octal number"),
])
func fatalErrorTextsOfEdgeCases(_ c: ConfigErrorCase) {
    guard let e = configError(c.file, lines: c.lines) else {
        Issue.record("loaded without error")
        return
    }
    #expect(e.line == c.line)
    #expect(e.text == c.text)
    #expect(e.message == c.message)
}

@Test func fatalErrorDescriptionIsRedisFormat() {
    let e = configError("port 1\nfoo bar\n")
    #expect(
        e?.description
            == "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line 2\n>>> 'foo bar'\nBad directive or wrong number of arguments\n"
    )
}

// MARK: - ConfigLine.split

@Test(arguments: [
    ("a b c", ["a", "b", "c"]),
    ("  a \t  b  ", ["a", "b"]),
    ("", []),
    ("   ", []),
    ("\"a b\" c", ["a b", "c"]),
    ("'a b'", ["a b"]),
    ("\"a\\\"b\"", ["a\"b"]),
    ("'a\\'b'", ["a'b"]),
    ("'a\\nb'", ["a\\nb"]),
    ("\"\\x41\\x4a\\x7e\"", ["AJ~"]),
    ("\"\\x4g\"", ["x4g"]),
    ("\"\\n\\t\\r\\\\\"", ["\n\t\r\\"]),
    ("\"\\b\\a\\z\"", ["\u{8}\u{7}z"]),
    ("\"\"", [""]),
    ("''", [""]),
    ("a \"\" b", ["a", "", "b"]),
    ("ab\"c d\"", ["abc d"]),
    ("x'y z'", ["xy z"]),
    ("\"a\"\t\"b\"", ["a", "b"]),
    ("é ü", ["é", "ü"]),
])
func splitQuoting(_ line: String, _ words: [String]) {
    #expect(ConfigLine.split(line) == words)
}

@Test(arguments: ["\"abc", "'abc", "\"a\"b", "'a'b", "\"a\\\"", "a \"b", "\"\\x4"])
func splitUnbalanced(_ line: String) {
    #expect(ConfigLine.split(line) == nil)
}

// MARK: - Printing values (CONFIG GET)

func printed(_ name: String, _ s: Settings) -> String? {
    ConfigTable.find(name).map { ConfigTable.value($0, s) }
}

@Test func valuePrinting() throws {
    let d = Settings()
    #expect(
        printed("client-output-buffer-limit", d)
            == "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60")
    #expect(printed("save", d) == "3600 1 300 100 60 10000")
    #expect(printed("bind", d) == "* -::*")
    #expect(printed("maxmemory", d) == "0")
    #expect(printed("repl-backlog-size", d) == "1048576")
    #expect(printed("protected-mode", d) == "yes")
    #expect(printed("appendonly", d) == "no")
    #expect(printed("replicaof", d) == "")
    #expect(printed("slaveof", d) == "")
    #expect(printed("maxmemory-policy", d) == "noeviction")
    #expect(printed("list-max-listpack-size", d) == "-2")
    #expect(printed("unixsocketperm", d) == "0")
    #expect(printed("no-such-directive", d) == nil)

    let s = try loadConfig(
        """
        maxmemory 2gb
        save ""
        client-output-buffer-limit normal 1mb 2mb 3
        unixsocketperm 700
        replicaof example.com 6380
        hash-max-ziplist-entries 9
        """)
    #expect(printed("maxmemory", s) == "2147483648")
    #expect(printed("save", s) == "")
    #expect(
        printed("client-output-buffer-limit", s)
            == "normal 1048576 2097152 3 slave 268435456 67108864 60 pubsub 33554432 8388608 60")
    #expect(printed("unixsocketperm", s) == "700")
    #expect(printed("replicaof", s) == "example.com 6380")
    #expect(printed("HASH-MAX-LISTPACK-ENTRIES", s) == "9")
}

@Test func everyDirectivePrintsAValueThatLoadsBack() throws {
    // Whatever CONFIG GET prints for the defaults must be accepted by the loader.
    let d = Settings()
    var lines: [String] = []
    for dir in ConfigTable.directives where dir.name != "dir" {
        for line in ConfigTable.rewriteLines(dir, d) { lines.append(line) }
    }
    let s = try loadConfig(lines.joined(separator: "\n") + "\n")
    for dir in ConfigTable.directives where dir.name != "dir" {
        #expect(ConfigTable.value(dir, s) == ConfigTable.value(dir, d), "\(dir.name)")
    }
}

/// The directives of Redis's own test configuration (tests/assets/default.conf) that came with
/// later Redis features: accepted with Redis's syntax, printed as redis-server 7.0.15 prints them.
@Test func redisTestSuiteDirectivesAreAccepted() throws {
    let file = """
        notify-keyspace-events KEA
        appendfsync everysec
        no-appendfsync-on-rewrite no
        enable-protected-configs yes
        enable-module-command yes
        propagation-error-behavior panic
        """
    let s = try ConfigLoader.load(file: nil, lines: file.split(separator: "\n").map(String.init)).settings
    #expect(printed("notify-keyspace-events", s) == "AKE")
    #expect(printed("appendfsync", s) == "everysec")
    #expect(printed("enable-protected-configs", s) == "yes")
    #expect(printed("propagation-error-behavior", s) == "panic")
    // Redis's canonical order (checked with redis-server 7.0.15): classes, then n, K, E, m.
    for (given, shown) in [("Kx$", "$xK"), ("gKn", "gnK"), ("EmA", "AEm"), ("", "")] {
        let t = try ConfigLoader.load(file: nil, lines: ["notify-keyspace-events \"\(given)\""]).settings
        #expect(printed("notify-keyspace-events", t) == shown, "\(given)")
    }
    let bad = configError("notify-keyspace-events Kq\n", lines: [])
    #expect(bad?.message == "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")
    #expect(configError("appendfsync sometimes\n", lines: [])?.message
        == "argument(s) must be one of the following: everysec, always, no")
}

/// A bare `save` line (what Redis's test suite writes for `save ""` overrides) clears the save
/// points, as redis-server 7.0 accepts it.
@Test func aBareSaveLineClearsTheSavePoints() throws {
    let s = try ConfigLoader.load(file: nil, lines: ["save 900 1", "save"]).settings
    #expect(s.save.isEmpty)
}
