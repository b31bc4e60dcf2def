/*
 * ACLCommandTable: the command table as ACL rules see it.
 *
 * ACL rules name commands by their original names ("config|get"), whatever rename-command did,
 * and reach whole categories; a selector allows commands through a bitmap indexed like the
 * command registry (a subcommand has its own index, so `+config|get` is one bit). This table
 * holds what the rule engine needs and the hot path does not: each entry's full name, parent,
 * subcommands and category bits, and a name index. One extra bit past the last command is
 * Redis's "future commands" bit, set only by `+@all`/`allcommands`: ACL GETUSER starts from
 * `+@all` when it is set and from `-@all` otherwise.
 *
 * Built once from CommandTable.all (the registry's entries, in the same order); never changes.
 */
import Platform

struct ACLCommandTable {
    /// Command entries; bit `count` is the future-commands bit.
    let count: Int
    /// 64-bit words in a selector's bitmap.
    let words: Int
    let names: [String]
    /// The container's index for a subcommand, -1 for a top-level command.
    let parent: [Int]
    let subcommands: [[Int]]
    /// Top-level commands in table order (the order ACL GETUSER lists single commands in).
    let topLevel: [Int]
    /// Bit i: the entry is in ACLCategories.names[i].
    let categories: [UInt32]
    let indexByName: [String: Int]
    /// Each entry's key specifications as the checks need them: where each begins (-1: found by
    /// keyword) and the access it needs (KeySpecFlags: `access` reads, `insert`, `delete` and
    /// `update` write; RO without `access`, as EXISTS, needs neither).
    /// Entry i's specs are keySpecList[keySpecStart[i] ..< keySpecStart[i + 1]] (flat, so the
    /// check reads them without retaining an inner array).
    let keySpecStart: [Int]
    let keySpecList: [KeySpec]

    struct KeySpec {
        let begin: Int
        let access: ACLKeyAccess
    }

    /// The table for the command registry (whose entries are CommandTable.all, in order).
    static let shared = ACLCommandTable(CommandTable.all)

    init(_ specs: [CommandSpec]) {
        count = specs.count
        words = (count + 1 + 63) / 64
        var names: [String] = []
        var byName: [String: Int] = [:]
        for i in 0..<count {
            let name = specs[i].nameString
            names.append(name)
            byName[name] = i
        }
        var parent = [Int](repeating: -1, count: count)
        var subcommands = [[Int]](repeating: [], count: count)
        var topLevel: [Int] = []
        var categories = [UInt32](repeating: 0, count: count)
        var keySpecStart: [Int] = []
        var keySpecList: [KeySpec] = []
        for i in 0..<count {
            keySpecStart.append(keySpecList.count)
            keySpecList += Self.keySpecs(specs[i])
            let name = names[i]
            if let bar = name.firstIndex(of: "|"), let p = byName[String(name[..<bar])] {
                parent[i] = p
                subcommands[p].append(i)
            } else {
                topLevel.append(i)
            }
            for category in ACLCategories.of(specs[i]) {
                if let bit = ACLCategories.names.firstIndex(of: String(category.dropFirst())) {
                    categories[i] |= 1 << UInt32(bit)
                }
            }
        }
        self.names = names
        self.parent = parent
        self.subcommands = subcommands
        self.topLevel = topLevel
        self.categories = categories
        self.indexByName = byName
        keySpecStart.append(keySpecList.count)
        self.keySpecStart = keySpecStart
        self.keySpecList = keySpecList
    }

    static func keySpecs(_ spec: CommandSpec) -> [KeySpec] {
        guard let specs = KeySpecFlags.table[spec.nameString] else {
            if spec.firstKey == 0 { return [] }
            return [KeySpec(begin: spec.firstKey, access: spec.flags.contains(.write) ? .write : .read)]
        }
        return specs.map { s in
            var access: ACLKeyAccess = []
            if s.flags.contains("access") { access.insert(.read) }
            if s.flags.contains(where: { $0 == "insert" || $0 == "delete" || $0 == "update" }) { access.insert(.write) }
            return KeySpec(begin: s.begin, access: access)
        }
    }

    /// The entry called `name` (any case, "config|get" for a subcommand), -1 when none.
    func find(_ name: String) -> Int {
        indexByName[name.lowercased()] ?? -1
    }

    /// The bit of category `name` (any case), nil when there is no such category.
    static func categoryBit(_ name: String) -> UInt32? {
        let lower = name.lowercased()
        return ACLCategories.names.firstIndex(of: lower).map { 1 << UInt32($0) }
    }
}
