import Dispatch
import Synchronization

/// Inspection for tests: the zone state without the side effects of a zone report.
extension EmulatedDevice {
    /// Every zone as a report would show it, without refreshing write pointers: a real zone
    /// report clears pending sticky write errors (checklist item 25), which a test that
    /// compares the device with a model after every step must not do.
    package func inspectZones() -> [Zone] {
        state.withLock { state in (0..<geometry.zoneCount).map { state.machine.descriptor($0) } }
    }

    /// Whether writes to zone `index` are refused until its write pointer is refreshed by a
    /// report, reset or finish (item 25).
    package func writePointerNeedsUpdate(zone index: Int) -> Bool {
        state.withLock { $0.machine.zones[index].needsWritePointerUpdate }
    }

    /// Makes the next implicitly open zone that a nullblk-profile device closes to make room the
    /// first one found from zone `index` on (null_blk's `imp_close_zone_no`), so that the device
    /// follows a real null_blk whose position was observed: after null_blk closes zone `v`, its
    /// search starts at `v + 1`. An index outside the sequential zones starts at the first one.
    /// Other profiles ignore it.
    package func setImplicitCloseCursor(_ index: Int) {
        state.withLock { $0.machine.setImplicitCloseCursor(index) }
    }
}

extension EmulatedDevice {
    /// Runs `body` with the background discarder held, so that a test can act between a reset
    /// and its hole punch: zones reset in `body` keep their blocks in the image until it returns,
    /// unless `body` writes to them or closes the device (both punch at once). Calling
    /// ``waitForDiscards()`` inside `body` would wait forever.
    package func withDiscardsHeld<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        discarder.suspend()
        defer { discarder.resume() }
        return try body()
    }

    /// Zones whose file blocks a reset left to punch out.
    package var pendingDiscards: Set<Int> {
        stripes.reduce(into: []) { zones, stripe in zones.formUnion(stripe.data.withLock { $0.discardPending }) }
    }

    /// Waits until the background discarder has run what was queued before this call.
    package func waitForDiscards() {
        discarder.sync {}
    }
}
