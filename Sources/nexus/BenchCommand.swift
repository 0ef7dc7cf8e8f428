import ArgumentParser
import Foundation
import NexusConfig
import NexusCore
import NexusBench
import NexusServer

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Open-loop Poisson load on an Open Inference Protocol server (ModelInfer over gRPC): latency, goodput, errors.",
        discussion: """
            Sends unary ModelInfer requests (with --stream: messages on one ModelStreamInfer stream per connection, \
            answers matched by the echoed id) to one app (--app), or to every application of a workload file in \
            its share of the rate (--workload, against nexus serve --workload), at Poisson times (exponential gaps from --seed) that never \
            wait for responses, so an overloaded server shows as latency and errors, not as a lower offered rate. \
            The input is built from the app's ModelMetadata (dimensions of -1 become 1), or is --image as a BYTES \
            tensor. Latency is response time minus scheduled send time, so it includes delay in this client \
            (shown as send lag: the sender sleeps at least 0.2 ms and then sends all that is due). A request due while --max-in-flight are outstanding is not sent and counted as \
            notSent. The SLO is --slo-ms, else the nexus_latency_slo_ms parameter of the first OK response. \
            --find-max-rate searches the highest rate at which >= 99% of the scheduled requests are answered OK \
            within the SLO: from --rate, doubling until a run fails (halving while it fails, down to \
            --min-rate), then bisecting until the bracket is within --precision (default 1%) of its low end; every \
            step is a run of --duration seconds after the warm-up. nexus simulate --find-max-rate runs the same search.
            """
    )

    enum InputChoice: String, ExpressibleByArgument, CaseIterable { case random, zeros }

    @Option(name: .long, help: "Server (a Nexus frontend, or any OIP server) as HOST:PORT.")
    var target: String

    @Option(name: .long, help: "App (model name) to send to.")
    var app: String?

    @OptionGroup var study: StudyFlags

    @Option(name: .long, help: "Requests per second in all (with --find-max-rate: the first guess). Default with --workload: its totalRatePerSecond / --time-scale.")
    var rate: Double?

    @Option(name: .long, help: "Measured seconds per run.")
    var duration: Double

    @Option(name: .long, help: "Seconds at the same rate before each measured run, excluded from the statistics.")
    var warmup: Double = 1

    @Option(name: .long, help: "Latency SLO in ms (default: the server's nexus_latency_slo_ms response parameter).")
    var sloMs: Double?

    @Option(name: .long, help: "Input values: random or zeros (ignored with --image).")
    var input: InputChoice = .random

    @Option(name: .long, help: "JPEG file sent as a BYTES tensor of shape [1] instead of generated values.")
    var image: String?

    @Option(name: .long, help: "Requests outstanding at most; one due beyond it is not sent (counted as notSent).")
    var maxInFlight = 10_000

    @Option(name: .long, help: "HTTP/2 connections, used round robin.")
    var connections = 1

    @Flag(name: .long, help: "Send requests on ModelStreamInfer streams (one per connection) instead of unary ModelInfer calls.")
    var stream = false

    @Flag(name: .long, help: "Ask a Nexus frontend where each request's time went (nexus_timing) and report latency per hop.")
    var timing = false

    @Option(name: .long, help: "Seed of the send times and the random input.")
    var seed: UInt64 = 1

    @Flag(name: .long, help: "Search the highest rate with >= 99% of requests OK within the SLO.")
    var findMaxRate = false

    @Option(name: .long, help: "--find-max-rate: lowest rate tried.")
    var minRate: Double = 1

    @Option(name: .long, help: "--find-max-rate: relative precision at which the bisection stops.")
    var precision: Double = 0.01

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    @OptionGroup var eventLoops: EventLoopFlags

    func validate() throws {
        _ = try parsedTarget()
        guard (app == nil) != (study.workload == nil) else { throw ValidationError("give --app or --workload, not both and not neither") }
        if let app, app.isEmpty { throw ValidationError("--app must not be empty") }
        if app != nil, rate == nil { throw ValidationError("--rate is needed with --app") }
        if let rate, !(rate > 0 && rate <= 10_000_000) { throw ValidationError("--rate must be in (0, 10000000], got \(rate)") }
        guard duration > 0 && duration <= 86_400 else { throw ValidationError("--duration must be in (0, 86400], got \(duration)") }
        guard warmup >= 0 && warmup <= 3600 else { throw ValidationError("--warmup must be in [0, 3600], got \(warmup)") }
        if let sloMs, !(sloMs > 0 && sloMs <= 3_600_000) { throw ValidationError("--slo-ms must be in (0, 3600000], got \(sloMs)") }
        guard (1...1_000_000).contains(maxInFlight) else { throw ValidationError("--max-in-flight must be in 1...1000000, got \(maxInFlight)") }
        guard (1...64).contains(connections) else { throw ValidationError("--connections must be in 1...64, got \(connections)") }
        guard minRate > 0 && minRate <= (rate ?? .infinity) else { throw ValidationError("--min-rate must be in (0, --rate], got \(minRate)") }
        guard precision > 0 && precision < 1 else { throw ValidationError("--precision must be in (0, 1), got \(precision)") }
    }

    func parsedTarget() throws -> HostPort {
        do { return try HostPort(parsing: target, flag: "--target") } catch { throw ValidationError("\(error)") }
    }

    func run() async throws {
        eventLoops.apply()
        let (mix, totalRate) = try applications()
        var options = BenchOptions(target: try parsedTarget(), mix: mix)
        options.perApplication = study.workload != nil
        options.warmupSeconds = warmup
        options.sloMs = sloMs
        options.maxInFlight = maxInFlight
        options.connections = connections
        options.stream = stream
        options.timing = timing
        options.seed = seed
        var imageBytes: Data?
        if let image {
            guard let bytes = FileManager.default.contents(atPath: image) else {
                throw InputError(description: "--image: cannot read \(image)")
            }
            guard !bytes.isEmpty else { throw InputError(description: "--image: \(image) is empty") }
            imageBytes = bytes
            options.input = .image(path: image)
        } else {
            options.input = input == .zeros ? .zeros : .random
        }
        let chosen = options, image = imageBytes
        do {
            // On the event loops, like the servers: a response resumes its request's task on the thread that read it.
            try await withTaskExecutorPreference(EventLoops.shared) {
                try await LoadGenerator.withGenerator(chosen, imageBytes: image) { generator in try await run(generator, rate: totalRate) }
            }
        } catch let error as ServerError {
            throw InputError(description: error.description)
        }
    }

    /// The applications and their shares, and the total rate: --app alone, or a workload's at --phase.
    func applications() throws -> (ApplicationMix, Double) {
        guard let (loaded, phaseIndex) = try study.load() else { return (.single(app!), rate!) }
        let traffic = loaded.workload.traffic(phaseIndex: phaseIndex)   // rates already divided by the time scale
        let mix = ApplicationMix(names: loaded.workload.applications.map(\.name), shares: traffic.applicationRates, seed: seed)
        return (mix, rate ?? traffic.totalRatePerSecond)
    }

    func run(_ generator: LoadGenerator, rate: Double) async throws {
        if let warning = generator.input.warning { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
        if !json {
            let what = study.workload.map { "the \(generator.options.mix.count) applications of \($0)" } ?? "app \(app!)"
            print("bench: \(what) at \(target), input \(generator.input.description), \(connections) connection(s)\(stream ? " streaming" : " unary"), "
                  + "\(fixed(warmup, 1)) s warm-up + \(fixed(duration, 1)) s measured per run")
        }
        guard findMaxRate else {
            let report = await generator.run(ratePerSecond: rate, durationSeconds: duration)
            if json { print(try JSONOutput.string(report)) } else { print(Self.text(report)) }
            if !json, let parts = report.applications { print(Self.applicationTable(parts)) }
            return
        }
        var table = TextTable(header: ["rate/s", "sent", "not sent", "OK", "within SLO", "p99 ms", "errors", "result"])
        let search = MaxRateSearch(startRatePerSecond: rate, minRatePerSecond: minRate, maxRatePerSecond: 10_000_000,
                                   relativePrecision: precision)
        let outcome = try await generator.findMaxRate(search: search, durationSeconds: duration) { step in
            guard !json else { return }
            let report = step.report
            let row = [fixed(report.ratePerSecond, 1), String(report.sent), String(report.notSent), String(report.completedOK),
                       percent(report.withinSLOFraction), report.latency.map { fixed($0.p99Ms, 2) } ?? "-",
                       String(report.errors.values.reduce(0, +) + report.unanswered), step.passed ? "pass" : "fail"]
            table.add(row)
            print("step \(table.rows.count): \(fixed(report.ratePerSecond, 1)) req/s -> \(percent(report.withinSLOFraction)) "
                  + "within SLO \(report.sloMs.map { fixed($0, 1) } ?? "?") ms: \(step.passed ? "pass" : "fail")")
        }
        if json { print(try JSONOutput.string(outcome)); return }
        print(table.render())
        if let parts = outcome.steps.last(where: \.passed)?.report.applications {
            print("per application at the highest passing rate:")
            print(Self.applicationTable(parts))
        }
        if let best = outcome.maxRatePerSecond {
            print("max rate: \(fixed(best, 1)) req/s with >= 99% within SLO\(outcome.hitCeiling ? " (the search's ceiling; may be higher)" : "")")
        } else {
            print("max rate: none; even \(fixed(minRate, 1)) req/s missed 99% within SLO")
        }
    }

    /// One row per application of a `--workload` run: its share of the rate and how it fared.
    static func applicationTable(_ parts: [BenchReport]) -> String {
        var table = TextTable(header: ["application", "rate/s", "sent", "OK", "within SLO", "SLO ms", "p99 ms", "goodput/s", "errors"])
        for part in parts {
            table.add([part.application ?? "?", fixed(part.ratePerSecond, 1), String(part.sent), String(part.completedOK),
                       percent(part.withinSLOFraction), part.sloMs.map { fixed($0, 1) } ?? "-",
                       part.latency.map { fixed($0.p99Ms, 2) } ?? "-", part.goodputPerSecond.map { fixed($0, 1) } ?? "-",
                       String(part.errors.values.reduce(0, +) + part.unanswered)])
        }
        return table.render()
    }

    static func text(_ report: BenchReport) -> String {
        var table = TextTable(header: ["metric", "value"])
        let window = fixed(report.durationSeconds, 1)
        table.add(["offered rate", "\(fixed(report.ratePerSecond, 1)) req/s"])
        table.add(["sent", "\(report.sent) (\(fixed(Double(report.sent) / report.durationSeconds, 1)) req/s over \(window) s)"])
        table.add(["not sent (max in flight)", String(report.notSent)])
        table.add(["completed OK", "\(report.completedOK) (\(fixed(report.throughputPerSecond, 1)) req/s)"])
        if report.sloKnown {
            let slo = report.sloMs.map { "\(fixed($0, 2)) ms" } ?? "each application's own"
            table.add(["SLO", "\(slo) (\(report.sloSource ?? "?"))"])
            table.add(["within SLO", "\(report.withinSLO) (\(percent(report.withinSLOFraction)) of scheduled)"])
            table.add(["goodput", "\(fixed(report.goodputPerSecond ?? 0, 1)) req/s"])
        } else {
            table.add(["SLO", "unknown: no --slo-ms and no nexus_latency_slo_ms in responses"])
            table.add(["goodput", "n/a"])
        }
        if let latency = report.latency {
            table.add(["latency p50 / p90 / p99 / max",
                       "\(fixed(latency.p50Ms, 2)) / \(fixed(latency.p90Ms, 2)) / \(fixed(latency.p99Ms, 2)) / \(fixed(latency.maxMs, 2)) ms"])
        } else {
            table.add(["latency", "no OK responses"])
        }
        if report.errors.isEmpty {
            table.add(["errors", "0"])
        } else {
            for (code, count) in report.errors.sorted(by: { $0.key < $1.key }) {
                table.add(["errors \(code)", "\(count) (first: \(report.errorExamples[code] ?? ""))"])
            }
        }
        table.add(["unanswered", String(report.unanswered)])
        table.add(["simulated runtime", report.simulatedFraction.map(percent) ?? "n/a"])
        if let lag = report.sendLag {
            table.add(["send lag p50 / p99 / max", "\(fixed(lag.p50Ms, 3)) / \(fixed(lag.p99Ms, 3)) / \(fixed(lag.maxMs, 3)) ms"])
        }
        table.add(["client CPU", "\(fixed(report.clientCPUCores, 2)) cores"])
        if let hops = report.hops {
            func row(_ name: String, _ latency: BenchReport.Latency) {
                table.add([name, "\(fixed(latency.p50Ms * 1000, 0)) / \(fixed(latency.p99Ms * 1000, 0)) us"])
            }
            row("hop p50 / p99: client + network", hops.client)
            row("hop p50 / p99: frontend", hops.frontend)
            row("hop p50 / p99: frontend <-> backend", hops.link)
            row("hop p50 / p99: backend", hops.backend)
        }
        return table.render()
    }
}

private func percent(_ fraction: Double) -> String { "\(fixed(100 * fraction, 2))%" }
