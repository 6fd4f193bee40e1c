import Foundation
import Testing
import ZoneAlloc
import ZonedStorage

@testable import ZoneStore

/// Regression tests for what fuzzing the store's decoders found (`make fuzz`, Fuzz/ZoneFuzz): every
/// crash input is kept in fixtures/fuzz/regressions/<target>/ and replayed here through the same
/// entry points (``StoreDecoders``), and each bug has a test that builds its input by hand.
@Suite struct DecoderRegressionTests {
    /// fixtures/fuzz/ in this checkout.
    static let fixtures = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("fixtures/fuzz")

    static func files(_ folder: String) -> [URL] {
        let directory = fixtures.appendingPathComponent(folder)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.sorted().map { directory.appendingPathComponent($0) }
    }

    /// Runs `bytes` as the fuzz target `target` does (Fuzz/ZoneFuzz/ZoneFuzz.swift).
    static func run(_ target: String, _ bytes: [UInt8]) {
        let body = Array(bytes.dropFirst())
        switch target {
        case "superblock":
            StoreDecoders.superblock(body, repairChecksum: (bytes.first ?? 0) & 1 == 1)
        case "journal":
            switch (bytes.first ?? 0) % 3 {
            case 0: StoreDecoders.journalGroup(body, repairChecksum: false)
            case 1: StoreDecoders.journalGroup(body, repairChecksum: true)
            default: StoreDecoders.journalRecords(body)
            }
        case "recovery":
            _ = StoreDecoders.replay(bytes, checkpoint: false)
        case "checkpoint":
            _ = StoreDecoders.replay(bytes, checkpoint: true)
        default:
            Issue.record("no store fuzz target named \(target)")
        }
    }

    @Test(arguments: ["superblock", "journal", "recovery", "checkpoint"])
    func everyRecordedCrashInputIsHandled(target: String) throws {
        for file in Self.files("regressions/\(target)") {
            Self.run(target, Array(try Data(contentsOf: file)))
        }
    }

