/*
 * ProcessTitle: the title `ps` and /proc/<pid>/cmdline show for this process, as Redis's
 * setproctitle (set-proc-title, proc-title-template).
 *
 * Linux has no call for it: the title is the memory holding argv's strings. They are followed,
 * contiguously, by the environment's strings; `claim()` copies the environment elsewhere (so
 * getenv keeps working) and takes both areas as one buffer. A title is written at its start and
 * the rest zeroed; once the byte that ended the last argument is no longer NUL, the kernel reads
 * the title on into the former environment area. Claim it once, after everything that reads
 * the command line (CommandLine.arguments reads argv lazily).
 */
import CTandem
import Glibc

public struct ProcessTitle {
    let base: UnsafeMutablePointer<CChar>
    let capacity: Int

    /// Takes over argv's and the environment's memory; nil when they are not one contiguous area.
    public static func claim() -> ProcessTitle? {
        let argc = Int(CommandLine.argc)
        let argv = CommandLine.unsafeArgv
        guard argc > 0, let first = argv[0] else { return nil }
        var end = first
        for i in 0..<argc {
            guard let a = argv[i], a == end else { return nil }
            end = a + strlen(a) + 1
        }
        var count = 0
        while let e = environ[count] {
            if e == end { end = e + strlen(e) + 1 }
            count += 1
        }
        // The environment moves to memory of its own before its strings are overwritten.
        let moved = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: count + 1)
        for i in 0..<count { moved[i] = strdup(environ[i]!) }
        moved[count] = nil
        tandem_set_environ(moved)
        return ProcessTitle(base: first, capacity: end - first)
    }

    /// Shows `title` (cut to the area's size).
    public func set(_ title: String) {
        var bytes = Array(title.utf8.prefix(capacity - 1))
        bytes.append(0)
        bytes.withUnsafeBufferPointer { b in
            base.withMemoryRebound(to: UInt8.self, capacity: capacity) { p in
                p.update(from: b.baseAddress!, count: b.count)
                (p + b.count).update(repeating: 0, count: capacity - b.count)
            }
        }
    }
}
