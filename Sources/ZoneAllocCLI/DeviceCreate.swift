import ArgumentParser
import ZonedStorage

/// `zonealloc device create PATH --zones N --zone-size SIZE …`: creates an emulated zoned device
/// image.
struct DeviceCreate: ParsableCommand {
    /// The command's name and help text.
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create an emulated host-managed zoned device image.",
        discussion: """
            The image is a sparse file that behaves like null_blk with zoned=1; its zone state \
            persists between runs. Limits are clamped as the kernel does: a limit at or above the \
            number of sequential zones means no limit, and --max-open is clamped to --max-active.

            --profile zns or zbc makes the image behave like QEMU's NVMe ZNS namespace or \
            scsi_debug's SCSI ZBC disk where those differ from null_blk (close of an unwritten \
            zone, open/close of full and empty zones, finish at the limits, which zone is closed \
            to make room, EREMOTEIO on SCSI, data beyond the write pointer). A zns image has no \
            conventional zones; a zbc image has zone capacity = zone size and no active limit.
            """
    )

    /// The image file to create.
    @Argument(help: "The image file to create.")
    var path: String

    /// Number of zones, conventional zones included.
    @Option(help: "Number of zones, conventional zones included.")
    var zones: Int

    /// Zone size; a power of two.
    @Option(help: ArgumentHelp("Zone size, a power of two (e.g. 64M, 256M).", valueName: "size"))
    var zoneSize: SizeArgument

    /// Usable bytes per zone; the zone size when absent.
    @Option(help: ArgumentHelp("Usable bytes per zone (default: the zone size).", valueName: "size"))
    var zoneCapacity: SizeArgument?

    /// Number of conventional zones, placed first.
    @Option(help: "Number of conventional zones, placed first.")
    var conventional = 0

    /// Logical block size in bytes.
    @Option(help: "Logical block size in bytes: 512 or 4096.")
    var blockSize = 4096

    /// Maximum open zones; 0 means no limit.
    @Option(help: "Maximum open zones (0: no limit).")
    var maxOpen = 0

    /// Maximum active zones; 0 means no limit.
    @Option(help: "Maximum active (open or closed) zones (0: no limit).")
    var maxActive = 0

    /// The kind of device the image reproduces where kinds differ; stored in the image.
    @Option(
        help: ArgumentHelp(
            "The kind of device to reproduce: nullblk (null_blk, the default), zns (QEMU NVMe ZNS) or zbc "
                + "(scsi_debug SCSI ZBC).",
            valueName: "kind"
        )
    )
    var profile: ConformanceProfileChoice = .nullblk

    /// Replace an existing file.
    @Flag(help: "Replace the file if it exists.")
    var force = false

    /// Options every command takes (`--verbose`).
    @OptionGroup var global: GlobalOptions

    /// Checks the options before any device is opened; a failure exits with status 64.
    mutating func validate() throws {
        _ = try validatedGeometry()
    }

    /// Creates the image, prints the summary line and closes the device.
    func run() throws {
        try ErrorReporting.run(verbose: global.verbose) {
            let requested = try geometry()
            if force { try ImageInUseCheck.ensureNotInUse(path) }
            let device = try EmulatedDevice.create(
                at: path,
                geometry: requested,
                profile: profile.profile,
                overwrite: force
            )
            let summary = try DeviceSession.using(device) { _ in
                Self.summary(of: device.geometry, requested: requested, path: path, profile: profile.profile)
            }
            print(summary)
        }
    }

    /// The geometry the options describe, before the library's checks and clamps.
    ///
    /// - Throws: `ValidationError` naming the option whose value is wrong.
    func geometry() throws(ValidationError) -> EmulatedGeometry {
        guard zones >= 1 else { throw ValidationError("--zones must be at least 1, got \(zones)") }
        guard blockSize == 512 || blockSize == 4096 else {
            throw ValidationError("--block-size must be 512 or 4096, got \(blockSize)")
        }
        let size = try zoneSize.bytes(for: "--zone-size")
        guard size > 0, size & (size - 1) == 0 else {
            throw ValidationError(
                "--zone-size \(zoneSize.text) (\(size) bytes) is not a power of two; "
                    + "Linux requires one (e.g. 64M, 256M)"
            )
        }
        let capacity = try zoneCapacity?.bytes(for: "--zone-capacity")
        if let capacity, capacity == 0 || capacity > size {
            throw ValidationError(
                "--zone-capacity \(zoneCapacity!.text) must be greater than 0 and at most "
                    + "the zone size \(zoneSize.text)"
            )
        }
        guard conventional >= 0, conventional < zones else {
            throw ValidationError(
                "--conventional \(conventional) must be at least 0 and less than --zones \(zones), which leaves at "
                    + "least one sequential zone"
            )
        }
        guard maxOpen >= 0 else { throw ValidationError("--max-open must be 0 (no limit) or positive, got \(maxOpen)") }
        guard maxActive >= 0 else {
            throw ValidationError("--max-active must be 0 (no limit) or positive, got \(maxActive)")
        }
        let (total, overflow) = UInt64(zones).multipliedReportingOverflow(by: size)
        guard !overflow, total <= UInt64(Int64.max) / 2 else {
            throw ValidationError("--zones \(zones) × --zone-size \(zoneSize.text) is too large for a device image")
        }
        return EmulatedGeometry(
            zoneCount: zones,
            zoneSize: size,
            zoneCapacity: capacity,
            conventionalZones: conventional,
            logicalBlockSize: blockSize,
            maxOpenZones: maxOpen,
            maxActiveZones: maxActive
        )
    }

    /// The geometry after the library's checks and the kernel's clamps, and the profile's rules.
    ///
    /// - Throws: `ValidationError` for options the zone model or the profile forbids.
    func validatedGeometry() throws(ValidationError) -> EmulatedGeometry {
        do {
            return try geometry().validated(for: profile.profile)
        } catch let error as ValidationError {
            throw error
        } catch {
            throw ValidationError((error as? ZonedStorageError)?.message ?? "\(error)")
        }
    }

    /// `created d.img: 64 zones of 64 MiB (4 GiB), zone capacity 60 MiB, …`, ending with `, zns
    /// profile` for a profile other than nullblk.
    ///
    /// - Parameters:
    ///   - geometry: the device's validated geometry.
    ///   - requested: the geometry as requested, to explain clamped limits.
    ///   - path: the image path.
    ///   - profile: the image's profile.
    /// - Returns: the one-line summary.
    static func summary(
        of geometry: EmulatedGeometry,
        requested: EmulatedGeometry,
        path: String,
        profile: EmulatedDevice.Profile = .nullBlk
    ) -> String {
        var parts = [
            "\(geometry.zoneCount) zones of \(SizeFormatter.string(geometry.zoneSize)) "
                + "(\(SizeFormatter.string(geometry.capacity)))",
            "zone capacity \(SizeFormatter.string(geometry.zoneCapacity))",
            "\(geometry.conventionalZones) conventional + \(geometry.sequentialZones) sequential",
            "\(geometry.logicalBlockSize)-byte blocks",
        ]
        parts.append(
            limit("max open", geometry.maxOpenZones, requested: requested.maxOpenZones, option: "--max-open", geometry)
        )
        parts.append(
            limit(
                "max active",
                geometry.maxActiveZones,
                requested: requested.maxActiveZones,
                option: "--max-active",
                geometry
            )
        )
        if profile != .nullBlk { parts.append("\(profile) profile (\(profile.displayName))") }
        return "created \(path): " + parts.joined(separator: ", ")
    }

    private static func limit(
        _ name: String,
        _ value: Int,
        requested: Int,
        option: String,
        _ geometry: EmulatedGeometry
    ) -> String {
        let text = "\(name) \(ZoneResourceLimit(kernelValue: value))"
        guard value != requested else { return text }
        if value == 0 {
            return text + " (\(option) \(requested) is not below the \(geometry.sequentialZones) sequential zones)"
        }
        return text + " (\(option) \(requested) clamped to max active)"
    }
}
