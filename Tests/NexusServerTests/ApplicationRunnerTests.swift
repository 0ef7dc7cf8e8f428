import Foundation
import NexusCore
import NexusProtocol
@testable import NexusServer
import Synchronization
import XCTest

/// The frontend's run of one request through its application tree, with a fake caller in place of the
/// backends: which calls go out, with which inputs and deadlines, and what the client gets back.
final class ApplicationRunnerTests: XCTestCase {
    static let image = TensorSpec(name: "input", dtype: .fp32, shape: [1, 8, 8])

    static func model(_ name: String, outputs: [TensorSpec]) -> ModelInterface {
        ModelInterface(ModelSpec(name: name, directory: "", filePath: "", input: image, maxBatch: 8, outputs: outputs))
    }

    let models: [String: ModelInterface] = [
        "detector": model("detector", outputs: [TensorSpec(name: "boxes", dtype: .fp32, shape: [3, 5])]),
        "classifier": model("classifier", outputs: [TensorSpec(name: "logits", dtype: .fp32, shape: [2])]),
    ]

    /// detect (20 ms) -> crops of boxes above 0.5, at most 2 -> cars (30 ms); detect -> same input -> scene (40 ms).
    var tree: ServedApplication {
        ServedApplication(
            spec: ApplicationSpec(name: "tree", latencySLOMs: 100, rateShare: 1, stages: [
                StageSpec(name: "detect", model: "detector"),
                StageSpec(name: "cars", model: "classifier", parent: "detect", gamma: 2),
                StageSpec(name: "scene", model: "classifier", parent: "detect"),
            ]),
            childInputs: [.same, .crops(boxesOutput: "boxes", scoreAbove: 0.5, maxCrops: 2), .same])
    }

    func routes(_ budgets: [(stage: String, budgetMs: Double)], application: String) -> FrontendRoutes {
        let routes = FrontendRoutes()
        routes.update(.with { update in
            update.version = 1
            update.stages = budgets.map { entry in
                .with {
                    $0.application = application
                    $0.stage = entry.stage
                    $0.sessionID = "session-\(entry.stage)"
                    $0.budgetMs = entry.budgetMs
                }
            }
        })
        return routes
    }

    struct Call: Sendable {
        var stage: Int
        var sessionID: String
        var input: CallInput
        var deadlineNs: Int64
    }

    /// Floats as the little-endian bytes a backend sends.
    static func bytes(_ values: [Float]) -> Data { values.withUnsafeBytes { Data($0) } }

    func input(value: Float) -> CallInput {
        .tensor(dtype: .fp32, shape: [1, 8, 8], data: Self.bytes([Float](repeating: value, count: 64)))
    }

    func testTreeFansOutCropsAndCarriesDeadlines() async throws {
        let calls = Mutex<[Call]>([])
        // Boxes: two above 0.5 (the second and third), one below.
        let boxes: [Float] = [0, 0, 0.5, 0.5, 0.2, 0, 0, 1, 1, 0.9, 0.5, 0.5, 1, 1, 0.6]
        let runner = ApplicationRunner(served: FrontendApplication(tree, models: models), caller: { stage, session, _, input, deadline in
            calls.withLock { $0.append(Call(stage: stage, sessionID: session, input: input, deadlineNs: deadline)) }
            let output = stage == 0
                ? ["boxes": (shape: [3, 5], bytes: Self.bytes(boxes))]
                : ["logits": (shape: [2], bytes: Self.bytes([Float(stage), 1]))]
            return .success(.init(outputs: output, simulated: stage == 2))
        }, routes: routes([("detect", 20), ("cars", 30), ("scene", 40)], application: "tree"))

        let result = try await runner.run(input: input(value: 0.25), arrivalNs: 1_000).get()

        let made = calls.withLock { $0 }
        XCTAssertEqual(made.map(\.stage).sorted(), [0, 1, 1, 2])
        XCTAssertEqual(made.first { $0.stage == 0 }?.deadlineNs, 1_000 + 20_000_000)
        // A child's deadline adds its budget to its parent's: time the parent saves is the child's slack.
        XCTAssertEqual(Set(made.filter { $0.stage == 1 }.map(\.deadlineNs)), [1_000 + 50_000_000])
        XCTAssertEqual(made.first { $0.stage == 2 }?.deadlineNs, 1_000 + 60_000_000)
        XCTAssertEqual(Set(made.map(\.sessionID)), ["session-detect", "session-cars", "session-scene"])
        for call in made where call.stage == 1 {
            guard case let .tensor(dtype, shape, data) = call.input else { return XCTFail("a crop of an FP32 input is a tensor") }
            XCTAssertEqual(dtype, .fp32)
            XCTAssertEqual(shape, [1, 8, 8])
            XCTAssertEqual(Set(data.floats), [0.25], "a crop of a constant image is that constant")
        }

        XCTAssertEqual(result.outputs.map(\.name), ["detect/boxes", "cars/logits", "scene/logits"])
        XCTAssertEqual(result.outputs.map(\.shape), [[1, 3, 5], [2, 2], [1, 2]])
        XCTAssertEqual(result.outputs[0].values.floats, boxes)
        XCTAssertEqual(result.outputs[1].values.floats, [1, 1, 1, 1])
        XCTAssertEqual(result.outputs[2].values.floats, [2, 1])
        XCTAssertTrue(result.simulated, "one call ran on a simulated device")
    }

