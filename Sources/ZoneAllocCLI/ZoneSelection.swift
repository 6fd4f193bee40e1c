import ArgumentParser
import ZonedStorage

/// The `--zone N` / `--zones A-B` options shared by the commands that address zones.
struct ZoneSelection: ParsableArguments {
    /// A single zone number.
    @Option(help: "A single zone, by number (0 is the first zone).")
    var zone: Int?

    /// An inclusive range of zone numbers.
    @Option(help: ArgumentHelp("A range of zones, first and last included: A-B or A..B.", valueName: "A-B"))
    var zones: String?

    /// Whether either option was given.
    var isEmpty: Bool { zone == nil && zones == nil }

    /// Checks the options before any device is opened; a failure exits with status 64.
    mutating func validate() throws {
        _ = try selectedZones()
    }

    /// The selected zones as typed, before they are checked against a device.
    ///
    /// - Returns: the inclusive range, or `nil` when neither option was given.
    /// - Throws: `ValidationError` when both options are given, a zone number is negative, or the
    ///   range cannot be parsed.
    func selectedZones() throws(ValidationError) -> ClosedRange<Int>? {
        if zone != nil, zones != nil {
            throw ValidationError("--zone and --zones cannot be used together; give one of them")
        }
        if let zone {
            guard zone >= 0 else { throw ValidationError("--zone: zone numbers start at 0, got \(zone)") }
            return zone...zone
        }
        if let zones {
            do {
                return try ZoneRangeParser.parse(zones)
            } catch {
                throw ValidationError("--zones: \(error)")
            }
        }
        return nil
    }

    /// The selected zones, checked against `info`.
    ///
    /// - Parameter info: the device the zones must exist on.
    /// - Returns: the half-open range of zone numbers, or `nil` when neither option was given.
    /// - Throws: `ValidationError` when a selected zone is past the last zone of the device.
    func resolve(against info: DeviceInfo, path: String) throws(ValidationError) -> Range<Int>? {
        guard let selected = try selectedZones() else { return nil }
        guard selected.upperBound < info.zoneCount else {
            throw ValidationError(
                "zone \(selected.upperBound) does not exist: \(path) has zones 0-\(info.zoneCount - 1)"
            )
        }
        return selected.lowerBound..<(selected.upperBound + 1)
    }
}
