import ArgumentParser
import ZoneStore

/// `zonealloc ls DEV [PREFIX] [--long]`: lists keys.
struct StoreListCommand: ParsableCommand {
    /// The command's name and help text.
    static let configuration = CommandConfiguration(
        commandName: "ls",
        abstract: "List the keys of a store, in bytewise order.",
        discussion: "With --long: size, kind (dirty, cached, evicted) and number of extents of each value."
    )

    /// The device or image.
    @Argument(help: "A device holding a zonealloc store.")
    var device: String

    /// Only keys starting with this.
    @Argument(help: "List only keys starting with this prefix.")
    var prefix = ""

    /// Print sizes and kinds.
    @Flag(name: .shortAndLong, help: "Print size, kind and extents of each value.")
    var long = false

    /// Options every command takes (`--verbose`).
    @OptionGroup var global: GlobalOptions

    /// Lists the keys.
    func run() throws {
        let lines = try StoreSession.with(device, verbose: global.verbose) { store -> [String] in
            let keys = store.list(prefix: StoreKey(prefix))
            guard long else { return keys.map(\.description) }
            var table = TextTable(columns: [("SIZE", .right), ("KIND", .left), ("EXTENTS", .right), ("KEY", .left)])
            for key in keys {
                guard let info = store.stat(key) else { continue }
                table.append([
                    "\(info.length)", info.isEvicted ? "evicted" : info.kind.rawValue, "\(info.extents.count)",
                    key.description,
                ])
            }
            return table.lines()
        }
        for line in lines { print(line) }
    }
}
