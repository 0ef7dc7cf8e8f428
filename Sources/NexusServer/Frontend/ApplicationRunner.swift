import Foundation
import NexusCore
import NexusProtocol
import NexusRuntime
import Synchronization

/// The input of one model call as the frontend holds it: bytes as the client sent them, or a crop.
enum CallInput: Sendable {
    case tensor(dtype: TensorDType, shape: [Int], data: Data)
    case jpeg(Data)

    var message: Nexus_Cluster_Tensor {
        .with {
            switch self {
            case let .tensor(dtype, shape, data):
                $0.dtype = dtype.rawValue
                $0.shape = shape.map(Int64.init)
                $0.data = data
            case let .jpeg(data):
                $0.dtype = "JPEG"
                $0.data = data
            }
        }
    }
}

/// What one application request produced: per stage, the outputs of each of its calls in order.
struct ApplicationResult: Sendable {
    /// `stage/output` -> shape (with the leading count of calls) and FP32 values.
    var outputs: [(name: String, shape: [Int], values: Data)]
    /// Some call ran on a simulated device (its outputs are zeros).
    var simulated: Bool
    /// Summed over the request's model calls: each call's round trip from this frontend, and the time its
    /// backend held it (what `nexus_timing` reports).
    var callNs: Int64 = 0
    var backendNs: Int64 = 0
    /// The batches its calls ran in (Triton's statistics), and the calls' time queued on backends.
    var batches: [BatchTiming] = []
    var queueNs: Int64 = 0
}

/// Runs one request through its application's tree (DESIGN.md §3.6): each stage's calls go out as soon as
/// the parent's outputs exist, siblings in parallel; a call's deadline is the request's arrival plus the
/// budgets of its stage and every ancestor, so time a parent saves is slack its children keep. Any failed
/// call fails the request with that call's error: a partial tree is not an answer.
struct ApplicationRunner: Sendable {
    let served: FrontendApplication
    let caller: @Sendable (_ stage: Int, _ sessionID: String, _ model: String, _ input: CallInput, _ deadlineNs: Int64) async -> Result<CallOutput, InferenceError>
    let routes: FrontendRoutes

    struct CallOutput: Sendable {
        /// Output name -> shape and FP32 values as the backend sent them (little-endian bytes).
        var outputs: [String: (shape: [Int], bytes: Data)]
        var simulated: Bool
        /// The successful attempt's round trip from the frontend, and the backend's own share of it.
        var callNs: Int64 = 0
        var backendNs: Int64 = 0
        var timing: BatchTiming?
    }

    var application: ServedApplication { served.served }
    var models: [String: ModelInterface] { served.models }

