import Dispatch
public import ZoneAlloc
public import ZonedStorage

/// The async API: the same operations, run on a dispatch queue so that waiting for the device
/// (and for group commits) never blocks a thread of Swift's cooperative pool.
extension ZoneStore {
    /// Runs `work` on a global dispatch queue and returns its result.
    private func offload<T: Sendable>(_ work: @escaping @Sendable () throws(StoreError) -> T) async throws(StoreError)
        -> T
    {
        let result: Result<T, StoreError> = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: Result { () throws(StoreError) -> T in try work() })
            }
        }
        return try result.get()
    }

    /// Stores `bytes` under `key` (see ``put(_:_:hint:durability:kind:)``).
    public func put(
        _ key: StoreKey,
        _ bytes: [UInt8],
        hint: WriteHint = .stream(0),
        durability: Durability = .durable,
        kind: ValueKind = .dirty
    ) async throws(StoreError) {
        try await offload { () throws(StoreError) in
            try self.put(key, bytes, hint: hint, durability: durability, kind: kind)
        }
    }

    /// The value stored under `key` (see ``get(_:)``).
    public func get(_ key: StoreKey) async throws(StoreError) -> [UInt8] {
        try await offload { () throws(StoreError) in try self.get(key) }
    }

    /// Deletes `key`'s value (see ``delete(_:durability:)``).
    @discardableResult
    public func delete(_ key: StoreKey, durability: Durability = .durable) async throws(StoreError) -> Bool {
        try await offload { () throws(StoreError) in try self.delete(key, durability: durability) }
    }

    /// Makes every change made so far durable (see ``sync()``).
    public func sync() async throws(StoreError) {
        try await offload { () throws(StoreError) in try self.sync() }
    }

    /// Closes the store (see ``close()``).
    public func close() async throws(StoreError) {
        try await offload { () throws(StoreError) in try self.close() }
    }

    /// Runs a copygc pass (see ``collectGarbage(maxVictims:progress:)``).
    @discardableResult
    public func collectGarbage(maxVictims: Int? = nil) async throws(StoreError) -> CopygcReport {
        try await offload { () throws(StoreError) in try self.collectGarbage(maxVictims: maxVictims) }
    }

    /// Formats `device` (see ``format(_:options:)``).
    public static func format(_ device: any ZonedDevice, options: FormatOptions = FormatOptions())
        async throws(StoreError)
    {
        let result: Result<Void, StoreError> = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: Result { () throws(StoreError) in try format(device, options: options) })
            }
        }
        try result.get()
    }

    /// Opens the store on `device` (see ``open(_:options:)``).
    public static func open(_ device: any ZonedDevice, options: OpenOptions = OpenOptions()) async throws(StoreError)
        -> ZoneStore
    {
        let result: Result<ZoneStore, StoreError> = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: Result { () throws(StoreError) in try open(device, options: options) })
            }
        }
        return try result.get()
    }
}
