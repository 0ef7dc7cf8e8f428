import Foundation
import Hummingbird
import NIOCore
import NexusCore
import NexusProtocol
import NexusRuntime

/// The KServe v2 / Triton HTTP/REST API over `InferenceCore`: the same lookups, checks and errors as gRPC,
/// with each error's HTTP status from the one mapping (`InferenceError.httpStatusCode`) and Triton's
/// `{"error": message}` body.
struct HTTPInferenceRoutes: Sendable {
    let core: InferenceCore
    /// The largest request body (`--max-message-mb`, as gRPC's largest message).
    let maxBodyBytes: Int

    func add(to router: Router<BasicRequestContext>) {
        router.get("/v2/health/live") { _, _ in Self.json(["live": true]) }
        router.get("/v2/health/ready") { _, _ in
            core.isServerReady ? Self.json(["ready": true]) : Self.json(["ready": false], status: .serviceUnavailable)
        }
        router.get("/v2") { _, _ in Self.json(HTTPJSON.serverMetadata(core.serverMetadata)) }
        router.get("/v2/models/stats") { _, _ in answer { () throws(InferenceError) in HTTPJSON.statistics(try core.statistics(name: "", version: "")) } }
        for prefix in ["/v2/models/:model", "/v2/models/:model/versions/:version"] {
            router.get(RouterPath(prefix)) { _, context in
                answer { () throws(InferenceError) in HTTPJSON.modelMetadata(try core.metadata(lookup(context))) }
            }
            router.get(RouterPath(prefix + "/config")) { _, context in
                answer { () throws(InferenceError) in HTTPJSON.modelConfig(try core.config(lookup(context))) }
            }
            router.get(RouterPath(prefix + "/ready")) { _, context in ready(context) }
            router.get(RouterPath(prefix + "/stats")) { _, context in
                answer { () throws(InferenceError) in
                    HTTPJSON.statistics(try core.statistics(name: Self.model(context), version: Self.version(context)))
                }
            }
            router.post(RouterPath(prefix + "/infer")) { request, context in try await infer(request, context) }
        }
    }

    func lookup(_ context: BasicRequestContext) throws(InferenceError) -> FrontendApplication {
        try core.lookup(Self.model(context), version: Self.version(context))
    }

    func ready(_ context: BasicRequestContext) -> Response {
        do throws(InferenceError) {
            let ready = core.isReady(try lookup(context))
            return Self.json(["ready": ready], status: ready ? .ok : .serviceUnavailable)
        } catch {
            return Self.failure(error)
        }
    }

    func infer(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: maxBodyBytes)
        } catch let error as HTTPResponseError where error.status == .contentTooLarge {
            return Self.failure(.resourceExhausted("request body over this server's limit of \(maxBodyBytes) bytes (--max-message-mb)"),
                                status: .contentTooLarge)
        }
        let headerLength = request.headers[HTTPInferRequest.headerLengthName]
        let (model, version) = (Self.model(context), Self.version(context))
        @Sendable func decode() -> Result<HTTPInferRequest.Decoded, InferenceError> {
            Result { () throws(InferenceError) in
                try HTTPInferRequest.decode(body: Data(body.readableBytesView), headerLength: headerLength,
                                            model: model, version: version)
            }
        }
        // The process's tasks run on its event loops (`EventLoops`): a large body (JSON tensors especially)
        // is decoded on the global executor instead, leaving the loops to the other connections.
        let decoding = body.readableBytes < Self.decodeOnLoopBytes
            ? decode() : await withTaskExecutorPreference(globalConcurrentExecutor) { decode() }
        let decoded: HTTPInferRequest.Decoded
        switch decoding {
        case let .success(value): decoded = value
        case let .failure(error): return Self.failure(error)
        }
        switch await core.admitAndInfer(decoded.request) {
        case let .failure(error):
            return Self.failure(error)
        case let .success(answer):
            let wanted = decoded.binaryOutputs.union(decoded.request.outputs.isEmpty && decoded.binaryByDefault
                                                     ? Set(answer.outputs.map(\.name)) : [])
            let encoded = HTTPInferResponse.encode(answer, binaryOutputs: wanted)
            var headers = HTTPFields()
            if let length = encoded.headerLength {
                headers[.contentType] = "application/octet-stream"
                headers[HTTPInferRequest.headerLengthName] = String(length)
            } else {
                headers[.contentType] = "application/json"
            }
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: encoded.body)))
        }
    }

    // MARK: Helpers

    /// Bodies under this are decoded where the request runs; larger ones on the global executor.
    static let decodeOnLoopBytes = 64 * 1024

    static func model(_ context: BasicRequestContext) -> String { context.parameters.get("model") ?? "" }
    static func version(_ context: BasicRequestContext) -> String { context.parameters.get("version") ?? "" }

    func answer(_ body: () throws(InferenceError) -> [String: Any]) -> Response {
        do throws(InferenceError) { return Self.json(try body()) } catch { return Self.failure(error) }
    }

    static func json(_ object: [String: Any], status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"],
                 body: .init(byteBuffer: ByteBuffer(bytes: HTTPJSON.data(object))))
    }

    static func failure(_ error: InferenceError, status: HTTPResponse.Status? = nil) -> Response {
        Response(status: status ?? HTTPResponse.Status(code: error.httpStatusCode),
                 headers: [.contentType: "application/json"],
                 body: .init(byteBuffer: ByteBuffer(bytes: HTTPJSON.error(error.message))))
    }
}

extension HTTPInferRequest {
    // HTTPFields.Element is HTTPTypes' HTTPField, which Hummingbird does not re-export by name.
    static let headerLengthName = HTTPFields.Element.Name(headerLengthField)!
}
