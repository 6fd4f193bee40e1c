import Foundation

/// Where `zonealloc` writes diagnostics.
enum Console {
    /// Writes `line` and a newline to standard error.
    ///
    /// - Parameter line: the text, without the trailing newline.
    static func printError(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// Prints a failure as `zonealloc: error: <message>` to standard error, followed by any
    /// further lines (the `--verbose` details) indented by two spaces.
    ///
    /// - Parameters:
    ///   - message: the one-line description.
    ///   - details: more lines, printed only when not empty.
    static func printFailure(_ message: String, details: String? = nil) {
        printError("zonealloc: error: \(message)")
        if let details, !details.isEmpty {
            for line in details.split(separator: "\n", omittingEmptySubsequences: false) {
                printError("  \(line)")
            }
        }
    }
}
