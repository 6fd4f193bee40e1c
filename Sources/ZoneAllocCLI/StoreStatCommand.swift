import ArgumentParser
import ZoneStore

/// `zonealloc stat DEV [--json]`: a store's usage, like `bcachefs fs usage`.
struct StoreStatCommand: ParsableCommand {
    /// The command's name and help text.
    static let configuration = CommandConfiguration(
        commandName: "stat",
        abstract: "Show a store's usage: buckets by state, dirty/cached/free space, fragmentation, copygc.",
        discussion: """
            Copygc and write-amplification counters cover the time since the store was opened \
            (for this command: the open itself).
            """
    )

    /// The device or image.
    @Argument(help: "A device holding a zonealloc store.")
    var device: String

    /// Print JSON.
    @Flag(help: "Print JSON instead of text.")
    var json = false

    /// Options every command takes (`--verbose`).
    @OptionGroup var global: GlobalOptions

    /// Prints the usage.
    func run() throws {
        let document = try StoreSession.with(device, verbose: global.verbose) { store in
            StoreUsageDocument(device: device, statistics: store.statistics())
        }
        if json {
            print(try JSONText.encode(document))
        } else {
            for line in document.lines() { print(line) }
        }
    }
}
