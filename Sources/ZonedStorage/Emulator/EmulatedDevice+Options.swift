extension EmulatedDevice {
    /// Where an emulated device keeps its data.
    public enum Storage: Sendable, Hashable {
        /// Data in memory; gone when the device is released.
        case memory
        /// Zone state only; reads return zeros where data was written. For simulating very large
        /// drives: a 20 TB drive of 256 MiB zones takes a few MiB.
        case metadataOnly
    }

    /// How the device's write cache behaves.
    public enum WriteCacheMode: String, Sendable, Hashable, Codable {
        /// A volatile write-back cache (NVMe, SCSI with WCE): written data and write pointers are
        /// durable only after ``EmulatedDevice/flush()``; a power loss may lose any unflushed part.
        case volatile
        /// Every completed write is durable (null_blk's default `write through`).
        case writeThrough
    }

    /// Behaviour switches of an emulated device.
    public struct Options: Sendable, Hashable {
        /// Write cache behaviour; `.volatile` by default.
        public var writeCache: WriteCacheMode
        /// After a failed write, refuse writes to that zone until a report, reset or finish
        /// refreshes its write pointer, as Linux 6.13+ does (checklist item 25). Older kernels
        /// (the 6.1 of Debian 12) do not; set `false` to match them.
        public var stickyWriteErrors: Bool
        /// A conventional zone whose unflushed blocks reach this many bytes is written back to
        /// the backing store (still not durable until flushed; this only bounds the emulator's
        /// memory). Sequential zones keep no unflushed data in memory: their writes go straight
        /// to the backing store, and only their write pointers wait for the flush.
        public var writebackThreshold: Int

        /// Creates options; the defaults model a mainline kernel with a volatile write cache.
        public init(
            writeCache: WriteCacheMode = .volatile,
            stickyWriteErrors: Bool = true,
            writebackThreshold: Int = 8 << 20
        ) {
            self.writeCache = writeCache
            self.stickyWriteErrors = stickyWriteErrors
            self.writebackThreshold = writebackThreshold
        }

        /// Options with the write cache the kernel reports for `profile`'s kind of device
        /// (``Profile/writeCache``: write-through for null_blk, a volatile write-back cache for
        /// NVMe ZNS and SCSI ZBC) and the other defaults.
        public init(profile: Profile) {
            self.init(writeCache: profile.writeCache)
        }
    }

    /// A fault to inject. Counts start at the moment of injection; `nth: 1` fails the next one.
    public enum Fault: Sendable, Hashable {
        /// The nth read from now fails with EIO; nothing changes.
        case failRead(nth: Int)
        /// The nth write or append from now fails with EIO after its zone was (implicitly)
        /// opened, as a null_blk bad block does: no data, write pointer unchanged.
        case failWrite(nth: Int)
        /// The nth flush from now fails with EIO; nothing more becomes durable.
        case failFlush(nth: Int)
    }

    /// Zone resources in use, as the kernel counts them (checklist item 54).
    public struct ResourceUsage: Sendable, Hashable {
        /// Implicitly open zones.
        public var implicitOpen: Int
        /// Explicitly open zones.
        public var explicitOpen: Int
        /// Closed zones.
        public var closed: Int
        /// Open zones: implicit + explicit.
        public var open: Int { implicitOpen + explicitOpen }
        /// Active zones: open + closed.
        public var active: Int { open + closed }

        /// Creates a usage record (for comparisons in tests and tools).
        public init(implicitOpen: Int, explicitOpen: Int, closed: Int) {
            self.implicitOpen = implicitOpen
            self.explicitOpen = explicitOpen
            self.closed = closed
        }
    }
}
