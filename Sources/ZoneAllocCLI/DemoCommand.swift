import ArgumentParser
import Foundation
import ZonedStorage

/// `zonealloc demo [--dir DIR] [--keep] [--overwrites N]`: the store at work on a fresh
/// emulated zoned device, from format to copygc, with every value verified.
struct DemoCommand: ParsableCommand {
    /// The command's name and help text.
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Show the store at work on a temporary emulated zoned device: writes, overwrites, copygc.",
        discussion: """
            Creates an image of 40 zones of 1 MiB (768 KiB capacity, 2 conventional, at most 8 open \
            and 12 active zones, 4096-byte blocks), formats it, stores 400 values of 16-64 KiB, then \
            overwrites and deletes values (a skewed workload) until the buckets are fragmented and \
            copygc has to evacuate them. Prints the usage before and after, verifies every value \
            (also after reopening the store), and ends with the zone report. The image is deleted \
            afterwards unless --keep is given.
            """
    )

    /// The demo device's geometry.
    static let geometry = EmulatedGeometry(
        zoneCount: 40,
        zoneSize: 1 << 20,
        zoneCapacity: 768 << 10,
        conventionalZones: 2,
        logicalBlockSize: 4096,
        maxOpenZones: 8,
        maxActiveZones: 12,
        vendorID: "zonealloc demo"
    )

    /// Where the image is created.
    @Option(
        help: ArgumentHelp("Create the image in this directory (default: a new temporary directory).", valueName: "dir")
    )
    var dir: String?

    /// Keep the image.
    @Flag(help: "Keep the image afterwards and print its path.")
    var keep = false

    /// How many overwrites and deletes the workload does after the first fill.
    @Option(help: "Overwrites and deletes after the first fill.")
    var overwrites = 2500

    /// Options every command takes (`--verbose`).
    @OptionGroup var global: GlobalOptions

    /// Checks the options; a failure exits with status 64.
    func validate() throws {
        guard overwrites >= 0 else { throw ValidationError("--overwrites must not be negative") }
    }

    /// Creates the image, runs ``DemoScript``, and deletes the image unless `--keep` was given.
    func run() throws {
        let fileManager = FileManager.default
        let directory: URL
        let ownsDirectory: Bool
        if let dir {
            directory = URL(fileURLWithPath: dir, isDirectory: true)
            ownsDirectory = !fileManager.fileExists(atPath: dir)
        } else {
            directory = fileManager.temporaryDirectory.appendingPathComponent("zonealloc-demo-\(UUID().uuidString)")
            ownsDirectory = true
        }
        let image = directory.appendingPathComponent("zonealloc-demo.img").path
        defer {
            if !keep {
                try? fileManager.removeItem(atPath: image)
                if ownsDirectory { try? fileManager.removeItem(at: directory) }
            }
        }
        try StoreSession.run(verbose: global.verbose) {
            try ErrorReporting.run(verbose: global.verbose) {
                do {
                    try fileManager.createDirectory(at: directory, withIntermediateDirectories: true)
                } catch {
                    throw CommandFailure("cannot create the directory \(directory.path): \(error.localizedDescription)")
                }
                let device = try EmulatedDevice.create(at: image, geometry: Self.geometry, overwrite: true)
                try DeviceSession.using(device) { _ in
                    var script = DemoScript(device: device, overwrites: overwrites)
                    try script.run()
                }
            }
        }
        if keep {
            print("")
            print("kept \(image); try: zonealloc stat \(image)")
        }
    }
}
