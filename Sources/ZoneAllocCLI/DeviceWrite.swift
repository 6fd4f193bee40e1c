import ArgumentParser
import ZonedStorage

/// `zonealloc device write DEV (--offset BYTES | --zone N) [--length SIZE] [--input FILE|-]
/// [--pattern BYTE] [--append] [--no-flush]`: writes data to a device.
struct DeviceWrite: ParsableCommand {
    /// The command's name and help text.
    static let configuration = CommandConfiguration(
        commandName: "write",
        abstract: "Write data at an offset, at a zone's write pointer, or by zone append.",
        discussion: """
            Sequential zones accept writes only at their write pointer; a write elsewhere is \
            refused by the device and nothing changes. With --zone and no --offset the data goes \
            to the zone's write pointer (the zone start for a conventional zone). The data comes \
            from --input, or is --length bytes of the --pattern byte. Its length must be a multiple \
            of the device's logical block size.
            """
    )

    /// The default fill byte.
    static let defaultPattern: UInt8 = 0xA5

    /// The device or image.
    @Argument(help: "A /dev zoned block device or an emulated image.")
    var device: String

    /// Absolute byte offset to write at.
    @Option(help: ArgumentHelp("Absolute byte offset to write at (e.g. 131072, 128K, 0x20000).", valueName: "bytes"))
    var offset: SizeArgument?

    /// Zone to write to, at its write pointer.
    @Option(help: "Write to this zone at its write pointer (or start, for a conventional zone).")
    var zone: Int?

    /// Number of bytes to write.
    @Option(help: ArgumentHelp("Bytes to write; with --input, at most this many of its bytes.", valueName: "size"))
    var length: SizeArgument?

    /// The data source.
    @Option(help: ArgumentHelp("Read the data from this file, or - for standard input.", valueName: "file"))
    var input: String?

    /// The fill byte.
    @Option(help: ArgumentHelp("Fill byte without --input, e.g. 0x5A or 90 (default 0xA5).", valueName: "byte"))
    var pattern: String?

    /// Use zone append.
    @Flag(help: "Zone append to --zone: the device picks the offset and it is printed.")
    var append = false

    /// Skip the explicit flush.
    @Flag(
        name: .customLong("no-flush"),
        help: "Do not flush explicitly after writing (closing the device still flushes its write cache)."
    )
    var noFlush = false

    /// Options every command takes (`--verbose`).
    @OptionGroup var global: GlobalOptions

    /// Checks the options before any device is opened; a failure exits with status 64.
    mutating func validate() throws {
        if offset != nil, zone != nil {
            throw ValidationError("--offset and --zone cannot be used together; give one of them")
        }
        if offset == nil, zone == nil {
            throw ValidationError("say where to write: --offset BYTES or --zone N")
        }
        if append, zone == nil {
            throw ValidationError("--append needs --zone N: a zone append targets a zone, not an offset")
        }
        if let zone, zone < 0 { throw ValidationError("--zone: zone numbers start at 0, got \(zone)") }
        _ = try offset?.bytes(for: "--offset")
        if input != nil, pattern != nil {
            throw ValidationError("--input and --pattern cannot be used together; the data comes from one of them")
        }
        _ = try fillByte()
        if let length {
            let bytes = try length.bytes(for: "--length")
            guard bytes > 0 else { throw ValidationError("--length must be greater than 0") }
            guard bytes % 512 == 0 else {
                throw ValidationError(
                    "--length \(length.text) (\(bytes) bytes) is not a multiple of 512, "
                        + "the smallest logical block size; writes are whole logical blocks"
                )
            }
            guard bytes <= 1 << 30 else {
                throw ValidationError("--length \(length.text) is above 1 GiB; write in several steps")
            }
        } else if input == nil {
            throw ValidationError("give --length SIZE to write --pattern bytes, or --input FILE")
        }
    }

    /// The fill byte of `--pattern`.
    func fillByte() throws(ValidationError) -> UInt8 {
        guard let pattern else { return Self.defaultPattern }
        guard let byte = ByteValue.parse(pattern) else {
            throw ValidationError("--pattern: '\(pattern)' is not a byte; use 0 to 255 or 0x00 to 0xFF")
        }
        return byte
    }

    /// Collects the data, writes it, flushes, prints where it went, and closes the device.
    func run() throws {
        let requestedLength = try length.map { length throws(ValidationError) in Int(try length.bytes(for: "--length"))
        }
        let data: [UInt8]
        if let input {
            data = try ErrorReporting.run(verbose: global.verbose) { try FileIO.read(input, limit: requestedLength) }
            if let requestedLength, data.count < requestedLength {
                throw ErrorReporting.translate(
                    CommandFailure(
                        "\(input == "-" ? "standard input" : input) has \(data.count) bytes, "
                            + "fewer than --length \(requestedLength)"
                    ),
                    verbose: global.verbose
                )
            }
        } else {
            data = [UInt8](repeating: try fillByte(), count: requestedLength ?? 0)
        }
        let line = try DeviceSession.with(device, verbose: global.verbose) { device in
            try write(data, to: device)
        }
        print(line)
    }

    /// Writes `data` as the options say, flushes, and describes what happened.
    private func write(_ data: [UInt8], to device: any ZonedDevice) throws -> String {
        let info = device.info
        let block = info.logicalBlockSize
        guard !data.isEmpty, data.count % block == 0 else {
            let source = input.map { $0 == "-" ? "standard input" : $0 }
            let message =
                "\(data.count) bytes is not a multiple of the logical block size \(block) of \(self.device); "
                + "writes are whole logical blocks"
            if let source, length == nil {
                throw CommandFailure("the data of \(source): \(message); pad it, or pass --length")
            }
            throw ValidationError("--length: \(message)")
        }
        let target: UInt64
        let targetZone: Zone?
        if let zone {
            guard zone < info.zoneCount else {
                throw ValidationError("zone \(zone) does not exist: \(self.device) has zones 0-\(info.zoneCount - 1)")
            }
            let described = try device.zone(zone)
            targetZone = described
            target = described.condition.hasValidWritePointer ? described.writePointer : described.start
        } else {
            target = try offset!.bytes(for: "--offset")
            targetZone = nil
        }
        let landed: UInt64
        if append, let targetZone {
            landed = try device.append(data, toZoneAt: targetZone.start)
        } else {
            // Large writes go in pieces of at most 16 MiB, each at the end of the previous one.
            let piece = 16 << 20
            var done = 0
            while done < data.count {
                let count = min(piece, data.count - done)
                try device.write(Array(data[done..<(done + count)]), at: target + UInt64(done))
                done += count
            }
            landed = target
        }
        if !noFlush { try device.flush() }
        let lastZone = info.zoneIndex(containing: landed + UInt64(data.count) - 1)
        let row = ZoneRow(try device.zone(lastZone))
        let state =
            row.type == ZoneType.conventional.shortName
            ? "conventional"
            : row.condition == ZoneCondition.full.kernelName
                ? "now FULL"
                : "write pointer now \(row.writePointer.map { "\($0)" } ?? "-")"
        let verb = append ? "appended" : "wrote"
        return "\(verb) \(data.count) bytes at \(landed) (zone \(lastZone), \(state))"
    }
}
