import ZonedStorage

/// What `zonealloc device info` reports, in the table and as JSON.
///
/// JSON keys are the property names. The zone limits use the kernel's encoding: a number of zones,
/// `0` for no limit, `null` when the limit is unknown (an unreadable sysfs attribute).
struct DeviceInfoDocument: Codable, Equatable, Sendable {
    /// The device path.
    var path: String
    /// Vendor and model string.
    var vendor: String
    /// Zone model: `host-managed`, `host-aware` or `not-zoned`.
    var model: String
    /// Capacity in bytes.
    var capacity: UInt64
    /// Zone size in bytes.
    var zoneSize: UInt64
    /// Capacity of the sequential zones in bytes (of the first one; `null` without any).
    var zoneCapacity: UInt64?
    /// Number of zones.
    var zoneCount: Int
    /// Number of conventional zones.
    var conventionalZones: Int
    /// Number of sequential zones.
    var sequentialZones: Int
    /// Logical block size in bytes.
    var logicalBlockSize: Int
    /// Physical block size in bytes.
    var physicalBlockSize: Int
    /// Maximum open zones: 0 for no limit, `nil` when unknown.
    var maxOpenZones: Int?
    /// Maximum active zones: 0 for no limit, `nil` when unknown.
    var maxActiveZones: Int?
    /// The emulator profile of an emulated image (`nullblk`, `zns`, `zbc`); `nil` for a real device.
    var profile: String?

    /// Describes `device`, whose zones are `zones`; `profile` is an emulated image's profile.
    init(path: String, info: DeviceInfo, zones: [Zone], profile: String? = nil) {
        self.path = path
        vendor = info.vendorID
        model = info.model.rawValue
        capacity = info.capacity
        zoneSize = info.zoneSize
        zoneCapacity = zones.first(where: \.isSequential)?.capacity
        zoneCount = info.zoneCount
        conventionalZones = zones.count(where: { $0.type == .conventional })
        sequentialZones = zones.count(where: { $0.type.isSequential })
        logicalBlockSize = info.logicalBlockSize
        physicalBlockSize = info.physicalBlockSize
        maxOpenZones = info.maxOpenZones.kernelValue
        maxActiveZones = info.maxActiveZones.kernelValue
        self.profile = profile
    }

    private enum CodingKeys: String, CodingKey {
        case path, vendor, model, capacity, zoneSize, zoneCapacity, zoneCount, conventionalZones
        case sequentialZones, logicalBlockSize, physicalBlockSize, maxOpenZones, maxActiveZones, profile
    }

    /// Encodes every key; optional values as an explicit `null`.
    func encode(to encoder: any Encoder) throws {
        // Optional values are written as an explicit `null`, so the keys are always present.
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(path, forKey: .path)
        try container.encode(vendor, forKey: .vendor)
        try container.encode(model, forKey: .model)
        try container.encode(capacity, forKey: .capacity)
        try container.encode(zoneSize, forKey: .zoneSize)
        try container.encode(zoneCapacity, forKey: .zoneCapacity)
        try container.encode(zoneCount, forKey: .zoneCount)
        try container.encode(conventionalZones, forKey: .conventionalZones)
        try container.encode(sequentialZones, forKey: .sequentialZones)
        try container.encode(logicalBlockSize, forKey: .logicalBlockSize)
        try container.encode(physicalBlockSize, forKey: .physicalBlockSize)
        try container.encode(maxOpenZones, forKey: .maxOpenZones)
        try container.encode(maxActiveZones, forKey: .maxActiveZones)
        try container.encode(profile, forKey: .profile)
    }

    /// The human-readable form: one `label: value` line per field.
    func lines() -> [String] {
        func limit(_ value: Int?) -> String {
            value.map { ZoneResourceLimit(kernelValue: $0).description } ?? "unknown"
        }
        func size(_ bytes: UInt64) -> String { "\(bytes) bytes (\(SizeFormatter.string(bytes)))" }
        var fields: [(String, String)] = [
            ("device", path),
            ("vendor", vendor),
            ("model", model),
            ("capacity", size(capacity)),
            ("zone size", size(zoneSize)),
            ("zone capacity", zoneCapacity.map(size) ?? "-"),
            ("zones", "\(zoneCount)"),
            ("conventional zones", "\(conventionalZones)"),
            ("sequential zones", "\(sequentialZones)"),
            ("logical block size", "\(logicalBlockSize) bytes"),
            ("physical block size", "\(physicalBlockSize) bytes"),
            ("max open zones", limit(maxOpenZones)),
            ("max active zones", limit(maxActiveZones)),
        ]
        if let profile { fields.append(("emulator profile", profile)) }
        let width = fields.map(\.0.count).max() ?? 0
        return fields.map { label, value in
            label + ":" + String(repeating: " ", count: width - label.count + 1) + value
        }
    }
}
