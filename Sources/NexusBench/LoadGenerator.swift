import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import NexusCore
import NexusProtocol
import Synchronization
import NexusServer

/// How `nexus bench` loads a server; see `LoadGenerator`.
public struct BenchOptions: Sendable {
    public var target: HostPort
    /// The applications and each one's share of the rate (one application: every request).
    public var mix: ApplicationMix
    /// Report each application of `mix` too (a `--workload` run), even when there is one.
    public var perApplication = false
    public var input: BenchInputChoice = .random
    /// Seconds at the same rate before the measured window; excluded from the statistics.
    public var warmupSeconds: Double = 1
    /// nil: the SLO the server reports in `nexus_latency_slo_ms`.
    public var sloMs: Double?
    /// Requests outstanding at most; one that would exceed it is counted as not sent.
    public var maxInFlight = 10_000
    /// HTTP/2 connections (one GRPCClient each), used round robin.
    public var connections = 1
    /// Requests as messages of one ModelStreamInfer stream per connection instead of unary ModelInfer calls.
    public var stream = false
    /// Ask a Nexus frontend where each request's time went (`nexus_timing`), for `BenchReport.hops`.
    public var timing = false
    public var seed: UInt64 = 1
    /// How long to wait for answers after the last send, plus the SLO; what is still out then is unanswered.
    public var drainSeconds: Double = 10

    public init(target: HostPort, app: String) {
        self.init(target: target, mix: .single(app))
    }

    public init(target: HostPort, mix: ApplicationMix) {
        self.target = target
        self.mix = mix
    }
}

/// One open-loop run at one rate. Latencies are of OK responses, from the scheduled send time.
public struct BenchReport: Sendable, Encodable {
    public struct Latency: Sendable, Encodable {
        public var p50Ms: Double
        public var p90Ms: Double
        public var p99Ms: Double
        public var maxMs: Double
    }

    public var ratePerSecond: Double
    public var durationSeconds: Double
    public var warmupSeconds: Double
    /// Sent in the window, and not sent because `maxInFlight` requests were outstanding (client overload).
    public var sent: Int
    public var notSent: Int
    public var completedOK: Int
    public var withinSLO: Int
    /// withinSLO / (sent + notSent): the find-max-rate criterion.
    public var withinSLOFraction: Double
    /// Every request's SLO was known (with several applications, each its own).
    public var sloKnown: Bool
    /// Sent and neither answered nor failed by the end of the drain.
    public var unanswered: Int
    /// Failed requests per gRPC status code (`deadlineExceeded`, `unavailable`, ...), and the first message of each.
    public var errors: [String: Int]
    public var errorExamples: [String: String]
    @NullEncoded public var sloMs: Double?
    /// "flag" (--slo-ms) or "server" (nexus_latency_slo_ms); null when neither gave one.
    @NullEncoded public var sloSource: String?
    /// Within-SLO responses per second of the window; null without an SLO.
    @NullEncoded public var goodputPerSecond: Double?
    /// OK responses per second of the window.
    public var throughputPerSecond: Double
    @NullEncoded public var latency: Latency?
    /// Of the OK responses, those labelled `nexus_runtime` = "simulated".
    @NullEncoded public var simulatedFraction: Double?
    /// How late requests left against their schedule (the generator's own delay; it is part of the latency).
    @NullEncoded public var sendLag: Latency?
    /// CPU time of this process over the run divided by its wall time.
    public var clientCPUCores: Double
    /// With `--timing`, of the OK responses that carried it: the latency cut at the process boundaries.
    @NullEncoded public var hops: Hops?

    public struct Hops: Sendable, Encodable {
        /// The client's own time and the client <-> frontend network (both ways).
        public var client: Latency
        /// The frontend's own work.
        public var frontend: Latency
        /// frontend <-> backend (both ways).
        public var link: Latency
        /// On the backend, queue and model included.
        public var backend: Latency
        public var count: Int
    }

