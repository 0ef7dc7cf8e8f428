import Foundation
import GRPCCore
import NexusCore
import NexusProtocol
import NexusRuntime

/// Triton's `inference.GRPCInferenceService` (the Open Inference Protocol, DESIGN.md §4): each application
/// is a "model". Standard clients (`tritonclient`, perf_analyzer) work unchanged.
struct InferenceService: Inference_GRPCInferenceService.SimpleServiceProtocol {
    let frontend: FrontendServer

    func serverLive(request: Inference_ServerLiveRequest, context: ServerContext) async throws -> Inference_ServerLiveResponse {
        .with { $0.live = true }
    }

    func serverReady(request: Inference_ServerReadyRequest, context: ServerContext) async throws -> Inference_ServerReadyResponse {
        // A draining frontend is not ready: load balancers and clients stop sending to it.
        .with { $0.ready = frontend.isRegistered && !frontend.gate.isDraining }
    }

    func modelReady(request: Inference_ModelReadyRequest, context: ServerContext) async throws -> Inference_ModelReadyResponse {
        let application = try lookup(request.name)
        let ready = !frontend.gate.isDraining && frontend.routes.isReady(application: application.served)
        return .with { $0.ready = ready }
    }

    func serverMetadata(request: Inference_ServerMetadataRequest, context: ServerContext) async throws -> Inference_ServerMetadataResponse {
        .with {
            $0.name = "nexus"
            $0.version = NexusVersion.string
            $0.extensions = ["statistics", "model_configuration"]
        }
    }

    func modelMetadata(request: Inference_ModelMetadataRequest, context: ServerContext) async throws -> Inference_ModelMetadataResponse {
        let application = try lookup(request.name)
        let root = try rootModel(application)
        return .with { metadata in
            metadata.name = application.name
            metadata.versions = ["1"]
            metadata.platform = "nexus"
            metadata.inputs = [.with {
                $0.name = root.input.name
                $0.datatype = root.input.dtype.rawValue
                $0.shape = [-1] + root.input.shape.map(Int64.init)
            }]
            metadata.outputs = application.outputs.map { output in
                .with {
                    $0.name = output.name
                    $0.datatype = "FP32"
                    $0.shape = [-1] + output.shape.map(Int64.init)
                }
            }
        }
    }

    func modelConfig(request: Inference_ModelConfigRequest, context: ServerContext) async throws -> Inference_ModelConfigResponse {
        let application = try lookup(request.name)
        let root = try rootModel(application)
        return .with { response in
            response.config = .with { config in
                config.name = application.name
                config.platform = "nexus"
                config.backend = "nexus"
                config.maxBatchSize = Int32(OIPRequest.maxBatch)
                config.input = [.with {
                    $0.name = root.input.name
                    $0.dataType = dataType(root.input.dtype)
                    $0.dims = root.input.shape.map(Int64.init)
                }]
                config.output = application.outputs.map { output in
                    .with {
                        $0.name = output.name
                        $0.dataType = .typeFp32
                        $0.dims = output.shape.map(Int64.init)
                    }
                }
                // Requests are batched across clients on the backends (DESIGN.md §3.5).
                config.dynamicBatching = .init()
            }
        }
    }

    func modelStatistics(request: Inference_ModelStatisticsRequest, context: ServerContext) async throws -> Inference_ModelStatisticsResponse {
        let names = request.name.isEmpty ? frontend.applicationNames : [try lookup(request.name).name]
        let stats = frontend.statistics.withLock { $0 }
        return .with { response in
            response.modelStats = names.map { name in
                let entry = stats[name] ?? ApplicationStatistics()
                return .with {
                    $0.name = name
                    $0.version = "1"
                    $0.lastInference = entry.lastInferenceMs
                    $0.inferenceCount = entry.successCount
                    $0.executionCount = entry.successCount
                    $0.inferenceStats = .with {
                        $0.success = .with { $0.count = entry.successCount; $0.ns = entry.successNs }
                        $0.fail = .with { $0.count = entry.failCount; $0.ns = entry.failNs }
                    }
                }
            }
        }
    }

    func modelInfer(request: Inference_ModelInferRequest, context: ServerContext) async throws -> Inference_ModelInferResponse {
        guard frontend.gate.enter() else { throw Self.draining }
        defer { frontend.gate.leave() }
        return try await infer(request).get()
    }

