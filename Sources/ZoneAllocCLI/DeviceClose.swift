import ArgumentParser
import ZonedStorage

/// `zonealloc device close DEV (--zone N | --zones A-B | --all)`.
struct DeviceClose: ParsableCommand {
    /// The command's name and help text.
    static let configuration = CommandConfiguration(
        commandName: "close",
        abstract: "Close open zones (→ CLOSED, or EMPTY when nothing was written)."
    )

    /// The device and the zones to operate on.
    @OptionGroup var options: ZoneManagementOptions

    /// Applies the operation to the selected zones and prints their conditions.
    func run() throws {
        try options.run(.close, pastTense: "closed")
    }
}
