import ArgumentParser
import ZoneStore

/// `zonealloc get DEV KEY [FILE|-]`: reads a value.
struct StoreGetCommand: ParsableCommand {
    /// The command's name and help text.
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Write the value of a key to a file (or standard output).",
        discussion: "Every extent is checked against its checksum; bad data is an error, never output."
    )

    /// The device or image.
    @Argument(help: "A device holding a zonealloc store.")
    var device: String

    /// The key.
    @Argument(help: "The key.")
    var key: String

    /// The output.
    @Argument(help: "The file to write, or - for standard output (the default).")
    var file = "-"

    /// Options every command takes (`--verbose`).
    @OptionGroup var global: GlobalOptions

    /// Reads the value and writes it out.
    func run() throws {
        let bytes = try StoreSession.with(device, verbose: global.verbose) { store in try store.get(StoreKey(key)) }
        try ErrorReporting.run(verbose: global.verbose) {
            let fd = try FileIO.openOutput(file)
            do {
                try FileIO.write(bytes, to: fd, path: file)
            } catch {
                try? FileIO.close(fd, path: file)
                throw error
            }
            try FileIO.close(fd, path: file)
        }
    }
}
