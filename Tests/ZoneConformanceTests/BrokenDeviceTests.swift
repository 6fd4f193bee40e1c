import SystemPackage
import Testing
import ZoneConformance
import ZonedStorage

/// A device that lies, to show that checks catch it with expected-vs-observed detail.
final class BrokenDevice: ZonedDevice {
    enum Defect: Sendable {
        /// Reports implicitly open zones with their write pointer one 4 KiB block too far.
        case writePointerAhead
        /// Refuses writes with EINVAL where the kernel says EIO.
        case wrongErrno
    }

    let base: EmulatedDevice
    let defect: Defect

    init(base: EmulatedDevice, defect: Defect) {
        self.base = base
        self.defect = defect
    }

    var info: DeviceInfo { base.info }
    var path: String { "broken:\(base.path)" }

    func reportZones(offset: UInt64, length: UInt64, filter: ZoneReportFilter) throws(ZonedStorageError) -> [Zone] {
        var zones = try base.reportZones(offset: offset, length: length, filter: filter)
        if defect == .writePointerAhead {
            for i in zones.indices where zones[i].condition == .implicitOpen { zones[i].writePointer += 4096 }
        }
        return zones
    }

    func manageZones(_ operation: ZoneOperation, offset: UInt64, length: UInt64) throws(ZonedStorageError) {
        try base.manageZones(operation, offset: offset, length: length)
    }

    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws(ZonedStorageError) {
        try base.read(into: buffer, at: offset)
    }

    func write(_ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws(ZonedStorageError) {
        do {
            try base.write(bytes, at: offset)
        } catch {
            if defect == .wrongErrno, error.errno == .ioError {
                throw ZonedStorageError(
                    code: .invalidArgument,
                    message: "broken: \(error.message)",
                    errno: .invalidArgument
                )
            }
            throw error
        }
    }

    func append(_ bytes: UnsafeRawBufferPointer, toZoneAt zoneStart: UInt64) throws(ZonedStorageError) -> UInt64 {
        try base.append(bytes, toZoneAt: zoneStart)
    }

    func flush() throws(ZonedStorageError) { try base.flush() }
    func close() throws(ZonedStorageError) { try base.close() }
}

@Suite("Checks catch a broken device")
struct BrokenDeviceTests {
    @Test("a lying write pointer fails item 12 with the expected and observed write pointer")
    func lyingWritePointer() throws {
        let device = BrokenDevice(base: try EmulatedConformanceTests.makeDevice(), defect: .writePointerAhead)
        defer { try? device.close() }
        let report = try ConformanceRunner(device: device).run(try ConformanceSuite.select([12, 13, 31]))
        let result = try #require(report.result(12))
        guard case .fail(let expected, let observed) = result.outcome else {
            Issue.record("item 12 did not fail: \(result.outcome)")
            return
        }
        let zone = try #require(expected.zone)
        let start = try #require(expected.zoneStart)
        #expect(expected.conditions == [.implicitOpen])
        #expect(expected.writePointers == [start + 4096])
        #expect(observed.zone == zone)
        #expect(observed.condition == .implicitOpen)
        #expect(observed.writePointer == start + 8192)
        #expect(result.outcome.description.contains("wp +4096"))
        #expect(result.outcome.description.contains("wp +8192"))
        #expect(report.result(13)?.outcome.isFailure == true)
        // OPEN of an EMPTY zone involves no IMP_OPEN zone: the lie does not show.
        #expect(report.result(31)?.outcome == .pass)
        #expect(!report.isSuccess)
    }

    @Test("a wrong errno fails the write-rule items with the expected and observed errno")
    func wrongErrno() throws {
        let device = BrokenDevice(base: try EmulatedConformanceTests.makeDevice(), defect: .wrongErrno)
        defer { try? device.close() }
        let report = try ConformanceRunner(device: device).run(try ConformanceSuite.select([12, 15, 16, 18]))
        #expect(report.result(12)?.outcome == .pass)
        for number in [15, 16, 18] {
            let result = try #require(report.result(number))
            guard case .fail(let expected, let observed) = result.outcome else {
                Issue.record("item \(number) did not fail: \(result.outcome)")
                continue
            }
            #expect(expected.statuses == [.ioError])
            #expect(observed.status == .invalidArgument)
            #expect(observed.status?.name == "EINVAL")
            #expect(observed.detail?.contains("broken:") == true)
            #expect(result.outcome.description.contains("EIO"))
        }
        #expect(report.summary.failed == 3)
    }

    @Test("expecting NVMe ZNS behaviour from a null_blk-like device fails items 37 and 79")
    func wrongVariant() throws {
        let device = try EmulatedConformanceTests.makeDevice()
        defer { try? device.close() }
        let report = try ConformanceRunner(device: device, options: .init(variant: .zns)).run(
            try ConformanceSuite.select([35, 37, 79])
        )
        #expect(report.variant == .zns)
        #expect(report.variantSource == "set explicitly")
        #expect(report.result(35)?.outcome == .pass)
        guard case .fail(let expected, let observed)? = report.result(37)?.outcome else {
            Issue.record("item 37 did not fail: \(String(describing: report.result(37)))")
            return
        }
        #expect(expected.conditions == [.closed])
        #expect(observed.condition == .empty)
        guard case .fail(_, let family)? = report.result(79)?.outcome else {
            Issue.record("item 79 did not fail")
            return
        }
        #expect(family.detail?.contains("nullblk") == true)
    }
}
