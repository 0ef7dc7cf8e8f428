import NexusProtocol
import NexusRuntime
@testable import NexusServer
import XCTest

/// Triton's `timeout` tightens a request's deadline and never loosens it; bad values are named.
final class TritonParametersTests: XCTestCase {
    func testTimeoutSetsADeadlineInMicroseconds() throws {
        let parameters = try TritonParameters(["timeout": .with { $0.int64Param = 250 }, "priority": .with { $0.int64Param = 1 }])
        XCTAssertEqual(parameters, TritonParameters(timeoutUs: 250, priority: 1))
        XCTAssertEqual(parameters.deadlineNs(arrivalNs: 1_000), 251_000)
    }

    func testNoTimeoutZeroOrOverflowLeavesTheSLOsDeadline() throws {
        XCTAssertEqual(try TritonParameters([:]).deadlineNs(arrivalNs: 5), .max)
        XCTAssertEqual(TritonParameters(timeoutUs: 0).deadlineNs(arrivalNs: 5), .max)
        XCTAssertEqual(TritonParameters(timeoutUs: .max).deadlineNs(arrivalNs: 5), .max)
    }

    func testTheRunnerKeepsTheEarlierOfTheSLOAndTheTimeout() {
        // ApplicationRunner takes min(stage deadline, cap): a cap past the SLO changes nothing.
        XCTAssertEqual(min(Int64(10_000), TritonParameters(timeoutUs: 1_000_000).deadlineNs(arrivalNs: 0)), 10_000)
        XCTAssertEqual(min(Int64(10_000), TritonParameters(timeoutUs: 2).deadlineNs(arrivalNs: 0)), 2_000)
    }

    func testNegativeOrNonIntegerValuesAreInvalidArguments() {
        XCTAssertThrowsError(try TritonParameters(["timeout": .with { $0.int64Param = -1 }])) { error in
            XCTAssertEqual(error as? InferenceError,
                           .invalidArgument("parameters.timeout: expected an integer at least 0 (microseconds), got -1"))
        }
        XCTAssertThrowsError(try TritonParameters(["priority": .with { $0.stringParam = "high" }])) { error in
            XCTAssertEqual(error as? InferenceError, .invalidArgument("parameters.priority: expected an integer at least 0, got 'high'"))
        }
    }
}
