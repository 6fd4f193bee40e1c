import SystemPackage
import Testing
import ZoneAllocTestSupport
import ZonedStorage

/// Runs `body`, which must throw a ``ZonedStorageError`` carrying `errno` and, when `zone` is
/// given, describing that zone. Returns the error for further checks.
@discardableResult
func expectRefusal(
    _ errno: Errno,
    zone: Int? = nil,
    _ comment: Comment? = nil,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws(ZonedStorageError) -> Void
) -> ZonedStorageError? {
    let thrown = #expect(throws: ZonedStorageError.self, comment, sourceLocation: sourceLocation) {
        try body()
    }
    guard let error = thrown else { return nil }
    let got = error.errno.map(ZonedStorageError.symbolicName) ?? "no errno"
    #expect(
        error.errno == errno,
        "\(comment.map { "\($0): " } ?? "")got \(got), expected \(ZonedStorageError.symbolicName(errno)): \(error.message)",
        sourceLocation: sourceLocation
    )
    if let zone {
        #expect(
            error.zone?.index == zone,
            "the error names zone \(error.zone.map { "\($0.index)" } ?? "none"), expected \(zone)",
            sourceLocation: sourceLocation
        )
    }
    return error
}

/// `ResourceUsage` from counts of implicitly open, explicitly open and closed zones.
func usage(implicit: Int = 0, explicit: Int = 0, closed: Int = 0) -> EmulatedDevice.ResourceUsage {
    EmulatedDevice.ResourceUsage(implicitOpen: implicit, explicitOpen: explicit, closed: closed)
}

extension EmulatedDevice {
    /// Zone `index` as a report shows it, without refreshing sticky write errors (item 25).
    func peek(_ index: Int) -> Zone { inspectZones()[index] }

    /// The logical block size in bytes.
    var blockSize: Int { info.logicalBlockSize }

    /// Writes `blocks` logical blocks of test data at the write pointer of sequential zone
    /// `index` and returns the bytes written.
    @discardableResult
    func writeBlocks(_ index: Int, _ blocks: Int = 1, tag: UInt64 = 0) throws(ZonedStorageError) -> [UInt8] {
        let wp = peek(index).writePointer
        let bytes = TestData.bytes(tag: tag &+ wp, count: blocks * blockSize)
        try write(bytes, at: wp)
        return bytes
    }

    /// Writes zone `index` up to its capacity.
    func fill(_ index: Int) throws(ZonedStorageError) {
        let zone = peek(index)
        try write(TestData.bytes(tag: UInt64(index), count: Int(zone.remainingCapacity)), at: zone.writePointer)
    }

    /// The conditions of every zone.
    var conditions: [ZoneCondition] { inspectZones().map(\.condition) }

    /// Problems of the current state against the geometry (see `ZoneInvariants`), without
    /// refreshing sticky errors.
    var invariantProblems: [String] {
        ZoneInvariants.problems(in: inspectZones(), info: info, usage: resourceUsage())
    }
}
