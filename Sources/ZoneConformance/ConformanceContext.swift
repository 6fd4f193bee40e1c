public import ZonedStorage

/// What a running check sees: the device, its variant, the zones it may use, and helpers that
/// drive the device and compare every step with the checklist.
///
/// The runner creates one context per run. Checks use only ``sequentialZones`` (the first few
/// usable sequential zones, "working zones") and ``conventionalZones``; the runner resets every
/// zone a check left non-empty before the next check starts. I/O is done in multiples of
/// ``ioUnit`` and kept small, except where a zone must be filled (512 KiB writes).
///
/// The helpers (internal to this module) throw ``ConformanceStop`` with a
/// ``ConformanceOutcome/fail(expected:observed:)`` at the first step whose result is not one the
/// checklist allows for ``variant``.
public final class ConformanceContext {
    /// The device under test.
    public let device: any ZonedDevice
    /// What the device said about itself.
    public let info: DeviceInfo
    /// The variant whose expectations apply.
    public let variant: DeviceVariant
    /// The device's conventional zones (possibly none).
    public let conventionalZones: [Zone]
    /// The working zones: the first usable (not read-only or offline) sequential zones, as
    /// reported when the run started.
    public let sequentialZones: [Zone]
    /// Sequential zones that were READONLY or OFFLINE when the run started.
    public let faultyZones: [Zone]
    /// The write unit: the physical block size (the zone write granularity of 512e disks,
    /// item 23) when it divides the zone capacity, otherwise the logical block size.
    public let ioUnit: Int
    /// How to make zones read-only or offline, if the device offers a way.
    public let injector: ZoneConditionInjector?
    /// Why the reported open-zone limit is not trusted (item 7's 128 artefact), or nil.
    public let untrustedOpenLimit: String?

    /// Remarks of the current check.
    private(set) var notes: [String] = []
    /// Zones the current check made read-only or offline, to be restored afterwards.
    var injectedZones: Set<Int> = []
    /// An aligned buffer of up to 512 KiB of pattern data for filling zones: large writes, but no
    /// larger than QEMU NVMe's `max_sectors_kb`, so the kernel does not split them (zoned NVMe
    /// queues often run without the mq-deadline scheduler that keeps split writes in order).
    let chunk: UnsafeMutableRawBufferPointer

    init(
        device: any ZonedDevice,
        variant: DeviceVariant,
        conventionalZones: [Zone],
        sequentialZones: [Zone],
        faultyZones: [Zone],
        injector: ZoneConditionInjector?,
        untrustedOpenLimit: String?
    ) {
        self.device = device
        self.info = device.info
        self.variant = variant
        self.conventionalZones = conventionalZones
        self.sequentialZones = sequentialZones
        self.faultyZones = faultyZones
        self.injector = injector
        self.untrustedOpenLimit = untrustedOpenLimit
        let logical = max(info.logicalBlockSize, 1)
        let physical = info.physicalBlockSize
        let capacity = sequentialZones.first?.capacity ?? info.zoneSize
        if physical > logical, physical % logical == 0, capacity % UInt64(physical) == 0 {
            self.ioUnit = physical
        } else {
            self.ioUnit = logical
        }
        let size = Int(min(UInt64(512 << 10), max(capacity, UInt64(ioUnit))))
        let rounded = max(ioUnit, size / ioUnit * ioUnit)
        self.chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: rounded, alignment: max(4096, ioUnit))
        let pattern = Self.pattern(count: rounded, seed: 0xC5)
        chunk.copyBytes(from: pattern)
    }

    deinit {
        chunk.deallocate()
    }

    /// Records a remark for the current check's result (for example which of several valid
    /// results the device gave).
    public func note(_ text: String) {
        notes.append(text)
    }

    /// Starts a new check: forgets the previous check's remarks.
    func beginCheck() {
        notes = []
    }

    /// Deterministic test data that is neither all zeros nor all `0xFF`, different per seed.
    static func pattern(count: Int, seed: UInt8) -> [UInt8] {
        (0..<count).map { i in
            let value = (i &* 31) ^ (i >> 8) &+ Int(seed) &* 97 &+ 0x11
            return UInt8(truncatingIfNeeded: value)
        }
    }
}
