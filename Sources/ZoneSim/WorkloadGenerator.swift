import ZonedStorage

/// Turns a ``Workload`` into a stream of block operations over `blocks` logical blocks, seeded
/// and reproducible.
struct WorkloadGenerator: Sendable {
    private enum Source: Sendable {
        case uniform
        /// Hot blocks are [0, hotBlocks); a write is hot when the draw is below `hotThreshold`.
        case hotCold(hotBlocks: UInt64, hotThreshold: UInt64)
        case zipf(ZipfSampler)
        case sequential(next: UInt64)
        /// Operations in blocks; `index` and `block` are the replay position.
        case trace(operations: [TraceFile.Operation], index: Int, block: UInt64)
    }

    private var source: Source
    private var random: SplitMix64
    private let blocks: UInt64
    private let blockSize: UInt64

    /// - Throws: ``SimulationError`` `.invalidTrace` for a trace beyond the logical space or not
    ///   aligned to blocks.
    init(workload: Workload, trace: TraceFile?, blocks: Int, blockSize: Int, seed: UInt64) throws(SimulationError) {
        self.blocks = UInt64(blocks)
        self.blockSize = UInt64(blockSize)
        self.random = SplitMix64(seed: seed)
        switch workload {
        case .uniform:
            source = .uniform
        case .hotCold(let writePercent, let spacePercent):
            let hot = max(1, min(UInt64(blocks) - 1, UInt64((Double(blocks) * spacePercent / 100).rounded())))
            let threshold = UInt64(min(Double(UInt64.max), (writePercent / 100 * 18_446_744_073_709_551_616.0)))
            source = .hotCold(hotBlocks: hot, hotThreshold: threshold)
        case .zipf(let exponent):
            source = .zipf(ZipfSampler(count: blocks, exponent: exponent))
        case .sequential:
            source = .sequential(next: 0)
        case .trace(let path):
            guard let trace else {
                throw SimulationError(code: .invalidTrace, message: "the trace \(path) was not loaded")
            }
            let space = UInt64(blocks) * UInt64(blockSize)
            for (number, operation) in trace.operations.enumerated() {
                guard operation.offset % UInt64(blockSize) == 0, operation.length % UInt64(blockSize) == 0 else {
                    throw SimulationError(
                        code: .invalidTrace,
                        message: "trace operation \(number + 1) (\(operation.kind) \(operation.length) bytes at "
                            + "\(operation.offset)) is not aligned to the \(blockSize)-byte block; use block-aligned "
                            + "offsets and lengths or a smaller --block-size"
                    )
                }
                guard operation.offset + operation.length <= space else {
                    throw SimulationError(
                        code: .invalidTrace,
                        message:
                            "trace operation \(number + 1) addresses bytes up to \(operation.offset + operation.length), "
                            + "beyond the logical space of \(space) bytes; simulate a larger device or a lower ρ"
                    )
                }
            }
            source = .trace(operations: trace.operations, index: 0, block: 0)
        }
    }

    /// A uniform integer in [0, bound).
    private mutating func below(_ bound: UInt64) -> UInt64 {
        random.next().multipliedFullWidth(by: bound).high
    }

    /// The next operation.
    mutating func next() -> BlockOperation {
        switch source {
        case .uniform:
            return .write(below(blocks))
        case .hotCold(let hot, let threshold):
            if random.next() < threshold { return .write(below(hot)) }
            return .write(hot + below(blocks - hot))
        case .zipf(let sampler):
            return .write(UInt64(sampler.sample(using: &random) - 1))
        case .sequential(let next):
            source = .sequential(next: next + 1 == blocks ? 0 : next + 1)
            return .write(next)
        case .trace(let operations, var index, var block):
            var operation = operations[index]
            let count = operation.length / blockSize
            let result: BlockOperation =
                operation.kind == .write
                ? .write(operation.offset / blockSize + block) : .delete(operation.offset / blockSize + block)
            block += 1
            if block == count {
                block = 0
                index = index + 1 == operations.count ? 0 : index + 1
                operation = operations[index]
            }
            source = .trace(operations: operations, index: index, block: block)
            return result
        }
    }
}
