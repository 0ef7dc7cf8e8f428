/// Batch latencies measured on this device, for sessions whose table entry has no planned latency: early
/// drop then predicts a batch's finish from what the device actually took.
struct ObservedLatency {
    /// EWMA of the measured latency of batch `b` at index `b`; 0 when never measured.
    private var latencyNs: [Int64]

    init(maxBatch: Int) { latencyNs = [Int64](repeating: 0, count: maxBatch + 1) }

    mutating func record(batch: Int, durationNs: Int64) {
        if batch >= latencyNs.count { latencyNs += [Int64](repeating: 0, count: batch + 1 - latencyNs.count) }
        let previous = latencyNs[batch]
        latencyNs[batch] = previous == 0 ? durationNs : (previous * 7 + durationNs) / 8
    }

    /// The measured latency of `batch`; unmeasured, the nearest smaller measured batch scaled linearly (an
    /// over-estimate, as batching amortises), else the nearest larger one; 0 before any measurement.
    func estimateNs(batch: Int) -> Int64 {
        if batch < latencyNs.count, latencyNs[batch] > 0 { return latencyNs[batch] }
        var smaller = min(batch, latencyNs.count) - 1
        while smaller > 0, latencyNs[smaller] == 0 { smaller -= 1 }
        if smaller > 0 { return latencyNs[smaller] * Int64(batch) / Int64(smaller) }
        var larger = batch + 1
        while larger < latencyNs.count, latencyNs[larger] == 0 { larger += 1 }
        return larger < latencyNs.count ? latencyNs[larger] : 0
    }
}
