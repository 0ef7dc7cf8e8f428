import Foundation
import NexusConfig
import NexusCore
import NexusRuntime
import Testing

/// Real models through libtorch on CPU (the CI model set of python/export_models.py, random weights).
@Suite(.enabled(if: Fixtures.torchTestsEnabled, "needs native/build/libnexus_torch.so and out/test-models (run .ci/run)"))
struct TorchExecutorTests {
    func executor(options: BackendExecutor.Options = .init(workerThreads: 1)) throws -> BackendExecutor {
        BackendExecutor(runtime: try Fixtures.torch(), models: try Fixtures.repository().models, options: options)
    }

    func request(_ session: String, _ model: String, _ input: [Float], deadlineNs: Int64 = .max, shape: [Int]) -> InferenceRequest {
        InferenceRequest(sessionID: session, model: model, input: .tensor(dtype: .fp32, shape: shape, bytes: Fixtures.fp32Bytes(input)),
                         deadlineNs: deadlineNs)
    }

    @Test(arguments: ["resnet18", "tiny_cnn"])
    func batchedOutputsEqualEachInputRunAlone(model: String) throws {
        let executor = try executor()
        defer { executor.shutdown() }
        let reference = try Fixtures.reference(model)
        let shape = try Fixtures.repository().model(model).input.shape
        try executor.apply(ModelTable(dutyCycleMs: 100, sessions: [.init(sessionID: "s", models: [model], maxBatch: 8)]))
        let collector = OutcomeCollector()
        // Each reference input twice, submitted together so they run as batches.
        let count = reference.inputs.count
        for index in 0..<(2 * count) {
            executor.submit(request("s", model, reference.inputs[index % count], shape: shape), completion: collector.completion(for: index))
        }
        #expect(collector.waitAll())
        for (index, outcome) in collector.outcomes {
            let outputs = try outcome.get()
            #expect(Fixtures.maxRelativeError(outputs[0].values, reference.outputs[index % count]) < 1e-4, "request \(index)")
        }
        if model == "resnet18" { #expect(executor.snapshot().meanBatch > 1, "requests that wait behind a 20+ ms batch are batched") }
    }

    @Test func prefixBatchedOutputsEqualTheUnsharedModels() throws {
        let executor = try executor()
        defer { executor.shutdown() }
        let cars = try Fixtures.reference("tiny_cars"), faces = try Fixtures.reference("tiny_faces")
        try executor.apply(ModelTable(dutyCycleMs: 100, sessions: [.init(sessionID: "prefix:tiny@50ms", models: ["tiny_cars", "tiny_faces"], maxBatch: 16)]))
        let collector = OutcomeCollector()
        let count = cars.inputs.count
        // Many more requests than one batch takes, so turns see several queued (mixed members in one batch).
        for index in 0..<(16 * count) {
            let (member, reference) = index % 2 == 0 ? ("tiny_cars", cars) : ("tiny_faces", faces)
            executor.submit(request("prefix:tiny@50ms", member, reference.inputs[(index / 2) % count], shape: [3, 32, 32]),
                            completion: collector.completion(for: index))
        }
        #expect(collector.waitAll())
        for (index, outcome) in collector.outcomes {
            let reference = index % 2 == 0 ? cars : faces
            let outputs = try outcome.get()
            #expect(outputs[0].shape == [index % 2 == 0 ? 10 : 5])
            #expect(Fixtures.maxRelativeError(outputs[0].values, reference.outputs[(index / 2) % count]) < 1e-4, "request \(index)")
        }
        #expect(executor.snapshot().meanBatch > 1)
    }

    @Test func tableChangeUnderLoadLosesNoRequest() throws {
        let executor = try executor()
        defer { executor.shutdown() }
        let reference = try Fixtures.reference("tiny_cnn")
        let tables = [
            ModelTable(dutyCycleMs: 20, sessions: [.init(sessionID: "cnn", models: ["tiny_cnn"], maxBatch: 4),
                                                   .init(sessionID: "group", models: ["tiny_cars"], maxBatch: 8)]),
            ModelTable(dutyCycleMs: 20, sessions: [.init(sessionID: "cnn", models: ["tiny_cnn"], maxBatch: 32),
                                                   .init(sessionID: "group", models: ["tiny_cars", "tiny_faces"], maxBatch: 2)]),
            ModelTable(dutyCycleMs: 20, sessions: [.init(sessionID: "cnn", models: ["tiny_cnn"], maxBatch: 1)]),
        ]
        try executor.apply(tables[0])
        let collector = OutcomeCollector()
        var submitted = 0
        for round in 0..<12 {
            for _ in 0..<30 {
                let input = reference.inputs[submitted % reference.inputs.count]
                let target = submitted % 2 == 0 ? ("cnn", "tiny_cnn") : ("group", "tiny_cars")
                executor.submit(request(target.0, target.1, input, shape: [3, 32, 32]), completion: collector.completion(for: submitted))
                submitted += 1
            }
            try executor.apply(tables[round % 3])
        }
        #expect(collector.waitAll())
        #expect(collector.duplicates == 0 && collector.outcomes.count == submitted)
        var checked = 0
        for (index, outcome) in collector.outcomes {
            switch outcome {
            case let .success(outputs) where index % 2 == 0:
                #expect(Fixtures.maxRelativeError(outputs[0].values, reference.outputs[index % reference.inputs.count]) < 1e-4)
                checked += 1
            case .success: break
            case .failure(.notFound): #expect(index % 2 == 1, "only the session that left the table refuses")
            case let .failure(error): Issue.record("request \(index): \(error)")
            }
        }
        #expect(checked == submitted / 2, "every request of the session that stayed ran")
    }

    @Test func earlyDropWithTheRealRuntimeAnswersDroppedRequestsAtOnce() async throws {
        let executor = try executor()
        defer { executor.shutdown() }
        let input = try Fixtures.reference("resnet18").inputs[0]
        try executor.apply(ModelTable(dutyCycleMs: 100, sessions: [.init(sessionID: "r", models: ["resnet18"], maxBatch: 8)]))
        // First measure the device: one batch of 1 teaches the executor resnet18's latency here.
        #expect(await executor.infer(request("r", "resnet18", input, shape: [3, 224, 224])).isSuccess)
        let collector = OutcomeCollector()
        let clock = MonotonicClock()
        // A deadline 1 ms away is shorter than any resnet18 batch on 2 cores: dropped, not run.
        for index in 0..<8 {
            executor.submit(request("r", "resnet18", input, deadlineNs: clock.nowNs() + 1_000_000, shape: [3, 224, 224]),
                            completion: collector.completion(for: index))
        }
        #expect(collector.waitAll())
        #expect(collector.count { $0.isDropped } == 8)
        #expect(executor.snapshot().batches == 1)
    }

    @Test func badModelFilesAndShapesNameWhatIsWrong() throws {
        let runtime = try Fixtures.torch()
        let repository = try Fixtures.repository()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("nexus-bad-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var spec = try repository.model("tiny_cnn")
        spec.filePath = "\(folder)/garbage.pt"
        try Data("not a torchscript file".utf8).write(to: URL(fileURLWithPath: spec.filePath))
        #expect { try runtime.load(spec, inputShape: spec.input.shape) } throws: { "\($0)".contains("cannot load \(folder)/garbage.pt") }

        spec = try repository.model("tiny_cnn")
        #expect { try runtime.load(spec, inputShape: [4, 32, 32]) } throws: {
            "\($0)".contains(spec.filePath) && "\($0)".contains("[1, 4, 32, 32]")
        }
        #expect { try TorchLibrary.open(explicitPath: "\(folder)/libnexus_torch.so") } throws: {
            "\($0)".contains("\(folder)/libnexus_torch.so") && "\($0)".contains("native/build.sh")
        }
    }

