import Dispatch
import Foundation
import Synchronization
import ZonedStorage

#if canImport(Glibc)
import Glibc
#endif

/// A zoned device that forwards to another and can hold an operation at a gate (to order two
/// threads' steps exactly), fail operations, and count them: for race regression tests.
final class GatedDevice: ZonedDevice {
    /// An operation as the gates and failure rules see it.
    struct Operation: Sendable {
        enum Kind: Sendable { case write, append, manage, flush, read }
        var kind: Kind
        /// The device offset (the zone start for appends and zone operations; 0 for flushes).
        var offset: UInt64
        /// The name the calling thread was given by ``runOnThread(_:_:)`` ("" for other threads),
        /// to match one thread's operations.
        var thread: String
    }

    /// A one-shot gate: the first matching operation signals ``reached`` and waits for
    /// ``proceed``.
    final class Gate: Sendable {
        let matches: @Sendable (Operation) -> Bool
        let reached = DispatchSemaphore(value: 0)
        let proceed = DispatchSemaphore(value: 0)

        init(_ matches: @escaping @Sendable (Operation) -> Bool) { self.matches = matches }

        /// Waits until an operation reached the gate, at most `seconds`.
        func waitReached(seconds: Double) -> Bool { reached.wait(timeout: .now() + seconds) == .success }

        /// Lets the held operation go on (or the next one that reaches the gate, if none is held).
        func open() { proceed.signal() }
    }

    let base: any ZonedDevice
    private let gates = Mutex<[Gate]>([])
    private let failRule = Mutex<(@Sendable (Operation) -> Bool)?>(nil)
    private let operations = Atomic<Int>(0)

    init(_ base: any ZonedDevice) { self.base = base }

    var info: DeviceInfo { base.info }
    var path: String { base.path }

    /// Operations forwarded so far (reads included).
    var operationCount: Int { operations.load(ordering: .sequentiallyConsistent) }

    /// Arms a gate for the next operation that `matches`.
    func arm(_ matches: @escaping @Sendable (Operation) -> Bool) -> Gate {
        let gate = Gate(matches)
        gates.withLock { $0.append(gate) }
        return gate
    }

    /// Fails every operation that `rule` matches with EIO (nil: fail none).
    func failWhen(_ rule: (@Sendable (Operation) -> Bool)?) { failRule.withLock { $0 = rule } }

    private func pass(_ kind: Operation.Kind, _ offset: UInt64) throws(ZonedStorageError) {
        operations.add(1, ordering: .sequentiallyConsistent)
        let operation = Operation(kind: kind, offset: offset, thread: currentTestThreadName())
        let gate = gates.withLock { gates -> Gate? in
            guard let index = gates.firstIndex(where: { $0.matches(operation) }) else { return nil }
            return gates.remove(at: index)
        }
        if let gate {
            gate.reached.signal()
            gate.proceed.wait()
        }
        if let rule = failRule.withLock({ $0 }), rule(operation) {
            throw ZonedStorageError(code: .ioError, message: "injected EIO (\(kind) at \(offset))")
        }
    }

    func reportZones(offset: UInt64, length: UInt64, filter: ZoneReportFilter) throws(ZonedStorageError) -> [Zone] {
        try base.reportZones(offset: offset, length: length, filter: filter)
    }

    func manageZones(_ operation: ZoneOperation, offset: UInt64, length: UInt64) throws(ZonedStorageError) {
        try pass(.manage, offset)
        try base.manageZones(operation, offset: offset, length: length)
    }

    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws(ZonedStorageError) {
        try pass(.read, offset)
        try base.read(into: buffer, at: offset)
    }

    func write(_ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws(ZonedStorageError) {
        try pass(.write, offset)
        try base.write(bytes, at: offset)
    }

    func append(_ bytes: UnsafeRawBufferPointer, toZoneAt zoneStart: UInt64) throws(ZonedStorageError) -> UInt64 {
        try pass(.append, zoneStart)
        return try base.append(bytes, toZoneAt: zoneStart)
    }

    func flush() throws(ZonedStorageError) {
        try pass(.flush, 0)
        try base.flush()
    }

    func close() throws(ZonedStorageError) { try base.close() }
}

/// Names of the threads started by ``runOnThread(_:_:)``, by `pthread_self`.
private let testThreadNames = Mutex<[UInt: String]>([:])

/// The name ``runOnThread(_:_:)`` gave the calling thread, or "".
func currentTestThreadName() -> String {
    testThreadNames.withLock { $0[UInt(bitPattern: Int(bitPattern: pthread_self()))] } ?? ""
}

/// Runs `body` on a new thread named `name`; the returned semaphore is signalled when it ends.
func runOnThread(_ name: String, _ body: @escaping @Sendable () -> Void) -> DispatchSemaphore {
    let done = DispatchSemaphore(value: 0)
    let thread = Thread {
        let me = UInt(bitPattern: Int(bitPattern: pthread_self()))
        testThreadNames.withLock { $0[me] = name }
        body()
        testThreadNames.withLock { $0[me] = nil }
        done.signal()
    }
    thread.start()
    return done
}
