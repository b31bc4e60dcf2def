/*
 * List commands. Placeholder until the list type lands (see the data types issue).
 */
import Keyspace
import Platform
import RESP

public enum ListCommand: UInt8 {
    case unused
}

enum ListCommands {
    nonisolated(unsafe) static let specs: [CommandSpec] = []
}

extension Server {
    mutating func listCommand(_ c: ClientRef, _ id: ListCommand) {
        addError(c, "-ERR unknown command\r\n")
    }

    /// Mixes a list value into a DEBUG DIGEST the way Redis's xorObjectDigest does.
    static func listDigest(_ e: Entry, _ digest: inout [UInt8]) {}
}
