import GRPCCore
@testable import NexusServer
import NexusRuntime
import Testing

/// The one mapping from Nexus's errors to gRPC statuses (DESIGN.md §4), used by every handler.
@Suite struct StatusCodeTests {
    static let errors: [(InferenceError, RPCError.Code, String)] = [
        (.invalidArgument("a"), .invalidArgument, "INVALID_ARGUMENT"),
        (.notFound("b"), .notFound, "NOT_FOUND"),
        (.resourceExhausted("c"), .resourceExhausted, "RESOURCE_EXHAUSTED"),
        (.deadlineExceeded("d"), .deadlineExceeded, "DEADLINE_EXCEEDED"),
        (.unavailable("e"), .unavailable, "UNAVAILABLE"),
        (.internalError("f"), .internalError, "INTERNAL"),
    ]

    @Test func eachInferenceErrorHasItsCodeAndName() {
        for (error, code, name) in Self.errors {
            let status = RPCError(error)
            #expect(status.code == code)
            #expect(status.message == error.message)
            #expect(error.streamMessage == "\(name): \(error.message)")
        }
    }

    @Test func theBackendWireCodeComesBackAsTheSameError() {
        for (error, _, _) in Self.errors {
            #expect(InferenceError(statusCode: error.statusCode, message: error.message) == error)
        }
        #expect(InferenceError(statusCode: 14, message: "m") == .unavailable("m"), "gRPC's number for UNAVAILABLE")
        #expect(InferenceError(statusCode: 99, message: "m") == .internalError("m"), "a code Nexus never sends")
        #expect(InferenceError(statusCode: 1, message: "m") == .internalError("m"))
    }

    @Test func serverErrorsAreStatusesToo() {
        #expect(RPCError(ServerError.configuration("address: bad")).code == .invalidArgument)
        #expect(RPCError(ServerError.startup("no")).code == .failedPrecondition)
        #expect(RPCError(ServerError.tableNotApplied("model 'x' failed to load")).code == .failedPrecondition)
    }

    @Test func codeNamesAreGRPCs() {
        #expect(RPCError.Code.cancelled.name == "CANCELLED")
        #expect(RPCError.Code.unauthenticated.name == "UNAUTHENTICATED")
        #expect(RPCError.Code.failedPrecondition.name == "FAILED_PRECONDITION")
    }
}
