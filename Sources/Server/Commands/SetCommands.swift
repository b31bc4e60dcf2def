/*
 * Set commands. Placeholder until the set type lands (see the data types issue).
 */
import Keyspace
import Platform
import RESP

public enum SetCommand: UInt8 {
    case unused
}

enum SetCommands {
    nonisolated(unsafe) static let specs: [CommandSpec] = []
}

extension Server {
    mutating func setTypeCommand(_ c: ClientRef, _ id: SetCommand) {
        addError(c, "-ERR unknown command\r\n")
    }

    /// Mixes a set value into a DEBUG DIGEST the way Redis's xorObjectDigest does.
    static func setDigest(_ e: Entry, _ digest: inout [UInt8]) {}
}
