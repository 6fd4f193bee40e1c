/// A plain-text table with aligned columns, separated by two spaces.
struct TextTable {
    /// How a column's cells are aligned.
    enum Alignment: Sendable {
        /// Padded on the right (text).
        case left
        /// Padded on the left (numbers).
        case right
    }

    /// Column headers.
    var headers: [String]
    /// Alignment of each column.
    var alignments: [Alignment]
    /// The data rows; each has as many cells as there are headers.
    var rows: [[String]] = []

    /// Creates an empty table with the given columns.
    init(columns: [(String, Alignment)]) {
        headers = columns.map(\.0)
        alignments = columns.map(\.1)
    }

    /// Appends a row.
    mutating func append(_ row: [String]) {
        precondition(row.count == headers.count, "a row of \(row.count) cells in a table of \(headers.count) columns")
        rows.append(row)
    }

    /// The table as lines, header first, without trailing spaces.
    func lines() -> [String] {
        var widths = headers.map(\.count)
        for row in rows {
            for (column, cell) in row.enumerated() { widths[column] = max(widths[column], cell.count) }
        }
        return ([headers] + rows).map { row in
            var line = ""
            for (column, cell) in row.enumerated() {
                let padding = String(repeating: " ", count: widths[column] - cell.count)
                if column > 0 { line += "  " }
                line += alignments[column] == .right ? padding + cell : cell + padding
            }
            while line.hasSuffix(" ") { line.removeLast() }
            return line
        }
    }
}
