/*
 * ListStoreTests — the QuickList behind list values, checked against a plain array model
 * under seeded random operations, for every node-size setting (byte bounds -1...-5, element
 * counts, and fill 0 = one element per node), with elements that exercise every element and
 * back-length width (small strings, integers of each size, 200-byte and 20 000-byte strings).
 */
@testable import Keyspace
import Platform
import Testing

private func withView<R>(_ bytes: [UInt8], _ body: (ByteView) -> R) -> R {
    bytes.withUnsafeBufferPointer { b in
        body(ByteView(b.baseAddress ?? UnsafePointer(bitPattern: 1)!, b.count))
    }
}

private func text(_ v: PackedValue) -> [UInt8] { v.withBytes { $0.array } }

private func contents(_ l: QuickList) -> [[UInt8]] {
    var out: [[UInt8]] = []
    l.forEach { out.append(text($0)) }
    return out
}

private func backwards(_ l: QuickList) -> [[UInt8]] {
    guard let p = l.position(ofIndex: -1) else { return [] }
    var out: [[UInt8]] = []
    l.forEach(from: p, forward: false, limit: l.count) { out.append(text($0)) }
    return out
}

private func randomElement(_ rng: inout SeededRNG) -> [UInt8] {
    switch rng.next() % 10 {
    case 0: return Array(String(Int64(bitPattern: rng.next())).utf8)  // 8-byte integer
    case 1: return Array(String(Int(rng.next() % 200) - 100).utf8)  // 1-byte integer
    case 2: return Array(String(Int(rng.next() % 60000) - 30000).utf8)
    case 3: return [UInt8](repeating: UInt8(97 + rng.next() % 26), count: 200)
    case 4: return rng.next() % 8 == 0 ? [UInt8](repeating: 120, count: 20000) : Array("mid".utf8)
    case 5: return []
    case 6: return Array("007".utf8)  // not canonical: stays a string
    default: return (0..<Int(rng.next() % 12)).map { _ in UInt8(97 + rng.next() % 26) }
    }
}

@Suite struct ListStoreTests {
    static let fills = [-1, -2, -3, -4, -5, 0, 1, 3, 128]

    @Test func pushPopBothEnds() {
        let l = QuickList.create(fill: -2)
        defer { l.free() }
        for i in 0..<5000 {
            withView(Array("v\(i)".utf8)) { l.push($0, head: i % 2 == 0) }
        }
        #expect(l.count == 5000)
        #expect(l.nodeCount > 1)
        #expect(l.verify())
        #expect(text(l.peek(head: true)) == Array("v4998".utf8))
        #expect(text(l.peek(head: false)) == Array("v4999".utf8))
        l.deleteHead(2500)
        l.deleteTail(2499)
        #expect(l.count == 1)
        #expect(l.verify())
        l.deleteTail(1)
        #expect(l.count == 0 && l.nodeCount == 0)
    }

    @Test func integersRoundTrip() {
        let l = QuickList.create(fill: -2)
        defer { l.free() }
        let values: [Int64] = [0, -1, 127, -128, 128, 32767, -32768, 32768, Int64(Int32.max), Int64(Int32.min),
                               Int64(Int32.max) + 1, Int64.max, Int64.min]
        for v in values { withView(Array(String(v).utf8)) { l.push($0, head: false) } }
        #expect(contents(l) == values.map { Array(String($0).utf8) })
        #expect(backwards(l) == values.reversed().map { Array(String($0).utf8) })
    }

