import Foundation
import ZonedStorage

/// A reproducible random source for tests: `ZonedStorage`'s ``SplitMix64`` with the few
/// conveniences the workload generators need. Print the seed in every failure message.
package struct SeededRandom: RandomNumberGenerator, Sendable {
    private var generator: SplitMix64
    /// The seed this generator started from.
    package let seed: UInt64

    /// Creates a generator; the same seed gives the same sequence.
    package init(seed: UInt64) {
        self.seed = seed
        generator = SplitMix64(seed: seed)
    }

    package mutating func next() -> UInt64 { generator.next() }

    /// A uniformly distributed integer in `range`.
    package mutating func int(in range: ClosedRange<Int>) -> Int {
        Int.random(in: range, using: &self)
    }

    /// A uniformly distributed integer in `range`.
    package mutating func int(in range: Range<Int>) -> Int {
        Int.random(in: range, using: &self)
    }

    /// True with probability `numerator / denominator`.
    package mutating func chance(_ numerator: Int, in denominator: Int) -> Bool {
        int(in: 0..<denominator) < numerator
    }

    /// One element of `elements`, which must not be empty.
    package mutating func pick<C: Collection>(_ elements: C) -> C.Element {
        let offset = int(in: 0..<elements.count)
        return elements[elements.index(elements.startIndex, offsetBy: offset)]
    }

    /// A value chosen with the given relative weights.
    package mutating func weighted<T>(_ choices: [(weight: Int, value: T)]) -> T {
        let total = choices.reduce(0) { $0 + $1.weight }
        var roll = int(in: 0..<total)
        for choice in choices {
            if roll < choice.weight { return choice.value }
            roll -= choice.weight
        }
        preconditionFailure("weights must be positive")
    }
}

/// The seeds of the randomised tests: a fixed handful in CI, more when the environment
/// variable `ZONEALLOC_MODEL_SEEDS` is set to a count (`ZONEALLOC_MODEL_SEEDS=200 swift test`).
package enum TestSeeds {
    /// The fixed seeds every run uses.
    package static let fixed: [UInt64] = [1, 7, 42, 2024, 0xC0FFEE]

    /// ``fixed`` plus, when `ZONEALLOC_MODEL_SEEDS=N`, N more seeds derived from the count (so
    /// that a failing run is reproduced by the same environment value and the printed seed).
    package static var model: [UInt64] {
        extended(by: ProcessInfo.processInfo.environment["ZONEALLOC_MODEL_SEEDS"])
    }

    static func extended(by value: String?) -> [UInt64] {
        guard let value, let count = Int(value), count > 0 else { return fixed }
        var rng = SplitMix64(seed: 0x5EED_0000 &+ UInt64(count))
        return fixed + (0..<count).map { _ in rng.next() }
    }
}
