// Support.swift — helpers for the Keyspace tests: String ⇄ ByteView, string entries in a
// Dict/Database, a seeded RNG, and invariant checks for the volatile index.
@testable import Keyspace
import Platform

/// Calls `body` with a view of `s`'s UTF-8 bytes (valid only inside `body`).
func withView<R>(_ s: String, _ body: (ByteView) throws -> R) rethrows -> R {
    var s = s
    return try s.withUTF8 { p in try body(ByteView(p.baseAddress ?? ByteView("" as StaticString).base, p.count)) }
}

func makeEntry(_ key: String, _ value: String, encodeInt: Bool = true, forceRaw: Bool = false) -> Entry {
    withView(key) { k in withView(value) { v in Entry.makeString(key: k, value: v, encodeInt: encodeInt, forceRaw: forceRaw) } }
}

extension Entry {
    var keyString: String { key.string }
    /// The value as text, whatever its encoding.
    var valueString: String { encoding == .int ? String(payload) : stringBytes.string }
}

extension Dict {
    @discardableResult
    mutating func insertString(_ key: String, _ value: String) -> Entry {
        let e = makeEntry(key, value)
        insert(e)
        return e
    }

    mutating func findString(_ key: String) -> Entry? { withView(key) { find($0) } }

    /// Removes and frees `key`; returns whether it was there.
    @discardableResult
    mutating func removeString(_ key: String) -> Bool {
        guard let e = withView(key, { remove($0) }) else { return false }
        e.free()
        return true
    }

    func allKeys() -> [String] {
        var keys: [String] = []
        forEach { keys.append($0.keyString) }
        return keys
    }

    mutating func finishRehash() {
        while rehash(steps: 1000) {}
    }

    mutating func freeAll() { removeAll { $0.free() } }
}

extension Database {
    mutating func findString(_ key: String) -> Entry? { withView(key) { find($0) } }
    mutating func slot(_ key: String) -> Slot? { withView(key) { findSlot($0) } }
    mutating func deleteString(_ key: String) -> Bool { withView(key) { delete($0) } }

    /// Every entry with an expire is in the index exactly once at its volatileSlot, the index
    /// holds nothing else, and each indexed entry is the one the table finds under its key.
    /// Returns a description of the first problem, or nil.
    mutating func volatileProblem() -> String? {
        var withExpire = 0
        dict.forEach { e in if e.expireAt != 0 { withExpire += 1 } }
        if withExpire != volatile.count { return "\(withExpire) entries have an expire, index holds \(volatile.count)" }
        for i in 0..<volatile.count {
            let e = volatile.entry(at: i)
            if e.volatileSlot != i { return "entry at \(i) says slot \(e.volatileSlot)" }
            if e.expireAt == 0 { return "entry \(e.keyString) at \(i) has no expire" }
            if find(e.key) != e { return "entry \(e.keyString) at \(i) is not the table's entry" }
        }
        return nil
    }
}

/// SplitMix64: small, seeded, deterministic.
struct SeededRNG: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
