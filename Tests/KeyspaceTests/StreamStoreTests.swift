/*
 * StreamStoreTests — the stream's unsafe pieces (Sources/Keyspace/Stream/) against Swift models:
 * IDMap (the skip list: inserts, replacements, removals, seeks `<=` / `>=` / `>`, walks both ways)
 * against a sorted array; StreamNode's in-place listpack edits (appends, integer replacements that
 * grow and shrink, walking forward and backward) checked with Listpack.validate and a decoded model;
 * and Stream itself (appends with node splits, deletions, trims, iteration forward and backward, range
 * bounds, consumer groups, duplicate) against an array of entries. Seeded and bounded.
 */
import CTandem
import Platform
import Testing

@testable import Keyspace

@Suite struct StreamStoreTests {
    struct RNG {
        var state: UInt64
        mutating func next() -> UInt64 {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return state
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    }

    static func view<R>(_ s: String, _ body: (ByteView) -> R) -> R {
        var s = s
        return s.withUTF8 { b in body(ByteView(b.baseAddress ?? UnsafePointer(bitPattern: 1)!, b.count)) }
    }

    static func text(_ v: PackedValue) -> String { v.withBytes { $0.string } }

    @Test func idMapMatchesASortedArray() {
        var rng = RNG(state: 0x5EED_1D5)
        let map = IDMap.create()
        defer { IDMap.destroy(map) }
        var model: [(StreamID, UInt64)] = []
        for step in 0..<20_000 {
            let id = StreamID(ms: UInt64(rng.below(300)), seq: UInt64(rng.below(4)))
            if rng.below(3) == 0 {
                let removed = map.pointee.remove(id)
                let index = model.firstIndex { $0.0 == id }
                #expect(removed == index.map { model[$0].1 }, "remove \(id) at step \(step)")
                if let index { model.remove(at: index) }
            } else {
                let value = UInt64(step)
                let (_, inserted) = map.pointee.insert(id, value)
                if let index = model.firstIndex(where: { $0.0 == id }) {
                    #expect(!inserted)
                    model[index].1 = value
                } else {
                    #expect(inserted)
                    model.append((id, value))
                    model.sort { $0.0 < $1.0 }
                }
            }
            if step % 500 == 0 || step == 19_999 {
                #expect(map.pointee.count == model.count)
                var forward: [StreamID] = []
                var n = map.pointee.first
                while let x = n { forward.append(IDMap.Node.id(x)); n = map.pointee.next(x) }
                #expect(forward == model.map(\.0))
                var backward: [StreamID] = []
                n = map.pointee.last
                while let x = n { backward.append(IDMap.Node.id(x)); n = map.pointee.prev(x) }
                #expect(backward == model.map(\.0).reversed())
                for _ in 0..<50 {
                    let probe = StreamID(ms: UInt64(rng.below(310)), seq: UInt64(rng.below(5)))
                    let ge = model.first { $0.0 >= probe }?.0
                    let le = model.last { $0.0 <= probe }?.0
                    let gt = model.first { $0.0 > probe }?.0
                    #expect(map.pointee.firstNotBefore(probe).map(IDMap.Node.id) == ge)
                    #expect(map.pointee.lastNotAfter(probe).map(IDMap.Node.id) == le)
                    #expect(map.pointee.firstAfter(probe).map(IDMap.Node.id) == gt)
                    #expect(map.pointee.find(probe).map(IDMap.Node.value) == model.first { $0.0 == probe }?.1)
                }
            }
        }
    }

    @Test func pendingListMatchesASortedArray() {
        var rng = RNG(state: 0xFEED)
        let list = PendingList.create(valueSize: 8)
        defer { PendingList.destroy(list) }
        var model: [(StreamID, UInt64)] = []
        for step in 0..<30_000 {
            // Mostly in-order appends (as XREADGROUP makes them), some anywhere, some removals.
            let id: StreamID
            if rng.below(4) != 0, let last = model.last?.0 {
                id = StreamID(ms: last.ms + UInt64(rng.below(3)), seq: UInt64(rng.below(3)))
            } else {
                id = StreamID(ms: UInt64(rng.below(2000)), seq: UInt64(rng.below(3)))
            }
            if rng.below(3) == 0, !model.isEmpty {
                let victim = model[rng.below(model.count)].0
                var out: UInt64 = 0
                let removed = list.pointee.remove(victim, valueInto: &out)
                #expect(removed)
                let index = model.firstIndex { $0.0 == victim }!
                #expect(out == model[index].1)
                model.remove(at: index)
                let again = list.pointee.remove(victim)
                #expect(!again)
            } else if list.pointee.find(id) == nil {
                list.pointee.insert(id).storeBytes(of: UInt64(step), as: UInt64.self)
                model.append((id, UInt64(step)))
                model.sort { $0.0 < $1.0 }
            }
            if step % 1000 == 0 || step == 29_999 {
                #expect(list.pointee.count == model.count)
                var seen: [(StreamID, UInt64)] = []
                var p = list.pointee.first
                while let x = p {
                    seen.append((list.pointee.id(x), list.pointee.value(x).load(as: UInt64.self)))
                    p = list.pointee.next(x)
                }
                #expect(seen.map(\.0) == model.map(\.0) && seen.map(\.1) == model.map(\.1), "walk at step \(step)")
                let last = list.pointee.last.map { list.pointee.id($0) }
                #expect(last == model.last?.0)
                for _ in 0..<40 {
                    let probe = StreamID(ms: UInt64(rng.below(2100)), seq: UInt64(rng.below(4)))
                    let found = list.pointee.firstNotBefore(probe).map { list.pointee.id($0) }
                    #expect(found == model.first { $0.0 >= probe }?.0)
                }
            }
        }
    }