    /// `deadlineCapNs`: a deadline the client asked for (Triton's `timeout`); each stage's deadline is the
    /// earlier of its own and this, so a client can tighten the SLO but never loosen it.
    func run(input: CallInput, arrivalNs: Int64, deadlineCapNs: Int64 = .max) async -> Result<ApplicationResult, InferenceError> {
        let stages = application.spec.stages
        guard let bindings = routes.bindings(keys: served.stageKeys), bindings.allSatisfy({ !$0.sessionID.isEmpty }) else {
            let missing = served.stageKeys.first { (routes.binding(key: $0)?.sessionID ?? "").isEmpty } ?? application.name
            return .failure(.unavailable("no backend serves stage '\(missing)' yet: the scheduler has not planned it (no backend registered, or its budget is infeasible)"))
        }
        let parents = application.spec.parentIndices
        let offsets = StageDeadlines.offsetsNs(budgetsMs: bindings.map(\.budgetMs), parents: parents)
        let (stageBindings, stageDeadlines) = (bindings, offsets.map { min(arrivalNs + $0, deadlineCapNs) })
        let progress = RunProgress(stageCount: stages.count)

        // A task group only where there are two or more things to wait for: a one-stage application with
        // one call runs on the request's own task, with no task created and no hop between threads.
        @Sendable func runStage(_ s: Int, inputs: [CallInput]) async {
            var outputs = [CallOutput?](repeating: nil, count: inputs.count)
            @Sendable func call(_ index: Int) async -> (Int, Result<CallOutput, InferenceError>) {
                (index, await caller(s, stageBindings[s].sessionID, stages[s].model, inputs[index], stageDeadlines[s]))
            }
            func take(_ answer: (Int, Result<CallOutput, InferenceError>)) {
                switch answer.1 {
                case let .success(output): outputs[answer.0] = output
                case let .failure(error): progress.fail(error)
                }
            }
            if inputs.count == 1 {
                take(await call(0))
            } else {
                await withTaskGroup(of: (Int, Result<CallOutput, InferenceError>).self) { group in
                    for index in inputs.indices { group.addTask { await call(index) } }
                    for await answer in group { take(answer) }
                }
            }
            guard outputs.allSatisfy({ $0 != nil }) else { return }
            let done = outputs.map { $0! }
            progress.results.withLock { $0[s] = done }
            var children: [(Int, [CallInput])] = []
            for child in stages.indices where parents[child] == s {
                switch Result(catching: { () throws(InferenceError) in try makeInputs(child: child, parentInputs: inputs, parentOutputs: done) }) {
                case let .success(made): children.append((child, made))
                case let .failure(error): progress.fail(error)
                }
            }
            await runAll(children, runStage)
        }

        let roots = stages.indices.filter { parents[$0] == nil }
        await runAll(roots.map { ($0, application.childInputs[$0] == .fanOut ? copies(of: [input], stage: $0) : [input]) }, runStage)
        if let error = progress.failure.withLock({ $0 }) { return .failure(error) }
        let collected = progress.results.withLock { $0 }
        var result = ApplicationResult(outputs: [], simulated: false)
        for (s, stage) in stages.enumerated() {
            let calls = collected[s] ?? []
            for call in calls {
                result.callNs += call.callNs
                result.backendNs += call.backendNs
                if let timing = call.timing {
                    result.batches.append(timing)
                    result.queueNs += max(0, call.backendNs - timing.computeNs)
                }
                result.simulated = result.simulated || call.simulated
            }
            guard let model = models[stage.model] else { continue }
            for output in model.outputs {
                var data = Data()
                for call in calls {
                    if let bytes = call.outputs[output.name]?.bytes { data.append(bytes) }
                }
                result.outputs.append(("\(stage.name)/\(output.name)", [calls.count] + output.shape, data))
            }
        }
        return .success(result)
    }

    /// Runs each stage with its inputs: inline when there is one, else concurrently.
    private func runAll(_ stages: [(Int, [CallInput])], _ runStage: @escaping @Sendable (Int, [CallInput]) async -> Void) async {
        if stages.count == 1 {
            await runStage(stages[0].0, stages[0].1)
            return
        }
        await withTaskGroup(of: Void.self) { group in
            for (stage, inputs) in stages { group.addTask { await runStage(stage, inputs) } }
        }
    }

    /// A child's calls for every call of its parent: the parent's input again, or one crop per detection.
    /// A `.fanOut` stage's inputs: each parent input `gamma` times (`FanOut.calls`).
    func copies(of inputs: [CallInput], stage: Int) -> [CallInput] {
        let gamma = application.spec.stages[stage].gamma ?? 1
        return inputs.flatMap { input in
            Array(repeating: input, count: FanOut.calls(gamma: gamma, unit: Double.random(in: 0..<1)))
        }
    }

