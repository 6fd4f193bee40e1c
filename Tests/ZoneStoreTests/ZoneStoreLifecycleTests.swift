import Dispatch
import Foundation
import Synchronization
import Testing
import ZoneAlloc
import ZoneAllocTestSupport
import ZoneStore
import ZonedStorage

/// Regression tests of the store's lifecycle: close racing a checkpoint or a copygc pass, failed
/// opens, and superblocks that fall behind the journal. Each race is ordered exactly by holding
/// one thread's device operation at a gate (``GatedDevice``).
@Suite struct ZoneStoreLifecycleTests {
    /// Bytes of the conventional zone 0 that holds the superblock slots in ``StoreFixtures/small``.
    static func isSuperblockWrite(_ operation: GatedDevice.Operation) -> Bool {
        operation.kind == .write && operation.offset < StoreFixtures.small.zoneSize
    }

    /// Durable puts of `count` values (seeded), enough to spread the journal over several buckets.
    static func fill(_ store: ZoneStore, count: Int, seed: UInt64) throws -> [StoreKey: [UInt8]] {
        var model: [StoreKey: [UInt8]] = [:]
        for index in 0..<count {
            let key = StoreKey("k\(index)")
            let value = StoreFixtures.value(seed: seed &+ UInt64(index), count: 1000 + index * 37)
            try store.put(key, value)
            model[key] = value
        }
        return model
    }

    /// Issue (4): close() read the superblock, a checkpoint wrote a newer one and freed the old
    /// journal buckets, then close() wrote its stale copy naming the freed buckets: the reopened
    /// store replayed nothing. Now the superblock's read-modify-write is under one lock and close
    /// waits for a running checkpoint.
    @Test func closeRacingCheckpointKeepsTheNewSuperblock() throws {
        let seed: UInt64 = 4
        print("closeRacingCheckpointKeepsTheNewSuperblock seed \(seed)")
        let memory = try StoreFixtures.device()
        let device = GatedDevice(memory)
        try ZoneStore.format(device)
        let store = try ZoneStore.open(device, options: StoreFixtures.options(copygcOnDemand: false))
        let model = try Self.fill(store, count: 40, seed: seed)

        let checkpointHeld = device.arm { $0.thread == "checkpoint" && Self.isSuperblockWrite($0) }
        let closeHeld = device.arm { $0.thread == "closer" && Self.isSuperblockWrite($0) }
        let checkpointError = Mutex<StoreError?>(nil)
        let checkpointDone = runOnThread("checkpoint") {
            do throws(StoreError) { try store.checkpoint() } catch { checkpointError.withLock { $0 = error } }
        }
        #expect(checkpointHeld.waitReached(seconds: 10), "the checkpoint never wrote the superblock")
        let closeError = Mutex<StoreError?>(nil)
        let closeDone = runOnThread("closer") {
            do throws(StoreError) { try store.close() } catch { closeError.withLock { $0 = error } }
        }
        // Without the lock, close reaches its superblock write while the checkpoint is held.
        _ = closeHeld.waitReached(seconds: 0.5)
        checkpointHeld.open()
        checkpointDone.wait()
        closeHeld.open()
        closeDone.wait()
        #expect(checkpointError.withLock { $0 } == nil)
        #expect(closeError.withLock { $0 } == nil)

        let reopened = try ZoneStore.open(device, options: StoreFixtures.options())
        defer { try? reopened.close() }
        #expect(try StoreFixtures.expectMatches(reopened, model) == [])
    }

