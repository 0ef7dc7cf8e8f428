import ArgumentParser
import Foundation
import NexusConfig
import NexusCore
import NexusRuntime

struct ProfileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profile",
        abstract: "Measure a model's batch latency and memory on this device and write the profile the planner reads.",
        discussion: """
            Runs the model through the same runtime path the backend uses (libtorch via native/, fp16 and CUDA \
            graphs on CUDA) and writes <repo>/<model>/profiles/<name>.csv with the columns of \
            data/h100-torchvision-fp16-profiles.csv plus `device`. eager_* is measured with CUDA graphs off, \
            graph_* with the serving configuration; on CPU both are the same eager path, measured once. A \
            prefix-family member is measured as its prefix followed by its head (the unshared cost). \
            peak_mem_mb is the CUDA allocator's peak, or on CPU the process's peak resident set.
            """
    )

    @OptionGroup var runtime: RuntimeOptions

    @Option(name: .long, help: "Model to measure.")
    var model: String

    @Option(name: .long, parsing: .upToNextOption, help: "Batch sizes (default: 1 2 4 8 16 32 64, up to the model's maxBatch).")
    var batches: [Int] = []

    @Option(name: .long, help: "Timed runs per batch size.")
    var runs = 30

    @Option(name: .long, help: "Untimed runs per batch size first.")
    var warmup = 3

    @Option(name: .long, help: "Profile file name under <repo>/<model>/profiles/ (default: cpu, or cuda for cuda:N).")
    var name: String?

    @Option(name: .long, help: "Value of the `device` column, naming the machine (default: from the device and libtorch).")
    var deviceLabel: String?

    @Option(name: .long, help: "Write here instead of <repo>/<model>/profiles/<name>.csv.")
    var output: String?

    func validate() throws {
        guard runs >= 1 && runs <= 100_000 else { throw ValidationError("--runs must be in 1...100000, got \(runs)") }
        guard warmup >= 0 else { throw ValidationError("--warmup must be >= 0, got \(warmup)") }
        guard batches.allSatisfy({ $0 >= 1 }) else { throw ValidationError("--batches must all be >= 1") }
    }

    func run() throws {
        try reportingErrors {
            let repository = try runtime.repository()
            let spec = try repository.model(model)
            let maxBatch = min(spec.maxBatch, spec.prefix.flatMap { repository.models[$0]?.maxBatch } ?? .max)
            let sizes = batches.isEmpty ? [1, 2, 4, 8, 16, 32, 64].filter { $0 <= maxBatch } : batches.sorted()
            if let tooLarge = sizes.first(where: { $0 > maxBatch }) {
                throw InputError(description: "--batches: \(tooLarge) exceeds \(model)'s maxBatch \(maxBatch)")
            }
            let serving = try runtime.torchRuntime()
            print("profiling \(model) on \(serving.deviceDescription)")
            let profiler = ModelProfiler(warmupRuns: warmup, timedRuns: runs)
            let prefix = try spec.prefix.map { try repository.model($0) }
            let servingRows = try profiler.measure(spec, prefix: prefix, runtime: serving, batches: sizes)
            var eagerRows = servingRows
            if runtime.device != "cpu" && !runtime.noCudaGraphs {
                eagerRows = try profiler.measure(spec, prefix: prefix, runtime: try runtime.torchRuntime(cudaGraphs: false), batches: sizes)
            }
            let label = deviceLabel ?? defaultLabel(serving)
            let rows = zip(eagerRows, servingRows).map { eager, row in
                ProfileCSV.Row(model: model, input: spec.input.shape.last ?? 0, batch: row.batch, eagerMedianMs: eager.medianMs,
                               graphMedianMs: row.medianMs, graphP99Ms: row.p99Ms, peakMemoryMB: row.peakMB, device: label)
            }
            var table = TextTable(header: ["batch", "eager median ms", "median ms", "p99 ms", "items/s", "peak MB"])
            for row in rows {
                table.add([String(row.batch), format(row.eagerMedianMs), format(row.graphMedianMs), format(row.graphP99Ms),
                           String(Int((Double(row.batch) * 1000 / row.graphMedianMs).rounded())), String(Int(row.peakMemoryMB.rounded()))])
            }
            let path = output ?? repository.profilePath(model: model, device: name ?? (runtime.device == "cpu" ? "cpu" : "cuda"))
            try FileManager.default.createDirectory(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path, withIntermediateDirectories: true)
            try ProfileCSV.render(rows, comment: "nexus profile --device \(runtime.device): \(serving.deviceDescription)")
                .write(toFile: path, atomically: true, encoding: .utf8)
            print(table.render())
            print("wrote \(path)")
        }
    }

    func defaultLabel(_ runtime: TorchRuntime) -> String {
        let text = runtime.options.device == "cpu" ? "cpu-\(self.runtime.cpuThreads)threads" : runtime.options.device
        return "\(text)-libtorch-\(runtime.library.torchVersion)".replacingOccurrences(of: ",", with: ";")
    }

    func format(_ value: Double) -> String { String(format: "%.4f", value) }
}
