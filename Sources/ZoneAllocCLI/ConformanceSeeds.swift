import ArgumentParser

/// The seeds of `--seed`: repeated options, each a number or a comma-separated list.
enum ConformanceSeeds {
    /// The seeds `values` name, in order, each once; `[1]` when there are none.
    ///
    /// - Throws: `ValidationError` naming a value that is not a non-negative integer.
    static func parse(_ values: [String]) throws(ValidationError) -> [UInt64] {
        var seeds: [UInt64] = []
        for value in values {
            for part in value.split(separator: ",", omittingEmptySubsequences: false) {
                let text = part.filter { $0 != " " }
                guard let seed = UInt64(text) else {
                    throw ValidationError(
                        "--seed: '\(text)' is not a seed; give a non-negative integer, e.g. --seed 1 --seed 2 or "
                            + "--seed 1,2,3"
                    )
                }
                if !seeds.contains(seed) { seeds.append(seed) }
            }
        }
        return seeds.isEmpty ? [1] : seeds
    }
}
