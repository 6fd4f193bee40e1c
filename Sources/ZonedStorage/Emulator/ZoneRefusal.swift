import SystemPackage

/// Why the emulated device refused an operation, before it is turned into a
/// ``ZonedStorageError`` with the zone's description.
struct ZoneRefusal: Error, Sendable {
    /// The errno the kernel returns.
    var errno: Errno
    /// Why, in words, ending with what to do instead.
    var reason: String
}
