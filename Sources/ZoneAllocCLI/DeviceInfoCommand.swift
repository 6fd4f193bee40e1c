import ArgumentParser
import ZonedStorage

/// `zonealloc device info DEV [--json]`: geometry, limits and identification of a device.
struct DeviceInfoCommand: ParsableCommand {
    /// The command's name and help text.
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Show a device's vendor, model, capacity, zone geometry, block sizes and zone limits."
    )

    /// The device or image.
    @Argument(help: "A /dev zoned block device or an emulated image.")
    var device: String

    /// Print JSON instead of text.
    @Flag(help: "Print JSON; zone limits are numbers, 0 for no limit and null when unknown.")
    var json = false

    /// Options every command takes (`--verbose`).
    @OptionGroup var global: GlobalOptions

    /// Opens the device, prints its description and closes it.
    func run() throws {
        let document = try DeviceSession.with(device, verbose: global.verbose) { device in
            DeviceInfoDocument(
                path: self.device,
                info: device.info,
                zones: try device.reportZones(),
                profile: (device as? EmulatedDevice)?.profile.rawValue
            )
        }
        if json {
            print(try JSONText.encode(document))
        } else {
            document.lines().forEach { print($0) }
        }
    }
}
