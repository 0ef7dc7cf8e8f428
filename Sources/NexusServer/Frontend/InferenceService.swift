import Foundation
import GRPCCore
import NexusCore
import NexusProtocol
import NexusRuntime

/// Triton's `inference.GRPCInferenceService` (the Open Inference Protocol, DESIGN.md §4): each application
/// is a "model". Standard clients (`tritonclient`, perf_analyzer) work unchanged.
struct InferenceService: Inference_GRPCInferenceService.SimpleServiceProtocol {
    let frontend: FrontendServer

    var core: InferenceCore { InferenceCore(frontend: frontend) }

    func serverLive(request: Inference_ServerLiveRequest, context: ServerContext) async throws -> Inference_ServerLiveResponse {
        .with { $0.live = true }
    }

    func serverReady(request: Inference_ServerReadyRequest, context: ServerContext) async throws -> Inference_ServerReadyResponse {
        .with { $0.ready = core.isServerReady }
    }

    func modelReady(request: Inference_ModelReadyRequest, context: ServerContext) async throws -> Inference_ModelReadyResponse {
        let application = try core.lookup(request.name, version: request.version)
        return .with { $0.ready = core.isReady(application) }
    }

    func serverMetadata(request: Inference_ServerMetadataRequest, context: ServerContext) async throws -> Inference_ServerMetadataResponse {
        core.serverMetadata
    }

    func modelMetadata(request: Inference_ModelMetadataRequest, context: ServerContext) async throws -> Inference_ModelMetadataResponse {
        try core.metadata(core.lookup(request.name, version: request.version))
    }

    func modelConfig(request: Inference_ModelConfigRequest, context: ServerContext) async throws -> Inference_ModelConfigResponse {
        let config = try core.config(core.lookup(request.name, version: request.version))
        return .with { $0.config = config }
    }

    func modelStatistics(request: Inference_ModelStatisticsRequest, context: ServerContext) async throws -> Inference_ModelStatisticsResponse {
        try core.statistics(name: request.name, version: request.version)
    }

    func modelInfer(request: Inference_ModelInferRequest, context: ServerContext) async throws -> Inference_ModelInferResponse {
        try await core.admitAndInfer(request).get()
    }

    /// The unary call with its metadata: a client's gRPC deadline (`grpc-timeout`) tightens the request's
    /// deadline as Triton's `timeout` parameter does, counted from the moment the call reached this handler.
    func modelInfer(request: ServerRequest<Inference_ModelInferRequest>,
                    context: ServerContext) async throws -> ServerResponse<Inference_ModelInferResponse> {
        let timeout = Array(request.metadata[stringValues: GRPCTimeout.header]).first
        let deadlineNs = GRPCTimeout.deadlineNs(timeout, arrivalNs: frontend.clock.nowNs())
        return ServerResponse(message: try await core.admitAndInfer(request.message, transportDeadlineNs: deadlineNs).get())
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
                    outbox.add(streamAnswer(message, .failure(InferenceCore.draining)))
                    return
                }
                Task(executorPreference: EventLoops.shared) {
                    outbox.add(streamAnswer(message, await core.infer(message)))
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
}

public enum NexusVersion {
    public static let string = "0.4.0"
}
