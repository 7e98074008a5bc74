/// Places a table's ids (and fingerprints) in bucket order: stably by substring value, so ids
/// stay ascending within a bucket.
///
/// A table of cache size takes one counting-sort pass. For larger ones that pass writes each
/// item to a random slot of arrays far larger than the caches (10⁸ items: 400 MB of ids), every
/// write a cache and TLB miss; they take radix passes instead, eight bits of the value at a time
/// from the lowest, each writing to only 256 places whose cache lines and pages stay resident.
/// The offsets are then read off the sorted values in one sequential sweep.
enum BucketSort {
    /// Below this many items the whole table is cache-sized and one counting-sort pass is faster.
    static let minimumItems = 1 << 16
    /// Bits of the value each pass orders by: 256 write heads, within the TLB's reach.
    static let digitBits = 8

    /// One item of the table: its substring value (the sort key), id and fingerprint.
    struct Entry {
        var value: UInt32
        var id: UInt32
        var fingerprint: UInt32
    }

    /// Fills `offsets`, `ids` and `fingerprints` (when given) as ``CompactSegment/buildTable``
    /// documents, from `count` entries that `fill` writes in id order. Values are below `2^bucketBits`.
    static func place(bucketBits: Int, count: Int, fill: (UnsafeMutableBufferPointer<Entry>) -> Void,
                      offsets: UnsafeMutableBufferPointer<UInt32>, ids: UnsafeMutableBufferPointer<UInt32>,
                      fingerprints: UnsafeMutableBufferPointer<UInt32>?) {
        var source = UnsafeMutableBufferPointer<Entry>.allocate(capacity: count)
        var target = UnsafeMutableBufferPointer<Entry>.allocate(capacity: count)
        defer {
            source.deallocate()
            target.deallocate()
        }
        fill(source)
        if count < minimumItems {
            // One pass by the whole value, the offsets buffer holding each bucket's next slot.
            offsets.update(repeating: 0)
            for entry in source { offsets[Int(entry.value) + 1] &+= 1 }
            for bucket in 1..<offsets.count { offsets[bucket] &+= offsets[bucket - 1] }
            for entry in source {
                let bucket = Int(entry.value)
                target[Int(offsets[bucket])] = entry
                offsets[bucket] &+= 1
            }
            swap(&source, &target)
        } else {
            radixPasses(bucketBits: bucketBits, &source, &target)
        }
        // `source` is in bucket order. Offsets: bucket v starts at the first value ≥ v.
        var bucket = 0
        for position in 0..<count {
            let entry = source[position]
            ids[position] = entry.id
            fingerprints?[position] = entry.fingerprint
            while bucket <= Int(entry.value) {
                offsets[bucket] = UInt32(position)
                bucket += 1
            }
        }
        while bucket < offsets.count {
            offsets[bucket] = UInt32(count)
            bucket += 1
        }
    }

    /// Orders `source` by value, `digitBits` at a time from the lowest, ending in `source`.
    private static func radixPasses(bucketBits: Int, _ source: inout UnsafeMutableBufferPointer<Entry>,
                                    _ target: inout UnsafeMutableBufferPointer<Entry>) {
        var heads = [Int](repeating: 0, count: 1 << digitBits)
        heads.withUnsafeMutableBufferPointer { heads in
            for shift in stride(from: 0, to: bucketBits, by: digitBits) {
                let mask = UInt32((1 << min(digitBits, bucketBits - shift)) - 1)
                heads.update(repeating: 0)
                for entry in source { heads[Int((entry.value >> UInt32(shift)) & mask)] += 1 }
                var total = 0
                for digit in heads.indices {
                    let size = heads[digit]
                    heads[digit] = total
                    total += size
                }
                for entry in source {
                    let digit = Int((entry.value >> UInt32(shift)) & mask)
                    target[heads[digit]] = entry
                    heads[digit] += 1
                }
                swap(&source, &target)
            }
        }
    }
}
