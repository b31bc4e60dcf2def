/*
 * ZSetStore: storage of zset values (see AggregateValue.swift for the encodings).
 * Placeholder until the zset type lands: no entry of this type exists yet.
 */

public enum ZSetStore {
    static func free(_ e: Entry) {}
    static func duplicate(_ e: Entry) -> Int64 { e.payload }
}
