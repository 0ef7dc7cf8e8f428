/// The measured latency and memory of one model on one device kind, at a few batch sizes.
///
/// Invariant: points are sorted by batch, distinct, and start at batch 1. Values between measured batch
/// sizes are interpolated linearly; nothing beyond the largest measured batch is ever extrapolated.
public struct ModelProfile: Equatable, Sendable {
    public let model: String
    public let device: String?
    public let inputSize: Int?
    public let points: [ProfilePoint]

    public init(model: String, device: String? = nil, inputSize: Int? = nil, points: [ProfilePoint],
                source: String = "profile") throws {
        let sorted = points.sorted { $0.batch < $1.batch }
        guard let first = sorted.first else { throw ProfileError.empty(source: source) }
        guard first.batch == 1 else { throw ProfileError.missingBatchOne(source: source, model: model) }
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.batch == b.batch {
            throw ProfileError.duplicateBatch(source: source, line: 0, model: model, batch: b.batch)
        }
        self.model = model
        self.device = device
        self.inputSize = inputSize
        self.points = sorted
    }

    public var maxBatch: Int { points[points.count - 1].batch }

    /// Planning latency at `batch`, interpolated; nil beyond the profile.
    public func latencyMs(batch: Int) -> Double? { interpolate(batch) { $0.planningLatencyMs } }
    public func medianLatencyMs(batch: Int) -> Double? { interpolate(batch) { $0.medianLatencyMs } }
    public func p99LatencyMs(batch: Int) -> Double? { interpolate(batch) { $0.p99LatencyMs } }
    public func memoryMB(batch: Int) -> Double? { interpolate(batch) { $0.memoryMB } }

    /// Requests per second when running batches of `batch` back to back.
    public func throughputPerSecond(batch: Int) -> Double? {
        latencyMs(batch: batch).map { 1000 * Double(batch) / $0 }
    }

    private func interpolate(_ batch: Int, _ value: (ProfilePoint) -> Double) -> Double? {
        guard batch >= 1, batch <= maxBatch else { return nil }
        // Binary search for the first point with batch >= wanted.
        var low = 0, high = points.count - 1
        while low < high {
            let mid = (low + high) / 2
            if points[mid].batch < batch { low = mid + 1 } else { high = mid }
        }
        let upper = points[low]
        if upper.batch == batch || low == 0 { return value(upper) }
        let lower = points[low - 1]
        let fraction = Double(batch - lower.batch) / Double(upper.batch - lower.batch)
        return value(lower) + fraction * (value(upper) - value(lower))
    }
}
