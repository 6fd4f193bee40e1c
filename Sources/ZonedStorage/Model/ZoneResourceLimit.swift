/// A device limit on open or active zones, as `queue/max_open_zones` and `queue/max_active_zones`.
///
/// The kernel reports 0 for "no limit"; a device whose sysfs attribute cannot be read has an
/// unknown limit, which is not the same thing: the allocator must then assume a default cap.
///
/// Encoded (JSON) as the kernel's number: the limit, `0` for unlimited, `null` for unknown.
public enum ZoneResourceLimit: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The device enforces no limit (reported as 0).
    case unlimited
    /// The device enforces at most this many zones (> 0).
    case limit(Int)
    /// The limit could not be determined.
    case unknown

    /// Creates a limit from the kernel's encoding, where 0 means unlimited.
    public init(kernelValue: Int) {
        self = kernelValue == 0 ? .unlimited : .limit(kernelValue)
    }

    /// The kernel's encoding: the limit, or 0 for unlimited; `nil` for unknown.
    public var kernelValue: Int? {
        switch self {
        case .unlimited: 0
        case .limit(let n): n
        case .unknown: nil
        }
    }

    /// The limit as a number, or `nil` when unlimited or unknown.
    public var value: Int? {
        if case .limit(let n) = self { return n }
        return nil
    }

    public var description: String {
        switch self {
        case .unlimited: "no limit"
        case .limit(let n): "\(n)"
        case .unknown: "unknown"
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .unknown
            return
        }
        let value = try container.decode(Int.self)
        guard value >= 0 else {
            throw DecodingError.dataCorruptedError(
                in: container,
                debugDescription: "a zone limit is 0 (unlimited), a positive count or null (unknown), not \(value)"
            )
        }
        self.init(kernelValue: value)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let kernelValue { try container.encode(kernelValue) } else { try container.encodeNil() }
    }
}
