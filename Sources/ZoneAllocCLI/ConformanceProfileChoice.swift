import ArgumentParser
import ZonedStorage

/// An emulator profile named on the command line: `zonealloc device create --profile
/// nullblk|zns|zbc` (the conformance files hold the profile and variant arguments).
enum ConformanceProfileChoice: String, ExpressibleByArgument, CaseIterable, Sendable {
    /// null_blk, the default.
    case nullblk
    /// QEMU NVMe ZNS.
    case zns
    /// scsi_debug SCSI ZBC.
    case zbc

    /// Parses a profile name (`nullblk`, `null_blk`, `zns`, `nvme`, `zbc`, `scsi`, `smr`).
    init?(argument: String) {
        guard let profile = EmulatedDevice.Profile(name: argument) else { return nil }
        self.init(profile)
    }

    /// The choice naming `profile`.
    init(_ profile: EmulatedDevice.Profile) {
        switch profile {
        case .nullBlk: self = .nullblk
        case .zns: self = .zns
        case .zbc: self = .zbc
        }
    }

    /// The profile.
    var profile: EmulatedDevice.Profile {
        switch self {
        case .nullblk: .nullBlk
        case .zns: .zns
        case .zbc: .zbc
        }
    }
}
