import ArgumentParser
import ZonedStorage

/// `zonealloc device read DEV --offset BYTES --length SIZE [--output FILE|-]`: reads data from
/// a device.
struct DeviceRead: ParsableCommand {
    /// The command's name and help text.
    static let configuration = CommandConfiguration(
        commandName: "read",
        abstract: "Read bytes from a device: a hex dump, or raw bytes to a file or standard output.",
        discussion: """
            Reads never change zone state. Above a zone's write pointer the device returns \
            whatever it likes (the emulator returns 0xff, as null_blk). Offset and length must be \
            multiples of the logical block size.
            """
    )

    /// Bytes read per device call.
    static let chunkSize = 1 << 20

    /// The device or image.
    @Argument(help: "A /dev zoned block device or an emulated image.")
    var device: String

    /// Absolute byte offset to read from.
    @Option(help: ArgumentHelp("Absolute byte offset to read from (e.g. 131072, 128K, 0x20000).", valueName: "bytes"))
    var offset: SizeArgument

    /// Number of bytes to read.
    @Option(help: ArgumentHelp("Bytes to read.", valueName: "size"))
    var length: SizeArgument

    /// Where raw bytes go; without it, a hex dump is printed.
    @Option(help: ArgumentHelp("Write the raw bytes to this file, or - for standard output.", valueName: "file"))
    var output: String?

    /// Options every command takes (`--verbose`).
    @OptionGroup var global: GlobalOptions

    /// Checks the options before any device is opened; a failure exits with status 64.
    mutating func validate() throws {
        _ = try offset.bytes(for: "--offset")
        let count = try length.bytes(for: "--length")
        guard count > 0 else { throw ValidationError("--length must be greater than 0") }
    }

    /// Opens the device, reads the range into the output or a hex dump, and closes it.
    func run() throws {
        let start = try offset.bytes(for: "--offset")
        let count = try length.bytes(for: "--length")
        try DeviceSession.with(device, verbose: global.verbose) { device in
            let end = start.addingReportingOverflow(count)
            guard !end.overflow, end.partialValue <= device.info.capacity else {
                throw ValidationError(
                    "--offset \(offset.text) --length \(length.text) leaves \(self.device), whose capacity is "
                        + "\(device.info.capacity) bytes (\(SizeFormatter.string(device.info.capacity)))"
                )
            }
            if let output {
                try copy(from: device, start: start, count: count, to: output)
            } else {
                try dump(from: device, start: start, count: count)
            }
        }
    }

    /// Reads `[start, start + count)` in chunks, handing each to `body`.
    private func read(
        _ device: any ZonedDevice,
        start: UInt64,
        count: UInt64,
        _ body: ([UInt8]) throws -> Void
    ) throws {
        var done: UInt64 = 0
        while done < count {
            let n = Int(min(UInt64(Self.chunkSize), count - done))
            try body(try device.read(count: n, at: start + done))
            done += UInt64(n)
        }
    }

    private func copy(from device: any ZonedDevice, start: UInt64, count: UInt64, to output: String) throws {
        let fd = try FileIO.openOutput(output)
        do {
            try read(device, start: start, count: count) { bytes in try FileIO.write(bytes, to: fd, path: output) }
        } catch {
            try? FileIO.close(fd, path: output)
            throw error
        }
        try FileIO.close(fd, path: output)
    }

    private func dump(from device: any ZonedDevice, start: UInt64, count: UInt64) throws {
        var hex = HexDump(start: start, end: start + count)
        try read(device, start: start, count: count) { bytes in
            for line in hex.feed(bytes) { print(line) }
        }
        for line in hex.finish() { print(line) }
    }
}