    func modelStreamInfer(request: RPCAsyncSequence<Inference_ModelInferRequest, any Error>,
                          response: RPCWriter<Inference_ModelStreamInferResponse>, context: ServerContext) async throws {
        // Requests run concurrently and answer as they finish (matched by the echoed id); an error is an
        // error_message on the stream, as in Triton, and the stream goes on. Each request is a task of its
        // own, freed as soon as it is answered; the outbox's count keeps the stream open until all are.
        let outbox = Outbox<Inference_ModelStreamInferResponse>()
        let ending = try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                // Everything answered since the last write goes out in one write: one flush, not one per answer.
                while let answers = await outbox.next() { try await response.write(contentsOf: answers) }
            }
            let ending = await readMessages(request, until: frontend.gate.streamsClosing) { message in
                outbox.expect()
                guard frontend.gate.enter() else {
                    outbox.add(streamAnswer(message, .failure(Self.draining)))
                    return
                }
                Task(executorPreference: EventLoops.shared) {
                    outbox.add(streamAnswer(message, await infer(message)))
                    frontend.gate.leave()
                }
            }
            if case .failed = ending {
                group.cancelAll()
                return ending
            }
            outbox.finishInput()
            try await group.waitForAll()
            return ending
        }
        if case .closed = ending {
            throw InferenceError.unavailable("the frontend is shutting down: this stream is closed, every request read "
                                             + "from it was answered; send the rest to another frontend")
        }
    }

    /// What a request gets while the frontend drains.
    static let draining = InferenceError.unavailable(
        "the frontend is shutting down (draining): it takes no new requests; send them to another frontend")

    func streamAnswer(_ message: Inference_ModelInferRequest, _ result: Result<Inference_ModelInferResponse, InferenceError>)
        -> Inference_ModelStreamInferResponse {
        switch result {
        case let .success(answer): return .with { $0.inferResponse = answer }
        case let .failure(error):
            return .with {
                $0.errorMessage = error.streamMessage
                $0.inferResponse = .with { $0.id = message.id; $0.modelName = message.modelName }
            }
        }
    }

    // MARK: Helpers

    func infer(_ request: Inference_ModelInferRequest) async -> Result<Inference_ModelInferResponse, InferenceError> {
        let arrival = frontend.clock.nowNs()
        guard let application = frontend.application(named: request.modelName) else {
            return .failure(notFound(request.modelName))
        }
        let result: Result<ApplicationResult, InferenceError>
        do throws(InferenceError) {
            let root = try rootModel(application)
            let input = try OIPRequest.input(of: request, root: root, checkSpec: application.rootCheckSpec ?? root.checkSpec)
            if let unknown = request.outputs.first(where: { !application.outputNames.contains($0.name) }) {
                throw .invalidArgument("outputs: '\(ClientText.quote(unknown.name))' is not an output of '\(application.name)' (outputs: \(application.outputNames.sorted().joined(separator: ", ")))")
            }
            result = await frontend.run(application, input: input, arrivalNs: arrival)
        } catch {
            result = .failure(error)
        }
        let frontendNs = frontend.clock.nowNs() - arrival
        frontend.record(application: application.name, result: result, durationNs: frontendNs)
        return result.map { answer in
            let kept = request.outputs.isEmpty ? answer.outputs : answer.outputs.filter { output in request.outputs.contains { $0.name == output.name } }
            return .with { response in
                response.modelName = application.name
                response.modelVersion = "1"
                response.id = request.id
                response.outputs = kept.map { output in
                    .with {
                        $0.name = output.name
                        $0.datatype = "FP32"
                        $0.shape = output.shape.map(Int64.init)
                    }
                }
                response.rawOutputContents = kept.map(\.values)
                response.parameters[NexusParameters.runtime] = answer.simulated ? Self.simulatedParameter : Self.torchParameter
                response.parameters[NexusParameters.latencySLOMs] = .with { $0.doubleParam = application.served.spec.latencySLOMs }
                if request.parameters[NexusParameters.timing]?.boolParam == true {
                    response.parameters[NexusParameters.frontendNs] = .with { $0.int64Param = frontendNs }
                    response.parameters[NexusParameters.callNs] = .with { $0.int64Param = answer.callNs }
                    response.parameters[NexusParameters.backendNs] = .with { $0.int64Param = answer.backendNs }
                }
            }
        }
    }

    static let simulatedParameter = Inference_InferParameter.with { $0.stringParam = "simulated" }
    static let torchParameter = Inference_InferParameter.with { $0.stringParam = "torch" }

    func lookup(_ name: String) throws -> FrontendApplication {
        guard let found = frontend.application(named: name) else { throw notFound(name) }
        return found
    }

    func notFound(_ name: String) -> InferenceError {
        let served = frontend.applicationNames
        return .notFound("model name '\(ClientText.quote(name))': no such application is served here (served: \(served.isEmpty ? "none yet: not registered with the scheduler" : served.joined(separator: ", ")))")
    }

    func rootModel(_ application: FrontendApplication) throws(InferenceError) -> ModelInterface {
        guard let root = application.root else {
            throw .internalError("application '\(application.name)' has no root model known to this frontend")
        }
        return root
    }

    func dataType(_ dtype: TensorDType) -> Inference_DataType {
        switch dtype {
        case .uint8: return .typeUint8
        case .fp16: return .typeFp16
        case .fp32: return .typeFp32
        }
    }
}

public enum NexusVersion {
    public static let string = "0.4.0"
}
