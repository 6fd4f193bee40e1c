import Foundation
import Synchronization

/// Lets threads wait for progress made by another thread (a journal commit, a bucket prepared).
///
/// The epoch is read before a thread decides to wait, so progress signalled between the
/// decision and the wait is not missed.
// NSCondition is thread-safe; `epoch` is atomic and only incremented with the condition locked.
final class ProgressSignal: @unchecked Sendable {
    private let condition = NSCondition()
    private let epoch = Atomic<Int>(0)

    /// The current epoch; pass it to ``wait(after:timeout:)``.
    var current: Int { epoch.load(ordering: .acquiring) }

    /// Wakes every waiter.
    func signal() {
        condition.lock()
        epoch.add(1, ordering: .releasing)
        condition.broadcast()
        condition.unlock()
    }

    /// Waits until ``signal()`` is called after `epoch` was read, or `timeout` seconds pass.
    /// Returns false on timeout.
    @discardableResult
    func wait(after epoch: Int, timeout: Double = 1) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while self.epoch.load(ordering: .acquiring) == epoch {
            if !condition.wait(until: deadline) { return self.epoch.load(ordering: .acquiring) != epoch }
        }
        return true
    }
}
