/*
 * ACLFile: where users come from and go to — `user` lines in the config file, the `aclfile`
 * (ACL LOAD / ACL SAVE), and CONFIG REWRITE's `user` lines. Redis 7.0's rules and messages:
 *
 *   - `user` lines are checked when the config is read (a bad rule is a config error, an
 *     unknown command is not yet) and applied at start-up; `user default ...` replaces the
 *     default user (after `reset`), so it wins over requirepass.
 *   - users in the config file and an aclfile together are refused at start-up.
 *   - ACL LOAD is all or nothing: the whole file is parsed into a new set of users; any error
 *     (every line's is reported) keeps the old set. On success every user but `default` is
 *     replaced, and their connections are closed; `default` is updated in place.
 *   - ACL SAVE writes every user, sorted by name, to a temporary file renamed over the old one.
 *   - CONFIG REWRITE writes every user as a `user` line, or none when an aclfile is in use.
 */
import Glibc
import Platform

enum ACLConfigUsers {
    /// Validates a config `user` line (ACLAppendUserForLoading) and keeps it in `settings.users`.
    /// Returns the error message for the config loader, nil when the line is fine.
    static func append(_ args: [String], to settings: inout Settings) -> String? {
        let argv = ["user"] + args
        guard let name = args.first else { return "Error in user declaration 'user': Syntax error" }
        let nameBytes = Array(name.utf8)
        if settings.users.contains(where: { $0.first == nameBytes }) {
            return "Error in user declaration '\(name)': \(ACLRuleError.duplicateUser.message)"
        }
        let table = ACLCommandTable.shared
        var fake = ACLUser(name: nameBytes, table: table, pubsubDefault: [])
        let ops: [[UInt8]]
        switch ACLSelectorArguments.merge(args.dropFirst().map { Array($0.utf8) }) {
        case .success(let merged): ops = merged
        case .failure(let unmatched):
            // What Redis 7.0.15 prints (its errno is left over from an earlier lookup).
            return "Error in user declaration '\(argv[unmatched.index])': \(ACLRuleError.unknownName.message)"
        }
        for (j, op) in ops.enumerated() {
            do throws(ACLRuleError) {
                try fake.apply(op, table, pubsubDefault: [])
            } catch {
                // Unknown commands are reported when the users are loaded (Redis allows for
                // modules loaded later). Redis names argv[j] here, counting from "user".
                if error != .unknownName { return "Error in user declaration '\(argv[j])': \(error.message)" }
            }
        }
        settings.users.append([nameBytes] + ops)
        return nil
    }
}

extension Server {
    /// ACLLoadUsersAtStartup: config users, then the aclfile. Exits on errors, as Redis.
    public mutating func loadUsersAtStartup() {
        acl.pubsubDefault = settings.aclPubsubDefault == "allchannels" ? .allChannels : []
        if !settings.requirepass.isEmpty { setDefaultUserPassword(settings.requirepass) }
        if !settings.aclfile.isEmpty && !settings.users.isEmpty {
            Log.warning("Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is invalid. This setup is very likely to lead to configuration errors and security holes, please define either an ACL file or declare users directly in your redis.conf, but not both.")
            exit(1)
        }
        for line in settings.users {
            let name = line[0]
            if ACLUser.hasSpaces(name) {
                Log.warning("Spaces not allowed in ACL usernames")
                Log.warning("Critical error while loading ACLs. Exiting.")
                exit(1)
            }
            var user: ACLUser
            if let i = acl.index(of: name), let existing = acl.users[i] {
                user = existing
                try? user.apply(Array("reset".utf8), acl.table, pubsubDefault: acl.pubsubDefault)
            } else {
                user = ACLUser(name: name, table: acl.table, pubsubDefault: acl.pubsubDefault)
            }
            for op in line.dropFirst() {
                do throws(ACLRuleError) {
                    try user.apply(op, acl.table, pubsubDefault: acl.pubsubDefault)
                } catch {
                    Log.warning("Error loading ACL rule '\(String(decoding: op, as: UTF8.self))' for the user named '\(user.nameString)': \(error.message)")
                    Log.warning("Critical error while loading ACLs. Exiting.")
                    exit(1)
                }
            }
            if user.flags.contains(.disabled) {
                Log.notice("The user '\(user.nameString)' is disabled (there is no 'on' modifier in the user description). Make sure this is not a configuration error.")
            }
            if let i = acl.index(of: name) { acl.users[i] = user } else { _ = acl.add(user) }
        }
        if !settings.aclfile.isEmpty, let errors = loadACLFile(current: nil) {
            Log.warning("Aborting Redis startup because of ACL errors: \(errors)")
            exit(1)
        }
        refreshAccessForAllClients()
    }