    @Test func wrongInputsAreRefusedNamingTheFieldAndServingGoesOn() async throws {
        let executor = try executor()
        defer { executor.shutdown() }
        try executor.apply(ModelTable(dutyCycleMs: 100, sessions: [.init(sessionID: "s", models: ["tiny_cnn"], maxBatch: 8)]))
        let wrongShape = await executor.infer(request("s", "tiny_cnn", [Float](repeating: 0, count: 3 * 31 * 32), shape: [3, 31, 32]))
        #expect(wrongShape.error?.description.contains("input 'input' shape [3, 31, 32] does not match model 'tiny_cnn'") == true)
        var fp16 = request("s", "tiny_cnn", [], shape: [3, 32, 32])
        fp16.input = .tensor(dtype: .fp16, shape: [3, 32, 32], bytes: [UInt8](repeating: 0, count: 2 * 3 * 32 * 32))
        #expect(await executor.infer(fp16).error == .invalidArgument("input 'input' datatype FP16 does not match model 'tiny_cnn''s FP32"))
        let reference = try Fixtures.reference("tiny_cnn")
        let good = try await executor.infer(request("s", "tiny_cnn", reference.inputs[0], shape: [1, 3, 32, 32])).get()
        #expect(Fixtures.maxRelativeError(good[0].values, reference.outputs[0]) < 1e-4)
    }
}
