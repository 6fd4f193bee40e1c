import ArgumentParser

/// `zonealloc device`: create emulated images and inspect, manage, write and read zones.
struct DeviceCommand: ParsableCommand {
    /// The command's name and help text.
    static let configuration = CommandConfiguration(
        commandName: "device",
        abstract: "Create, inspect and drive zoned devices and emulated device images.",
        subcommands: [
            DeviceCreate.self, DeviceInfoCommand.self, DeviceReport.self,
            DeviceReset.self, DeviceOpen.self, DeviceClose.self, DeviceFinish.self,
            DeviceWrite.self, DeviceRead.self,
        ]
    )
}
