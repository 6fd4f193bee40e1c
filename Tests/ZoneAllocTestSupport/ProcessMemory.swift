import Foundation

/// The memory this process uses, from `/proc/self/statm` (Linux).
package enum ProcessMemory {
    /// Resident set size in bytes, or nil where `/proc/self/statm` cannot be read.
    package static func residentBytes() -> UInt64? {
        // > statm: size resident shared text lib data dt, in pages (proc(5)).
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return nil }
        let fields = text.split(separator: " ")
        guard fields.count >= 2, let pages = UInt64(fields[1]) else { return nil }
        return pages * UInt64(sysconf(Int32(_SC_PAGESIZE)))
    }
}
