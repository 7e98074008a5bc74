import Basics
import Foundation
import Testing

struct PlatformTests {
    /// Resident memory of this process in bytes (`/proc/self/status`).
    static func residentBytes() throws -> Int {
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") })
        return try #require(Int(line.split(separator: " ").dropFirst().first ?? "")) * 1024
    }

    /// Freed small blocks scattered over the heap stay resident until the C library is asked to
    /// give their pages back; after a neighbour search's millions of heaps, training asks.
    @Test func freedSmallBlocksLeaveResidentMemoryWhenReturned() throws {
        var blocks = (0..<1_000_000).map { _ in UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 8) }
        for block in blocks { block.storeBytes(of: 1, as: UInt64.self) }
        // Every 1,024th block stays, so the freed ones are holes below the heap's top, which a
        // plain free never returns.
        for (index, block) in blocks.enumerated() where index % 1024 != 0 { block.deallocate() }
        blocks = stride(from: 0, to: blocks.count, by: 1024).map { blocks[$0] }
        defer { for block in blocks { block.deallocate() } }
        let before = try Self.residentBytes()
        #expect(returnFreedMemoryToTheSystem(), "glibc offers malloc_trim")
        let after = try Self.residentBytes()
        #expect(before - after > 16 << 20, "\(before >> 20) MB resident before, \(after >> 20) MB after")
    }
}
