import NexusCore

/// One sample as a client sent it.
public enum InferenceInput: Sendable {
    /// A raw tensor: the model's input shape and dtype, or for a model with `preprocess`, a UINT8
    /// `[height, width, channels]` RGB frame. A leading batch dimension of 1 is accepted.
    case tensor(dtype: TensorDType, shape: [Int], bytes: [UInt8])
    /// A JPEG image, for a model with `preprocess`.
    case jpeg([UInt8])
}

/// Why a request got no outputs. Each case maps onto one gRPC status code (the cluster issue's protocol).
public enum InferenceError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The request is malformed; the message names the field and the limit (INVALID_ARGUMENT).
    case invalidArgument(String)
    /// No such session or model here (NOT_FOUND).
    case notFound(String)
    /// A bounded queue is full (RESOURCE_EXHAUSTED).
    case resourceExhausted(String)
    /// Early drop: the deadline cannot be met (DEADLINE_EXCEEDED).
    case deadlineExceeded(String)
    /// The backend is stopping or no longer serves the session (UNAVAILABLE).
    case unavailable(String)
    /// The runtime failed on a batch (INTERNAL).
    case internalError(String)

    public var description: String {
        switch self {
        case let .invalidArgument(m): return "invalid argument: \(m)"
        case let .notFound(m): return "not found: \(m)"
        case let .resourceExhausted(m): return "resource exhausted: \(m)"
        case let .deadlineExceeded(m): return "deadline exceeded: \(m)"
        case let .unavailable(m): return "unavailable: \(m)"
        case let .internalError(m): return "internal: \(m)"
        }
    }
}

/// One output of one request: the model's output spec's name and shape, without the batch dimension.
public struct OutputTensor: Sendable, Equatable {
    public var name: String
    public var shape: [Int]
    public var values: [Float]
}

/// A call of one model under one session.
public struct InferenceRequest: Sendable {
    public var sessionID: String
    /// The model to answer with: the session's model, or for a prefix-group session one of its members.
    public var model: String
    public var input: InferenceInput
    /// Deadline on the executor's clock; early drop answers `deadlineExceeded` when it cannot be met.
    public var deadlineNs: Int64
    /// Triton's `priority`: 1 is the highest level, larger numbers lower, 0 the default (after every explicit
    /// level). A session's queue is batched level by level (`PriorityDeadlineQueue`).
    public var priority: UInt32

    public init(sessionID: String, model: String, input: InferenceInput, deadlineNs: Int64, priority: UInt32 = 0) {
        self.sessionID = sessionID
        self.model = model
        self.input = input
        self.deadlineNs = deadlineNs
        self.priority = priority
    }
}

extension InferenceError {
    /// What an early drop answers. Frontends tell a drop from other missed deadlines by this message's
    /// prefix (the wire carries a code and a message only): `RequestOutcome.dropped`.
    public static let earlyDrop = InferenceError.deadlineExceeded(earlyDropPrefix + "the deadline cannot be met by the next batch")
    public static let earlyDropPrefix = "dropped: "

    public var isEarlyDrop: Bool {
        if case let .deadlineExceeded(message) = self { return message.hasPrefix(Self.earlyDropPrefix) }
        return false
    }
}

public typealias InferenceOutcome = Result<[OutputTensor], InferenceError>
