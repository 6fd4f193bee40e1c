/// A list of check numbers that names no check or cannot be parsed (`--only 1-5,99`).
public struct ConformanceSelectionError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What was wrong and what to write instead.
    public var message: String

    /// Creates an error.
    public init(message: String) {
        self.message = message
    }

    public var description: String { message }
}