    @Test(arguments: fills)
    func randomOperationsMatchModel(fill: Int) {
        var rng = SeededRNG(seed: 0x5EED_0000 &+ UInt64(bitPattern: Int64(fill)))
        var l = QuickList.create(fill: fill)
        var model: [[UInt8]] = []
        for step in 0..<3000 {
            let op = rng.next() % 12
            switch op {
            case 0, 1, 2:
                let e = randomElement(&rng)
                let head = rng.next() % 2 == 0
                withView(e) { l.push($0, head: head) }
                if head { model.insert(e, at: 0) } else { model.append(e) }
            case 3:
                if !model.isEmpty {
                    let head = rng.next() % 2 == 0
                    #expect(text(l.peek(head: head)) == (head ? model.first! : model.last!))
                    if head { l.deleteHead(1); model.removeFirst() } else { l.deleteTail(1); model.removeLast() }
                }
            case 4:
                if !model.isEmpty {
                    let i = Int(rng.next() % UInt64(model.count))
                    let neg = rng.next() % 2 == 0
                    let p = l.position(ofIndex: neg ? i - model.count : i)
                    #expect(p != nil && text(l.value(at: p!)) == model[i])
                }
            case 5:
                if !model.isEmpty {
                    let i = Int(rng.next() % UInt64(model.count))
                    let e = randomElement(&rng)
                    withView(e) { l.replace(at: l.position(ofIndex: i)!, with: $0) }
                    model[i] = e
                }
            case 6, 7:
                if !model.isEmpty {
                    let i = Int(rng.next() % UInt64(model.count))
                    let after = rng.next() % 2 == 0
                    let e = randomElement(&rng)
                    withView(e) { l.insert($0, at: l.position(ofIndex: i)!, after: after) }
                    model.insert(e, at: after ? i + 1 : i)
                }
            case 8:
                if !model.isEmpty {
                    // delete a run going forward or backward, as LREM does
                    let i = Int(rng.next() % UInt64(model.count))
                    let forward = rng.next() % 2 == 0
                    var p = l.position(ofIndex: i)
                    var idx = i
                    var k = Int(rng.next() % 4)
                    while k > 0, let cur = p {
                        p = l.delete(at: cur, forward: forward)
                        model.remove(at: idx)
                        if !forward { idx -= 1 }
                        if let q = p { #expect(idx >= 0 && idx < model.count && text(l.value(at: q)) == model[idx]) }
                        k -= 1
                    }
                }
            case 9:
                if !model.isEmpty {
                    let a = Int(rng.next() % UInt64(model.count / 3 + 1))
                    let b = Int(rng.next() % UInt64(model.count / 3 + 1))
                    l.deleteHead(a)
                    l.deleteTail(b)
                    model.removeFirst(a)
                    model.removeLast(b)
                }
            case 10:
                let copy = l.duplicate()
                l.free()
                l = copy
            default:
                if !model.isEmpty {
                    let i = Int(rng.next() % UInt64(model.count))
                    let n = Int(rng.next() % 50)
                    var got: [[UInt8]] = []
                    l.forEach(from: l.position(ofIndex: i)!, forward: true, limit: n) { got.append(text($0)) }
                    let want = Array(model[i..<min(model.count, i + n)])
                    #expect(got == want)
                }
            }
            #expect(l.count == model.count)
            if step % 100 == 0 || model.count < 10 {
                #expect(l.verify(), "step \(step)")
                #expect(contents(l) == model, "step \(step)")
            }
        }
        #expect(l.verify())
        #expect(contents(l) == model)
        #expect(backwards(l) == model.reversed())
        l.free()
    }

    @Test func nodeBoundsFollowFill() {
        // 8 KB nodes (fill -2): "xxx" takes 5 bytes (tag, text, back-length): ~1600 per node.
        let l = QuickList.create(fill: -2)
        defer { l.free() }
        for _ in 0..<10000 { withView(Array("xxx".utf8)) { l.push($0, head: false) } }
        #expect(l.nodeCount >= 5 && l.nodeCount <= 8)
        // count fill: at most 5 elements per node
        let m = QuickList.create(fill: 5)
        defer { m.free() }
        for _ in 0..<100 { withView(Array("a".utf8)) { m.push($0, head: true) } }
        #expect(m.nodeCount == 20)
        // a huge element gets a node of its own
        let big = [UInt8](repeating: 66, count: 100_000)
        withView(big) { m.push($0, head: false) }
        #expect(m.nodeCount == 21)
        #expect(text(m.peek(head: false)) == big)
        #expect(m.verify())
    }

    /// Head pushes fill a node's front room and head pops give it back (QuickList's `front`):
    /// a long run of each, alternating with tail pushes on the same node, keeps the elements
    /// in order and the memory what growth by doubling allows (no more than 2x the elements'
    /// bytes plus the header and nodes: MEMORY USAGE's count of the blocks).
    @Test func headPushesAndPopsUseTheFrontRoom() {
        let l = QuickList.create(fill: -2)
        var model: [[UInt8]] = []
        var rng = SeededRNG(seed: 0xF20_17)
        for step in 0..<20_000 {
            let e = Array("v\(step % 997)".utf8)
            switch rng.next() % 8 {
            case 0, 1, 2, 3:
                withView(e) { l.push($0, head: true) }
                model.insert(e, at: 0)
            case 4, 5:
                withView(e) { l.push($0, head: false) }
                model.append(e)
            default:
                if !model.isEmpty {
                    l.deleteHead(1)
                    model.removeFirst()
                }
            }
        }
        #expect(l.verify())
        #expect(contents(l) == model)
        #expect(backwards(l) == model.reversed())
        let elementBytes = model.reduce(0) { $0 + $1.count + 3 }
        let used = Entry.quickListSize(l.raw, samples: 0)
        #expect(used <= 2 * elementBytes + 4096, "\(used) bytes for \(elementBytes) bytes of elements")
        l.free()
    }

    @Test func insertSplitsFullNode() {
        let l = QuickList.create(fill: 4)
        defer { l.free() }
        for s in ["a", "b", "c", "d"] { withView(Array(s.utf8)) { l.push($0, head: false) } }
        #expect(l.nodeCount == 1)
        withView(Array("X".utf8)) { l.insert($0, at: l.position(ofIndex: 1)!, after: true) }
        #expect(contents(l) == ["a", "b", "X", "c", "d"].map { Array($0.utf8) })
        #expect(l.nodeCount == 2)
        #expect(l.verify())
    }
}
