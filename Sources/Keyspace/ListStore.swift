/*
 * ListStore: storage of list values (see AggregateValue.swift for the encodings).
 * Placeholder until the list type lands: no entry of this type exists yet.
 */

public enum ListStore {
    static func free(_ e: Entry) {}
    static func duplicate(_ e: Entry) -> Int64 { e.payload }
}