    /// Issue (7): close() stopped copygc's background thread but returned while an explicit
    /// collectGarbage() pass (or the copygc service's) was still moving data, which then wrote to
    /// a device the caller had every right to close or hand to a new store. Now close waits for
    /// running passes, and the device sees no operation after close returns.
    @Test func closeWaitsForARunningCopygcPass() throws {
        let seed: UInt64 = 7
        print("closeWaitsForARunningCopygcPass seed \(seed)")
        let device = GatedDevice(try StoreFixtures.device())
        try ZoneStore.format(device)
        let store = try ZoneStore.open(device, options: StoreFixtures.options(copygcOnDemand: false))
        let model = try StoreFixtures.fragment(store, seed: seed)

        let passHeld = device.arm { $0.thread == "gc" && ($0.kind == .write || $0.kind == .append) }
        let passResult = Mutex<Result<CopygcReport, StoreError>?>(nil)
        let passDone = runOnThread("gc") {
            do throws(StoreError) {
                let report = try store.collectGarbage()
                passResult.withLock { $0 = .success(report) }
            } catch {
                passResult.withLock { $0 = .failure(error) }
            }
        }
        #expect(passHeld.waitReached(seconds: 10), "the copygc pass moved nothing")
        let operationsAtClose = Atomic<Int>(-1)
        let closeDone = runOnThread("closer") {
            try? store.close()
            operationsAtClose.store(device.operationCount, ordering: .sequentiallyConsistent)
        }
        let closedWhilePassRan = closeDone.wait(timeout: .now() + 0.5) == .success
        passHeld.open()
        passDone.wait()
        if !closedWhilePassRan { closeDone.wait() }
        #expect(!closedWhilePassRan, "close() returned while a copygc pass was moving data")
        let after = device.operationCount - operationsAtClose.load(ordering: .sequentiallyConsistent)
        #expect(after == 0, "\(after) device operations after close() returned")

        let reopened = try ZoneStore.open(device, options: StoreFixtures.options())
        defer { try? reopened.close() }
        #expect(try StoreFixtures.expectMatches(reopened, model) == [])
        #expect(try StoreFixtures.invariantProblems(reopened) == [])
    }

    /// A get in flight when close() begins: close waits for its reads, so the caller may close
    /// the device when close returns, and the get still returns the whole value.
    @Test func closeWaitsForARunningGet() throws {
        let seed: UInt64 = 8
        print("closeWaitsForARunningGet seed \(seed)")
        let device = GatedDevice(try StoreFixtures.device())
        try ZoneStore.format(device)
        let store = try ZoneStore.open(device, options: StoreFixtures.options(copygcOnDemand: false))
        // Three extents: the value spans buckets, so the get reads more than once.
        let value = StoreFixtures.value(seed: seed, count: 100 << 10)
        try store.put("big", value)

        let readHeld = device.arm { $0.thread == "reader" && $0.kind == .read }
        let got = Mutex<Result<[UInt8], StoreError>?>(nil)
        let readDone = runOnThread("reader") {
            do throws(StoreError) {
                let bytes = try store.get("big")
                got.withLock { $0 = .success(bytes) }
            } catch {
                got.withLock { $0 = .failure(error) }
            }
        }
        #expect(readHeld.waitReached(seconds: 10), "the get read nothing")
        let operationsAtClose = Atomic<Int>(-1)
        let closeDone = runOnThread("closer") {
            try? store.close()
            operationsAtClose.store(device.operationCount, ordering: .sequentiallyConsistent)
        }
        let closedWhileReading = closeDone.wait(timeout: .now() + 0.5) == .success
        readHeld.open()
        readDone.wait()
        if !closedWhileReading { closeDone.wait() }
        #expect(!closedWhileReading, "close() returned while a get was reading")
        let after = device.operationCount - operationsAtClose.load(ordering: .sequentiallyConsistent)
        #expect(after == 0, "\(after) device operations after close() returned")
        switch got.withLock({ $0 }) {
        case .success(let bytes): #expect(bytes == value)
        case .failure(let error): Issue.record("the get failed: \(error)")
        case nil: Issue.record("the get did not finish")
        }
        #expect(throws: StoreError.self) { try store.get("big") }
    }

