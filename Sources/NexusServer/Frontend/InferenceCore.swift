import Foundation
import NexusCore
import NexusProtocol
import NexusRuntime

/// The protocol-neutral half of the Open Inference Protocol (DESIGN.md §4): lookups, checks and dispatch
/// that gRPC (`InferenceService`) and HTTP/REST (`HTTPInferenceRoutes`) both call, so the two protocols
/// answer the same request with the same error and the same text. Requests and answers are the protocol's
/// messages: HTTP decodes its JSON and binary tensors into an `Inference_ModelInferRequest` first.
struct InferenceCore: Sendable {
    let frontend: FrontendServer

    /// Each application has one version; "" (a client that names none) means it.
    static let version = "1"

    /// What a request gets while the frontend drains.
    static let draining = InferenceError.unavailable(
        "the frontend is shutting down (draining): it takes no new requests; send them to another frontend")

    /// A draining frontend is not ready: load balancers and clients stop sending to it.
    var isServerReady: Bool { frontend.isRegistered && !frontend.gate.isDraining }

    func isReady(_ application: FrontendApplication) -> Bool {
        !frontend.gate.isDraining && frontend.routes.isReady(application: application.served)
    }

    /// The application `name`, at `version` ("" or "1": an application has one version).
    func lookup(_ name: String, version: String = "") throws(InferenceError) -> FrontendApplication {
        guard let found = frontend.application(named: name) else { throw notFound(name) }
        guard version.isEmpty || version == Self.version else {
            throw .notFound("application '\(found.name)' has no version '\(ClientText.quote(version))' (versions: \(Self.version))")
        }
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

    /// One request, counted by the drain gate: refused with UNAVAILABLE once the frontend drains.
    func admitAndInfer(_ request: Inference_ModelInferRequest,
                       transportDeadlineNs: Int64 = .max) async -> Result<Inference_ModelInferResponse, InferenceError> {
        guard frontend.gate.enter() else { return .failure(Self.draining) }
        defer { frontend.gate.leave() }
        guard request.payloadBytes >= Self.offLoopBytes else { return await infer(request, transportDeadlineNs: transportDeadlineNs) }
        // The process's tasks run on its event loops (`EventLoops`); a large request's checks, copies and
        // backend message are made on Swift's global executor instead, leaving the loops to other clients.
        return await withTaskExecutorPreference(globalConcurrentExecutor) {
            await infer(request, transportDeadlineNs: transportDeadlineNs)
        }
    }

    /// Requests with at least this many bytes of tensors run off the event loops (`admitAndInfer`).
    static let offLoopBytes = 1 << 20

    /// Checks the request, runs its application, records its statistics and builds the answer.
    /// `transportDeadlineNs`: the client's own deadline (gRPC's `grpc-timeout`); like Triton's `timeout`
    /// parameter it can only tighten the application's SLO.
    func infer(_ request: Inference_ModelInferRequest,
               transportDeadlineNs: Int64 = .max) async -> Result<Inference_ModelInferResponse, InferenceError> {
        let arrival = frontend.clock.nowNs()
        guard let application = frontend.application(named: request.modelName) else {
            return .failure(notFound(request.modelName))
        }
        application.metrics.inFlight.increment()
        defer { application.metrics.inFlight.decrement() }
        let result: Result<ApplicationResult, InferenceError>
        do throws(InferenceError) {
            _ = try lookup(request.modelName, version: request.modelVersion)
            let root = try rootModel(application)
            let input = try OIPRequest.input(of: request, root: root, checkSpec: application.rootCheckSpec ?? root.checkSpec)
            if let unknown = request.outputs.first(where: { !application.outputNames.contains($0.name) }) {
                throw .invalidArgument("outputs: '\(ClientText.quote(unknown.name))' is not an output of '\(application.name)' (outputs: \(application.outputNames.sorted().joined(separator: ", ")))")
            }
            let parameters = try TritonParameters(request.parameters)
            result = await frontend.run(application, input: input, arrivalNs: arrival,
                                        deadlineCapNs: min(parameters.deadlineNs(arrivalNs: arrival), transportDeadlineNs),
                                        priority: parameters.priority.map { UInt32(clamping: $0) } ?? 0)
        } catch {
            result = .failure(error)
        }
        let frontendNs = frontend.clock.nowNs() - arrival
        frontend.record(application: application.name, result: result, durationNs: frontendNs)
        application.metrics.record(RequestOutcome(result), durationNs: frontendNs)
        return result.map { answer(request, application: application, result: $0, frontendNs: frontendNs) }
    }

    func answer(_ request: Inference_ModelInferRequest, application: FrontendApplication, result answer: ApplicationResult,
                frontendNs: Int64) -> Inference_ModelInferResponse {
        let kept = request.outputs.isEmpty ? answer.outputs : answer.outputs.filter { output in request.outputs.contains { $0.name == output.name } }
        return .with { response in
            response.modelName = application.name
            response.modelVersion = Self.version
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

    static let simulatedParameter = Inference_InferParameter.with { $0.stringParam = "simulated" }
    static let torchParameter = Inference_InferParameter.with { $0.stringParam = "torch" }
}

extension Inference_ModelInferRequest {
    /// The bytes of its tensors, raw or typed (an estimate for choosing a thread, not a check).
    var payloadBytes: Int {
        var total = rawInputContents.reduce(0) { $0 + $1.count }
        for input in inputs where input.hasContents {
            let contents = input.contents
            total += 4 * (contents.fp32Contents.count + contents.intContents.count + contents.uintContents.count)
            total += 8 * (contents.fp64Contents.count + contents.int64Contents.count + contents.uint64Contents.count)
            total += contents.bytesContents.reduce(0) { $0 + $1.count } + contents.boolContents.count
        }
        return total
    }
}