    /// ACL LOAD (ACLLoadFromFile): nil on success, else every error found, and nothing changed.
    mutating func loadACLFile(current: ClientRef?) -> String? {
        let file = settings.aclfile
        guard let text = ConfigLoader.readFileBytes(file) else {
            return "Error loading ACLs, opening file '\(file)': \(String(cString: strerror(errno)))"
        }
        var errors = ""
        var loaded: [ACLUser] = []
        let pubsub = acl.pubsubDefault
        for (i, rawLine) in text.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            let lineNumber = i + 1
            let line = Self.trim(Array(rawLine), " \t\r\n")
            if line.isEmpty { continue }
            // Split on single spaces, as Redis's sdssplitlen: no quoting in ACL files.
            let argv = line.split(separator: 32, omittingEmptySubsequences: false).map(Array.init)
            if argv.isEmpty { continue }
            guard argv[0] == Array("user".utf8), argv.count >= 2 else {
                errors += "\(file):\(lineNumber) should start with user keyword followed by the username. "
                continue
            }
            let name = argv[1]
            let nameString = String(decoding: name, as: UTF8.self)
            if ACLUser.hasSpaces(name) {
                errors += "'\(file):\(lineNumber): username '\(nameString)' contains invalid characters. "
                continue
            }
            if loaded.contains(where: { $0.name == name }) {
                errors += "WARNING: Duplicate user '\(nameString)' found on line \(lineNumber). "
                continue
            }
            var user = ACLUser(name: name, table: acl.table, pubsubDefault: pubsub)
            var ops: [[UInt8]] = []
            switch ACLSelectorArguments.merge(Array(argv.dropFirst(2))) {
            case .success(let merged): ops = merged
            case .failure: errors += "\(file):\(lineNumber): Unmatched parenthesis in selector definition."
            }
            var syntaxError = false
            for op in ops {
                do throws(ACLRuleError) {
                    try user.apply(Self.trim(op, "\t\r\n"), acl.table, pubsubDefault: pubsub)
                } catch {
                    if error == .unknownName {
                        errors += "\(file):\(lineNumber): Error in applying operation '\(String(decoding: op, as: UTF8.self))': \(error.message). "
                    } else if !syntaxError {
                        errors += "\(file):\(lineNumber): \(error.message). "
                        syntaxError = true
                    }
                }
            }
            loaded.append(user)
        }
        if !errors.isEmpty {
            return errors + "WARNING: ACL errors detected, no change to the previously active ACL rules was performed"
        }
        // The default user is updated in place; every other user is replaced.
        let newDefault = loaded.first(where: { $0.name == Array("default".utf8) }) ?? ACLUser.makeDefault(table: acl.table)
        for i in acl.users.indices.dropFirst() where acl.users[i] != nil {
            acl.remove(i)
            disconnectClients(ofUser: i, current: current)
        }
        acl.users = [newDefault]
        acl.indexByName = [Array("default".utf8): 0]
        for u in loaded where u.name != Array("default".utf8) { _ = acl.add(u) }
        refreshAccessForAllClients()
        return nil
    }

    /// ACL SAVE (ACLSaveToFile).
    func saveACLFile() -> Bool {
        let content = acl.describedUsers.map { $0 + "\n" }.joined()
        let file = settings.aclfile
        let tmp = "\(file).tmp-\(getpid())-\(Clock.unixMillis())"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        if fd == -1 {
            Log.warning("Opening temp ACL file for ACL SAVE: \(String(cString: strerror(errno)))")
            return false
        }
        let bytes = Array(content.utf8)
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        if n != bytes.count {
            Log.warning("Writing ACL file for ACL SAVE: \(String(cString: strerror(errno)))")
            close(fd)
            unlink(tmp)
            return false
        }
        close(fd)
        if rename(tmp, file) == -1 {
            Log.warning("Renaming ACL file for ACL SAVE: \(String(cString: strerror(errno)))")
            unlink(tmp)
            return false
        }
        return true
    }

    /// CONFIG REWRITE's `user` lines: all users, or none when they live in an aclfile.
    var configUserLines: [String] {
        settings.aclfile.isEmpty ? acl.describedUsers : []
    }

    static func trim(_ s: [UInt8], _ chars: String) -> [UInt8] {
        let set = Set(chars.utf8)
        var a = 0, b = s.count
        while a < b && set.contains(s[a]) { a += 1 }
        while b > a && set.contains(s[b - 1]) { b -= 1 }
        return Array(s[a..<b])
    }
}