    /// With several applications (`nexus bench --workload`): the name of this part, and each part's report.
    @NullEncoded public var application: String? = nil
    @NullEncoded public var applications: [BenchReport]? = nil
    /// The longest time in the measured window (and its drain) with no OK response arriving: the outage a
    /// client saw. Null when there was no OK response at all.
    @NullEncoded public var longestGapWithoutOKMs: Double? = nil

    public func meets(fraction: Double) -> Bool {
        sloKnown && sent + notSent > 0 && Double(withinSLO) >= fraction * Double(sent + notSent)
    }
}

/// `--find-max-rate`: every step's run and the highest passing rate.
public struct BenchMaxRateReport: Sendable, Encodable {
    public struct Step: Sendable, Encodable {
        public var passed: Bool
        public var report: BenchReport
    }

    public var targetFraction: Double
    public var steps: [Step]
    /// null when even --min-rate failed.
    @NullEncoded public var maxRatePerSecond: Double?
    /// The search stopped doubling at its ceiling without a failure: the true maximum may be higher.
    public var hitCeiling: Bool
}

/// An open-loop Poisson load generator over the Open Inference Protocol: `OpenLoop` with unary ModelInfer
/// calls, or with messages on ModelStreamInfer streams (`StreamingCaller`). The request is serialized once
/// (`BenchRequestSerializer` adds each request's `id`), responses are read only for their `id` and
/// `parameters` (`BenchReplyDeserializer`), and requests go round robin over `connections` clients (one
/// HTTP/2 connection each).
public final class LoadGenerator: Sendable {
    public let options: BenchOptions
    /// Per application of `options.mix`.
    public let inputs: [BenchInput]
    public static let targetFraction = 0.99

    let clients: [GRPCClient<HTTP2ClientTransport.Posix>]
    /// One per client with `options.stream`, else none.
    let streams: [StreamingCaller]
    let serializer: BenchRequestSerializer
    let nextRequestID = Atomic<UInt64>(0)

    private init(options: BenchOptions, inputs: [BenchInput], clients: [GRPCClient<HTTP2ClientTransport.Posix>]) throws {
        self.options = options
        self.inputs = inputs
        self.clients = clients
        streams = options.stream ? clients.map { _ in StreamingCaller() } : []
        serializer = BenchRequestSerializer(
            templates: try zip(options.mix.names, inputs).map { try $1.requestTemplate(app: $0, timing: options.timing) },
            mix: options.mix)
    }

    /// The input of the first application (the only one without `--workload`).
    public var input: BenchInput { inputs[0] }

    /// Connects `options.connections` clients, checks the server is live, learns the app's input from
    /// ModelMetadata, runs `body`, and closes the connections. Throws `ServerError` with a message for the
    /// user when the server cannot be reached or does not know the app.
    public static func withGenerator<R: Sendable>(_ options: BenchOptions, imageBytes: Data? = nil,
                                                  _ body: (LoadGenerator) async throws -> R) async throws -> R {
        // Each client is one HTTP/2 connection; NIO's shared event loop group spreads them over its threads.
        let clients = try (0..<max(1, options.connections)).map { _ in try Transport.client(options.target) }
        return try await withThrowingDiscardingTaskGroup { group in
            for client in clients { group.addTask { try await client.runConnections() } }
            defer { for client in clients { client.beginGracefulShutdown() } }
            var inputs: [BenchInput] = []
            for app in options.mix.names {
                inputs.append(try await probe(options, app: app, clients: clients, imageBytes: imageBytes))
            }
            let generator = try LoadGenerator(options: options, inputs: inputs, clients: clients)
            for (stream, client) in zip(generator.streams, clients) {
                group.addTask { await stream.run(client: client, serializer: generator.serializer) }
            }
            defer { for stream in generator.streams { stream.finish() } }
            return try await body(generator)
        }
    }

