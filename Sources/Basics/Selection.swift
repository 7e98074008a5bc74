extension Array where Element: Comparable {
    /// Reorders the array so that its first `count` elements are its `count` smallest, the
    /// element at `count − 1` the `(count − 1)`-th in sorted order (Hoare's selection, the middle
    /// element of each range as its pivot): linear time on average, where a sort costs
    /// `n log n`. Used where only a few order statistics or the smallest share are needed (the
    /// store's trimmed thumbnail distance, the robust standardisation's percentiles).
    /// - Precondition: `1 ≤ count ≤ self.count`; no element unordered with the others (NaN).
    @inlinable
    public mutating func partitionSmallest(count: Int) {
        precondition(count >= 1 && count <= self.count, "partitionSmallest(count: \(count)) of \(self.count) elements")
        var low = 0, high = self.count - 1
        while low < high {
            let pivot = self[(low + high) / 2]
            var i = low, j = high
            while i <= j {
                while self[i] < pivot { i += 1 }
                while self[j] > pivot { j -= 1 }
                if i <= j {
                    swapAt(i, j)
                    i += 1
                    j -= 1
                }
            }
            if count - 1 <= j {
                high = j
            } else if count - 1 >= i {
                low = i
            } else {
                return
            }
        }
    }
}
