import Foundation
import Testing
import ZoneConformance
import ZonedStorage

/// The whole suite on a real zoned block device. Destructive: it runs only when
/// `ZONEALLOC_CONFORMANCE_DEVICE` names a device (for example `/dev/nullb0` in the QEMU guest);
/// `ZONEALLOC_CONFORMANCE_VARIANT` (`nullblk`, `zns`, `zbc`) overrides the detected variant.
///
/// A variable of its own, not `ZONEALLOC_TEST_DEVICE`: Swift Testing runs suites in parallel, and
/// the suite must not share a device with the `ZBDDevice` tests.
@Suite(
    "Conformance suite on a real device",
    .enabled(
        if: ProcessInfo.processInfo.environment["ZONEALLOC_CONFORMANCE_DEVICE"] != nil,
        "set ZONEALLOC_CONFORMANCE_DEVICE to a zoned block device whose data may be destroyed"
    )
)
struct RealDeviceConformanceTests {
    @Test("every applicable check passes on the device")
    func wholeSuitePasses() throws {
        let environment = ProcessInfo.processInfo.environment
        let path = try #require(environment["ZONEALLOC_CONFORMANCE_DEVICE"])
        let variant = environment["ZONEALLOC_CONFORMANCE_VARIANT"].flatMap(DeviceVariant.init(name:))
        let device = try ZBDDevice(path: path)
        defer { try? device.close() }
        let report = try ConformanceRunner(device: device, options: .init(variant: variant)).run { result in
            print(
                "conformance \(path) \(result.number) [\(result.outcome.status)] \(result.title)"
                    + (result.outcome.isPass ? "" : ": \(result.outcome)")
                    + (result.notes.isEmpty ? "" : " — " + result.notes.joined(separator: "; "))
            )
        }
        print("conformance \(path): \(report.variant) (\(report.variantSource)); \(report.summary); \(report.notes)")
        for result in report.failures {
            Issue.record("\(path) item \(result.number) \(result.title): \(result.outcome)")
        }
        let zones = try device.reportZones()
        #expect(zones.allSatisfy { !$0.condition.isActive }, "the run left zones open or closed")
    }
}
