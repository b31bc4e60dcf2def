/*
 * Hash commands. Placeholder until the hash type lands (see the data types issue).
 */
import Keyspace
import Platform
import RESP

public enum HashCommand: UInt8 {
    case unused
}

enum HashCommands {
    nonisolated(unsafe) static let specs: [CommandSpec] = []
}

extension Server {
    mutating func hashCommand(_ c: ClientRef, _ id: HashCommand) {
        addError(c, "-ERR unknown command\r\n")
    }

    /// Mixes a hash value into a DEBUG DIGEST the way Redis's xorObjectDigest does.
    static func hashDigest(_ e: Entry, _ digest: inout [UInt8]) {}
}
