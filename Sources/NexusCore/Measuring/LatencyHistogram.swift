/// A log-linear histogram of durations in nanoseconds: exact below 128 ns, then 64 buckets per power of
/// two (relative error under 1.6%). Fixed memory whatever the count, mergeable, and cheap to record, so the
/// simulator can keep one per application for millions of requests.
public struct LatencyHistogram: Sendable, Equatable {
    @usableFromInline var counts: [UInt64]
    @usableFromInline var recorded: UInt64 = 0
    @usableFromInline var largestNs: Int64 = 0

    public var count: UInt64 { recorded }
    public var maxNs: Int64 { largestNs }

    public init() { counts = [UInt64](repeating: 0, count: 64 * 58 + 128) }

    @inlinable
    static func bucket(_ valueNs: Int64) -> Int {
        let value = UInt64(Swift.max(0, valueNs))
        if value < 128 { return Int(value) }
        let shift = (63 - value.leadingZeroBitCount) - 6
        return 64 * shift + Int(value >> UInt64(shift))
    }

    /// The middle of a bucket's range.
    static func representative(_ bucket: Int) -> Int64 {
        if bucket < 128 { return Int64(bucket) }
        let shift = bucket / 64 - 1
        let top = bucket - 64 * shift
        return Int64(top << shift) + Int64((1 << shift) / 2)
    }

    @inlinable
    public mutating func record(_ valueNs: Int64) {
        counts[Self.bucket(valueNs)] += 1
        recorded += 1
        if valueNs > largestNs { largestNs = valueNs }
    }

    public mutating func merge(_ other: LatencyHistogram) {
        for index in counts.indices { counts[index] += other.counts[index] }
        recorded += other.recorded
        largestNs = Swift.max(largestNs, other.largestNs)
    }

    /// Every non-empty bucket in ascending order: its representative value (capped by the largest recorded)
    /// and its count. What a CDF is drawn from.
    public var nonEmptyBuckets: [(valueNs: Int64, count: UInt64)] {
        counts.enumerated().compactMap { bucket, count in
            count > 0 ? (Swift.min(Self.representative(bucket), maxNs), count) : nil
        }
    }

    /// The value at quantile `q` in 0...1 (nil when empty).
    public func quantileNs(_ q: Double) -> Int64? {
        guard count > 0 else { return nil }
        let rank = Swift.max(1, UInt64((q * Double(count)).rounded(.up)))
        var seen: UInt64 = 0
        for (bucket, bucketCount) in counts.enumerated() where bucketCount > 0 {
            seen += bucketCount
            if seen >= rank { return Swift.min(Self.representative(bucket), maxNs) }
        }
        return maxNs
    }
}
