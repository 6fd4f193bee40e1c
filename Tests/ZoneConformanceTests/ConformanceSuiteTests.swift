import Foundation
import Testing
import ZoneConformance
import ZonedStorage

/// The whole suite on fresh emulated devices shaped like the null_blk of the QEMU guest.
@Suite("Conformance suite on the emulated device")
struct EmulatedConformanceTests {
    /// 16 zones of 1 MiB, 2 conventional, max open 4, max active 6, 4 KiB blocks.
    static func makeDevice(capacity: UInt64? = nil) throws -> EmulatedDevice {
        try EmulatedDevice(
            geometry: EmulatedGeometry(
                zoneCount: 16,
                zoneSize: 1 << 20,
                zoneCapacity: capacity,
                conventionalZones: 2,
                logicalBlockSize: 4096,
                maxOpenZones: 4,
                maxActiveZones: 6
            )
        )
    }

    @Test("every applicable check passes and at least 60 run", arguments: [nil, UInt64(768 << 10)])
    func wholeSuitePasses(capacity: UInt64?) throws {
        let device = try Self.makeDevice(capacity: capacity)
        defer { try? device.close() }
        let runner = ConformanceRunner(device: device, options: .init(injector: .emulated(device)))
        #expect(runner.variant == .nullBlk)
        let report = try runner.run()
        for result in report.results where result.outcome.isFailure {
            Issue.record("item \(result.number) \(result.title): \(result.outcome)")
        }
        #expect(report.isSuccess)
        #expect(report.summary.ran >= 60, "only \(report.summary.ran) checks ran: \(report.summary)")
        #expect(report.results.count == ConformanceSuite.checks.count)
        let skipped = report.results.filter { $0.outcome.isSkip }.map(\.number)
        if capacity == nil {
            #expect(skipped == [19, 23, 72, 73, 74])
        } else {
            #expect(skipped == [20, 23])
        }
    }

    @Test("an image opened like the CLI opens it, write-through and without sticky write errors, passes")
    func imageWithOtherOptions() throws {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("conformance-\(UUID().uuidString).img").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let options = EmulatedDevice.Options(writeCache: .writeThrough, stickyWriteErrors: false)
        let created = try EmulatedDevice.create(
            at: path,
            geometry: EmulatedGeometry(
                zoneCount: 16,
                zoneSize: 1 << 20,
                conventionalZones: 2,
                logicalBlockSize: 4096,
                maxOpenZones: 4,
                maxActiveZones: 6
            ),
            options: options
        )
        try created.close()
        let device = try ZonedDevices.open(path, options: options)
        defer { try? device.close() }
        let emulated = try #require(device as? EmulatedDevice)
        let report = try ConformanceRunner(device: device, options: .init(injector: .emulated(emulated))).run()
        for result in report.results where result.outcome.isFailure {
            Issue.record("item \(result.number) \(result.title): \(result.outcome)")
        }
        #expect(report.summary.ran >= 60)
        #expect(report.path == path)
        #expect(report.result(25)?.notes.contains { $0.contains("no sticky error") } == true)
    }

    @Test("the run leaves every sequential zone EMPTY and none open")
    func runLeavesZonesReset() throws {
        let device = try Self.makeDevice()
        defer { try? device.close() }
        _ = try ConformanceRunner(device: device, options: .init(injector: .emulated(device))).run()
        let zones = try device.reportZones()
        #expect(zones.filter(\.isSequential).allSatisfy { $0.condition == .empty })
        #expect(device.resourceUsage().active == 0)
    }

    @Test("without an injector the READONLY / OFFLINE items are skipped with a reason")
    func faultItemsNeedAnInjector() throws {
        let device = try Self.makeDevice()
        defer { try? device.close() }
        let report = try ConformanceRunner(device: device).run(try ConformanceSuite.select([48, 69, 70, 71]))
        #expect(report.summary.skipped == 4)
        for result in report.results {
            guard case .skip(let reason) = result.outcome else {
                Issue.record("item \(result.number) was not skipped: \(result.outcome)")
                continue
            }
            #expect(reason.contains("READONLY") || reason.contains("OFFLINE") || reason.contains("read-only"))
        }
    }

    @Test("a device without limits skips the limit items with a reason")
    func noLimitsSkipsLimitItems() throws {
        let device = try EmulatedDevice(
            geometry: EmulatedGeometry(zoneCount: 12, zoneSize: 1 << 20, logicalBlockSize: 4096)
        )
        defer { try? device.close() }
        let report = try ConformanceRunner(device: device).run(try ConformanceSuite.select([54, 58, 60, 12]))
        #expect(report.result(12)?.outcome == .pass)
        #expect(report.result(54)?.outcome == .skip(reason: "device reports no open-zone limit"))
        #expect(report.result(58)?.outcome == .skip(reason: "device reports no active-zone limit"))
        #expect(report.result(60)?.outcome.isSkip == true)
    }

    @Test("a 512-byte-block device with a 4 KiB physical block writes whole physical blocks")
    func physicalBlockUnit() throws {
        let device = try EmulatedDevice(
            geometry: EmulatedGeometry(
                zoneCount: 12,
                zoneSize: 1 << 20,
                conventionalZones: 1,
                logicalBlockSize: 512,
                physicalBlockSize: 4096,
                maxOpenZones: 3,
                maxActiveZones: 5,
                zoneWriteGranularity: 4096
            )
        )
        defer { try? device.close() }
        let report = try ConformanceRunner(device: device, options: .init(injector: .emulated(device))).run()
        for result in report.results where result.outcome.isFailure {
            Issue.record("item \(result.number) \(result.title): \(result.outcome)")
        }
        #expect(report.result(23)?.outcome == .pass)
        #expect(report.summary.ran >= 60)
    }
}
