/// Parses byte counts written with binary unit suffixes, as the `zonealloc` options take them.
///
/// Accepted: a decimal number of bytes (`4096`), a hexadecimal one (`0x1000`), or a decimal
/// number followed by a unit: `B`; `K`, `KB`, `KiB`; `M`, `MB`, `MiB`; `G`, `GB`, `GiB`;
/// `T`, `TB`, `TiB`. Units are case-insensitive and all 1024-based (`64M` and `64MB` are both
/// 64 MiB, as in `dd`'s and null_blk's conventions for device geometry).
enum SizeParser {
    /// Why a size string was rejected; ``description`` is the one-line reason.
    struct Failure: Error, Equatable, CustomStringConvertible {
        /// The text that was rejected.
        var text: String
        /// What is wrong with it.
        var reason: String

        /// The one-line reason.
        var description: String { "'\(text)' is not a size: \(reason)" }
    }

    /// The accepted unit suffixes (lowercased) and their multipliers.
    static let units: [(suffix: String, shift: UInt64)] = [
        ("", 0), ("b", 0),
        ("k", 10), ("kb", 10), ("kib", 10),
        ("m", 20), ("mb", 20), ("mib", 20),
        ("g", 30), ("gb", 30), ("gib", 30),
        ("t", 40), ("tb", 40), ("tib", 40),
    ]

    /// Parses `text` into a number of bytes.
    ///
    /// - Parameter text: for example `512`, `0x200`, `4K`, `64MiB`, `1g`.
    /// - Returns: the number of bytes.
    /// - Throws: ``Failure`` when the text is empty, has no digits, has a fraction, an unknown
    ///   suffix, or does not fit in 64 bits.
    static func parse(_ text: String) throws(Failure) -> UInt64 {
        let trimmed = text.trimmingSpaces()
        guard !trimmed.isEmpty else { throw Failure(text: text, reason: "it is empty") }
        let lowered = trimmed.lowercased()
        if lowered.hasPrefix("0x") {
            guard let value = UInt64(lowered.dropFirst(2), radix: 16) else {
                throw Failure(text: text, reason: "a hexadecimal size takes only the digits 0-9 and a-f after 0x")
            }
            return value
        }
        let digits = lowered.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty else {
            throw Failure(text: text, reason: "it does not start with a number (examples: 4096, 64K, 256M, 1G)")
        }
        let written = trimmed.dropFirst(digits.count).trimmingSpaces()
        let suffix = written.lowercased()
        if suffix.hasPrefix(".") || suffix.hasPrefix(",") {
            throw Failure(text: text, reason: "fractions are not accepted; write a smaller unit (1536K, not 1.5M)")
        }
        guard let unit = units.first(where: { $0.suffix == suffix }) else {
            throw Failure(
                text: text,
                reason: "unknown unit '\(written)'; use bytes or K, M, G, T (also KB/KiB, …; all 1024-based)"
            )
        }
        guard let number = UInt64(digits) else {
            throw Failure(text: text, reason: "the number does not fit in 64 bits")
        }
        let (value, overflow) = number.multipliedReportingOverflow(by: 1 << unit.shift)
        guard !overflow else { throw Failure(text: text, reason: "it is larger than 16 EiB") }
        return value
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces and tabs.
    fileprivate func trimmingSpaces() -> String {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" { slice = slice.dropFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice = slice.dropLast() }
        return String(slice)
    }
}
