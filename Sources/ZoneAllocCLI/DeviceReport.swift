import ArgumentParser
import ZonedStorage

/// `zonealloc device report DEV [--zone N | --zones A-B] [--condition LIST] [--json]`: the zones
/// of a device, like libzbd's `zbd report`.
struct DeviceReport: ParsableCommand {
    /// The command's name and help text.
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "List zones: start, length, capacity, write pointer, type and condition.",
        discussion: """
            Offsets are bytes. The write pointer is "-" for zones without one (conventional, \
            read-only, offline); full zones show the value the device reports. The last line \
            counts the listed zones per condition.
            """
    )

    /// The device or image.
    @Argument(help: "A /dev zoned block device or an emulated image.")
    var device: String

    /// The zones: `--zone N` or `--zones A-B`.
    @OptionGroup var selection: ZoneSelection

    /// Comma-separated condition filter names.
    @Option(
        help: ArgumentHelp(
            "List only zones in these conditions, comma-separated: EMPTY, IMP_OPEN, EXP_OPEN, CLOSED, FULL, "
                + "READONLY, OFFLINE, NOT_WP, or rwp, non-seq (also short names such as em, oi).",
            valueName: "list"
        )
    )
    var condition: String?

    /// Print JSON instead of the table.
    @Flag(
        help: ArgumentHelp(
            "Print JSON: {\"device\": …, \"zones\": [{index, start, length, capacity, writePointer, type, "
                + "condition}]}."
        )
    )
    var json = false

    /// Options every command takes (`--verbose`).
    @OptionGroup var global: GlobalOptions

    /// Checks the options before any device is opened; a failure exits with status 64.
    mutating func validate() throws {
        _ = try filters()
    }

    /// The filters `--condition` names; `[.all]` without it.
    ///
    /// - Throws: `ValidationError` naming an unknown condition.
    func filters() throws(ValidationError) -> [ZoneReportFilter] {
        guard let condition else { return [.all] }
        var filters: [ZoneReportFilter] = []
        for name in condition.split(separator: ",", omittingEmptySubsequences: false) {
            let trimmed = name.filter { $0 != " " }
            guard let filter = ZoneReportFilter(name: trimmed) else {
                throw ValidationError(
                    "--condition: '\(trimmed)' is not a zone condition; use EMPTY, IMP_OPEN, EXP_OPEN, CLOSED, FULL, "
                        + "READONLY, OFFLINE, NOT_WP, rwp or non-seq"
                )
            }
            if !filters.contains(filter) { filters.append(filter) }
        }
        return filters
    }

    /// Opens the device, prints the selected zones and closes it.
    func run() throws {
        let filters = try filters()
        let rows = try DeviceSession.with(device, verbose: global.verbose) { device in
            try Self.rows(
                of: device,
                zones: try selection.resolve(against: device.info, path: self.device),
                filters: filters
            )
        }
        if json {
            print(try ReportFormatter.json(rows, device: device))
        } else {
            ReportFormatter.table(rows).forEach { print($0) }
        }
    }

    /// The report rows of `zones` (all when `nil`) passing any of `filters`.
    ///
    /// - Parameters:
    ///   - device: the open device.
    ///   - zones: the zone numbers to report, or `nil` for all.
    ///   - filters: zones matching at least one are listed.
    /// - Returns: one row per listed zone.
    /// - Throws: ``ZonedStorageError`` when the report fails.
    static func rows(
        of device: any ZonedDevice,
        zones: Range<Int>?,
        filters: [ZoneReportFilter] = [.all]
    ) throws(ZonedStorageError) -> [ZoneRow] {
        let info = device.info
        let offset = zones.map { info.zoneStart($0.lowerBound) } ?? 0
        let length = zones.map { UInt64($0.count) * info.zoneSize } ?? 0
        let reported: [Zone]
        if filters.count == 1 {
            reported = try device.reportZones(offset: offset, length: length, filter: filters[0])
        } else {
            reported = try device.reportZones(offset: offset, length: length, filter: .all)
                .filter { zone in filters.contains { $0.matches(zone) } }
        }
        return reported.map(ZoneRow.init)
    }
}
