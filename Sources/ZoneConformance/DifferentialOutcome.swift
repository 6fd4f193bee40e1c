/// How one ``DifferentialOperation`` ended on one device.
public struct DifferentialOutcome: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Success, or the errno the operation failed with.
    public var status: OperationStatus
    /// Where a successful zone append landed.
    public var appendLocation: UInt64?
    /// For a fill: how many bytes were written before the first refused write.
    public var bytesWritten: UInt64?
    /// The device's error message, if the operation failed.
    public var message: String?

    /// Creates an outcome.
    public init(
        status: OperationStatus,
        appendLocation: UInt64? = nil,
        bytesWritten: UInt64? = nil,
        message: String? = nil
    ) {
        self.status = status
        self.appendLocation = appendLocation
        self.bytesWritten = bytesWritten
        self.message = message
    }

    /// Whether the results agree: same status, append location and bytes written (messages may
    /// differ).
    public func matches(_ other: DifferentialOutcome) -> Bool {
        status == other.status && appendLocation == other.appendLocation && bytesWritten == other.bytesWritten
    }

    /// `success, appended at 1052672` or `EIO`.
    public var description: String {
        var text = status.name
        if let appendLocation { text += ", appended at \(appendLocation)" }
        if let bytesWritten { text += ", \(bytesWritten) bytes written" }
        return text
    }
}
