/// The JSON output of `zonealloc device report --json`.
struct ReportDocument: Codable, Equatable, Sendable {
    /// The device path as given on the command line.
    var device: String
    /// The reported zones, in order.
    var zones: [ZoneRow]
}
