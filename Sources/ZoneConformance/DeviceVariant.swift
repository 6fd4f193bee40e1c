public import ZonedStorage

/// A kind of Linux zoned block device whose results legitimately differ from the reference model
/// (checklist item 79). The raw values are the names the command line and the emulator profiles
/// use.
///
/// Checks expect the reference result (`nullBlk`) unless the checklist lists a different valid
/// result for the device's variant; the properties below say where the variants differ.
public enum DeviceVariant: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    /// Mainline null_blk with `zoned=1`: the reference model.
    case nullBlk = "nullblk"
    /// NVMe Zoned Namespace, as QEMU's `hw/nvme` emulates it.
    case zns
    /// SCSI ZBC host-managed (SMR), as scsi_debug `zbc=host-managed` emulates it.
    case zbc

    /// Parses a variant name: `nullblk`/`null_blk`/`null-blk`, `zns`/`nvme`, `zbc`/`scsi`/`smr`,
    /// case-insensitively.
    public init?(name: String) {
        switch name.lowercased().filter({ $0 != "_" && $0 != "-" }) {
        case "nullblk", "reference": self = .nullBlk
        case "zns", "nvme", "nvmezns": self = .zns
        case "zbc", "scsi", "smr", "scsizbc", "zac": self = .zbc
        default: return nil
        }
    }

    /// A short human-readable name.
    public var displayName: String {
        switch self {
        case .nullBlk: "null_blk (reference)"
        case .zns: "NVMe ZNS"
        case .zbc: "SCSI ZBC"
        }
    }

    public var description: String { rawValue }

    // MARK: - Emulator profiles

    /// The variant an emulated device of `profile` reproduces.
    public init(_ profile: EmulatedDevice.Profile) {
        switch profile {
        case .nullBlk: self = .nullBlk
        case .zns: self = .zns
        case .zbc: self = .zbc
        }
    }

    /// The emulator profile that reproduces this variant.
    public var profile: EmulatedDevice.Profile {
        switch self {
        case .nullBlk: .nullBlk
        case .zns: .zns
        case .zbc: .zbc
        }
    }

    // MARK: - Detection

    /// The variant of `device`: an emulated device's ``ZonedStorage/EmulatedDevice/profile``,
    /// otherwise ``detect(from:)`` on what the device says about itself.
    public static func detect(for device: any ZonedDevice) -> DeviceVariant {
        if let emulated = device as? EmulatedDevice { return DeviceVariant(emulated.profile) }
        return detect(from: device.info)
    }

    /// Why ``detect(for:)`` chose what it chose, for reports.
    public static func detectionReason(for device: any ZonedDevice) -> String {
        if let emulated = device as? EmulatedDevice {
            return "an emulated device with the \(emulated.profile) profile"
        }
        return detectionReason(for: device.info)
    }

    /// Guesses the variant from what the device says about itself.
    ///
    /// Heuristics on ``DeviceInfo/vendorID``: the vendor strings of the emulator's profiles
    /// (``ZonedStorage/EmulatedDevice/Profile/vendorID``: `zonealloc emulated NVMe ZNS` → ``zns``,
    /// `zonealloc emulated SCSI ZBC` → ``zbc``); `QEMU NVMe Ctrl` or any vendor naming NVMe →
    /// ``zns``; `Linux scsi_debug`, any vendor containing `scsi`, or a SATA (`ATA …`) disk →
    /// ``zbc``; anything else (null_blk reports `Unknown`, the emulator's nullblk profile
    /// `zonealloc emulated`) → ``nullBlk``. Pass the variant explicitly when the guess is wrong.
    public static func detect(from info: DeviceInfo) -> DeviceVariant {
        if let profile = EmulatedDevice.Profile.allCases.first(where: { $0.vendorID == info.vendorID }) {
            return DeviceVariant(profile)
        }
        let vendor = info.vendorID.lowercased()
        if vendor.contains("nvme") { return .zns }
        if vendor.contains("scsi") || vendor.hasPrefix("ata ") { return .zbc }
        return .nullBlk
    }

    /// Why ``detect(from:)`` chose what it chose, for reports.
    public static func detectionReason(for info: DeviceInfo) -> String {
        let variant = detect(from: info)
        if let profile = EmulatedDevice.Profile.allCases.first(where: { $0.vendorID == info.vendorID }) {
            return "vendor '\(info.vendorID)' is the emulator's \(profile) profile"
        }
        switch variant {
        case .nullBlk:
            return "vendor '\(info.vendorID)' names neither NVMe nor SCSI: assuming the null_blk reference model"
        case .zns:
            return "vendor '\(info.vendorID)' names an NVMe controller"
        case .zbc:
            return "vendor '\(info.vendorID)' names a SCSI/ATA disk"
        }
    }

    // MARK: - Where the variants differ

    /// The errnos of a refused write or zone operation: EIO, and on SCSI also EREMOTEIO (the
    /// sense data of a refused command becomes `BLK_STS_TARGET`; refusals made by the block layer
    /// itself stay EIO).
    public var ioErrorStatuses: [OperationStatus] {
        self == .zbc ? [.ioError, .remoteIOError] : [.ioError]
    }

    /// OPEN of a FULL zone succeeds and leaves it FULL (ZBC), instead of failing with EIO (item 35).
    public var opensFullZones: Bool { self == .zbc }

    /// CLOSE of an EMPTY zone succeeds as a no-op (ZBC), instead of failing with EIO (item 39).
    public var closesEmptyZones: Bool { self == .zbc }

    /// CLOSE of a FULL zone succeeds as a no-op (ZBC), instead of failing with EIO (item 40).
    public var closesFullZones: Bool { self == .zbc }

    /// CLOSE of an open zone whose write pointer is at its start leaves it CLOSED (QEMU ZNS)
    /// instead of EMPTY (item 37).
    public var closingUnwrittenZoneLeavesItClosed: Bool { self == .zns }

    /// With open and active limits both reached, a write to a CLOSED zone succeeds by closing an
    /// implicitly open zone (QEMU ZNS), instead of failing with ETOOMANYREFS (item 60).
    public var evictsAtActiveLimit: Bool { self == .zns }

    /// Whether FINISH of an EMPTY or CLOSED zone checks the open and active limits: `true` for
    /// null_blk, `false` for QEMU ZNS (which never checks), `nil` for ZBC, where a device may do
    /// either (items 42, 43).
    public var finishChecksResources: Bool? {
        switch self {
        case .nullBlk: true
        case .zns: false
        case .zbc: nil
        }
    }
}
