import Dispatch
import Synchronization
import SystemPackage

/// An emulated host-managed zoned block device that behaves like the Linux kernel's null_blk
/// with `zoned=1`: the embedded default device of zonealloc.
///
/// Its ``profile`` makes it behave like QEMU's NVMe ZNS namespace or scsi_debug's ZBC disk
/// instead where those devices legitimately differ from null_blk (``Profile``).
///
/// It is backed by a sparse image file (``create(at:geometry:options:overwrite:)``,
/// ``open(at:options:)``) whose zone state survives the process, by memory, or by nothing at all
/// (``Storage/metadataOnly``, for simulating very large drives). It models a volatile write cache
/// (``flush()``), simulated power loss (``simulatePowerLoss(seed:)``) and injected faults
/// (``injectFault(_:)``, ``setZoneCondition(_:to:)``).
///
/// Thread safety: zone state lives behind one short lock that is never held across data
/// movement; data of each zone is guarded by a per-zone lock (striped for very many zones), so
/// I/O to different zones proceeds in parallel while I/O to one zone is serialised, as the
/// kernel's zone write plugging does.
public final class EmulatedDevice: ZonedDevice {
    public let info: DeviceInfo
    public let path: String
    /// The validated geometry the device was created with.
    public let geometry: EmulatedGeometry
    /// The kind of device reproduced where device kinds differ; stored in the image.
    public let profile: Profile
    /// Behaviour switches.
    public let options: Options
    /// The format version of the image's header (``EmulatedImageFormat``): images keep the
    /// version (and the data offset) they were created with, so the zonealloc that made a
    /// version-1 or version-2 image can still open it.
    let imageVersion: UInt32

    struct State: Sendable {
        var machine: ZoneStateMachine
        var closed = false
        var reads = 0
        var writes = 0
        var flushes = 0
        var readFaults: [Int] = []
        var writeFaults: [Int] = []
        var flushFaults: [Int] = []
        /// Zones whose durable row may differ from the image's zone table.
        var dirtyRows: Set<Int> = []
    }

    /// Data of the zones of one lock stripe.
    ///
    /// Data written to a sequential zone goes straight to the backing store: it always lands at
    /// the write pointer, at or after the zone's last flushed write pointer, where nothing durable
    /// lies, so a power loss only has to roll the write pointer back (reads at and beyond it
    /// return the fill pattern, whatever the backing store holds there). Only conventional
    /// zones, whose writes overwrite data that must survive a power loss until the next flush,
    /// keep unflushed data aside.
    struct StripeData: Sendable {
        /// Sequential zones with data in the backing store beyond their flushed end: the next
        /// flush makes it durable (``ZoneRecord/flushedEnd``).
        var unflushed: Set<Int> = []
        /// Unflushed blocks of conventional zones, by absolute block offset.
        var pendingBlocks: [Int: [UInt64: [UInt8]]] = [:]
        /// Memory backing store: chunks by absolute chunk index.
        var chunks: [UInt64: [UInt8]] = [:]
        /// Zones of an image file reset since their file blocks were last punched out: the
        /// discarder punches them in the background, and a write to one of them punches it
        /// first (``EmulatedDevice/punchIfPending(_:zone:)``).
        var discardPending: Set<Int> = []
    }

    final class Stripe: Sendable {
        let data = Mutex(StripeData())
    }

    let state: Mutex<State>
    let stripes: [Stripe]
    let backing: Backing
    /// Serialises writes of the image's zone table so rows land in the order their snapshots
    /// were taken (lock order: stripe → persistLock → state).
    let persistLock = Mutex(())
    /// Punches the file blocks of reset zones out of the image, off the caller's path
    /// (``backingDiscard(_:zone:)``).
    let discarder = DispatchQueue(label: "zonealloc.emulator.discard")

    enum Backing: Sendable {
        case none
        case memory(chunkSize: UInt64)
        case file(FileDescriptor, dataOffset: UInt64)

        var storesData: Bool {
            if case .none = self { return false }
            return true
        }
    }

    init(
        geometry: EmulatedGeometry,
        profile: Profile,
        options: Options,
        path: String,
        backing: Backing,
        records: [ZoneRecord]?,
        imageVersion: UInt32 = EmulatedImageFormat.version
    ) {
        self.geometry = geometry
        self.profile = profile
        self.options = options
        self.path = path
        self.backing = backing
        self.imageVersion = imageVersion
        self.info = DeviceInfo(
            vendorID: geometry.vendorID == EmulatedGeometry.defaultVendorID ? profile.vendorID : geometry.vendorID,
            capacity: geometry.capacity,
            zoneSize: geometry.zoneSize,
            zoneCount: geometry.zoneCount,
            logicalBlockSize: geometry.logicalBlockSize,
            physicalBlockSize: geometry.physicalBlockSize,
            maxOpenZones: ZoneResourceLimit(kernelValue: geometry.maxOpenZones),
            maxActiveZones: ZoneResourceLimit(kernelValue: geometry.maxActiveZones),
            model: .hostManaged,
            maxTransferBytes: geometry.maxTransferBytes ?? profile.defaultMaxTransferBytes
        )
        let machine =
            records.map {
                ZoneStateMachine(
                    geometry: geometry,
                    profile: profile,
                    stickyWriteErrors: options.stickyWriteErrors,
                    records: $0
                )
            } ?? ZoneStateMachine(geometry: geometry, profile: profile, stickyWriteErrors: options.stickyWriteErrors)
        self.state = Mutex(State(machine: machine))
        self.stripes = (0..<min(geometry.zoneCount, 4096)).map { _ in Stripe() }
    }