    func testNoDetectionsRunsNoChildCallsAndAnswersEmpty() async throws {
        let calls = Mutex(0)
        let runner = ApplicationRunner(served: FrontendApplication(tree, models: models), caller: { stage, _, _, _, _ in
            calls.withLock { $0 += 1 }
            let output = stage == 0
                ? ["boxes": (shape: [3, 5], bytes: Self.bytes([Float](repeating: 0, count: 15)))]
                : ["logits": (shape: [2], bytes: Self.bytes([7, 7]))]
            return .success(.init(outputs: output, simulated: false))
        }, routes: routes([("detect", 20), ("cars", 30), ("scene", 40)], application: "tree"))

        let result = try await runner.run(input: input(value: 0), arrivalNs: 0).get()

        XCTAssertEqual(calls.withLock { $0 }, 2, "detect and scene; no crop scored above 0.5")
        XCTAssertEqual(result.outputs.map(\.shape), [[1, 3, 5], [0, 2], [1, 2]])
        XCTAssertTrue(result.outputs[1].values.isEmpty)
    }

    func testFailedCallFailsTheRequestWithItsError() async {
        let runner = ApplicationRunner(served: FrontendApplication(tree, models: models), caller: { stage, _, _, _, _ in
            if stage == 2 { return .failure(.deadlineExceeded("dropped: the deadline cannot be met by the next batch")) }
            let boxes: [Float] = [0, 0, 1, 1, 0.9] + [Float](repeating: 0, count: 10)
            let output = stage == 0
                ? ["boxes": (shape: [3, 5], bytes: Self.bytes(boxes))]
                : ["logits": (shape: [2], bytes: Self.bytes([1, 1]))]
            return .success(.init(outputs: output, simulated: false))
        }, routes: routes([("detect", 20), ("cars", 30), ("scene", 40)], application: "tree"))

        let result = await runner.run(input: input(value: 0), arrivalNs: 0)

        guard case let .failure(error) = result, case let .deadlineExceeded(message) = error else {
            return XCTFail("a partial tree is not an answer: expected the scene call's error, got \(result)")
        }
        XCTAssertTrue(message.contains("dropped"))
    }

    func testOneStageApplicationMakesOneCall() async throws {
        let single = ServedApplication(
            spec: ApplicationSpec(name: "single", latencySLOMs: 50, rateShare: 1, stages: [StageSpec(name: "classify", model: "classifier")]),
            childInputs: [.same])
        let calls = Mutex<[Call]>([])
        let runner = ApplicationRunner(served: FrontendApplication(single, models: models), caller: { stage, session, _, input, deadline in
            calls.withLock { $0.append(Call(stage: stage, sessionID: session, input: input, deadlineNs: deadline)) }
            return .success(.init(outputs: ["logits": (shape: [2], bytes: Self.bytes([3, 4]))], simulated: false))
        }, routes: routes([("classify", 49)], application: "single"))

        let result = try await runner.run(input: input(value: 1), arrivalNs: 5).get()

        XCTAssertEqual(calls.withLock { $0.map(\.deadlineNs) }, [5 + 49_000_000])
        XCTAssertEqual(result.outputs.map(\.name), ["classify/logits"])
        XCTAssertEqual(result.outputs[0].values.floats, [3, 4])
        XCTAssertFalse(result.simulated)
    }

    func testUnplannedStageIsUnavailableWithoutCalling() async {
        let calls = Mutex(0)
        let runner = ApplicationRunner(served: FrontendApplication(tree, models: models), caller: { _, _, _, _, _ in
            calls.withLock { $0 += 1 }
            return .failure(.internalError("not called"))
        }, routes: routes([("detect", 20), ("cars", 30)], application: "tree"))

        let result = await runner.run(input: input(value: 0), arrivalNs: 0)

        guard case let .failure(.unavailable(message)) = result else { return XCTFail("expected unavailable, got \(result)") }
        XCTAssertTrue(message.contains("tree/scene"), message)
        XCTAssertEqual(calls.withLock { $0 }, 0)
    }
}
