import Foundation
import Synchronization

/// Lets an allocation that found no free bucket (or no free zone slot) wait, with a deadline,
/// until one is released.
///
/// The epoch is read lock-free (the allocation fast path reads it before every decision, so a
/// release between the decision and the wait is not missed); it is only incremented with the
/// condition's lock held, and waiters compare it with that lock held, so no wake-up is lost.
// NSCondition is thread-safe; `epoch` is atomic.
final class FreeBucketWaiter: @unchecked Sendable {
    private let condition = NSCondition()
    private let epoch = Atomic<Int>(0)

    /// The current epoch; pass it to ``wait(after:timeout:)``.
    var current: Int { epoch.load(ordering: .acquiring) }

    /// Wakes every waiter: a bucket or a zone slot was released.
    func signal() {
        condition.lock()
        epoch.add(1, ordering: .releasing)
        condition.broadcast()
        condition.unlock()
    }

    /// Waits until ``signal()`` is called after `epoch` was read, or `timeout` seconds pass.
    /// Returns false on timeout.
    func wait(after epoch: Int, timeout: Double) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while self.epoch.load(ordering: .acquiring) == epoch {
            if !condition.wait(until: deadline) { return self.epoch.load(ordering: .acquiring) != epoch }
        }
        return true
    }
}
