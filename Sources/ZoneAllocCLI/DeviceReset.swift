import ArgumentParser
import ZonedStorage

/// `zonealloc device reset DEV (--zone N | --zones A-B | --all)`.
struct DeviceReset: ParsableCommand {
    /// The command's name and help text.
    static let configuration = CommandConfiguration(
        commandName: "reset",
        abstract: "Reset zones: write pointer back to the zone start, data discarded (→ EMPTY)."
    )

    /// The device and the zones to operate on.
    @OptionGroup var options: ZoneManagementOptions

    /// Applies the operation to the selected zones and prints their conditions.
    func run() throws {
        try options.run(.reset, pastTense: "reset")
    }
}