    @Test func nodeEditsKeepAValidListpack() {
        var rng = RNG(state: 77)
        var lp = StreamNode.create(capacity: 16)
        defer { tandem_free(lp) }
        var model: [String] = []
        for _ in 0..<3000 {
            if model.isEmpty || rng.below(3) != 0 {
                if rng.below(2) == 0 {
                    let v = Int64(rng.below(1 << 20)) - (1 << 19)
                    lp = StreamNode.append(lp, v)
                    model.append(String(v))
                } else {
                    let s = String(repeating: "s", count: rng.below(200))
                    lp = Self.view(s) { StreamNode.append(lp, $0) }
                    model.append(s)
                }
            } else {
                // Replace an integer element with a value of another size.
                var off = StreamNode.first(lp)!
                let target = rng.below(model.count)
                for _ in 0..<target { off = StreamNode.next(lp, off)! }
                if case .int = StreamNode.value(lp, off) {
                    let v = [Int64(1), 1000, -70_000, 1 << 40][rng.below(4)]
                    lp = StreamNode.replaceInt(lp, off, v).0
                    model[target] = String(v)
                }
            }
        }
        #expect(Listpack.validate(ByteView(UnsafePointer(lp), StreamNode.bytes(lp))))
        var forward: [String] = []
        var off = StreamNode.first(lp)
        while let o = off { forward.append(Self.text(StreamNode.value(lp, o))); off = StreamNode.next(lp, o) }
        #expect(forward == model)
        var backward: [String] = []
        off = StreamNode.last(lp)
        while let o = off { backward.append(Self.text(StreamNode.value(lp, o))); off = StreamNode.prev(lp, o) }
        #expect(backward == model.reversed())
    }

    struct ModelEntry: Equatable {
        var id: StreamID
        var fields: [String]
    }

    static func entries(_ s: UnsafeMutablePointer<Stream>, _ start: StreamID?, _ end: StreamID?, reverse: Bool) -> [ModelEntry] {
        var it = StreamIterator(s, start: start, end: end, reverse: reverse)
        var out: [ModelEntry] = []
        while let (id, n) = it.nextID() {
            var fields: [String] = []
            for _ in 0..<n {
                let (f, v) = it.nextField()
                fields += [text(f), text(v)]
            }
            out.append(ModelEntry(id: id, fields: fields))
        }
        return out
    }

