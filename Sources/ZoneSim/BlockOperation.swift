/// One operation on one logical block.
enum BlockOperation: Sendable, Hashable {
    case write(UInt64)
    case delete(UInt64)
}
