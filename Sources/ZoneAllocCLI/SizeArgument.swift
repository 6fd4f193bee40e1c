import ArgumentParser

/// A size option as typed on the command line (`64M`, `4096`, `0x1000`).
///
/// Parsing never fails at this stage so that the command's `validate()` can reject a bad
/// value with a one-line reason naming the option (``bytes(for:)``), rather than the parser's
/// generic "invalid value" message.
struct SizeArgument: ExpressibleByArgument, CustomStringConvertible, Sendable, Equatable {
    /// The text given on the command line.
    var text: String

    /// Keeps `argument` for validation in `validate()`.
    init?(argument: String) { text = argument }

    /// Creates an argument from its text (for defaults and tests).
    init(_ text: String) { self.text = text }

    /// The size in bytes.
    ///
    /// - Parameter option: the option name used in the error message, e.g. `--zone-size`.
    /// - Returns: the parsed byte count.
    /// - Throws: `ValidationError` with the reason the text is not a size.
    func bytes(for option: String) throws(ValidationError) -> UInt64 {
        do {
            return try SizeParser.parse(text)
        } catch {
            throw ValidationError("\(option): \(error)")
        }
    }

    /// The size as typed (`16M`), which is also how a default value appears in `--help`.
    var description: String { text }

    /// How `--help` shows a default: `(default: 16M)`.
    var defaultValueDescription: String { text }

    /// Sizes are completed as free text.
    static var defaultCompletionKind: CompletionKind { .default }
}
