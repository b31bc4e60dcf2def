/*
 * SetStore: storage of set values (see AggregateValue.swift for the encodings).
 * Placeholder until the set type lands: no entry of this type exists yet.
 */

public enum SetStore {
    static func free(_ e: Entry) {}
    static func duplicate(_ e: Entry) -> Int64 { e.payload }
}
