/// Places a table's ids (and fingerprints) in bucket order by stable radix passes on the
/// substring value, eight bits at a time from the lowest.
///
/// A direct counting-sort scatter writes each item to a random slot of arrays far larger than
/// the caches (10⁸ items: 400 MB of ids), so every write misses the cache and the TLB. A radix
/// pass writes to only 256 places at a time, each the head of a run whose cache line and page
/// stay resident; a few passes finish the order, and stability keeps ids ascending within a
/// bucket. The offsets are then read off the sorted values in one sequential sweep.
enum BucketSort {
    /// Below this many items the whole table is cache-sized and the direct scatter is faster.
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
}
