import ArgumentParser
import ZonedStorage

/// The arguments of `device reset|open|close|finish`: a device and exactly one of `--zone N`,
/// `--zones A-B` or `--all`.
struct ZoneManagementOptions: ParsableArguments {
    /// The device or image.
    @Argument(help: "A /dev zoned block device or an emulated image.")
    var device: String

    /// The zones: `--zone N` or `--zones A-B`.
    @OptionGroup var selection: ZoneSelection

    /// Every zone of the device.
    @Flag(
        help: ArgumentHelp(
            "Every zone, one by one; zones that refuse keep their condition (reset: RESET ALL, which skips "
                + "conventional, read-only and offline zones)."
        )
    )
    var all = false

    /// Options every command takes (`--verbose`).
    @OptionGroup var global: GlobalOptions

    /// Checks the options before any device is opened; a failure exits with status 64.
    mutating func validate() throws {
        if all, !selection.isEmpty {
            throw ValidationError("--all cannot be combined with --zone or --zones; give one of them")
        }
        if !all, selection.isEmpty {
            throw ValidationError("name the zones: --zone N, --zones A-B or --all")
        }
    }

    /// Applies `operation` to the selected zones and prints the zones' conditions afterwards,
    /// e.g. `opened zone 5: now EXP_OPEN`.
    ///
    /// Several zones are handled one by one, as the kernel does: when some refuse, the others
    /// keep their new condition, the conditions are still printed, and the first refusal is the
    /// error.
    ///
    /// - Parameters:
    ///   - operation: the zone management operation.
    ///   - pastTense: the verb for the summary line (`opened`).
    /// - Throws: `ExitCode.failure` after printing the device's refusal;
    ///   `ExitCode.validationFailure` after printing that a zone does not exist.
    func run(_ operation: ZoneOperation, pastTense: String) throws {
        try DeviceSession.with(device, verbose: global.verbose) { device in
            let zones = try selection.resolve(against: device.info, path: self.device)
            let described: String
            var refusal: ZonedStorageError?
            do throws(ZonedStorageError) {
                if let zones {
                    described =
                        zones.count == 1
                        ? "zone \(zones.lowerBound)" : "zones \(zones.lowerBound)-\(zones.upperBound - 1)"
                    try device.manageZones(operation, zones: zones)
                } else {
                    described = operation == .reset ? "all zones (RESET ALL)" : "all zones"
                    // Offset 0, length 0: the whole device. For reset this is RESET ALL.
                    try device.manageZones(operation, offset: 0, length: 0)
                }
            } catch {
                guard zones?.count != 1 else { throw error }
                refusal = error
            }
            let rows = try DeviceReport.rows(of: device, zones: zones)
            let now = rows.count == 1 ? rows[0].condition : ReportFormatter.conditionCounts(rows)
            if let refusal {
                print("\(operation) \(described): refused by at least one zone; now \(now)")
                throw refusal
            }
            print("\(pastTense) \(described): now \(now)")
        }
    }
}
