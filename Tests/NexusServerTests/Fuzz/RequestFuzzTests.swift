import Foundation
import NexusCore
import NexusProtocol
import NexusRuntime
@testable import NexusServer
import NexusTestSupport
import XCTest

/// Seeded fuzzing of the frontend's request checks (`OIPRequest.input`): no input traps, a request the oracle
/// knows is invalid is never accepted, a valid one always is, and every error names a field and stays short
/// enough to deliver. `NEXUS_FUZZ_ITERATIONS` sets the long run (bench/fuzz.sh).
final class RequestFuzzTests: XCTestCase {
    static let plain = ModelInterface(spec(preprocess: nil))
    static let framed = ModelInterface(spec(preprocess: PreprocessSpec(height: 4, width: 4, mean: [0, 0, 0], std: [1, 1, 1])))
    /// Every error must mention one of these, and be at most `maxErrorBytes` long.
    static let fieldWords = ["inputs", "raw_input_contents", "shape", "datatype", "contents", "input '"]
    static let maxErrorBytes = 1024

    static func spec(preprocess: PreprocessSpec?) -> ModelSpec {
        ModelSpec(name: "fuzz", directory: "", filePath: "", input: TensorSpec(name: "input", dtype: .fp32, shape: [3, 4, 4]),
                  maxBatch: 8, outputs: [TensorSpec(name: "logits", dtype: .fp32, shape: [10])], preprocess: preprocess)
    }

    func testGeneratedRequestsGetTheOraclesVerdict() {
        let budget = FuzzBudget.fromEnvironment(defaultIterations: 5_000, weight: 0.7)
        var random = SeededGenerator(seed: budget.seed)
        var counts: [String: Int] = [:]
        for iteration in 0..<budget.iterations {
            let preprocess = Bool.random(using: &random)
            let fuzzCase = Self.generate(preprocess: preprocess, using: &random)
            counts[fuzzCase.label, default: 0] += 1
            let failure = Self.judge(fuzzCase, root: preprocess ? Self.framed : Self.plain)
            if let failure {
                return XCTFail("seed \(budget.seed), input \(iteration) (\(fuzzCase.label)): \(failure)")
            }
        }
        FuzzBudget.report(target: "request", count: budget.iterations)
        // The generator must reach every mutation and the valid and garbage classes, or the oracle tests little.
        XCTAssertGreaterThan(counts["valid", default: 0], 0)
        XCTAssertGreaterThan(counts["garbage", default: 0], 0)
        for mutation in RequestMutation.allCases where budget.iterations >= 5_000 {
            XCTAssertGreaterThan(counts.filter { $0.key.hasSuffix("\(mutation)") }.values.reduce(0, +), 0, "\(mutation) never drawn")
        }
    }

    static func generate(preprocess: Bool, using random: inout SeededGenerator) -> RequestFuzzCase {
        if Int.random(in: 0..<4, using: &random) == 0 {
            return RequestFuzzCase(request: RandomRequest.garbage(using: &random), verdict: .garbage, label: "garbage")
        }
        let forms = ValidForm.allCases.filter { preprocess || !$0.needsPreprocess || ($0.isBytes && Bool.random(using: &random)) }
        let form = forms.randomElement(using: &random)!
        var request = RequestFuzzGenerator.validRequest(form, using: &random)
        if form.needsPreprocess, !preprocess {   // only BYTES forms get here: invalid for a model without preprocess
            return RequestFuzzCase(request: request, verdict: .invalid(fields: ["datatype BYTES"]), label: "\(form)/bytesForPlainModel")
        }
        if Int.random(in: 0..<5, using: &random) == 0 {
            return RequestFuzzCase(request: request, verdict: .valid, label: "valid")
        }
        let mutations = RequestMutation.allCases.filter { $0.applies(to: form, preprocess: preprocess) }
        let mutation = mutations.randomElement(using: &random)!
        let fields = mutation.apply(to: &request, using: &random)
        return RequestFuzzCase(request: request, verdict: .invalid(fields: fields), label: "\(form)/\(mutation)")
    }

    /// nil when the answer is right; else what is wrong with it.
    static func judge(_ fuzzCase: RequestFuzzCase, root: ModelInterface) -> String? {
        let result: Result<CallInput, InferenceError>
        do throws(InferenceError) { result = .success(try OIPRequest.input(of: fuzzCase.request, root: root)) } catch { result = .failure(error) }
        switch (fuzzCase.verdict, result) {
        case (.valid, .success), (.garbage, .success):
            return acceptedProblem(fuzzCase.request, result: try! result.get(), root: root)
        case let (.valid, .failure(error)):
            return "a valid request was refused: \(error)"
        case (.invalid, .success):
            return "an invalid request was accepted: \(fuzzCase.request.input0.datatype) \(ClientShape.describe(fuzzCase.request.input0.shape))"
        case let (.invalid(fields), .failure(error)):
            return errorProblem(error, fields: fields)
        case let (.garbage, .failure(error)):
            return errorProblem(error, fields: fieldWords)
        }
    }

    static func errorProblem(_ error: InferenceError, fields: [String]) -> String? {
        guard case let .invalidArgument(message) = error else { return "expected INVALID_ARGUMENT, got \(error)" }
        if message.utf8.count > maxErrorBytes { return "error of \(message.utf8.count) bytes: \(message.prefix(200))..." }
        if !fields.contains(where: message.contains) { return "error names none of \(fields): \(message)" }
        return nil
    }

    /// What any accepted request must satisfy, checked from the request alone: one input named as the model's,
    /// dimensions at least 1, and bytes that match the shape.
    static func acceptedProblem(_ request: Inference_ModelInferRequest, result: CallInput, root: ModelInterface) -> String? {
        guard request.inputs.count == 1, request.input0.name == "input" else { return "accepted with inputs \(request.inputs.map(\.name))" }
        let shape = request.input0.shape
        guard shape.allSatisfy({ $0 >= 1 }) else { return "accepted with shape \(ClientShape.describe(shape))" }
        switch result {
        case .jpeg:
            guard request.input0.datatype == "BYTES", shape.reduce(1, { $0 &* $1 }) == 1, root.hasPreprocess else {
                return "accepted as an image: \(request.input0.datatype) \(shape)"
            }
        case let .tensor(dtype, acceptedShape, data):
            guard dtype.rawValue == request.input0.datatype, acceptedShape == shape.map({ Int($0) }) else {
                return "accepted as \(dtype) \(acceptedShape) from \(request.input0.datatype) \(shape)"
            }
            let (elements, overflow) = shape.reduce((Int64(1), false)) { acc, dimension in
                let (value, over) = acc.0.multipliedReportingOverflow(by: dimension)
                return (value, acc.1 || over)
            }
            guard !overflow, Int64(data.count) == elements * Int64(dtype.byteSize) else {
                return "accepted \(data.count) bytes for \(dtype) \(shape)"
            }
        }
        return nil
    }
}
