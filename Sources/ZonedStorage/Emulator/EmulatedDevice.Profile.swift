public import SystemPackage

extension EmulatedDevice {
    /// Which kind of Linux zoned block device an ``EmulatedDevice`` reproduces where the kinds
    /// legitimately differ (checklist item 79, `shared/docs/qemu-zoned-notes.md`).
    ///
    /// The profile is stored in the image, so a reopened image keeps it. Everything not listed
    /// here is the same for every profile (the null_blk reference model).
    ///
    /// | behaviour | ``nullBlk`` | ``zns`` | ``zbc`` |
    /// |---|---|---|---|
    /// | errno of a write or zone operation the device refuses (items 15–19, 23, 47) | EIO | EIO | EREMOTEIO |
    /// | OPEN of a FULL zone (item 35) | EIO | EIO | success, stays FULL |
    /// | CLOSE of an EMPTY / FULL zone (items 39, 40) | EIO | EIO | success, no change |
    /// | CLOSE of an open zone whose wp is at its start (item 37) | EMPTY | CLOSED | EMPTY |
    /// | FINISH of an EMPTY / CLOSED zone checks the limits (items 42, 43) | yes | no | no |
    /// | implicitly open zone closed to make room (item 56) | round robin | the oldest | the lowest-numbered |
    /// | that closing at the active limit (items 58, 60) | never | always, before the limit check | — |
    /// | data at and beyond the write pointer (item 65) | `0xFF` | zeros | zeros |
    /// | conventional zones / capacity < size / active limit (item 79) | allowed | no conventional zones | capacity = size, no active limit |
    /// | write cache the kernel reports (``writeCache``) | write through | write back | write back |
    /// | largest request, `max_sectors` (``defaultMaxTransferBytes``) | 255 sectors | 512 KiB | 4 MiB |
    ///
    /// Sources: null_blk `drivers/block/null_blk/zoned.c`; QEMU `hw/nvme/ctrl.c`
    /// (`nvme_zrm_open_flags`, `nvme_zrm_auto_transition_zone`, `nvme_zrm_close`,
    /// `nvme_zrm_finish`); scsi_debug `drivers/scsi/scsi_debug.c` of the Linux 6.1 era
    /// (`check_zbc_access_params`, `resp_open_zone`, `zbc_close_zone`, `zbc_finish_zone`,
    /// `zbc_close_imp_open_zone`, `zbc_rwp_zone`), and the measurements of
    /// `qemu-zoned-notes.md` (errnos, close of an unwritten zone, write cache, read results).
    public enum Profile: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
        /// Mainline null_blk with `zoned=1`: the reference model, and the default.
        case nullBlk = "nullblk"
        /// An NVMe Zoned Namespace as QEMU's `hw/nvme` emulates it (`zoned.auto_transition=on`).
        case zns
        /// A SCSI ZBC host-managed disk (SMR) as scsi_debug `zbc=managed` emulates it.
        case zbc

        /// Parses a profile name: `nullblk` (`null_blk`, `null-blk`), `zns` (`nvme`), `zbc`
        /// (`scsi`, `smr`), case-insensitively.
        public init?(name: String) {
            switch name.lowercased().filter({ $0 != "_" && $0 != "-" }) {
            case "nullblk": self = .nullBlk
            case "zns", "nvme", "nvmezns": self = .zns
            case "zbc", "scsi", "smr", "scsizbc": self = .zbc
            default: return nil
            }
        }

        public var description: String { rawValue }

        /// A short human-readable name: `null_blk`, `NVMe ZNS (QEMU)`, `SCSI ZBC (scsi_debug)`.
        public var displayName: String {
            switch self {
            case .nullBlk: "null_blk"
            case .zns: "NVMe ZNS (QEMU)"
            case .zbc: "SCSI ZBC (scsi_debug)"
            }
        }

        /// The vendor string of a device of this profile whose geometry keeps the default
        /// ``EmulatedGeometry/defaultVendorID``. It names the device kind, so that tools that
        /// guess the kind from the vendor (as `DeviceVariant.detect(from:)` does, like the
        /// `QEMU NVMe Ctrl` and `Linux scsi_debug` strings of the real devices) guess right.
        public var vendorID: String {
            switch self {
            case .nullBlk: EmulatedGeometry.defaultVendorID
            case .zns: EmulatedGeometry.defaultVendorID + " NVMe ZNS"
            case .zbc: EmulatedGeometry.defaultVendorID + " SCSI ZBC"
            }
        }

        /// The write cache the kernel reports for this kind of device (`queue/write_cache`):
        /// null_blk `write through`, QEMU NVMe and scsi_debug `write back` (qemu-zoned-notes.md,
        /// "Device parameters seen in the guest"). ``Options/init(profile:)`` uses it;
        /// ``Options/init(writeCache:stickyWriteErrors:writebackThreshold:)`` keeps its volatile
        /// default for every profile.
        public var writeCache: WriteCacheMode {
            self == .nullBlk ? .writeThrough : .volatile
        }

