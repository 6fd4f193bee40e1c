/// An xxd-style hex dump that collapses repeated lines to `*`, fed in pieces.
///
/// ```
/// 08000000: a5a5 a5a5 a5a5 a5a5 a5a5 a5a5 a5a5 a5a5  ................
/// *
/// 08000ff0: a5a5 a5a5 a5a5 a5a5 a5a5 a5a5 a5a5 a5a5  ................
/// ```
///
/// A line equal to the one before it is not printed; the first of a run of such lines becomes
/// `*`. The last line is always printed, so the dump shows where the data ends.
struct HexDump {
    /// Bytes per line.
    static let bytesPerLine = 16

    /// Offset of the next byte to be fed.
    private var offset: UInt64
    /// Hex digits of the offset column.
    private let offsetWidth: Int
    /// Bytes fed but not yet formatted (less than a line).
    private var partial: [UInt8] = []
    /// The last formatted line's bytes, and whether lines after it were skipped.
    private var previous: [UInt8]?
    private var skipped: (line: [UInt8], offset: UInt64)?

    /// Starts a dump of bytes from `start` to `end` (exclusive), numbered with device offsets.
    init(start: UInt64, end: UInt64) {
        offset = start
        offsetWidth = max(8, String(end, radix: 16).count)
    }

    /// Feeds `bytes`; returns the lines that are complete.
    mutating func feed(_ bytes: some Collection<UInt8>) -> [String] {
        partial += bytes
        var lines: [String] = []
        var index = 0
        while partial.count - index >= Self.bytesPerLine {
            emit(Array(partial[index..<(index + Self.bytesPerLine)]), into: &lines)
            index += Self.bytesPerLine
        }
        partial.removeFirst(index)
        return lines
    }

    /// Ends the dump; returns the remaining lines.
    mutating func finish() -> [String] {
        var lines: [String] = []
        if !partial.isEmpty {
            emit(partial, into: &lines)
            partial = []
        }
        if let skipped {
            lines.append(Self.format(skipped.line, at: skipped.offset, width: offsetWidth))
            self.skipped = nil
        }
        return lines
    }

    private mutating func emit(_ line: [UInt8], into lines: inout [String]) {
        defer { offset += UInt64(line.count) }
        if line == previous {
            if skipped == nil { lines.append("*") }
            skipped = (line, offset)
            return
        }
        skipped = nil
        previous = line
        lines.append(Self.format(line, at: offset, width: offsetWidth))
    }

    /// One line: offset, bytes in groups of two, and their printable ASCII.
    static func format(_ line: [UInt8], at offset: UInt64, width: Int) -> String {
        let address = String(offset, radix: 16)
        var text = String(repeating: "0", count: max(0, width - address.count)) + address + ":"
        for (position, byte) in line.enumerated() {
            if position % 2 == 0 { text += " " }
            text += byte < 16 ? "0" + String(byte, radix: 16) : String(byte, radix: 16)
        }
        // Pad a short last line so the ASCII column lines up.
        let missing = bytesPerLine - line.count
        text += String(repeating: " ", count: missing * 2 + bytesPerLine / 2 - (line.count + 1) / 2)
        text += "  "
        text += String(line.map { (0x20...0x7E).contains($0) ? Character(Unicode.Scalar($0)) : "." })
        return text
    }
}
