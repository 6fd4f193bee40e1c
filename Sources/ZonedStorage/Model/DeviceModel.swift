/// The zone model of a device, as `enum zbd_dev_model` in `libzbd/zbd.h`.
public enum DeviceModel: String, Sendable, Hashable, Codable {
    /// Host-managed: sequential zones must be written sequentially (`ZBD_DM_HOST_MANAGED`).
    case hostManaged = "host-managed"
    /// Host-aware (`ZBD_DM_HOST_AWARE`); current kernels expose these as regular disks.
    case hostAware = "host-aware"
    /// Not zoned (`ZBD_DM_NOT_ZONED`).
    case notZoned = "not-zoned"
}
