import ArgumentParser
import Logging
import ZoneStore
import ZonedStorage

/// Opens a device and the store on it for one command, and always closes both again.
enum StoreSession {
    /// Opens `path`, opens the store on it, runs `body`, closes the store and the device.
    ///
    /// Store errors print `zonealloc: error: <message>` (with `--verbose` also the cause and
    /// where it was raised) and exit with status 1; device and usage errors are reported as by
    /// ``DeviceSession``.
    ///
    /// - Parameters:
    ///   - path: a `/dev` zoned block device or an emulated image.
    ///   - verbose: whether `--verbose` was given.
    ///   - options: store open options.
    ///   - body: the command's work with the open store.
    /// - Returns: what `body` returns.
    /// - Throws: `ExitCode.failure` after printing the error.
    static func with<T>(
        _ path: String,
        verbose: Bool,
        options: OpenOptions = StoreSession.options(),
        _ body: (ZoneStore) throws -> T
    ) throws -> T {
        try run(verbose: verbose) {
            try DeviceSession.with(path, verbose: verbose) { device in
                let store = try ZoneStore.open(device, options: options)
                let result: T
                do {
                    result = try body(store)
                } catch {
                    try? store.close()
                    throw error
                }
                try store.close()
                return result
            }
        }
    }

    /// Open options for commands: warnings and errors logged to standard error.
    static func options(verbose: Bool = false) -> OpenOptions {
        var logger = Logger(label: "zonealloc")
        logger.logLevel = verbose ? .info : .warning
        return OpenOptions(logger: logger)
    }

    /// Runs `body`, printing a ``StoreError`` as `zonealloc: error: …` and exiting with status 1
    /// (status 64 for `.invalidArgument`).
    static func run<T>(verbose: Bool, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as StoreError {
            Console.printFailure(error.description, details: verbose ? error.detailedDescription() : nil)
            throw error.code == .invalidArgument ? ExitCode.validationFailure : ExitCode.failure
        }
    }
}
