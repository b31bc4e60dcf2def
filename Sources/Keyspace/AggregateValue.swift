/*
 * AggregateValue: the one place that knows how to free and duplicate every non-string
 * value. An entry of type list, hash, set or zset holds in `payload` a pointer to its
 * type's structure, chosen by `encoding`:
 *
 *     list  listpack  -> PackedList block          quicklist -> QuickList   (ListStore.swift)
 *     hash  listpack  -> PackedList (f, v, ...)    hashtable -> Dict        (HashStore.swift)
 *     set   intset    -> IntSet                    hashtable -> Dict        (SetStore.swift)
 *     zset  listpack  -> PackedList (m, s, ...)    skiplist  -> SortedSet   (ZSetStore.swift)
 *     stream stream   -> Stream header, nodes, groups                   (Stream/Stream.swift)
 *
 * Each store file implements `free(_:)` and `duplicate(_:)` for its type; these two
 * switches route to them so that Entry.free()/copy(withKey:) stay correct for every type.
 */

extension Entry {
    func freeAggregateValue() {
        switch type {
        case .string: break
        case .list: ListStore.free(self)
        case .hash: HashStore.free(self)
        case .set: SetStore.free(self)
        case .zset: ZSetStore.free(self)
        case .stream: Stream.destroy(StreamStore.stream(self))
        }
    }

    /// A deep copy of the value, as a new payload.
    func duplicateAggregateValue() -> Int64 {
        switch type {
        case .string: return payload
        case .list: return ListStore.duplicate(self)
        case .hash: return HashStore.duplicate(self)
        case .set: return SetStore.duplicate(self)
        case .zset: return ZSetStore.duplicate(self)
        case .stream: return StreamStore.payload(Stream.duplicate(StreamStore.stream(self)))
        }
    }
}
