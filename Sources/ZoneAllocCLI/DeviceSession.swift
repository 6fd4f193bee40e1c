import ZonedStorage

/// Opens a device for one command and always closes it again.
enum DeviceSession {
    /// Opens `path` with ``ZonedDevices/open(_:readOnly:options:)``, runs `body` with the device,
    /// and closes the device whether or not `body` succeeded.
    ///
    /// A close error is reported when `body` succeeded (closing flushes the write cache, so it
    /// can lose data); after a failed `body` the close error is dropped in favour of the first
    /// error. Errors are translated by ``ErrorReporting``.
    ///
    /// - Parameters:
    ///   - path: a `/dev` zoned block device or an emulated image.
    ///   - verbose: whether `--verbose` was given.
    ///   - body: the command's work with the open device.
    /// - Returns: what `body` returns.
    /// - Throws: `ExitCode.failure` after printing a device or command failure, or
    ///   `ExitCode.validationFailure` after printing a usage error found once the device was open.
    static func with<T>(_ path: String, verbose: Bool, _ body: (any ZonedDevice) throws -> T) throws -> T {
        try ErrorReporting.run(verbose: verbose) {
            let device = try ZonedDevices.open(path)
            return try using(device, body)
        }
    }

    /// Runs `body` with an already open `device` and closes it afterwards, as
    /// ``with(_:verbose:_:)`` does. Errors are not translated.
    ///
    /// - Parameters:
    ///   - device: the open device; closed when this returns or throws.
    ///   - body: the work to do.
    /// - Returns: what `body` returns.
    /// - Throws: the error of `body`, or else the error of closing the device.
    static func using<T>(_ device: any ZonedDevice, _ body: (any ZonedDevice) throws -> T) throws -> T {
        let result: T
        do {
            result = try body(device)
        } catch {
            close(device)
            throw error
        }
        try closeReporting(device)
        return result
    }

    /// Closes `device`, ignoring an error.
    private static func close(_ device: any ZonedDevice) {
        do {
            try device.close()
        } catch {
            keepAlive(device)
        }
    }

    /// Closes `device`, throwing its error.
    private static func closeReporting(_ device: any ZonedDevice) throws(ZonedStorageError) {
        do {
            try device.close()
        } catch {
            keepAlive(device)
            throw error
        }
    }

    /// Works around ``EmulatedDevice/close()`` leaving the device open when its final flush
    /// fails: its `deinit` would then assert (debug builds) that the device leaked. The process
    /// is about to exit, which releases the descriptor and the image lock, so the device is
    /// deliberately kept alive until then.
    private static func keepAlive(_ device: any ZonedDevice) {
        _ = Unmanaged.passRetained(device as AnyObject)
    }
}