    /// Issue (6): an open that failed after starting copygc left its thread running (holding the
    /// allocator and the device), and every open that failed after writing its superblock left
    /// one more journal chain behind; past 32 chains the superblock could no longer be decoded
    /// and the store was lost. Here each open's checkpoint fails (every superblock write after
    /// the open's first fails with EIO); the store must still open once the fault is gone, and
    /// nothing may keep the device alive.
    @Test func failedOpensLeaveNoCopygcThreadAndNoChainPileUp() throws {
        let seed: UInt64 = 6
        print("failedOpensLeaveNoCopygcThreadAndNoChainPileUp seed \(seed)")
        let memory = try StoreFixtures.device()
        weak var released: GatedDevice?
        var model: [StoreKey: [UInt8]] = [:]
        var failures = 0
        do {
            let device = GatedDevice(memory)
            released = device
            try ZoneStore.format(device)
            // Four sessions that each journal something: four chains.
            for session in 0..<4 {
                let store = try ZoneStore.open(device, options: StoreFixtures.options())
                let key = StoreKey("s\(session)")
                let value = StoreFixtures.value(seed: seed &+ UInt64(session), count: 3000)
                try store.put(key, value)
                model[key] = value
                try store.close()
            }
            for _ in 0..<40 {
                let superblockWrites = Atomic<Int>(0)
                device.failWhen { operation in
                    Self.isSuperblockWrite(operation) && superblockWrites.add(1, ordering: .relaxed).newValue > 2
                }
                do {
                    let store = try ZoneStore.open(device, options: StoreFixtures.options())
                    device.failWhen(nil)
                    try store.close()
                } catch {
                    failures += 1
                }
            }
            // Opens that fail at their first superblock write.
            device.failWhen { Self.isSuperblockWrite($0) }
            for _ in 0..<10 {
                #expect(throws: StoreError.self) { try ZoneStore.open(device, options: StoreFixtures.options()) }
            }
            device.failWhen(nil)
            do {
                let store = try ZoneStore.open(device, options: StoreFixtures.options())
                #expect(try StoreFixtures.expectMatches(store, model) == [])
                try store.close()
            } catch {
                Issue.record("the store no longer opens after \(failures) failed opens: \(error)")
            }
        }
        print("failed opens: \(failures) of 40")
        var waited = 0
        while released != nil, waited < 200 {
            Thread.sleep(forTimeInterval: 0.01)
            waited += 1
        }
        #expect(released == nil, "a copygc thread of a failed open still holds the device")
    }

    /// Issue (5): values in a zone that was read-only when the store was opened must stay
    /// readable (after this open and the next), and copygc must move them to writable zones, so
    /// the read-only zone stops holding live data.
    @Test func valuesInReadOnlyZonesStayReadableAndAreEvacuated() throws {
        let seed: UInt64 = 5
        print("valuesInReadOnlyZonesStayReadableAndAreEvacuated seed \(seed)")
        let device = try StoreFixtures.device()
        try ZoneStore.format(device)
        var model: [StoreKey: [UInt8]] = [:]
        var store = try ZoneStore.open(device, options: StoreFixtures.options())
        for index in 0..<12 {
            let key = StoreKey("k\(index)")
            let value = StoreFixtures.value(seed: seed &+ UInt64(index), count: 10_000 + index * 100)
            try store.put(key, value)
            model[key] = value
        }
        let zone = try #require(store.stat(StoreKey("k3"))?.extents.first?.pointer.bucket.zone)
        let inZone = model.keys.filter { key in
            store.stat(key)?.extents.contains { $0.pointer.bucket.zone == zone } ?? false
        }
        try store.close()
        try device.setZoneCondition(zone, to: .readOnly)

        store = try ZoneStore.open(device, options: StoreFixtures.options())
        #expect(store.recovery.lostKeys == [], "values in read-only zone \(zone) were dropped")
        #expect(try StoreFixtures.expectMatches(store, model) == [])
        _ = try store.collectGarbage()
        let left = inZone.filter { key in
            store.stat(key)?.extents.contains { $0.pointer.bucket.zone == zone } ?? false
        }
        #expect(left == [], "copygc left \(left.count) of \(inZone.count) values in read-only zone \(zone)")
        #expect(try StoreFixtures.expectMatches(store, model) == [])
        #expect(try StoreFixtures.invariantProblems(store) == [])
        try store.close()

        store = try ZoneStore.open(device, options: StoreFixtures.options())
        defer { try? store.close() }
        #expect(try StoreFixtures.expectMatches(store, model) == [])
        #expect(try StoreFixtures.invariantProblems(store) == [])
    }

