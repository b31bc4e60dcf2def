/*
 * ListStore: list values in the keyspace. A list entry (type list, encoding quicklist, as
 * Redis 7.0 reports every list) holds in its payload the pointer to a QuickList header
 * (QuickList.swift); this file is the bridge AggregateValue.swift calls to free and copy it.
 */

public enum ListStore {
    /// The list an entry of type list holds.
    @inline(__always)
    public static func list(_ e: Entry) -> QuickList { QuickList(raw: e.valuePointer) }

    /// Frees the list's header and nodes (DEL, overwrite, FLUSHALL).
    static func free(_ e: Entry) { list(e).free() }

    /// A deep copy of the list, as a payload (COPY).
    static func duplicate(_ e: Entry) -> Int64 { list(e).duplicate().payload }
}
