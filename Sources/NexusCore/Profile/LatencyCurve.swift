/// A model's profile made dense for planning and simulation: one entry per batch size 1...maxBatch.
///
/// A batch can always be padded up to a larger measured size (the runtime replays the CUDA graph of the
/// next captured size), so the latency the planner relies on is the *padded envelope*
/// `latencyMs(b) = min over b' >= b of interpolated(b')`, which is non-decreasing in `b` even where the
/// measurements are noisy (resnet18's p99 at batch 2 is above its p99 at batch 4). `executionBatch[b]`
/// says which size actually runs. Arrays are indexed by batch; index 0 is unused.
public struct LatencyCurve: Sendable {
    public let model: String
    public let maxBatch: Int
    /// Planning latency (ms) of a batch of `b`, padded envelope.
    public let latencyMs: [Double]
    /// The batch size that runs for a batch of `b` (>= b).
    public let executionBatch: [Int]
    /// Simulated-device range for a batch of `b`: median and p99 of the execution batch, in ns.
    public let medianNs: [Int64]
    public let p99Ns: [Int64]
    /// Peak memory (MB) while running a batch of `b`.
    public let memoryMB: [Double]
    /// `bestBatchUpTo[b]`: the batch <= b with the highest throughput (ties: the larger batch).
    public let bestBatchUpTo: [Int]

    public init(profile: ModelProfile) {
        let maxBatch = profile.maxBatch
        var raw = [Double](repeating: 0, count: maxBatch + 1)
        for b in 1...maxBatch { raw[b] = profile.latencyMs(batch: b)! }
        var latency = raw
        var execution = Array(0...maxBatch)
        if maxBatch >= 2 {
            for b in stride(from: maxBatch - 1, through: 1, by: -1) where latency[b + 1] < latency[b] {
                latency[b] = latency[b + 1]
                execution[b] = execution[b + 1]
            }
        }
        var median = [Int64](repeating: 0, count: maxBatch + 1)
        var p99 = [Int64](repeating: 0, count: maxBatch + 1)
        var memory = [Double](repeating: 0, count: maxBatch + 1)
        var best = [Int](repeating: 0, count: maxBatch + 1)
        for b in 1...maxBatch {
            let run = execution[b]
            median[b] = Int64((profile.medianLatencyMs(batch: run)! * 1e6).rounded())
            p99[b] = Int64((profile.p99LatencyMs(batch: run)! * 1e6).rounded())
            memory[b] = profile.memoryMB(batch: run)!
            if b == 1 {
                best[b] = 1
            } else {
                let previous = best[b - 1]
                best[b] = Double(b) / latency[b] >= Double(previous) / latency[previous] ? b : previous
            }
        }
        self.model = profile.model
        self.maxBatch = maxBatch
        self.latencyMs = latency
        self.executionBatch = execution
        self.medianNs = median
        self.p99Ns = p99
        self.memoryMB = memory
        self.bestBatchUpTo = best
    }

    public func throughputPerSecond(batch: Int) -> Double { 1000 * Double(batch) / latencyMs[batch] }

    /// How long a simulated device takes for a batch of `batch` (DESIGN.md §3.7): uniform between the median
    /// and the p99 of the batch size that runs, `unit` being a uniform draw in [0, 1). The simulator's GPUs and
    /// the SIMULATED runtime of the servers both take batch times from here.
    public func simulatedDurationNs(batch: Int, unit: Double) -> Int64 {
        let low = medianNs[batch], high = p99Ns[batch]
        guard high > low else { return low }
        return low + Int64(unit * Double(high - low))
    }

    /// Largest batch whose padded latency is <= `limitMs`, or 0 if even batch 1 is slower.
    public func largestBatch(withLatencyAtMostMs limitMs: Double) -> Int {
        // latencyMs is non-decreasing, so binary search the last index <= limit.
        var low = 0, high = maxBatch
        while low < high {
            let mid = (low + high + 1) / 2
            if latencyMs[mid] <= limitMs { low = mid } else { high = mid - 1 }
        }
        return low
    }

    /// The saturated operating point under a GPU budget (DESIGN.md §3.2 step 1): a request may wait one full
    /// batch and then run in the next, so a batch `b` is safe when `2 * latencyMs(b) <= gpuBudgetMs`. Of the
    /// safe batches we take the one with the highest throughput (the design says the largest; with the padded
    /// envelope the two differ only where throughput falls with batch size, and then the largest is worse).
    public func saturatedPoint(gpuBudgetMs: Double) -> SaturatedPoint? {
        let largestSafe = largestBatch(withLatencyAtMostMs: gpuBudgetMs / 2)
        guard largestSafe >= 1 else { return nil }
        let batch = bestBatchUpTo[largestSafe]
        return SaturatedPoint(batch: batch, latencyMs: latencyMs[batch], largestSafeBatch: largestSafe)
    }
}

/// A session running alone on a GPU at its best safe batch.
public struct SaturatedPoint: Equatable, Sendable {
    /// `B_i`: the batch a saturated backend runs.
    public var batch: Int
    /// `l_i(B_i)`: also the duty cycle of a saturated backend.
    public var latencyMs: Double
    /// The largest batch that is safe for the budget (>= batch).
    public var largestSafeBatch: Int
    /// `T_i = 1000 * B_i / l_i(B_i)`.
    public var throughputPerSecond: Double { 1000 * Double(batch) / latencyMs }
}