    /// Issue (8): a cached put wrote its value, then — before it recorded the extents'
    /// backpointers — the bucket holding its first extent was invalidated (cached-only: new
    /// generation, reset) and written again by another put, which recorded backpointers at the
    /// new generation first; the late record at the old generation trapped in copygc's
    /// BackpointerIndex. Here the put's second extent is held at the device while the first
    /// one's bucket is invalidated and reused.
    @Test func cachedPutRacingInvalidationDoesNotTrap() throws {
        let seed: UInt64 = 8
        print("cachedPutRacingInvalidationDoesNotTrap seed \(seed)")
        let device = GatedDevice(try StoreFixtures.device())
        try ZoneStore.format(device)
        let store = try ZoneStore.open(device, options: StoreFixtures.options(copygcOnDemand: false))
        defer { try? store.close() }
        try store.put(StoreKey("first"), StoreFixtures.value(seed: seed, count: 16 << 10), kind: .cached)
        let bucket = try #require(store.stat(StoreKey("first"))?.extents.first?.pointer.bucket)
        let zoneStart = UInt64(bucket.zone) * StoreFixtures.small.zoneSize
        let zoneEnd = zoneStart + StoreFixtures.small.zoneSize
        // The racing put: 32 KiB fill the first bucket, the rest goes to the next one (held).
        let held = device.arm { operation in
            operation.thread == "cacher" && (operation.kind == .write || operation.kind == .append)
                && !(zoneStart..<zoneEnd).contains(operation.offset)
        }
        let value = StoreFixtures.value(seed: seed &+ 1, count: 60 << 10)
        let putError = Mutex<StoreError?>(nil)
        let putDone = runOnThread("cacher") {
            do throws(StoreError) {
                try store.put(StoreKey("racing"), value, kind: .cached)
            } catch {
                putError.withLock { $0 = error }
            }
        }
        #expect(held.waitReached(seconds: 10), "the cached put never wrote its second extent")
        // Meanwhile the first bucket (cached data only, full) is invalidated and written again.
        #expect(try store.allocator.invalidate(bucket))
        var reused = false
        for index in 0..<200 where !reused {
            let key = StoreKey("other\(index)")
            try store.put(
                key,
                StoreFixtures.value(seed: seed &+ 100 &+ UInt64(index), count: 8 << 10),
                hint: .stream(1),
                kind: .cached
            )
            reused = store.stat(key)?.extents.contains { $0.pointer.bucket == bucket } ?? false
        }
        #expect(reused, "no later put landed in the invalidated bucket")
        held.open()
        putDone.wait()
        #expect(putError.withLock { $0 } == nil)
        // The racing value is stored: whole, or (its first extent invalidated) evicted.
        do {
            #expect(try store.get(StoreKey("racing")) == value)
        } catch {
            #expect(error.code == .evicted, "\(error)")
        }
        #expect(try StoreFixtures.invariantProblems(store) == [])
    }

    /// A closed store on a device whose superblock is a log in two sequential zones, with a
    /// checkpoint after the first open (which freed that open's journal buckets) and writes
    /// after it (which may reuse them).
    static func storePastACheckpoint(seed: UInt64) throws -> (EmulatedDevice, [StoreKey: [UInt8]]) {
        let device = try StoreFixtures.device(StoreFixtures.noConventional)
        try ZoneStore.format(device)
        let store = try ZoneStore.open(device, options: StoreFixtures.options(copygcOnDemand: false))
        var model = try Self.fill(store, count: 40, seed: seed)
        try store.checkpoint()
        for index in 0..<40 {
            let key = StoreKey("k\(index % 20)")
            let value = StoreFixtures.value(seed: seed &+ 1000 &+ UInt64(index), count: 2000 + index * 50)
            try store.put(key, value)
            model[key] = value
        }
        try store.close()
        return (device, model)
    }

    /// Issue (9): when the newest superblock records were damaged, open fell back to an older
    /// one and replayed its journal chains — buckets a later checkpoint had freed and the store
    /// had reused — silently (values lost, or another generation's records). Records lost beyond
    /// one torn write now make open fail with `.corrupt`; the test damages the records of the
    /// checkpoint and of close (4 records: 2 writes × 2 copies), leaving the open's.
    @Test func damagedNewestSuperblocksDoNotReplayFreedJournalBuckets() throws {
        let seed: UInt64 = 9
        print("damagedNewestSuperblocksDoNotReplayFreedJournalBuckets seed \(seed)")
        let (device, model) = try Self.storePastACheckpoint(seed: seed)
        // Records: format (2), open (2), checkpoint (2), close (2), 4 KiB each, in zone 0.
        try ZoneStoreCorruptionTests.rewrite(device, zone: 0) { bytes in
            for record in 4..<8 where (record + 1) * 4096 <= bytes.count { bytes[record * 4096 + 100] ^= 0xFF }
        }
        let opened: Result<ZoneStore, StoreError>
        do throws(StoreError) {
            opened = .success(try ZoneStore.open(device, options: StoreFixtures.options(copygcOnDemand: false)))
        } catch {
            opened = .failure(error)
        }
        switch opened {
        case .success(let store):
            defer { try? store.close() }
            let problems = try StoreFixtures.expectMatches(store, model)
            #expect(problems == [], "an older superblock was replayed: \(problems.count) problems")
        case .failure(let error):
            #expect(error.code == .corrupt && error.message.contains("superblock"), "\(error)")
        }
    }
}