    /// Creates a memory-backed (or metadata-only) emulated device.
    ///
    /// - Parameters:
    ///   - geometry: zone count, sizes and limits; validated and clamped as the kernel does.
    ///   - profile: the kind of device to reproduce where kinds differ (null_blk by default).
    ///   - storage: `.memory` keeps data, `.metadataOnly` keeps only zone state.
    ///   - options: write cache and error behaviour.
    /// - Throws: ``ZonedStorageError/Code/invalidGeometry`` for a geometry Linux would refuse, or
    ///   one the profile's kind of device cannot have (``EmulatedGeometry/validated(for:)``).
    public convenience init(
        geometry: EmulatedGeometry,
        profile: Profile = .nullBlk,
        storage: Storage = .memory,
        options: Options = Options()
    ) throws(ZonedStorageError) {
        let valid = try geometry.validated(for: profile)
        let backing: Backing =
            switch storage {
            case .memory: .memory(chunkSize: min(valid.zoneSize, 64 << 10))
            case .metadataOnly: .none
            }
        self.init(
            geometry: valid,
            profile: profile,
            options: options,
            path: storage == .memory ? "<memory>" : "<metadata-only>",
            backing: backing,
            records: nil
        )
    }

    deinit {
        if case .file(let fd, _) = backing {
            let closed = state.withLock { $0.closed }
            assert(closed, "leaked open emulated device '\(path)': call close()")
            if !closed { try? fd.close() }
        }
    }

    // MARK: - Helpers

    func stripe(for zone: Int) -> Stripe { stripes[zone % stripes.count] }

    func zoneStart(_ index: Int) -> UInt64 { UInt64(index) * geometry.zoneSize }

    /// Builds the error for a refusal, describing the zone as it is now.
    func error(_ refusal: ZoneRefusal, operation: String, zone index: Int, offset: UInt64?) -> ZonedStorageError {
        let zone = state.withLock { $0.machine.descriptor(index) }
        return ZonedStorageError(
            code: Self.code(for: refusal.errno),
            message: "\(operation) refused on \(path): zone \(index) (\(Self.describe(zone)))"
                + (offset.map { ", offset \($0)" } ?? "") + ": \(refusal.reason)",
            errno: refusal.errno,
            zone: zone,
            offset: offset
        )
    }

    /// The kind of zoned error for an errno.
    static func code(for errno: Errno) -> ZonedStorageError.Code {
        switch errno {
        case .tooManyReferences: .tooManyOpenZones
        case .overflow: .tooManyActiveZones
        case .invalidArgument: .invalidArgument
        case .ioError, .remoteIOError: .ioError
        default: .systemCall
        }
    }

    /// `EMPTY, write pointer 268435456 (+0 of 64 MiB capacity)`.
    static func describe(_ zone: Zone) -> String {
        if zone.type == .conventional { return "conventional" }
        if zone.condition.hasValidWritePointer {
            return
                "\(zone.condition.kernelName), write pointer \(zone.writePointer) (+\(zone.writePointer - zone.start) "
                + "of \(zone.capacity) capacity)"
        }
        return "\(zone.condition.kernelName), no valid write pointer"
    }

    func closedError(_ operation: String) -> ZonedStorageError {
        ZonedStorageError(
            code: .deviceClosed,
            message: "\(operation) on \(path) after close(); open the device again",
            errno: .badFileDescriptor
        )
    }

    /// EINVAL for I/O that is misaligned or leaves the device (O_DIRECT rules, item 22).
    func checkIO(_ operation: String, offset: UInt64, count: Int) throws(ZonedStorageError) {
        let block = UInt64(geometry.logicalBlockSize)
        if offset % block != 0 || UInt64(count) % block != 0 {
            throw ZonedStorageError(
                code: .invalidArgument,
                message: "\(operation) of \(count) bytes at offset \(offset) on \(path) is not aligned to the "
                    + "logical block size \(block); use offsets and lengths that are multiples of \(block)",
                errno: .invalidArgument,
                offset: offset
            )
        }
        if offset > geometry.capacity || UInt64(count) > geometry.capacity - offset {
            throw ZonedStorageError(
                code: .invalidArgument,
                message: "\(operation) of \(count) bytes at offset \(offset) leaves \(path), whose capacity is "
                    + "\(geometry.capacity) bytes",
                errno: .invalidArgument,
                offset: offset
            )
        }
    }

    /// Takes one step of an injected-fault countdown list; true if this operation must fail.
    static func consumeFault(_ faults: inout [Int], count: Int) -> Bool {
        guard let index = faults.firstIndex(of: count) else { return false }
        faults.remove(at: index)
        return true
    }
}
