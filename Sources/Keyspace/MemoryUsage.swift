/*
 * MemoryUsage: MEMORY USAGE's estimate of the bytes a key and its value hold, as Redis's
 * objectComputeSize: exact for a value in one block (strings, listpacks, intsets); for a value
 * made of many blocks (quicklist nodes, hash table entries, skiplist nodes), the blocks of up to
 * `samples` elements are measured and their average extrapolated to the whole (samples 0: all),
 * so the command stays cheap on a huge key. Sizes are the allocator's usable sizes, the figure
 * used_memory counts.
 */
import CTandem

extension Entry {
    /// The key's entry block plus its value's memory (see the top).
    public func memoryUsage(samples: Int) -> Int {
        var total = allocatedSize
        switch (type, encoding) {
        case (.string, _):
            break
        case (_, .listpack), (_, .intset):
            total += tandem_usable_size(valuePointer)
        case (.stream, _):
            total += Stream.allocatedBytes(StreamStore.stream(self))
        case (.list, _):
            total += Self.quickListSize(valuePointer, samples: samples)
        case (.zset, _):
            let z = valuePointer.assumingMemoryBound(to: SkipList.self)
            // Each member has a table entry and a skiplist node of about the same size.
            total += tandem_usable_size(valuePointer) + Self.tableSize(&z.pointee.dict, samples: samples, perElementFactor: 2)
        default:
            let d = valuePointer.assumingMemoryBound(to: Dict.self)
            total += tandem_usable_size(valuePointer) + Self.tableSize(&d.pointee, samples: samples, perElementFactor: 1)
        }
        return total
    }

    /// A hash table: its bucket arrays and its entries, sampled.
    static func tableSize(_ d: inout Dict, samples: Int, perElementFactor: Int) -> Int {
        let count = d.count
        var seen = 0, bytes = 0
        var cursor: UInt64 = 0
        repeat {
            cursor = d.scan(cursor: cursor) { e in
                seen += 1
                bytes += e.allocatedSize
            }
        } while cursor != 0 && (samples == 0 || seen < samples)
        let entries = seen == 0 ? 0 : (seen >= count ? bytes : bytes / seen * count)
        return d.bucketCount * MemoryLayout<UnsafeMutableRawPointer>.stride + entries * perElementFactor
    }

    /// A quicklist: its header and its nodes (node struct and packed block), sampled.
    static func quickListSize(_ raw: UnsafeMutableRawPointer, samples: Int) -> Int {
        let header = raw.assumingMemoryBound(to: QLHeader.self)
        var node = header.pointee.head
        var seen = 0, bytes = 0
        while let n = node, samples == 0 || seen < samples {
            bytes += tandem_usable_size(UnsafeMutableRawPointer(n)) + tandem_usable_size(n.pointee.block)
            seen += 1
            node = n.pointee.next
        }
        let nodes = header.pointee.nodes
        let all = seen == 0 ? 0 : (seen >= nodes ? bytes : bytes / seen * nodes)
        return tandem_usable_size(raw) + all
    }
}
