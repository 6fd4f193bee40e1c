/// A seeded put/overwrite/delete workload for tests, the crash-test worker and the demo: the
/// same seed gives the same operations, and every value is derived from its own seed, so a
/// checker that only saw `(key, seed, length)` can recompute the bytes.
package struct StoreWorkload: Sendable {
    /// One step.
    package enum Operation: Sendable, Hashable {
        /// Store a value derived from `seed` of `length` bytes under `key`.
        case put(key: StoreKey, seed: UInt64, length: Int, durability: Durability)
        /// Delete `key`.
        case delete(key: StoreKey, durability: Durability)
        /// Make everything durable.
        case sync
        /// Run a copygc pass.
        case collect
    }

    private var state: UInt64
    private var counter: UInt64 = 0
    /// Number of distinct keys.
    package let keys: Int
    /// Largest value length.
    package let maximumLength: Int
    /// Percent of puts and deletes that are durable.
    package let durablePercent: Int

    /// Creates a workload.
    package init(seed: UInt64, keys: Int = 64, maximumLength: Int = 12 << 10, durablePercent: Int = 60) {
        self.state = seed ^ 0x5DEE_CE66_D1CE_4E5B
        self.keys = keys
        self.maximumLength = maximumLength
        self.durablePercent = durablePercent
    }

    private mutating func random() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    private mutating func below(_ bound: Int) -> Int { Int(random() % UInt64(bound)) }

    /// The next operation.
    package mutating func next() -> Operation {
        let roll = below(100)
        let key = StoreKey("k\(below(keys))")
        let durability: Durability = below(100) < durablePercent ? .durable : .buffered
        switch roll {
        case 0..<62:
            counter += 1
            // Mostly small values, some up to the maximum.
            let length = below(4) == 0 ? below(maximumLength + 1) : below(min(maximumLength, 6000) + 1)
            return .put(key: key, seed: random(), length: length, durability: durability)
        case 62..<90:
            return .delete(key: key, durability: durability)
        case 90..<95:
            return .sync
        default:
            return .collect
        }
    }

    /// The value of a put: `length` bytes derived from `seed`.
    package static func value(seed: UInt64, length: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: length)
        var z = seed
        var index = 0
        while index < length {
            z &+= 0x9E37_79B9_7F4A_7C15
            var word = z
            word = (word ^ (word >> 30)) &* 0xBF58_476D_1CE4_E5B9
            word = (word ^ (word >> 27)) &* 0x94D0_49BB_1331_11EB
            word ^= word >> 31
            for shift in stride(from: 0, to: 64, by: 8) where index < length {
                bytes[index] = UInt8(truncatingIfNeeded: word >> UInt64(shift))
                index += 1
            }
        }
        return bytes
    }
}
