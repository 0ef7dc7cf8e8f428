import NexusCore
import NexusProtocol
import NexusRuntime

/// Triton's request parameters as Nexus reads them (README: Triton's request parameters), the same on gRPC
/// and HTTP. `timeout` (µs; 0 or absent: none) tightens the request's deadline, never past the SLO's;
/// `priority` (0: default, 1 highest, larger lower; above 4,294,967,295 it counts as that) travels with every
/// model call of the request and orders each backend's queue of the session level by level
/// (`PriorityDeadlineQueue`): within the plan, a higher level is batched first; deadlines and early drop still hold.
struct TritonParameters: Equatable {
    var timeoutUs: Int64?
    var priority: UInt64?

    static let timeout = "timeout"
    static let priority = "priority"

    init(timeoutUs: Int64? = nil, priority: UInt64? = nil) {
        self.timeoutUs = timeoutUs
        self.priority = priority
    }

    init(_ parameters: [String: Inference_InferParameter]) throws(InferenceError) {
        if let value = parameters[Self.timeout] {
            timeoutUs = try Self.nonNegative(value, name: Self.timeout, unit: " (microseconds)")
        }
        if let value = parameters[Self.priority] {
            priority = UInt64(try Self.nonNegative(value, name: Self.priority, unit: ""))
        }
    }

    /// The deadline `timeout` sets for a request that arrived at `arrivalNs`; `.max` when there is none (or
    /// it lies beyond what an Int64 of ns can hold, which no SLO reaches).
    func deadlineNs(arrivalNs: Int64) -> Int64 {
        guard let timeoutUs, timeoutUs > 0 else { return .max }
        let (timeoutNs, overflow) = timeoutUs.multipliedReportingOverflow(by: 1000)
        let (deadline, late) = arrivalNs.addingReportingOverflow(timeoutNs)
        return overflow || late ? .max : deadline
    }

    static func nonNegative(_ value: Inference_InferParameter, name: String, unit: String) throws(InferenceError) -> Int64 {
        switch value.parameterChoice {
        case let .int64Param(int)? where int >= 0: return int
        case let .uint64Param(uint)?: return Int64(clamping: uint)
        default:
            throw .invalidArgument("parameters.\(name): expected an integer at least 0\(unit), got \(describe(value))")
        }
    }

    static func describe(_ value: Inference_InferParameter) -> String {
        switch value.parameterChoice {
        case let .int64Param(int)?: return "\(int)"
        case let .boolParam(bool)?: return "\(bool)"
        case let .stringParam(string)?: return "'\(ClientText.quote(string))'"
        case let .doubleParam(double)?: return "\(double)"
        case let .uint64Param(uint)?: return "\(uint)"
        case nil: return "no value"
        }
    }
}