    @Test func streamMatchesAnArrayOfEntries() {
        var rng = RNG(state: 4242)
        let s = Stream.create()
        defer { Stream.destroy(s) }
        var model: [ModelEntry] = []
        var ms: UInt64 = 1
        for step in 0..<6000 {
            switch rng.below(10) {
            case 0..<6:
                ms += UInt64(rng.below(2))
                let count = 1 + rng.below(3)
                let names = rng.below(4) == 0 ? ["x", "y", "z"] : ["a", "b", "c"]
                var fields: [String] = []
                for i in 0..<count { fields += [names[i], rng.below(2) == 0 ? "\(rng.below(1000))" : "v\(step)"] }
                // The arguments as one buffer, viewed piece by piece while appending.
                let flat = Array(fields.joined().utf8)
                var offsets: [Int] = []
                var at = 0
                for f in fields { offsets.append(at); at += f.utf8.count }
                let lengths = fields.map { $0.utf8.count }
                let result = flat.withUnsafeBufferPointer { buf in
                    let base = buf.baseAddress ?? UnsafePointer(bitPattern: 1)!
                    return s.pointee.append(fieldCount: count, { ByteView(base + offsets[$0], lengths[$0]) },
                                            useID: nil, seqGiven: true, nowMs: ms, nodeMaxBytes: 300, nodeMaxEntries: 7)
                }
                guard case .success(let id) = result else {
                    Issue.record("append failed at step \(step)")
                    return
                }
                model.append(ModelEntry(id: id, fields: fields))
            case 6, 7:
                guard !model.isEmpty else { continue }
                let victim = model[rng.below(model.count)].id
                #expect(Stream.deleteEntries(s, [victim, StreamID(ms: 0, seq: 1)]) == 1)
                model.removeAll { $0.id == victim }
            case 8:
                let keep = Int64(rng.below(60) + 20)
                let approx = rng.below(2) == 0
                let removed = Stream.trim(s, .maxLength(keep), approx: approx, limit: 0)
                model.removeFirst(Int(removed))
                if !approx { #expect(model.count <= Int(keep)) }
            default:
                guard let first = model.first else { continue }
                let minID = StreamID(ms: first.id.ms + UInt64(rng.below(3)), seq: 0)
                let removed = Stream.trim(s, .minID(minID), approx: false, limit: 0)
                let expected = model.prefix { $0.id < minID }.count
                #expect(Int(removed) == expected)
                model.removeFirst(expected)
            }
            #expect(Int(s.pointee.length) == model.count, "length at step \(step)")
            if step % 250 == 0 {
                #expect(Self.entries(s, nil, nil, reverse: false) == model)
                #expect(Self.entries(s, nil, nil, reverse: true) == model.reversed())
                if let a = model.randomElement(), let b = model.randomElement() {
                    let lo = min(a.id, b.id), hi = max(a.id, b.id)
                    let expected = model.filter { $0.id >= lo && $0.id <= hi }
                    #expect(Self.entries(s, lo, hi, reverse: false) == expected)
                    #expect(Self.entries(s, lo, hi, reverse: true) == expected.reversed())
                }
                let copy = Stream.duplicate(s)
                #expect(Self.entries(copy, nil, nil, reverse: false) == model)
                Stream.destroy(copy)
            }
        }
        #expect(Stream.edgeID(s, first: true, skipTombstones: true) == (model.first?.id ?? .max))
        #expect(Stream.edgeID(s, first: false, skipTombstones: true) == (model.last?.id ?? .zero))
    }

    @Test func groupsConsumersAndPendingEntries() {
        let s = Stream.create()
        defer { Stream.destroy(s) }
        let names = ["zeta", "alpha", "mid", "", "alphabet"]
        for n in names {
            #expect(Self.view(n) { s.pointee.createGroup($0, lastID: .zero, entriesRead: -1) } != nil)
        }
        #expect(Self.view("mid") { s.pointee.createGroup($0, lastID: .zero, entriesRead: 0) } == nil)
        #expect((0..<s.pointee.groupCount).map { ConsumerGroup.name(s.pointee.group(at: $0)).string }
                == names.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) })
        let g = Self.view("mid") { s.pointee.lookupGroup($0) }!
        let alice = Self.view("alice") { ConsumerGroup.createConsumer(g, $0, now: 5) }!
        let bob = Self.view("bob") { ConsumerGroup.createConsumer(g, $0, now: 6) }!
        #expect(Self.view("bob") { ConsumerGroup.createConsumer(g, $0, now: 7) } == nil)
        for i in 1...10 {
            let id = StreamID(ms: UInt64(i), seq: 0)
            let owner = i % 2 == 0 ? alice : bob
            NACK.add(g.pointee.pel, id, consumer: owner, now: Int64(i))
            owner.pointee.pel.pointee.insert(id)
        }
        let copy = Stream.duplicate(s)
        let g2 = Self.view("mid") { copy.pointee.lookupGroup($0) }!
        #expect(g2.pointee.pel.pointee.count == 10)
        let alice2 = Self.view("alice") { ConsumerGroup.lookupConsumer(g2, $0) }!
        #expect(alice2.pointee.pel.pointee.count == 5)
        #expect(NACK.find(g2.pointee.pel, StreamID(ms: 2, seq: 0))!.pointee.consumer == alice2)
        #expect(NACK.find(g2.pointee.pel, StreamID(ms: 3, seq: 0))!.pointee.deliveryTime == 3)
        Stream.destroy(copy)
        #expect(ConsumerGroup.deleteConsumer(g, alice) == 5)
        #expect(g.pointee.pel.pointee.count == 5)
        #expect(Self.view("alice") { ConsumerGroup.lookupConsumer(g, $0) } == nil)
        #expect(Self.view("zeta") { s.pointee.destroyGroup($0) })
        #expect(!Self.view("zeta") { s.pointee.destroyGroup($0) })
        #expect(s.pointee.groupCount == 4)
        #expect(Stream.freeEffort(s) == s.pointee.nodes.pointee.count + 5)
    }
}
