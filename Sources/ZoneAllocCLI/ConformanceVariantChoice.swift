import ArgumentParser
import ZoneConformance

/// `--variant auto|nullblk|zns|zbc` of `zonealloc conformance`: whose expectations apply, and
/// which emulator profile a differential run's reference uses.
enum ConformanceVariantChoice: String, ExpressibleByArgument, CaseIterable, Sendable {
    /// Detect it: an emulated image's profile, else the device's vendor string.
    case auto
    /// null_blk, the reference model.
    case nullblk
    /// NVMe ZNS (QEMU).
    case zns
    /// SCSI ZBC (scsi_debug, SMR disks).
    case zbc

    /// Parses `auto` or a variant name (`nullblk`, `null_blk`, `zns`, `nvme`, `zbc`, `scsi`, `smr`).
    init?(argument: String) {
        if argument.lowercased() == "auto" {
            self = .auto
            return
        }
        guard let variant = DeviceVariant(name: argument) else { return nil }
        switch variant {
        case .nullBlk: self = .nullblk
        case .zns: self = .zns
        case .zbc: self = .zbc
        }
    }

    /// The variant, or nil to detect it.
    var variant: DeviceVariant? {
        switch self {
        case .auto: nil
        case .nullblk: .nullBlk
        case .zns: .zns
        case .zbc: .zbc
        }
    }
}
