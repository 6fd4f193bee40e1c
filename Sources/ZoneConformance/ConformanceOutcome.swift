/// The result of one conformance check.
///
/// Encoded as `{"status": "pass"}`, `{"status": "fail", "expected": {…}, "observed": {…}}` or
/// `{"status": "skip", "reason": "…"}`.
public enum ConformanceOutcome: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The device behaved as the checklist requires for its variant.
    case pass
    /// The device did not: the first step that went wrong, what was expected and what happened.
    case fail(expected: ConformanceExpectation, observed: ConformanceObservation)
    /// The check could not run on this device; the reason says why (for example "device reports
    /// no active-zone limit").
    case skip(reason: String)

    /// Whether this is ``pass``.
    public var isPass: Bool {
        if case .pass = self { return true }
        return false
    }

    /// Whether this is ``fail(expected:observed:)``.
    public var isFailure: Bool {
        if case .fail = self { return true }
        return false
    }

    /// Whether this is ``skip(reason:)``.
    public var isSkip: Bool {
        if case .skip = self { return true }
        return false
    }

    /// `pass`, `fail`, or `skip`.
    public var status: String {
        switch self {
        case .pass: "pass"
        case .fail: "fail"
        case .skip: "skip"
        }
    }

    /// One line: `pass`, `skip: <reason>`, or `fail: expected <…>; observed <…>`.
    public var description: String {
        switch self {
        case .pass: "pass"
        case .skip(let reason): "skip: \(reason)"
        case .fail(let expected, let observed): "fail: expected \(expected); observed \(observed)"
        }
    }

    private enum CodingKeys: String, CodingKey {
        case status, expected, observed, reason
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let status = try container.decode(String.self, forKey: .status)
        switch status {
        case "pass":
            self = .pass
        case "fail":
            self = .fail(
                expected: try container.decode(ConformanceExpectation.self, forKey: .expected),
                observed: try container.decode(ConformanceObservation.self, forKey: .observed)
            )
        case "skip":
            self = .skip(reason: try container.decode(String.self, forKey: .reason))
        default:
            throw DecodingError.dataCorruptedError(
                forKey: .status,
                in: container,
                debugDescription: "unknown outcome status '\(status)': expected pass, fail or skip"
            )
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(status, forKey: .status)
        switch self {
        case .pass:
            break
        case .fail(let expected, let observed):
            try container.encode(expected, forKey: .expected)
            try container.encode(observed, forKey: .observed)
        case .skip(let reason):
            try container.encode(reason, forKey: .reason)
        }
    }
}
