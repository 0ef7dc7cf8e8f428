import NexusProtocol
import NexusRuntime

// A batch's timing on the frontend <-> backend wire (`BackendReply`): the backend writes it, the frontend
// reads it back for Triton's statistics (`ApplicationStatistics`).
extension Nexus_Cluster_BackendReply {
    mutating func setBatchTiming(_ timing: BatchTiming) {
        batchSize = UInt32(clamping: timing.batchSize)
        computeInputNs = timing.computeInputNs
        computeInferNs = timing.computeInferNs
        computeOutputNs = timing.computeOutputNs
    }

    /// The batch's timing, or nil when the request never ran in one.
    var batchTiming: BatchTiming? {
        guard batchSize > 0 else { return nil }
        return BatchTiming(batchSize: Int(batchSize), computeInputNs: computeInputNs, computeInferNs: computeInferNs,
                           computeOutputNs: computeOutputNs)
    }
}
