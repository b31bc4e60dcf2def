/*
 * StreamStore: stream values in the keyspace. A stream entry (type stream, encoding stream,
 * as Redis reports it) holds in its payload the pointer to its Stream header (Stream.swift);
 * this is the bridge the keyspace and the commands use to reach it.
 */

public enum StreamStore {
    /// The stream an entry of type stream holds.
    @inline(__always)
    public static func stream(_ e: Entry) -> UnsafeMutablePointer<Stream> {
        e.valuePointer.assumingMemoryBound(to: Stream.self)
    }

    /// The payload that stores `s` in an entry.
    @inline(__always)
    public static func payload(_ s: UnsafeMutablePointer<Stream>) -> Int64 {
        Int64(Int(bitPattern: UnsafeMutableRawPointer(s)))
    }
}
