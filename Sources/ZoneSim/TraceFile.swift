import Foundation

/// A write/delete trace, replayed by the ``Workload/trace(path:)`` workload.
///
/// Format: UTF-8 CSV, one operation per line: `op,offset,length`, where `op` is `write` (or `w`)
/// or `delete` (or `d`, also `trim`/`discard`), and `offset` and `length` are byte counts
/// within the logical space, multiples of the simulated block size. A first line
/// `op,offset,length` is a header and skipped; blank lines and lines starting with `#` are
/// comments. Example (`fixtures/traces/small.csv`):
///
/// ```
/// op,offset,length
/// write,0,8192
/// write,1048576,4096
/// delete,0,4096
/// ```
public struct TraceFile: Hashable, Sendable {
    /// One operation of a trace.
    public struct Operation: Hashable, Sendable {
        /// What the operation does.
        public enum Kind: String, Hashable, Sendable {
            /// Write (or overwrite) the range.
            case write
            /// Delete the range: its data is dead, nothing is written.
            case delete
        }

        /// What it does.
        public var kind: Kind
        /// First byte.
        public var offset: UInt64
        /// Bytes.
        public var length: UInt64

        /// Creates an operation.
        public init(kind: Kind, offset: UInt64, length: UInt64) {
            self.kind = kind
            self.offset = offset
            self.length = length
        }
    }

    /// The operations, in order.
    public var operations: [Operation]

    /// Creates a trace.
    public init(operations: [Operation]) { self.operations = operations }

    /// One past the highest byte the trace addresses.
    public var end: UInt64 { operations.reduce(0) { max($0, $1.offset + $1.length) } }

    /// Reads and parses the trace at `path`.
    ///
    /// - Throws: ``SimulationError`` `.invalidTrace` when the file cannot be read or a line is
    ///   malformed (with its number).
    public static func load(path: String) throws(SimulationError) -> TraceFile {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw SimulationError(
                code: .invalidTrace,
                message: "cannot read the trace file \(path) (\(error.localizedDescription)); give the path of a CSV "
                    + "trace of op,offset,length lines"
            )
        }
        return try parse(text, source: path)
    }

    /// Parses trace text (see the type's documentation for the format).
    ///
    /// - Parameters:
    ///   - text: the CSV text.
    ///   - source: a name for error messages.
    /// - Throws: ``SimulationError`` `.invalidTrace` naming the first malformed line.
    public static func parse(_ text: String, source: String) throws(SimulationError) -> TraceFile {
        var operations: [Operation] = []
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fields = line.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            if number == 0 || operations.isEmpty, fields == ["op", "offset", "length"] { continue }
            func fail(_ why: String) -> SimulationError {
                SimulationError(
                    code: .invalidTrace,
                    message: "\(source):\(number + 1): '\(line)' \(why); each line is op,offset,length with op write "
                        + "or delete and byte offsets and lengths"
                )
            }
            guard fields.count == 3 else { throw fail("has \(fields.count) fields, not 3") }
            let kind: Operation.Kind
            switch fields[0] {
            case "write", "w": kind = .write
            case "delete", "d", "trim", "discard": kind = .delete
            default: throw fail("has an unknown operation '\(fields[0])'")
            }
            guard let offset = UInt64(fields[1]), let length = UInt64(fields[2]), length > 0,
                offset <= UInt64.max - length
            else { throw fail("needs a non-negative integer offset and a positive integer length") }
            operations.append(Operation(kind: kind, offset: offset, length: length))
        }
        guard operations.contains(where: { $0.kind == .write }) else {
            throw SimulationError(
                code: .invalidTrace,
                message: "the trace \(source) has no write; a replayed trace needs writes to make progress"
            )
        }
        return TraceFile(operations: operations)
    }
}
