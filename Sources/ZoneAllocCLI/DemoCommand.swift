import ArgumentParser
import Foundation
import ZonedStorage

/// `zonealloc demo [--dir DIR] [--keep]`: walks through the zone model on a fresh emulated
/// device, one line per step, and ends with the zone report.
struct DemoCommand: ParsableCommand {
    /// The command's name and help text.
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Show the zone model at work on a temporary emulated device.",
        discussion: """
            Creates an image of 32 zones of 16 MiB (12 MiB capacity, 2 conventional, at most 4 \
            open and 6 active zones, 4096-byte blocks), then writes randomly to a conventional \
            zone, sequentially into several zones, opens, closes and finishes zones, appends, \
            shows a write the device refuses, reads the data back, flushes and prints the zone \
            report. The image is deleted afterwards unless --keep is given.
            """
    )

    /// The demo device's geometry.
    static let geometry = EmulatedGeometry(
        zoneCount: 32,
        zoneSize: 16 << 20,
        zoneCapacity: 12 << 20,
        conventionalZones: 2,
        logicalBlockSize: 4096,
        maxOpenZones: 4,
        maxActiveZones: 6,
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

    /// Options every command takes (`--verbose`).
    @OptionGroup var global: GlobalOptions

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
        try ErrorReporting.run(verbose: global.verbose) {
            do {
                try fileManager.createDirectory(at: directory, withIntermediateDirectories: true)
            } catch {
                throw CommandFailure("cannot create the directory \(directory.path): \(error.localizedDescription)")
            }
            let device = try EmulatedDevice.create(at: image, geometry: Self.geometry, overwrite: true)
            try DeviceSession.using(device) { _ in
                var script = DemoScript(device: device)
                try script.run()
            }
        }
        if keep {
            print("")
            print("kept \(image); try: zonealloc device report \(image)")
        }
    }
}
