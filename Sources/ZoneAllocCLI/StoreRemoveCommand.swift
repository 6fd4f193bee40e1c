import ArgumentParser
import ZoneStore

/// `zonealloc rm DEV KEY`: deletes a value.
struct StoreRemoveCommand: ParsableCommand {
    /// The command's name and help text.
    static let configuration = CommandConfiguration(
        commandName: "rm",
        abstract: "Delete the value of a key.",
        discussion: "Exits with status 1 when nothing is stored under the key."
    )

    /// The device or image.
    @Argument(help: "A device holding a zonealloc store.")
    var device: String

    /// The key.
    @Argument(help: "The key.")
    var key: String

    /// Options every command takes (`--verbose`).
    @OptionGroup var global: GlobalOptions

    /// Deletes the key.
    func run() throws {
        let existed = try StoreSession.with(device, verbose: global.verbose) { store in try store.delete(StoreKey(key))
        }
        if !existed {
            Console.printFailure("no value is stored under \(key)")
            throw ExitCode.failure
        }
    }
}
