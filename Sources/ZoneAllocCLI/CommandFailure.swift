/// A failure of a `zonealloc` command that is not a device error and not a usage error: an
/// input file that cannot be read, an output file that cannot be written, a read-back check that
/// found different data. Reported as `zonealloc: error: <message>`, exit status 1.
struct CommandFailure: Error, CustomStringConvertible {
    /// What went wrong, in one line.
    var message: String

    /// Creates a failure with its one-line message.
    init(_ message: String) { self.message = message }

    /// The message.
    var description: String { message }
}
