/*
 * ZSet commands. Placeholder until the zset type lands (see the data types issue).
 */
import Keyspace
import Platform
import RESP

public enum ZSetCommand: UInt8 {
    case unused
}

enum ZSetCommands {
    nonisolated(unsafe) static let specs: [CommandSpec] = []
}

extension Server {
    mutating func zsetCommand(_ c: ClientRef, _ id: ZSetCommand) {
        addError(c, "-ERR unknown command\r\n")
    }

    /// Mixes a zset value into a DEBUG DIGEST the way Redis's xorObjectDigest does.
    static func zsetDigest(_ e: Entry, _ digest: inout [UInt8]) {}
}