    private static func probe(_ options: BenchOptions, app: String, clients: [GRPCClient<HTTP2ClientTransport.Posix>],
                              imageBytes: Data?) async throws -> BenchInput {
        var callOptions = CallOptions.defaults
        callOptions.timeout = .seconds(10)
        let target = options.target
        // ServerLive on every connection, so none is opened inside the measurement.
        for client in clients {
            let live: Bool
            do {
                live = try await Inference_GRPCInferenceService.Client(wrapping: client)
                    .serverLive(Inference_ServerLiveRequest(), options: callOptions).live
            } catch let error as RPCError {
                throw ServerError.startup("cannot reach an inference server at \(target): \(error.code): \(error.message)")
            }
            guard live else { throw ServerError.startup("the server at \(target) says it is not live") }
        }
        let metadata: Inference_ModelMetadataResponse
        do {
            metadata = try await Inference_GRPCInferenceService.Client(wrapping: clients[0])
                .modelMetadata(.with { $0.name = app }, options: callOptions)
        } catch let error as RPCError {
            if error.code == .notFound {
                throw ServerError.configuration("unknown app '\(app)' at \(target) (\(error.code): \(error.message))")
            }
            throw ServerError.startup("ModelMetadata('\(app)') failed at \(target): \(error.code): \(error.message)")
        }
        guard let first = metadata.inputs.first else {
            throw ServerError.configuration("app '\(app)' at \(target) declares no inputs")
        }
        return try BenchInput(app: app, name: first.name, datatype: first.datatype, shape: first.shape,
                              choice: options.input, imageBytes: imageBytes, seed: options.seed)
    }

    /// `--warmup` seconds then `durationSeconds` measured, at `ratePerSecond`, then the drain.
    public func run(ratePerSecond: Double, durationSeconds: Double) async -> BenchReport {
        var loop = OpenLoop(ratePerSecond: ratePerSecond, durationSeconds: durationSeconds)
        loop.warmupSeconds = options.warmupSeconds
        loop.sloMs = options.sloMs
        loop.maxInFlight = options.maxInFlight
        loop.seed = options.seed
        loop.drainSeconds = options.drainSeconds
        loop.firstID = nextRequestID.load(ordering: .relaxed)
        loop.mix = options.mix
        loop.perApplication = options.perApplication
        let (report, nextID) = await loop.run { id in await self.call(id) }
        nextRequestID.store(nextID, ordering: .relaxed)
        return report
    }

    /// One unary ModelInfer, or one stream message, on connection `id mod connections`.
    private func call(_ id: UInt64) async -> BenchOutcome {
        if !streams.isEmpty { return await streams[Int(id % UInt64(streams.count))].call(id) }
        do {
            return .ok(try await clients[Int(id % UInt64(clients.count))].unary(
                request: ClientRequest(message: id), descriptor: Inference_GRPCInferenceService.Method.ModelInfer.descriptor,
                serializer: serializer, deserializer: BenchReplyDeserializer(), options: .defaults
            ) { try $0.message })
        } catch let error as RPCError {
            return .failed(code: error.code.description, message: error.message)
        } catch {
            return .failed(code: "client", message: "\(error)")
        }
    }

    /// `--find-max-rate`: NexusCore's `MaxRateSearch` driven by runs of `durationSeconds` each (after the
    /// warm-up). Throws when no SLO is known after the first run (neither --slo-ms nor the server's parameter).
    public func findMaxRate(search: MaxRateSearch, durationSeconds: Double,
                            onStep: (BenchMaxRateReport.Step) -> Void = { _ in }) async throws -> BenchMaxRateReport {
        var steps: [BenchMaxRateReport.Step] = []
        var search = search
        try await search.run { rate in
            let report = await run(ratePerSecond: rate, durationSeconds: durationSeconds)
            guard report.sloMs != nil else {
                throw ServerError.configuration(
                    "--find-max-rate needs an SLO: pass --slo-ms, or serve an app whose responses carry nexus_latency_slo_ms (no OK response had it)")
            }
            let step = BenchMaxRateReport.Step(passed: report.meets(fraction: Self.targetFraction), report: report)
            steps.append(step)
            onStep(step)
            return step.passed
        }
        return BenchMaxRateReport(targetFraction: Self.targetFraction, steps: steps,
                                  maxRatePerSecond: search.highestPassingPerSecond, hitCeiling: search.hitCeiling)
    }
}
