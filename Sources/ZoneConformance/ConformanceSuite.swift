/// The catalogue of conformance checks: one ``ConformanceCheck`` per checklist item that can be
/// observed through the `ZonedDevice` API, in checklist order.
public enum ConformanceSuite {
    /// Every check, ordered by checklist number.
    public static let checks: [ConformanceCheck] =
        (geometryChecks + writeChecks + appendChecks
        + zoneManagementChecks + resourceChecks + readChecks + faultyZoneChecks + capacityChecks
        + wrapperChecks).sorted { $0.number < $1.number }

    /// The checklist numbers that have a check.
    public static var numbers: [Int] { checks.map(\.number) }

    /// The check for checklist item `number`, if there is one.
    public static func check(_ number: Int) -> ConformanceCheck? {
        checks.first { $0.number == number }
    }

    /// The checks for `numbers`, in checklist order, each once.
    ///
    /// - Throws: ``ConformanceSelectionError`` naming the numbers that have no check.
    public static func select(_ numbers: [Int]) throws(ConformanceSelectionError) -> [ConformanceCheck] {
        let wanted = Set(numbers)
        let unknown = wanted.subtracting(Self.numbers).sorted()
        guard unknown.isEmpty else {
            throw ConformanceSelectionError(
                message: "no conformance check for checklist item" + (unknown.count == 1 ? " " : "s ")
                    + unknown.map(String.init).joined(separator: ", ") + "; checks exist for items "
                    + Self.ranges(Self.numbers)
            )
        }
        return checks.filter { wanted.contains($0.number) }
    }

    /// The checks a selection such as `1,5,10-20` names, in checklist order, each once: a single
    /// number must have a check; a range takes the checks inside it (items without a check, such
    /// as 10, are passed over) and must contain at least one.
    ///
    /// - Throws: ``ConformanceSelectionError`` for text that is not numbers and ranges, a number
    ///   without a check, or a range without any.
    public static func select(_ text: String) throws(ConformanceSelectionError) -> [ConformanceCheck] {
        var wanted: Set<Int> = []
        for part in text.split(separator: ",", omittingEmptySubsequences: true) {
            let numbers = try parseNumbers(String(part))
            if numbers.count == 1 {
                wanted.formUnion(try select(numbers).map(\.number))
                continue
            }
            let inside = Set(numbers).intersection(Self.numbers)
            guard !inside.isEmpty else {
                throw ConformanceSelectionError(
                    message: "no conformance check for any checklist item in \(part.filter { $0 != " " }); checks "
                        + "exist for items " + Self.ranges(Self.numbers)
                )
            }
            wanted.formUnion(inside)
        }
        guard !wanted.isEmpty else {
            throw ConformanceSelectionError(message: "no checklist item numbers in '\(text)'; write e.g. 1-5,12")
        }
        return checks.filter { wanted.contains($0.number) }
    }

    /// Parses a selection such as `1-5,12,31-50` into item numbers.
    ///
    /// - Throws: ``ConformanceSelectionError`` for anything that is not a number or a range.
    public static func parseNumbers(_ text: String) throws(ConformanceSelectionError) -> [Int] {
        var numbers: [Int] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: true) {
            let piece = part.trimmingSpaces
            let bounds = piece.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
            if bounds.count == 2, let low = Int(bounds[0].trimmingSpaces), let high = Int(bounds[1].trimmingSpaces),
                low <= high
            {
                numbers += Array(low...high)
            } else if bounds.count == 1, let number = Int(piece) {
                numbers.append(number)
            } else {
                throw ConformanceSelectionError(
                    message: "'\(piece)' in '\(text)' is neither a checklist item number nor a range like 31-50; "
                        + "write numbers and ranges separated by commas, e.g. 1-5,12"
                )
            }
        }
        guard !numbers.isEmpty else {
            throw ConformanceSelectionError(message: "no checklist item numbers in '\(text)'; write e.g. 1-5,12")
        }
        return numbers
    }

    /// `1-2, 5-9, 11-23` for a sorted list of numbers.
    static func ranges(_ numbers: [Int]) -> String {
        var parts: [String] = []
        var index = 0
        while index < numbers.count {
            var end = index
            while end + 1 < numbers.count, numbers[end + 1] == numbers[end] + 1 { end += 1 }
            parts.append(end == index ? "\(numbers[index])" : "\(numbers[index])-\(numbers[end])")
            index = end + 1
        }
        return parts.joined(separator: ", ")
    }
}

extension Substring {
    fileprivate var trimmingSpaces: String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
