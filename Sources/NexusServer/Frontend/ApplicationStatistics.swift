import Foundation
import NexusRuntime

/// One application's counters for ModelStatistics, with Triton's meanings (ns, summed over requests):
/// success / fail: requests answered, from arrival at the frontend to the answer; queue: the time its calls
/// waited on backends before their batch ran; compute_input / compute_infer / compute_output: the phases of
/// the batches its calls ran in (`BatchTiming`). An application of several calls sums them. A request that
/// failed adds to fail only.
struct ApplicationStatistics: Sendable, Equatable {
    var successCount: UInt64 = 0
    var successNs: UInt64 = 0
    var failCount: UInt64 = 0
    var failNs: UInt64 = 0
    var queueNs: UInt64 = 0
    var computeInputNs: UInt64 = 0
    var computeInferNs: UInt64 = 0
    var computeOutputNs: UInt64 = 0
    /// Per batch size, the calls that ran in such batches and each phase's share of those batches: a batch
    /// of b requests, all sent by this frontend, adds b calls and its whole durations here (b shares of 1/b).
    var batchSizes: [Int: BatchSizeTotals] = [:]
    var lastInferenceMs: UInt64 = 0

    mutating func record(_ result: Result<ApplicationResult, InferenceError>, durationNs: Int64) {
        let ns = UInt64(max(0, durationNs))
        switch result {
        case let .success(answer):
            successCount += 1
            successNs += ns
            queueNs += UInt64(max(0, answer.queueNs))
            for batch in answer.batches {
                computeInputNs += UInt64(max(0, batch.computeInputNs))
                computeInferNs += UInt64(max(0, batch.computeInferNs))
                computeOutputNs += UInt64(max(0, batch.computeOutputNs))
                batchSizes[batch.batchSize, default: BatchSizeTotals()].add(batch)
            }
        case .failure:
            failCount += 1
            failNs += ns
        }
        lastInferenceMs = UInt64(Date().timeIntervalSince1970 * 1000)
    }

    var executionCount: UInt64 { batchSizes.reduce(0) { $0 + $1.value.executions(batchSize: $1.key) } }
}

/// One batch size's calls and summed shares of its batches' phases (ns).
struct BatchSizeTotals: Sendable, Equatable {
    var calls: UInt64 = 0
    var computeInputNs: UInt64 = 0
    var computeInferNs: UInt64 = 0
    var computeOutputNs: UInt64 = 0

    mutating func add(_ batch: BatchTiming) {
        let share = Int64(max(1, batch.batchSize))
        calls += 1
        computeInputNs += UInt64(max(0, batch.computeInputNs / share))
        computeInferNs += UInt64(max(0, batch.computeInferNs / share))
        computeOutputNs += UInt64(max(0, batch.computeOutputNs / share))
    }

    /// Batches run, as this frontend saw them: its calls over the size, rounded up (exact when this
    /// frontend sent every request of those batches).
    func executions(batchSize: Int) -> UInt64 {
        batchSize > 0 ? (calls + UInt64(batchSize) - 1) / UInt64(batchSize) : 0
    }
}
