import GRPCCore
import NexusRuntime

// The one mapping from Nexus's errors to gRPC status codes and HTTP statuses (DESIGN.md §4). Handlers throw
// these errors as they are and grpc-swift turns them into statuses through `RPCErrorConvertible`; a
// ModelStreamInfer answer names the code with `RPCError.Code.name`; the frontend <-> backend wire carries the
// numeric code; the HTTP/REST frontend answers `httpStatusCode`.

extension InferenceError: RPCErrorConvertible {
    public var rpcErrorCode: RPCError.Code {
        switch self {
        case .invalidArgument: return .invalidArgument
        case .notFound: return .notFound
        case .resourceExhausted: return .resourceExhausted
        case .deadlineExceeded: return .deadlineExceeded
        case .unavailable: return .unavailable
        case .internalError: return .internalError
        }
    }

    public var rpcErrorMessage: String { message }

    public var message: String {
        switch self {
        case let .invalidArgument(m), let .notFound(m), let .resourceExhausted(m), let .deadlineExceeded(m),
             let .unavailable(m), let .internalError(m):
            return m
        }
    }

    /// The numeric code on the frontend <-> backend wire (`BackendReply.code`).
    var statusCode: Int32 { Int32(rpcErrorCode.rawValue) }

    /// The error a backend's reply code stands for; a code Nexus never sends is an internal error.
    init(statusCode: Int32, message: String) {
        switch RPCError.Code(Status.Code(rawValue: Int(statusCode)) ?? .internalError) {
        case .invalidArgument?: self = .invalidArgument(message)
        case .deadlineExceeded?: self = .deadlineExceeded(message)
        case .notFound?: self = .notFound(message)
        case .resourceExhausted?: self = .resourceExhausted(message)
        case .unavailable?: self = .unavailable(message)
        default: self = .internalError(message)
        }
    }

    /// The HTTP status of the same error on the HTTP/REST protocol (Triton's choices for the KServe v2 API).
    public var httpStatusCode: Int {
        switch self {
        case .invalidArgument: return 400
        case .notFound: return 404
        case .resourceExhausted: return 429
        case .unavailable: return 503
        case .deadlineExceeded: return 504
        case .internalError: return 500
        }
    }

    /// `CODE_NAME: message`, as a ModelStreamInfer `error_message` carries it (Triton does the same).
    var streamMessage: String { "\(rpcErrorCode.name): \(message)" }
}

extension ServerError: RPCErrorConvertible {
    /// A bad value a peer sent (an address), or a state the call cannot be served in.
    public var rpcErrorCode: RPCError.Code {
        switch self {
        case .configuration: return .invalidArgument
        case .startup, .tableNotApplied: return .failedPrecondition
        }
    }

    public var rpcErrorMessage: String { description }
}

extension RPCError.Code {
    /// The canonical name of the code (`UNAVAILABLE`), as gRPC's specification and every client spell it.
    public var name: String {
        Self.names.indices.contains(rawValue) ? Self.names[rawValue] : "UNKNOWN"
    }

    private static let names = [
        "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
        "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
        "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
    ]
}
