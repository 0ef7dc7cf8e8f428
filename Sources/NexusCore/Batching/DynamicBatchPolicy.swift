/// Triton's dynamic batcher, used by the `triton-like` baseline: run as soon as `maxBatch` requests are
/// queued, otherwise once the oldest request has waited `maxQueueDelayNs`; requests whose timeout (their
/// deadline) has passed are rejected when the batch is formed.
public struct DynamicBatchPolicy: Sendable, Equatable {
    public var maxBatch: Int
    public var maxQueueDelayNs: Int64

    public init(maxBatch: Int, maxQueueDelayNs: Int64) {
        precondition(maxBatch >= 1, "maxBatch must be >= 1, got \(maxBatch)")
        precondition(maxQueueDelayNs >= 0, "maxQueueDelayNs must be >= 0, got \(maxQueueDelayNs)")
        self.maxBatch = maxBatch
        self.maxQueueDelayNs = maxQueueDelayNs
    }

    public enum Decision: Equatable, Sendable {
        case run
        /// Nothing to run before this time (unless more requests arrive).
        case waitUntil(Int64)
        case idle
    }

    /// `queued` requests, the oldest of which arrived at `oldestArrivalNs`.
    public func decide(queued: Int, oldestArrivalNs: Int64, nowNs: Int64) -> Decision {
        guard queued > 0 else { return .idle }
        if queued >= maxBatch { return .run }
        let due = oldestArrivalNs + maxQueueDelayNs
        return nowNs >= due ? .run : .waitUntil(due)
    }
}
