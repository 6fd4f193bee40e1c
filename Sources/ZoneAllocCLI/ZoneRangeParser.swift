/// Parses the zone ranges `--zones` takes: `A-B` or `A..B` (both inclusive), or a single `N`.
enum ZoneRangeParser {
    /// Why a range was rejected; ``description`` is the one-line reason.
    struct Failure: Error, Equatable, CustomStringConvertible {
        /// The text that was rejected.
        var text: String
        /// What is wrong with it.
        var reason: String

        /// The one-line reason.
        var description: String { "'\(text)' is not a zone range: \(reason)" }
    }

    /// Parses `text` into an inclusive range of zone numbers.
    ///
    /// - Parameter text: `4-9`, `4..9` or `4`.
    /// - Returns: the zones, first and last included.
    /// - Throws: ``Failure`` when a bound is not a non-negative integer or the range is reversed.
    static func parse(_ text: String) throws(Failure) -> ClosedRange<Int> {
        let parts: [Substring]
        if let dots = text.firstRange(of: "..") {
            parts = [text[..<dots.lowerBound], text[dots.upperBound...]]
        } else if text.contains("-") {
            parts = text.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        } else {
            parts = [Substring(text)]
        }
        var bounds: [Int] = []
        for part in parts {
            guard let value = Int(part), value >= 0 else {
                throw Failure(
                    text: text,
                    reason: "'\(part)' is not a zone number; write FIRST-LAST or FIRST..LAST, e.g. 2-9"
                )
            }
            bounds.append(value)
        }
        let first = bounds[0]
        let last = bounds.count > 1 ? bounds[1] : first
        guard first <= last else {
            throw Failure(text: text, reason: "the first zone \(first) comes after the last zone \(last)")
        }
        return first...last
    }
}
