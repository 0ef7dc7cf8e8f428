/// How the batch that answered a request ran, for Triton's statistics (compute_input, compute_infer,
/// compute_output, and executions per batch size): the backend measures it, the frontend sums it per
/// application.
public struct BatchTiming: Sendable, Equatable {
    public var batchSize: Int
    /// Gathering the batch's inputs into one tensor.
    public var computeInputNs: Int64
    /// The model (for a prefix group, the shared prefix and the heads).
    public var computeInferNs: Int64
    /// Cutting the outputs into per-request tensors.
    public var computeOutputNs: Int64

    public init(batchSize: Int, computeInputNs: Int64, computeInferNs: Int64, computeOutputNs: Int64) {
        self.batchSize = batchSize
        self.computeInputNs = computeInputNs
        self.computeInferNs = computeInferNs
        self.computeOutputNs = computeOutputNs
    }

    public var computeNs: Int64 { computeInputNs + computeInferNs + computeOutputNs }
}
