import Foundation
import ZonedStorage

/// Renders zone reports as `zonealloc device report` prints them: an aligned table with a
/// per-condition footer, or JSON.
enum ReportFormatter {
    /// The order conditions are counted in the footer.
    static let conditionOrder: [ZoneCondition] = [
        .notWritePointer, .empty, .implicitOpen, .explicitOpen, .closed, .full, .readOnly, .offline,
    ]

    /// The table of `rows`: zone number, start (bytes), length and capacity (binary units), write
    /// pointer (bytes, `-` when the zone has none), used bytes below the write pointer, type and
    /// condition; then a footer line counting zones per condition.
    ///
    /// - Parameter rows: the zones to list.
    /// - Returns: the lines to print.
    static func table(_ rows: [ZoneRow]) -> [String] {
        var table = TextTable(columns: [
            ("zone", .right), ("start", .right), ("length", .right), ("capacity", .right),
            ("write pointer", .right), ("used", .right), ("type", .left), ("condition", .left),
        ])
        for row in rows {
            table.append([
                "\(row.index)",
                "\(row.start)",
                SizeFormatter.string(row.length),
                SizeFormatter.string(row.capacity),
                row.writePointer.map { "\($0)" } ?? "-",
                row.used.map(SizeFormatter.string) ?? "-",
                row.type,
                row.condition,
            ])
        }
        return table.lines() + [footer(rows)]
    }

    /// `64 zones: 2 NOT_WP, 62 EMPTY`: how many zones are listed and how many are in each
    /// condition.
    ///
    /// - Parameter rows: the zones listed.
    /// - Returns: the footer line.
    static func footer(_ rows: [ZoneRow]) -> String {
        let total = "\(rows.count) zone\(rows.count == 1 ? "" : "s")"
        return rows.isEmpty ? total : "\(total): " + conditionCounts(rows)
    }

    /// `2 NOT_WP, 62 EMPTY`: how many of `rows` are in each condition, in the kernel's order.
    ///
    /// - Parameter rows: the zones to count.
    /// - Returns: the counts, comma-separated; empty for no rows.
    static func conditionCounts(_ rows: [ZoneRow]) -> String {
        var counts: [String: Int] = [:]
        for row in rows { counts[row.condition, default: 0] += 1 }
        let known = conditionOrder.map(\.kernelName)
        let parts =
            known.compactMap { name in counts[name].map { "\($0) \(name)" } }
            + counts.keys.filter { !known.contains($0) }.sorted().map { "\(counts[$0, default: 0]) \($0)" }
        return parts.joined(separator: ", ")
    }

    /// The JSON document `{"device": path, "zones": [...]}` with sorted keys (see ``ZoneRow``).
    ///
    /// - Parameters:
    ///   - rows: the zones to list.
    ///   - device: the device path.
    /// - Returns: pretty-printed JSON text.
    static func json(_ rows: [ZoneRow], device: String) throws -> String {
        try JSONText.encode(ReportDocument(device: device, zones: rows))
    }
}
