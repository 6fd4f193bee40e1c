import ArgumentParser
import ZoneStore

/// `zonealloc put DEV KEY [FILE|-]`: stores a value.
struct StorePutCommand: ParsableCommand {
    /// The command's name and help text.
    static let configuration = CommandConfiguration(
        commandName: "put",
        abstract: "Store the contents of a file (or standard input) under a key.",
        discussion: "The value is durable when the command returns (data and journal flushed)."
    )

    /// The device or image.
    @Argument(help: "A device holding a zonealloc store.")
    var device: String

    /// The key.
    @Argument(help: "The key (UTF-8, 1 to 1024 bytes).")
    var key: String

    /// The input.
    @Argument(help: "The file to store, or - for standard input (the default).")
    var file = "-"

    /// Store as cached data.
    @Flag(help: "Store as cached data: the store may drop it to reuse its space.")
    var cached = false

    /// Options every command takes (`--verbose`).
    @OptionGroup var global: GlobalOptions

    /// Reads the input and stores it.
    func run() throws {
        let bytes = try ErrorReporting.run(verbose: global.verbose) { try FileIO.read(file) }
        try StoreSession.with(device, verbose: global.verbose, options: StoreSession.options(verbose: global.verbose)) {
            store in
            try store.put(StoreKey(key), bytes, kind: cached ? .cached : .dirty)
        }
    }
}
