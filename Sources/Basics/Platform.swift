// The C library, for every module that imports Basics: one place to name it, so a port to
// another platform starts here. Linux-only calls beyond it (docs/architecture.md, "Platform")
// are few and named there.
#if canImport(Glibc)
@_exported import Glibc
#elseif canImport(Musl)
@_exported import Musl
#elseif canImport(Darwin)
@_exported import Darwin
#endif

/// Gives the pages of freed heap memory back to the system (glibc's `malloc_trim`), which the C
/// library otherwise keeps for later allocations: after a phase that allocated and freed
/// millions of small blocks (the per-image heaps of a neighbour search), resident memory then
/// shows what the next phase holds, not the high-water mark of the last.
/// - Returns: false when the C library has no such call (not glibc): nothing was done.
@discardableResult
public func returnFreedMemoryToTheSystem() -> Bool {
    // Looked up at run time: <malloc.h> is not part of the Glibc module, and other C libraries lack it.
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return false }
    typealias MallocTrim = @convention(c) (Int) -> Int32
    _ = unsafeBitCast(symbol, to: MallocTrim.self)(0)
    return true
}
