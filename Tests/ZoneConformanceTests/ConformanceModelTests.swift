import Foundation
import Testing
import ZoneConformance
import ZonedStorage

@Suite("Conformance catalogue, selection, variants and encoding")
struct ConformanceModelTests {
    @Test("the catalogue has at least 60 checks with unique checklist numbers and titles")
    func catalogue() {
        let numbers = ConformanceSuite.numbers
        #expect(numbers.count >= 60)
        #expect(Set(numbers).count == numbers.count)
        #expect(numbers == numbers.sorted())
        let required =
            [1, 2, 5, 6, 8, 9] + Array(11...23) + [25, 27, 28, 29] + Array(31...50) + [52]
            + Array(54...74) + [79, 80]
        #expect(Set(required).isSubset(of: Set(numbers)))
        #expect(ConformanceSuite.checks.allSatisfy { !$0.title.isEmpty })
        #expect(ConformanceSuite.check(56)?.section == .resources)
    }

    @Test("selections parse numbers and ranges and reject unknown items")
    func selection() throws {
        #expect(try ConformanceSuite.parseNumbers("1-3, 12,31 - 32") == [1, 2, 3, 12, 31, 32])
        #expect(throws: ConformanceSelectionError.self) { try ConformanceSuite.parseNumbers("1,x") }
        let error = try #require(throws: ConformanceSelectionError.self) { try ConformanceSuite.select([12, 3, 99]) }
        #expect(error.message.contains("3, 99"))
        #expect(try ConformanceSuite.select([13, 12, 12]).map(\.number) == [12, 13])
    }

    @Test(
        "variants are detected from the vendor string",
        arguments: [
            ("QEMU NVMe Ctrl", DeviceVariant.zns), ("Linux scsi_debug 0191", .zbc), ("ATA HGST HSH721414AL", .zbc),
            ("Unknown", .nullBlk), ("zonealloc emulated", .nullBlk),
        ]
    )
    func detection(vendor: String, variant: DeviceVariant) throws {
        var info = try EmulatedConformanceTests.makeDevice().info
        info.vendorID = vendor
        #expect(DeviceVariant.detect(from: info) == variant)
        #expect(DeviceVariant(name: variant.rawValue) == variant)
    }

    @Test("variant names parse leniently")
    func variantNames() {
        #expect(DeviceVariant(name: "null_blk") == .nullBlk)
        #expect(DeviceVariant(name: "NVMe") == .zns)
        #expect(DeviceVariant(name: "SMR") == .zbc)
        #expect(DeviceVariant(name: "floppy") == nil)
    }

    @Test("a report survives a JSON round trip and encodes outcomes readably")
    func jsonRoundTrip() throws {
        let device = BrokenDevice(base: try EmulatedConformanceTests.makeDevice(), defect: .wrongErrno)
        defer { try? device.close() }
        let report = try ConformanceRunner(device: device).run(try ConformanceSuite.select([12, 15, 60, 19]))
        let data = try JSONEncoder().encode(report)
        let decoded = try JSONDecoder().decode(ConformanceReport.self, from: data)
        #expect(decoded == report)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains(#""status":"fail""#))
        #expect(text.contains(#""status":"skip""#))
        #expect(text.contains(#""name":"EINVAL""#))
        #expect(report.summary == ConformanceSummary(report.results))
        #expect(report.summary.passed == 2 && report.summary.failed == 1 && report.summary.skipped == 1)
    }
}
