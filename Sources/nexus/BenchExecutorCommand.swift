import ArgumentParser
import Foundation
import NexusConfig
import NexusCore
import NexusRuntime

struct BenchExecutorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-executor",
        abstract: "Engine overhead: a model's items/s through the backend executor vs calling the runtime directly.",
        discussion: """
            For each batch size, first runs back-to-back batches straight on the runtime (libtorch through \
            native/, nothing else), then serves the same model through the executor with a closed loop of \
            clients that keeps two batches waiting, so every visit takes a full batch. Requests carry raw FP32 \
            tensors: they are checked and copied on the worker pool, concatenated, run, and split per request. \
            Reports both rates and executor/direct.
            """
    )

    @OptionGroup var runtime: RuntimeOptions

    @Option(name: .long, help: "Model to serve.")
    var model = "resnet18"

    @Option(name: .long, parsing: .upToNextOption, help: "Batch sizes.")
    var batches: [Int] = [1, 4, 8]

    @Option(name: .long, help: "Seconds per measurement.")
    var seconds: Double = 10

    @Option(name: .long, help: "Rounds per batch size, alternating direct and executor; medians are reported (the rounds cancel drift on a shared machine).")
    var rounds = 3

    @Option(name: .long, help: "Decode worker threads of the executor; 0 decodes on the submitting thread (default: 0 on cpu, 4 on cuda).")
    var workers: Int?

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    func validate() throws {
        guard seconds > 0 && seconds <= 3600 else { throw ValidationError("--seconds must be in (0, 3600], got \(seconds)") }
        guard batches.allSatisfy({ $0 >= 1 }), !batches.isEmpty else { throw ValidationError("--batches must be >= 1") }
        if let workers, !(0...64).contains(workers) { throw ValidationError("--workers must be in 0...64, got \(workers)") }
        guard (1...100).contains(rounds) else { throw ValidationError("--rounds must be in 1...100, got \(rounds)") }
    }

    struct Measurement: Encodable {
        var batch: Int
        var directItemsPerSecond: Double
        var executorItemsPerSecond: Double
        var ratio: Double
        var executorMeanBatch: Double
        /// Mean time the device thread spent in the runtime per executor batch, and the same for direct.
        var executorBatchMs: Double
        var directBatchMs: Double
    }

    func run() throws {
        try reportingErrors {
            let repository = try runtime.repository()
            let spec = try repository.model(model)
            guard spec.prefix == nil else { throw InputError(description: "--model: \(model) is a prefix-family member; benchmark its prefix or a whole model") }
            if let tooLarge = batches.first(where: { $0 > spec.maxBatch }) {
                throw InputError(description: "--batches: \(tooLarge) exceeds \(model)'s maxBatch \(spec.maxBatch)")
            }
            let torch = try runtime.torchRuntime()
            if !json { print("\(model) on \(torch.deviceDescription), \(rounds) rounds of \(seconds) s per measurement, medians") }
            var results: [Measurement] = []
            var table = TextTable(header: ["batch", "direct items/s", "executor items/s", "executor/direct", "mean batch", "direct ms/batch", "executor ms/batch"])
            for batch in batches {
                var directRates: [Double] = [], servedRates: [Double] = [], meanBatches: [Double] = [], batchMs: [Double] = []
                for _ in 0..<rounds {
                    // On a thread of its own, like the executor's device thread (see TorchRuntime.load).
                    directRates.append(try TorchRuntime.onShortLivedThread { try directRate(spec, runtime: torch, batch: batch) })
                    let (served, meanBatch, busyMs) = try executorRate(spec, repository: repository, runtime: torch, batch: batch)
                    servedRates.append(served)
                    meanBatches.append(meanBatch)
                    batchMs.append(busyMs)
                }
                let direct = median(directRates), served = median(servedRates), meanBatch = median(meanBatches)
                let measurement = Measurement(batch: batch, directItemsPerSecond: direct, executorItemsPerSecond: served,
                                              ratio: served / direct, executorMeanBatch: meanBatch,
                                              executorBatchMs: median(batchMs), directBatchMs: 1000 * Double(batch) / direct)
                results.append(measurement)
                table.add([String(batch), String(format: "%.1f", direct), String(format: "%.1f", served),
                           String(format: "%.3f", measurement.ratio), String(format: "%.2f", meanBatch),
                           String(format: "%.2f", measurement.directBatchMs), String(format: "%.2f", measurement.executorBatchMs)])
            }
            if json { print(try JSONOutput.string(results)) } else { print(table.render()) }
        }
    }

    func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

    /// Back-to-back batches on the runtime, outputs copied to host as a backend needs them.
    func directRate(_ spec: ModelSpec, runtime: TorchRuntime, batch: Int) throws -> Double {
        let loaded = try runtime.load(spec, inputShape: spec.input.shape)
        try loaded.prepare(batches: [batch])
        let input = ModelProfiler.input(count: batch * spec.input.elementCount)
        let clock = MonotonicClock()
        for _ in 0..<2 { _ = try input.withUnsafeBufferPointer { try loaded.run($0, batch: batch).floats(at: 0) } }
        let started = clock.nowNs(), endNs = started + Int64(seconds * 1e9)
        var items = 0
        while clock.nowNs() < endNs {
            _ = try input.withUnsafeBufferPointer { try loaded.run($0, batch: batch).floats(at: 0) }
            items += batch
        }
        return Double(items) / (Double(clock.nowNs() - started) / 1e9)
    }

    /// A closed loop of `2 x batch` clients against one session of planned batch `batch`.
    func executorRate(_ spec: ModelSpec, repository: ModelRepository, runtime: TorchRuntime, batch: Int) throws -> (Double, Double, Double) {
        let executor = BackendExecutor(runtime: runtime, models: repository.models, options: .init(workerThreads: workers ?? (runtime.options.isCUDA ? 4 : 0)))
        defer { executor.shutdown() }
        try executor.apply(ModelTable(dutyCycleMs: 0, sessions: [.init(sessionID: "bench", models: [spec.name], maxBatch: batch)]))
        let bytes = ModelProfiler.input(count: spec.input.elementCount).withUnsafeBytes { [UInt8]($0) }
        let request = InferenceRequest(sessionID: "bench", model: spec.name,
                                       input: .tensor(dtype: .fp32, shape: spec.input.shape, bytes: bytes), deadlineNs: .max)
        let loop = ClosedLoop(executor: executor, request: request)
        // Warm up, then measure between two snapshots of the executor's counters.
        loop.start(clients: 2 * batch)
        loop.waitForCompletions(2 * batch)
        let clock = MonotonicClock()
        let before = executor.snapshot(), started = clock.nowNs()
        Thread.sleep(forTimeInterval: seconds)
        let after = executor.snapshot(), elapsedNs = clock.nowNs() - started
        loop.stop()
        let items = after.completed - before.completed
        let meanBatch = Double(items) / Double(max(1, after.batches - before.batches))
        let busyMs = Double(after.busyNs - before.busyNs) / 1e6 / Double(max(1, after.batches - before.batches))
        return (Double(items) / (Double(elapsedNs) / 1e9), meanBatch, busyMs)
    }
}

/// Clients that each send the next request when the previous one is answered.
final class ClosedLoop: @unchecked Sendable {
    let executor: BackendExecutor
    let request: InferenceRequest
    let condition = NSCondition()
    var running = true
    var completions = 0
    var outstanding = 0

    init(executor: BackendExecutor, request: InferenceRequest) {
        self.executor = executor
        self.request = request
    }

    func start(clients: Int) { for _ in 0..<clients { send() } }

    func send() {
        condition.lock()
        outstanding += 1
        condition.unlock()
        executor.submit(request) { [self] outcome in
            condition.lock()
            completions += 1
            outstanding -= 1
            let again = running
            condition.broadcast()
            condition.unlock()
            if case let .failure(error) = outcome { FileHandle.standardError.write(Data("bench request failed: \(error)\n".utf8)) }
            if again { send() }
        }
    }

    func waitForCompletions(_ count: Int) {
        condition.lock()
        while completions < count { condition.wait() }
        condition.unlock()
    }

    /// Stops sending and waits for the answers still due.
    func stop() {
        condition.lock()
        running = false
        while outstanding > 0 { condition.wait() }
        condition.unlock()
    }
}