        /// The largest request the kernel sends a device of this kind unless the geometry says
        /// otherwise (``EmulatedGeometry/maxTransferBytes``), as measured in the QEMU harness
        /// (qemu-zoned-notes.md, "Device parameters seen in the guest"; exactly by `BLKSECTGET`):
        /// null_blk 255 sectors (130560 bytes, `BLK_SAFE_MAX_SECTORS`; sysfs rounds it down to
        /// `max_sectors_kb` 127), QEMU NVMe 512 KiB (`mdts=7` with 4 KiB pages), scsi_debug
        /// 4 MiB (its optimal transfer length of 1024 blocks of 4 KiB). Longer writes are split
        /// (``BlockLayerRequests``). Rounded down to the logical block size when applied.
        public var defaultMaxTransferBytes: UInt64 {
            switch self {
            case .nullBlk: 255 * 512
            case .zns: 512 << 10
            case .zbc: 4 << 20
            }
        }

        /// The errno of a write or zone operation the device itself refuses: EIO for null_blk
        /// and NVMe, EREMOTEIO for SCSI, whose refusals (ILLEGAL REQUEST sense data such as
        /// UNALIGNED WRITE COMMAND or INVALID FIELD IN CDB) complete as `BLK_STS_TARGET`
        /// (qemu-zoned-notes.md, "Zone operations and error behaviour"). Refusals made by the
        /// kernel in front of the device (sticky write errors, zone append, which the SCSI disk
        /// driver emulates) stay EIO, as do read-only and offline zones.
        public var refusalErrno: Errno {
            self == .zbc ? .remoteIOError : .ioError
        }

        /// OPEN of a FULL zone succeeds and leaves it FULL (scsi_debug `resp_open_zone`).
        public var opensFullZones: Bool { self == .zbc }

        /// CLOSE of an EMPTY or FULL zone succeeds without changing it (scsi_debug
        /// `zbc_close_zone` ignores zones that are not open).
        public var closesZonesThatAreNotOpen: Bool { self == .zbc }

        /// CLOSE of an open zone whose write pointer is at its start leaves it CLOSED and active
        /// (QEMU `nvme_zrm_close`), where null_blk and scsi_debug make it EMPTY.
        public var closingUnwrittenZoneLeavesItClosed: Bool { self == .zns }

        /// FINISH of an EMPTY or CLOSED zone first checks the active and open limits as an
        /// implicit open would (null_blk `null_finish_zone`); QEMU's `nvme_zrm_finish` and
        /// scsi_debug's `zbc_finish_zone` check nothing.
        public var finishChecksResources: Bool { self == .nullBlk }

        /// The byte that reads return at and beyond a zone's write pointer: null_blk fills with
        /// `0xFF`; QEMU writes zeros over a reset zone and scsi_debug clears it (checklist
        /// item 65).
        public var beyondWritePointerFill: UInt8 { self == .nullBlk ? 0xFF : 0x00 }

        /// Why `geometry` cannot belong to a device of this profile, or nil.
        func problem(with geometry: EmulatedGeometry) -> String? {
            switch self {
            case .nullBlk:
                return nil
            case .zns:
                guard geometry.conventionalZones == 0 else {
                    return "an NVMe ZNS namespace has no conventional zones (checklist item 79), but "
                        + "\(geometry.conventionalZones) were requested; use 0 conventional zones, or the nullblk "
                        + "or zbc profile"
                }
                return nil
            case .zbc:
                guard geometry.zoneCapacity == geometry.zoneSize else {
                    return "SCSI ZBC disks report a zone capacity equal to the zone size (checklist item 79), but "
                        + "capacity \(geometry.zoneCapacity) of zone size \(geometry.zoneSize) was requested; leave "
                        + "the capacity at the zone size, or use the nullblk or zns profile"
                }
                guard geometry.maxActiveZones == 0 else {
                    return "the Linux SCSI disk driver reports no active-zone limit (checklist item 79), but a limit "
                        + "of \(geometry.maxActiveZones) was requested; use 0 (no limit), or the nullblk or zns profile"
                }
                return nil
            }
        }

        /// The profile's number in the image header (format versions 2 and 3).
        var imageCode: UInt32 {
            switch self {
            case .nullBlk: 0
            case .zns: 1
            case .zbc: 2
            }
        }

        /// The profile with image header number `code`.
        init?(imageCode code: UInt32) {
            guard let profile = Self.allCases.first(where: { $0.imageCode == code }) else { return nil }
            self = profile
        }
    }
}
