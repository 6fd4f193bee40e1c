import ArgumentParser
import ZonedStorage

/// `zonealloc device finish DEV (--zone N | --zones A-B | --all)`.
struct DeviceFinish: ParsableCommand {
    /// The command's name and help text.
    static let configuration = CommandConfiguration(
        commandName: "finish",
        abstract: "Finish zones: write pointer to the zone end (→ FULL)."
    )

    /// The device and the zones to operate on.
    @OptionGroup var options: ZoneManagementOptions

    /// Applies the operation to the selected zones and prints their conditions.
    func run() throws {
        try options.run(.finish, pastTense: "finished")
    }
}
