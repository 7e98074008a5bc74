import Testing
import TestSupport
@testable import HammingSearch

/// Large tables are placed by two radix passes instead of one scatter: the table must be the
/// counting sort's exactly — buckets in value order, ids ascending within each, fingerprints
/// beside their ids, offsets at every bucket's start.
@Suite struct BucketSortTests {
    @Test(arguments: [2, 3, 11, 16, 21, 24], [false, true])
    func radixPlacementEqualsAStableSortByValue(bucketBits: Int, withFingerprints: Bool) {
        var rng = SeededGenerator(seed: UInt64(bucketBits))
        let count = BucketSort.minimumItems + 4321
        // Skewed values (many repeats, empty buckets) as clustered codes give.
        let values = (0..<count).map { _ in UInt32.random(in: 0..<(1 << UInt32(bucketBits)), using: &rng) & UInt32.random(in: 0...UInt32.max, using: &rng) }
        let itemIDs = (0..<count).map { UInt32($0 * 3 + 7) }
        let itemFingerprints = (0..<count).map { _ in UInt32.random(in: 0...UInt32.max, using: &rng) }
        var offsets = [UInt32](repeating: 99, count: (1 << bucketBits) + 1)
        var ids = [UInt32](repeating: 0, count: count)
        var fingerprints = [UInt32](repeating: 0, count: count)
        values.withUnsafeBufferPointer { values in
            itemIDs.withUnsafeBufferPointer { itemIDs in
                itemFingerprints.withUnsafeBufferPointer { itemFingerprints in
                    offsets.withUnsafeMutableBufferPointer { offsets in
                        ids.withUnsafeMutableBufferPointer { ids in
                            fingerprints.withUnsafeMutableBufferPointer { fingerprints in
                                CompactSegment.buildTable(bucketBits: bucketBits, itemIDs: itemIDs, values: values, offsets: offsets, ids: ids,
                                                          itemFingerprints: withFingerprints ? itemFingerprints : nil,
                                                          fingerprints: withFingerprints ? fingerprints : nil)
                            }
                        }
                    }
                }
            }
        }
        let order = (0..<count).sorted { values[$0] != values[$1] ? values[$0] < values[$1] : $0 < $1 }
        #expect(ids == order.map { itemIDs[$0] })
        if withFingerprints { #expect(fingerprints == order.map { itemFingerprints[$0] }) }
        var expectedOffsets = [UInt32](repeating: 0, count: (1 << bucketBits) + 1)
        for value in values { expectedOffsets[Int(value) + 1] += 1 }
        for bucket in 1..<expectedOffsets.count { expectedOffsets[bucket] += expectedOffsets[bucket - 1] }
        #expect(offsets == expectedOffsets)
    }
}
