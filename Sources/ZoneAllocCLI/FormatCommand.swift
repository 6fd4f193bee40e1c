import ArgumentParser
import ZoneStore
import ZonedStorage

/// `zonealloc format DEV [--reserve 8%] [--force]`: makes an empty store on a device.
struct FormatCommand: ParsableCommand {
    /// The command's name and help text.
    static let configuration = CommandConfiguration(
        commandName: "format",
        abstract: "Format a device as an empty zonealloc store.",
        discussion: """
            Writes the superblock (in the first conventional zone, or as a log in the first two \
            sequential zones). Refuses a device that already holds a store or any data unless \
            --force is given, which resets every zone first: everything on the device is lost.
            """
    )

    /// The device or image.
    @Argument(help: "A /dev zoned block device or an emulated image.")
    var device: String

    /// The copygc reserve.
    @Option(help: ArgumentHelp("Capacity held back for copygc, 5% to 21%.", valueName: "percent"))
    var reserve = "8%"

    /// Overwrite an existing store or data.
    @Flag(help: "Format even when the device holds a store or data (everything on it is lost).")
    var force = false

    /// Options every command takes (`--verbose`).
    @OptionGroup var global: GlobalOptions

    /// The reserve as a fraction.
    ///
    /// - Throws: `ValidationError` for text that is not a percentage in 5…21.
    func reserveFraction() throws(ValidationError) -> Double {
        let text = reserve.hasSuffix("%") ? String(reserve.dropLast()) : reserve
        guard let value = Double(text), value >= 5, value <= 21 else {
            throw ValidationError("--reserve \(reserve): give a percentage from 5% to 21% (bcachefs uses 8%)")
        }
        return value / 100
    }

    /// Checks the options before the device is opened; a failure exits with status 64.
    func validate() throws {
        _ = try reserveFraction()
    }

    /// Formats the device.
    func run() throws {
        let fraction = try reserveFraction()
        try StoreSession.run(verbose: global.verbose) {
            try DeviceSession.with(device, verbose: global.verbose) { device in
                try ZoneStore.format(device, options: FormatOptions(copygcReserve: fraction, force: force))
                let info = device.info
                print(
                    "formatted \(self.device): \(info.zoneCount) zones of \(SizeFormatter.string(info.zoneSize)), "
                        + "copygc reserve \(reserve)"
                )
            }
        }
    }
}
