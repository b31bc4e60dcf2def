/*
 * Info.swift — parses INFO replies for tests that need single fields rather than bytes.
 *
 * INFO is a bulk string of `# Section` headers and `field:value` lines separated by CRLF. Most values
 * (memory, uptime, ids) differ between any two servers, so INFO is never compared byte for byte; tests
 * read fields through `InfoReply` instead.
 */

import Foundation

struct InfoReply {
    /// Section names in order of appearance, as written after "# " (e.g. "Server", "Keyspace").
    private(set) var sections: [String] = []
    /// Every `field:value` line, by field name.
    private(set) var fields: [String: String] = [:]
    /// Field names per section, in order (section name lowercased).
    private(set) var fieldsBySection: [String: [String]] = [:]

    init(_ text: String) {
        var current = ""
        for raw in text.split(whereSeparator: \.isNewline) {  // "\r\n" is one Character in Swift
            let line = String(raw)
            if line.hasPrefix("# ") {
                current = String(line.dropFirst(2))
                sections.append(current)
            } else if let colon = line.firstIndex(of: ":") {
                let name = String(line[..<colon])
                fields[name] = String(line[line.index(after: colon)...])
                fieldsBySection[current.lowercased(), default: []].append(name)
            }
        }
    }

    /// INFO from a connection (any section arguments), decoded from the bulk or verbatim reply.
    static func fetch(_ client: RawClient, _ sections: String...) throws -> InfoReply {
        let value = try client.callValue(["INFO"] + sections)
        var text = value.text ?? ""
        if case .verbatim = value, text.hasPrefix("txt:") { text.removeFirst(4) }
        return InfoReply(text)
    }

    subscript(_ field: String) -> String? { fields[field] }
}