    @Test func theSeedsAreValidRecords() throws {
        let superblocks = Self.files("superblock")
        #expect(!superblocks.isEmpty)
        for file in superblocks {
            let bytes = Array(try Data(contentsOf: file))
            #expect(
                StoreDecoders.superblock(Array(bytes.dropFirst()), repairChecksum: false),
                "\(file.lastPathComponent)"
            )
        }
        for file in Self.files("journal") {
            let bytes = Array(try Data(contentsOf: file))
            if bytes.first == 2 {
                #expect(StoreDecoders.journalRecords(Array(bytes.dropFirst())) > 0, "\(file.lastPathComponent)")
            } else {
                #expect(StoreDecoders.journalGroup(Array(bytes.dropFirst()), repairChecksum: false) != nil)
            }
        }
        // Record streams out of their journal's context (a checkpoint's end without its begin, say)
        // may be refused as corrupt; they must decode and replay without trapping.
        for file in Self.files("recovery") + Self.files("checkpoint") {
            let outcome = StoreDecoders.replay(Array(try Data(contentsOf: file)), checkpoint: false)
            #expect(outcome.records > 0, "\(file.lastPathComponent): \(outcome)")
        }
    }

    /// A store written by the real code replays to a store whose values read back.
    @Test func aRealJournalReplaysCleanly() throws {
        let seeds = try StoreDecoders.seeds()
        let outcome = StoreDecoders.replay(try #require(seeds["recovery"]?.first), checkpoint: false)
        #expect(outcome.openFailure == nil)
        #expect(outcome.fsckClean != nil)
    }

    // MARK: - The bugs, one by one

    /// Fuzzing found (journal target): a checksum-valid group whose header claims 4 billion records
    /// made `LogGroup.records` reserve room for all of them and abort on a 100 GB allocation.
    @Test func aGroupClaimingBillionsOfRecordsIsRefusedWithoutAllocating() {
        var writer = ByteWriter()
        JournalRecord.delete(key: StoreKey("k")).encode(into: &writer)
        var group = LogGroup.encode(
            uuid: Array(repeating: 7, count: 16),
            bucket: 1,
            generation: 0,
            kind: .records,
            firstSequence: 1,
            recordCount: 1,
            payload: writer.bytes[...],
            blockSize: 4096
        )
        for index in 40..<44 { group[index] = 0xFF }  // record count u32.max
        #expect(StoreDecoders.journalGroup(group, repairChecksum: true) == nil)
    }

    /// Fuzzing found (recovery target): a put record whose value length (u64) disagrees with its
    /// extents was replayed, and `get` reserved that many bytes (2 TB) and aborted.
    @Test func aPutWhoseLengthDisagreesWithItsExtentsIsMalformed() {
        let extent = StoredExtent(
            pointer: DataPointer(
                bucket: BucketIndex(8),
                offset: 0,
                sectors: 8,
                generation: BucketGeneration(rawValue: 0)
            ),
            byteCount: 4096,
            checksum: 1
        )
        for length in [4095, 4097, 1 << 41] {
            let entry = IndexEntry(length: length, kind: .dirty, extents: [extent], version: 1)
            var writer = ByteWriter()
            JournalRecord.put(key: StoreKey("k"), entry: entry, moved: false).encode(into: &writer)
            #expect(StoreDecoders.journalRecords(writer.bytes) == 0, "length \(length)")
        }
        var writer = ByteWriter()
        let good = IndexEntry(length: 4096, kind: .dirty, extents: [extent], version: 1)
        JournalRecord.put(key: StoreKey("k"), entry: good, moved: false).encode(into: &writer)
        #expect(StoreDecoders.journalRecords(writer.bytes) == 1)
    }

    /// Found reading the decoders for the harness: an extent whose offset + sectors wraps a u32
    /// trapped in recovery's and fsck's "is it below the write pointer" arithmetic.
    @Test func anExtentWhoseEndWrapsIsMalformed() {
        let extent = StoredExtent(
            pointer: DataPointer(
                bucket: BucketIndex(8),
                offset: UInt32.max - 3,
                sectors: 8,
                generation: BucketGeneration(rawValue: 0)
            ),
            byteCount: 4096,
            checksum: 1
        )
        let entry = IndexEntry(length: 4096, kind: .dirty, extents: [extent], version: 1)
        var writer = ByteWriter()
        JournalRecord.snapshotEntry(key: StoreKey("k"), entry: entry).encode(into: &writer)
        #expect(StoreDecoders.journalRecords(writer.bytes) == 0)
    }

    /// Found reading the decoders: a snapshot entry pointing past the last zone reached
    /// `Recovery.validate`, which indexed the generations with it and trapped. It is dropped as
    /// pointing where the device has no data.
    @Test func aSnapshotEntryPastTheLastZoneIsDropped() {
        let extent = StoredExtent(
            pointer: DataPointer(
                bucket: BucketIndex(900),
                offset: 0,
                sectors: 8,
                generation: BucketGeneration(rawValue: 0)
            ),
            byteCount: 4096,
            checksum: 1
        )
        var writer = ByteWriter()
        JournalRecord.checkpointBegin(entryCount: 1).encode(into: &writer)
        JournalRecord.snapshotEntry(
            key: StoreKey("far"),
            entry: IndexEntry(length: 4096, kind: .dirty, extents: [extent], version: 5)
        ).encode(into: &writer)
        JournalRecord.checkpointEnd(snapshotSequence: 99, entryCount: 1).encode(into: &writer)
        let outcome = StoreDecoders.replay([0x20] + writer.bytes, checkpoint: true)
        #expect(outcome.records == 3)
        #expect(outcome.openFailure == nil)
        #expect(outcome.keys == 0)
    }

    /// Found reading the decoders: a superblock whose chain starts at record 0 made replay compute
    /// "the record before the chain" as 0 − 1 and trap; such a superblock is damaged.
    @Test func aChainStartingAtRecordZeroIsDamaged() throws {
        let device = try EmulatedDevice(geometry: StoreDecoders.replayGeometry, storage: .memory, options: .init())
        try ZoneStore.format(device)
        var record = try device.read(count: 4096, at: 0)
        #expect(StoreDecoders.superblock(record, repairChecksum: false))
        // Chain 0's first sequence number (u64 at 104 + 16).
        for index in 120..<128 { record[index] = 0 }
        #expect(!StoreDecoders.superblock(record, repairChecksum: true))
        for index in 120..<128 { record[index] = 0xFF }
        #expect(!StoreDecoders.superblock(record, repairChecksum: true))
    }
}
