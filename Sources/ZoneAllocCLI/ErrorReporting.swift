import ArgumentParser
import ZonedStorage

/// Turns errors into `zonealloc`'s exit conventions.
///
/// - Device errors (``ZonedStorageError``) and ``CommandFailure``s print
///   `zonealloc: error: <description>` to standard error and exit with status 1
///   (`ExitCode.failure`); with `--verbose`, a device error's `detailedDescription()` follows.
/// - Usage errors found while a command runs (a zone the device does not have, a length that is
///   not a multiple of its block size) are `ValidationError`s, and so is an invalid geometry
///   rejected by the library: they print `zonealloc: error: <message>` and exit with 64
///   (`ExitCode.validationFailure`, EX_USAGE). swift-argument-parser would print the root
///   command's usage after them, which is misleading once a subcommand is running.
/// - Everything else (`ExitCode`, `CleanExit`) is passed through.
enum ErrorReporting {
    /// Reports `error` as described above and returns the error to throw in its place.
    ///
    /// - Parameters:
    ///   - error: the error a command raised.
    ///   - verbose: whether `--verbose` was given.
    /// - Returns: `ExitCode.failure`, `ExitCode.validationFailure`, or `error` itself.
    static func translate(_ error: any Error, verbose: Bool) -> any Error {
        switch error {
        case let error as ZonedStorageError where error.code == .invalidGeometry:
            Console.printFailure(error.message)
            return ExitCode.validationFailure
        case let error as ValidationError:
            Console.printFailure(error.message)
            return ExitCode.validationFailure
        case let error as ZonedStorageError:
            Console.printFailure(ErrorText.describe(error), details: verbose ? error.detailedDescription() : nil)
            return ExitCode.failure
        case let error as CommandFailure:
            Console.printFailure(error.message)
            return ExitCode.failure
        default:
            return error
        }
    }

    /// Runs `body`, translating what it throws with ``translate(_:verbose:)``.
    ///
    /// - Parameters:
    ///   - verbose: whether `--verbose` was given.
    ///   - body: the command's work.
    /// - Returns: what `body` returns.
    /// - Throws: the translated error.
    static func run<T>(verbose: Bool, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch {
            throw translate(error, verbose: verbose)
        }
    }
}
