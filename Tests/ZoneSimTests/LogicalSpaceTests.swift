import Testing
import ZoneAlloc
import ZoneGC
import ZoneSim

/// The simulator's extent owner.
@Suite("LogicalSpace")
struct LogicalSpaceTests {
    func pointer(_ bucket: Int, _ offset: UInt32, _ generation: UInt8 = 3) -> DataPointer {
        DataPointer(
            bucket: BucketIndex(bucket),
            offset: offset,
            sectors: 8,
            generation: BucketGeneration(rawValue: generation)
        )
    }

    @Test("replacing blocks returns the versions they replaced, packing round-trips")
    func replace() {
        let space = LogicalSpace(blocks: 10, blockSectors: 8)
        var replaced: [DataPointer] = []
        space.replace([1, 2], with: [pointer(4_000_000, 32_760, 255), pointer(5, 8)], replaced: &replaced)
        #expect(replaced.isEmpty)
        #expect(space.pointer(of: 1) == pointer(4_000_000, 32_760, 255))
        space.replace([1, 1], with: [pointer(6, 0), pointer(6, 8)], replaced: &replaced)
        #expect(replaced == [pointer(4_000_000, 32_760, 255), pointer(6, 0)])
        #expect(space.remove(2) == pointer(5, 8))
        #expect(space.pointer(of: 2) == nil)
    }

    @Test("relocate is a compare-and-swap on location and generation")
    func relocate() {
        let space = LogicalSpace(blocks: 4, blockSectors: 8)
        var replaced: [DataPointer] = []
        space.replace([0, 1], with: [pointer(1, 0), pointer(1, 8)], replaced: &replaced)
        let accepted = space.relocate([
            ExtentMove(key: 0, from: pointer(1, 0), to: pointer(2, 0)),
            ExtentMove(key: 1, from: pointer(1, 8, 2), to: pointer(2, 8)),  // older generation: refused
            ExtentMove(key: 3, from: pointer(1, 16), to: pointer(2, 16)),  // never written: refused
        ])
        #expect(accepted == [true, false, false])
        #expect(space.pointer(of: 0) == pointer(2, 0))
        #expect(space.pointer(of: 1) == pointer(1, 8))
    }
}