    func makeInputs(child: Int, parentInputs: [CallInput], parentOutputs: [CallOutput]) throws(InferenceError) -> [CallInput] {
        switch application.childInputs[child] {
        case .same:
            return parentInputs
        case .fanOut:
            return copies(of: parentInputs, stage: child)
        case let .crops(boxesOutput, scoreAbove, maxCrops):
            guard let childModel = models[application.spec.stages[child].model] else {
                throw .internalError("model '\(application.spec.stages[child].model)' is unknown to this frontend")
            }
            var inputs: [CallInput] = []
            for (input, output) in zip(parentInputs, parentOutputs) {
                let values = output.outputs[boxesOutput]?.bytes.floats ?? []
                let image = try DecodedImage(input)
                let boxes = CropSelection.select(values: values, scoreAbove: scoreAbove, maxCrops: maxCrops,
                                                 width: image.width, height: image.height)
                for box in boxes { inputs.append(try image.crop(box, for: childModel, stage: application.spec.stages[child].name)) }
            }
            return inputs
        }
    }
}

/// Outputs and the first error of one request, filled in by its concurrent calls.
final class RunProgress: Sendable {
    let results: Mutex<[[ApplicationRunner.CallOutput]?]>
    let failure = Mutex<InferenceError?>(nil)

    init(stageCount: Int) { results = Mutex(Array(repeating: nil, count: stageCount)) }

    /// Keeps the first error: the one the client is told.
    func fail(_ error: InferenceError) { failure.withLock { if $0 == nil { $0 = error } } }
}

/// A parent's input as pixels a crop can be cut from.
struct DecodedImage {
    enum Pixels {
        case chw([Float], channels: Int)
        case hwc([UInt8], channels: Int)
    }

    var pixels: Pixels
    var height: Int
    var width: Int

    init(_ input: CallInput) throws(InferenceError) {
        switch input {
        case let .jpeg(data):
            guard case let .success(jpeg) = TurboJPEG.shared else { throw .unavailable("crops of a JPEG need libjpeg-turbo on the frontend") }
            do {
                let image = try jpeg.decodeRGB([UInt8](data))
                self.init(pixels: .hwc(image.pixels, channels: 3), height: image.height, width: image.width)
            } catch {
                throw .invalidArgument("input: \(error)")
            }
        case let .tensor(dtype, rawShape, data):
            let shape = rawShape.count == 4 && rawShape[0] == 1 ? Array(rawShape.dropFirst()) : rawShape
            switch (dtype, shape.count) {
            case (.fp32, 3):
                let values = data.floats
                self.init(pixels: .chw(values, channels: shape[0]), height: shape[1], width: shape[2])
            case (.uint8, 3):
                self.init(pixels: .hwc([UInt8](data), channels: shape[2]), height: shape[0], width: shape[1])
            default:
                throw .invalidArgument("input: crops are cut from FP32 [C, H, W] tensors, UINT8 [H, W, C] frames or JPEGs; got \(dtype.rawValue) \(rawShape)")
            }
        }
    }

    init(pixels: Pixels, height: Int, width: Int) {
        self.pixels = pixels
        self.height = height
        self.width = width
    }

    func crop(_ box: CropBox, for model: ModelInterface, stage: String) throws(InferenceError) -> CallInput {
        switch pixels {
        case let .chw(values, channels):
            guard model.input.dtype == .fp32, model.input.shape.count == 3, model.input.shape[0] == channels else {
                throw .invalidArgument("stage '\(stage)': model '\(model.name)' takes \(model.input.dtype.rawValue) \(model.input.shape), which a crop of an FP32 [\(channels), H, W] input cannot feed")
            }
            let out = CropResampler.resample(chw: values, channels: channels, height: height, width: width, box: box,
                                             outHeight: model.input.shape[1], outWidth: model.input.shape[2])
            return .tensor(dtype: .fp32, shape: model.input.shape, data: out.withUnsafeBytes { Data($0) })
        case let .hwc(frame, channels):
            guard model.hasPreprocess else {
                throw .invalidArgument("stage '\(stage)': model '\(model.name)' has no preprocess, so it cannot take crops of a frame")
            }
            let cut = CropResampler.cut(hwc: frame, height: height, width: width, channels: channels, box: box)
            return .tensor(dtype: .uint8, shape: [cut.height, cut.width, channels], data: Data(cut.pixels))
        }
    }
}
