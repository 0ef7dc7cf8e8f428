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
        .with { $0.ready = frontend.isRegistered }
    }

    func modelReady(request: Inference_ModelReadyRequest, context: ServerContext) async throws -> Inference_ModelReadyResponse {
        let (application, _) = try lookup(request.name)
        return .with { $0.ready = frontend.routes.isReady(application: application) }
    }

    func serverMetadata(request: Inference_ServerMetadataRequest, context: ServerContext) async throws -> Inference_ServerMetadataResponse {
        .with {
            $0.name = "nexus"
            $0.version = NexusVersion.string
            $0.extensions = ["statistics", "model_configuration"]
        }
    }

    func modelMetadata(request: Inference_ModelMetadataRequest, context: ServerContext) async throws -> Inference_ModelMetadataResponse {
        let (application, models) = try lookup(request.name)
        let root = try rootModel(application, models)
        return .with { metadata in
            metadata.name = application.name
            metadata.versions = ["1"]
            metadata.platform = "nexus"
            metadata.inputs = [.with {
                $0.name = root.input.name
                $0.datatype = root.input.dtype.rawValue
                $0.shape = [-1] + root.input.shape.map(Int64.init)
            }]
            metadata.outputs = outputs(application, models).map { output in
                .with {
                    $0.name = output.name
                    $0.datatype = "FP32"
                    $0.shape = [-1] + output.shape.map(Int64.init)
                }
            }
        }
    }

    func modelConfig(request: Inference_ModelConfigRequest, context: ServerContext) async throws -> Inference_ModelConfigResponse {
        let (application, models) = try lookup(request.name)
        let root = try rootModel(application, models)
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
                config.output = outputs(application, models).map { output in
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
        let names = request.name.isEmpty ? frontend.applicationNames : [try lookup(request.name).0.name]
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
        switch await infer(request) {
        case let .success(response): return response
        case let .failure(error): throw RPCError(code: rpcCode(error), message: error.message)
        }
    }

    func modelStreamInfer(request: RPCAsyncSequence<Inference_ModelInferRequest, any Error>,
                          response: RPCWriter<Inference_ModelStreamInferResponse>, context: ServerContext) async throws {
        // Requests run concurrently and answer as they finish (matched by the echoed id); an error is an
        // error_message on the stream, as in Triton, and the stream goes on.
        let outbox = Outbox<Inference_ModelStreamInferResponse>()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                while let answers = await outbox.next() {
                    for answer in answers { try await response.write(answer) }
                }
            }
            for try await message in request {
                outbox.expect()
                group.addTask {
                    let answer: Inference_ModelStreamInferResponse
                    switch await infer(message) {
                    case let .success(result): answer = .with { $0.inferResponse = result }
                    case let .failure(error):
                        answer = .with {
                            $0.errorMessage = "\(codeName(error)): \(error.message)"
                            $0.inferResponse = .with { $0.id = message.id; $0.modelName = message.modelName }
                        }
                    }
                    outbox.add(answer)
                }
            }
            outbox.finishInput()
            try await group.waitForAll()
        }
    }

    // MARK: Helpers

    func infer(_ request: Inference_ModelInferRequest) async -> Result<Inference_ModelInferResponse, InferenceError> {
        let arrival = frontend.clock.nowNs()
        guard let (application, models) = frontend.application(named: request.modelName) else {
            return .failure(notFound(request.modelName))
        }
        let result: Result<ApplicationResult, InferenceError>
        do {
            let root = try rootModel(application, models)
            let input = try OIPRequest.input(of: request, root: root)
            let wanted = Set(request.outputs.map(\.name))
            let known = Set(outputs(application, models).map(\.name))
            if let unknown = wanted.subtracting(known).sorted().first {
                throw InferenceError.invalidArgument("outputs: '\(unknown)' is not an output of '\(application.name)' (outputs: \(known.sorted().joined(separator: ", ")))")
            }
            result = await frontend.run(application, models: models, input: input, arrivalNs: arrival)
        } catch let error as InferenceError {
            result = .failure(error)
        } catch {
            result = .failure(.internalError("\(error)"))
        }
        frontend.record(application: application.name, result: result, durationNs: frontend.clock.nowNs() - arrival)
        return result.map { answer in
            let wanted = Set(request.outputs.map(\.name))
            let kept = answer.outputs.filter { wanted.isEmpty || wanted.contains($0.name) }
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
                response.parameters["nexus_runtime"] = .with { $0.stringParam = answer.simulated ? "simulated" : "torch" }
                response.parameters["nexus_latency_slo_ms"] = .with { $0.doubleParam = application.spec.latencySLOMs }
            }
        }
    }

    func lookup(_ name: String) throws -> (ServedApplication, [String: ModelInterface]) {
        guard let found = frontend.application(named: name) else {
            let error = notFound(name)
            throw RPCError(code: .notFound, message: error.message)
        }
        return found
    }

    func notFound(_ name: String) -> InferenceError {
        let served = frontend.applicationNames
        return .notFound("application '\(name)' is not served here (served: \(served.isEmpty ? "none yet: not registered with the scheduler" : served.joined(separator: ", ")))")
    }

    func rootModel(_ application: ServedApplication, _ models: [String: ModelInterface]) throws(InferenceError) -> ModelInterface {
        guard let root = application.spec.stages.first(where: { $0.parent == nil }), let model = models[root.model] else {
            throw .internalError("application '\(application.name)' has no root model known to this frontend")
        }
        return model
    }

    /// `stage/output` with the shape of one call (the response adds the number of calls in front).
    func outputs(_ application: ServedApplication, _ models: [String: ModelInterface]) -> [(name: String, shape: [Int])] {
        application.spec.stages.flatMap { stage in
            (models[stage.model]?.outputs ?? []).map { ("\(stage.name)/\($0.name)", $0.shape) }
        }
    }

    func dataType(_ dtype: TensorDType) -> Inference_DataType {
        switch dtype {
        case .uint8: return .typeUint8
        case .fp16: return .typeFp16
        case .fp32: return .typeFp32
        }
    }

    func rpcCode(_ error: InferenceError) -> RPCError.Code {
        switch error {
        case .invalidArgument: return .invalidArgument
        case .notFound: return .notFound
        case .resourceExhausted: return .resourceExhausted
        case .deadlineExceeded: return .deadlineExceeded
        case .unavailable: return .unavailable
        case .internalError: return .internalError
        }
    }

    func codeName(_ error: InferenceError) -> String {
        switch error {
        case .invalidArgument: return "INVALID_ARGUMENT"
        case .notFound: return "NOT_FOUND"
        case .resourceExhausted: return "RESOURCE_EXHAUSTED"
        case .deadlineExceeded: return "DEADLINE_EXCEEDED"
        case .unavailable: return "UNAVAILABLE"
        case .internalError: return "INTERNAL"
        }
    }
}

public enum NexusVersion {
    public static let string = "0.4.0"
}
