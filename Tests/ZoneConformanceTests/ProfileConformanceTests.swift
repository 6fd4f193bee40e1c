import Testing
import ZoneConformance
import ZonedStorage

/// The whole suite on emulated devices of every profile: each reproduces its kind of device
/// well enough that every check applicable to that variant passes.
@Suite("Conformance suite on every emulator profile")
struct ProfileConformanceTests {
    /// 16 zones of 1 MiB with 4 KiB blocks, shaped by the profile's rules (checklist item 79):
    /// null_blk with 2 conventional zones, max open 4, max active 6; ZNS with capacity 768 KiB,
    /// no conventional zones, max open 4, max active 6; ZBC with 2 conventional zones, max open 4
    /// and no active limit.
    static func geometry(_ profile: EmulatedDevice.Profile) -> EmulatedGeometry {
        EmulatedGeometry(
            zoneCount: 16,
            zoneSize: 1 << 20,
            zoneCapacity: profile == .zns ? 768 << 10 : nil,
            conventionalZones: profile == .zns ? 0 : 2,
            logicalBlockSize: 4096,
            maxOpenZones: 4,
            maxActiveZones: profile == .zbc ? 0 : 6
        )
    }

    @Test(
        "#79 every applicable check passes on an emulated device of each profile",
        arguments: EmulatedDevice.Profile.allCases
    )
    func wholeSuitePasses(profile: EmulatedDevice.Profile) throws {
        let device = try EmulatedDevice(geometry: Self.geometry(profile), profile: profile)
        defer { try? device.close() }
        let runner = ConformanceRunner(device: device, options: .init(injector: .emulated(device)))
        #expect(runner.variant == DeviceVariant(profile))
        let report = try runner.run()
        for result in report.failures {
            Issue.record("\(profile): item \(result.number) \(result.title): \(result.outcome)")
        }
        #expect(report.variantSource.contains("\(profile) profile"))
        #expect(report.summary.ran >= (profile == .nullBlk ? 60 : 55), "\(profile): \(report.summary)")
        // The profile-specific items ran, and passed for the profile's own reasons.
        for number in [35, 37, 39, 40, 42, 43, 56, 65, 79] {
            #expect(report.result(number)?.outcome == .pass, "\(profile): item \(number)")
        }
        if profile != .zbc { #expect(report.result(60)?.outcome == .pass, "\(profile): item 60") }
    }

    @Test("#79 expecting another kind's behaviour from an emulated profile fails the items where kinds differ")
    func otherVariantsFail() throws {
        for profile in EmulatedDevice.Profile.allCases {
            let device = try EmulatedDevice(geometry: Self.geometry(profile), profile: profile)
            defer { try? device.close() }
            for variant in DeviceVariant.allCases where variant != DeviceVariant(profile) {
                let report = try ConformanceRunner(device: device, options: .init(variant: variant)).run(
                    try ConformanceSuite.select([79])
                )
                #expect(report.result(79)?.outcome.isFailure == true, "\(profile) checked as \(variant)")
            }
        }
    }

    @Test("the vendor string of each emulated profile leads to its variant", arguments: EmulatedDevice.Profile.allCases)
    func detectionFromVendor(profile: EmulatedDevice.Profile) throws {
        let device = try EmulatedDevice(geometry: Self.geometry(profile), profile: profile)
        defer { try? device.close() }
        #expect(DeviceVariant.detect(from: device.info) == DeviceVariant(profile))
        #expect(DeviceVariant.detect(for: device) == DeviceVariant(profile))
        #expect(DeviceVariant.detectionReason(for: device.info).contains("\(profile) profile"))
        #expect(DeviceVariant(profile).profile == profile)
    }
}

@Suite("Selecting checks by text")
struct ConformanceSelectionTextTests {
    @Test("a range takes the checks inside it; a single number must have a check")
    func rangesSkipItemsWithoutChecks() throws {
        #expect(try ConformanceSuite.select("1,5,10-20").map(\.number) == [1, 5] + Array(11...20))
        #expect(try ConformanceSuite.select("37, 12,12").map(\.number) == [12, 37])
        let single = #expect(throws: ConformanceSelectionError.self) { try ConformanceSuite.select("1,10") }
        #expect(single?.message.contains("no conformance check for checklist item 10") == true)
        let empty = #expect(throws: ConformanceSelectionError.self) { try ConformanceSuite.select("3-4") }
        #expect(empty?.message.contains("any checklist item in 3-4") == true)
        #expect(throws: ConformanceSelectionError.self) { try ConformanceSuite.select("1,x") }
    }
}
