/// Small text helpers for check descriptions.
enum SuiteText {
    /// `3, 4, 5` or `none`.
    static func list(_ numbers: [Int]) -> String {
        numbers.isEmpty ? "none" : numbers.map(String.init).joined(separator: ", ")
    }
}
