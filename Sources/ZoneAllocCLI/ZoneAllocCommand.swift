import ArgumentParser

/// The `zonealloc` command: zoned block devices and emulated images, zone conformance, a keyed
/// store on a device, the copygc simulator and the demo.
///
/// Exit status: 0 on success, 1 when a device refused an operation or another runtime failure
/// occurred (printed as `zonealloc: error: …`), 64 (EX_USAGE) for invalid arguments.
@main
struct ZoneAllocCommand: ParsableCommand {
    /// The command's name and help text.
    static let configuration = CommandConfiguration(
        commandName: "zonealloc",
        abstract:
            "bcachefs's bucket allocator on host-managed zoned block devices: device tools, zone conformance, a keyed store, a copygc simulator.",
        discussion: """
            DEV is a /dev zoned block device (SMR disk, NVMe ZNS namespace, null_blk with zoned=1) \
            or an emulated device image made with `zonealloc device create`. Sizes take binary \
            suffixes: 4096, 64K, 256M, 1G, 2T (K/KB/KiB are all 1024 bytes).

            Exit status: 0 on success, 1 when the device refuses an operation, 64 for bad usage.
            """,
        subcommands: [
            DeviceCommand.self, DemoCommand.self, ConformanceCommand.self, SimulateCommand.self,
            // The store on a device.
            FormatCommand.self, StorePutCommand.self, StoreGetCommand.self, StoreRemoveCommand.self,
            StoreListCommand.self, StoreStatCommand.self, StoreGCCommand.self, FsckCommand.self,
            StoreCrashWorkerCommand.self,
        ]
    )
}
