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
