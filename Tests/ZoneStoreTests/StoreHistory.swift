import ZoneStore

/// The logical states of a store after each operation of a workload (index 0: before any), and
/// the last one acknowledged as durable: after a crash or power loss the store must recover to
/// one of ``candidates()``.
struct StoreHistory {
    var states: [[StoreKey: [UInt8]]]
    /// Operations up to this index are acknowledged as durable.
    var durable = 0

    init(_ initial: [StoreKey: [UInt8]]) { states = [initial] }

    /// The state after the last operation.
    var current: [StoreKey: [UInt8]] { states[states.count - 1] }

    /// Appends the state after an operation; `isDurable` when the operation (and so every one
    /// before it) was acknowledged as durable.
    mutating func record(_ state: [StoreKey: [UInt8]], durable isDurable: Bool) {
        states.append(state)
        if isDurable { durable = states.count - 1 }
    }

    /// The states the store may recover to: the last durable one and every later one.
    func candidates() -> ArraySlice<[StoreKey: [UInt8]]> { states[durable...] }
}
