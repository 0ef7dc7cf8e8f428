import GRPCCore
import NexusRuntime

/// How a client request ended, as the `outcome` label of `nexus_frontend_requests_total`. Classified from
/// the one error-to-status mapping (`StatusCodes.swift`), so the label always agrees with the code the
/// client got; an early drop is a DEADLINE_EXCEEDED the backend chose (`InferenceError.isEarlyDrop`).
enum RequestOutcome: Int, CaseIterable, Sendable {
    case ok, dropped, deadlineExceeded, invalid, notFound, unavailable, resourceExhausted, internalError

    init(_ result: Result<some Any, InferenceError>) {
        switch result {
        case .success: self = .ok
        case let .failure(error): self.init(error)
        }
    }

    init(_ error: InferenceError) {
        switch error.rpcErrorCode {
        case .deadlineExceeded: self = error.isEarlyDrop ? .dropped : .deadlineExceeded
        case .invalidArgument: self = .invalid
        case .notFound: self = .notFound
        case .unavailable: self = .unavailable
        case .resourceExhausted: self = .resourceExhausted
        default: self = .internalError
        }
    }

    var label: String {
        switch self {
        case .ok: return "ok"
        case .dropped: return "dropped"
        case .deadlineExceeded: return "deadline_exceeded"
        case .invalid: return "invalid"
        case .notFound: return "not_found"
        case .unavailable: return "unavailable"
        case .resourceExhausted: return "resource_exhausted"
        case .internalError: return "internal"
        }
    }
}
