/// Clipper's adaptive batching, used by the `clipper-like` baseline: grow the batch cap by one while the
/// p99 of recent batch latencies fits the SLO, cut it by 10% when it does not. A policy value with a
/// `mutating record` feedback method, in the shape of swift-nio's `AdaptiveRecvByteBufferAllocator`.
public struct AIMDBatchSize: Sendable {
    public private(set) var batchSize: Int
    public let maxBatch: Int
    public let latencySLONs: Int64
    public let decreaseFactor: Double
    /// Latencies of the last `windowSize` batches since the last change of direction.
    private var window: [Int64] = []
    private let windowSize: Int

    public init(maxBatch: Int, latencySLONs: Int64, decreaseFactor: Double = 0.9, windowSize: Int = 20) {
        precondition(maxBatch >= 1, "maxBatch must be >= 1, got \(maxBatch)")
        precondition(latencySLONs > 0, "latencySLONs must be > 0, got \(latencySLONs)")
        precondition(decreaseFactor > 0 && decreaseFactor < 1, "decreaseFactor must be in (0, 1), got \(decreaseFactor)")
        self.batchSize = 1
        self.maxBatch = maxBatch
        self.latencySLONs = latencySLONs
        self.decreaseFactor = decreaseFactor
        self.windowSize = windowSize
    }

    /// p99 of the window (with at most 100 samples, the largest).
    public var recentP99Ns: Int64? {
        guard !window.isEmpty else { return nil }
        let sorted = window.sorted()
        return sorted[Swift.min(sorted.count - 1, Int((Double(sorted.count) * 0.99).rounded(.down)))]
    }

    public mutating func record(batchLatencyNs: Int64) {
        window.append(batchLatencyNs)
        if window.count > windowSize { window.removeFirst(window.count - windowSize) }
        if let p99 = recentP99Ns, p99 > latencySLONs {
            batchSize = Swift.max(1, Int((Double(batchSize) * decreaseFactor).rounded(.down)))
            window.removeAll(keepingCapacity: true)
        } else {
            batchSize = Swift.min(maxBatch, batchSize + 1)
        }
    }
}
