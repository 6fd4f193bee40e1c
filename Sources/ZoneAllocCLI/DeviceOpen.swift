import ArgumentParser
import ZonedStorage

/// `zonealloc device open DEV (--zone N | --zones A-B | --all)`.
struct DeviceOpen: ParsableCommand {
    /// The command's name and help text.
    static let configuration = CommandConfiguration(
        commandName: "open",
        abstract: "Open zones explicitly (→ EXP_OPEN); fails with ETOOMANYREFS / EOVERFLOW at the device's limits."
    )

    /// The device and the zones to operate on.
    @OptionGroup var options: ZoneManagementOptions

    /// Applies the operation to the selected zones and prints their conditions.
    func run() throws {
        try options.run(.open, pastTense: "opened")
    }
}
