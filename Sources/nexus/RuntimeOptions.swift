import ArgumentParser
import Foundation
import NexusConfig
import NexusRuntime

/// Flags shared by the commands that run real models: where the repository and libtorch's shim are, and
/// how the device runs them.
struct RuntimeOptions: ParsableArguments {
    @Option(name: .long, help: "Model repository: a folder of <model>/model.yaml (python/export_models.py writes one).")
    var repo: String

    @Option(name: .long, help: "cpu or cuda:N (nexus backend and nexus serve also take simulated).")
    var device = "cpu"

    @OptionGroup var torch: TorchFlags

    var threads: Int? { torch.threads }
    var torchLibrary: String? { torch.torchLibrary }
    var noHalf: Bool { torch.noHalf }
    var noCudaGraphs: Bool { torch.noCudaGraphs }

    func validate() throws {
        guard device == "cpu" || device == "simulated" || device.range(of: #"^cuda:[0-9]+$"#, options: .regularExpression) != nil else {
            throw ValidationError("--device must be cpu, cuda:N or simulated, got '\(device)'")
        }
    }

    var cpuThreads: Int { threads ?? ProcessInfo.processInfo.activeProcessorCount }

    func repository() throws -> ModelRepository { try ModelRepository.load(root: repo) }

    func torchRuntime(cudaGraphs: Bool? = nil) throws -> TorchRuntime {
        guard device != "simulated" else { throw ValidationError("--device simulated runs no models; use cpu or cuda:N here") }
        return try TorchRuntime(library: try TorchLibrary.open(explicitPath: torchLibrary),
                         options: TorchOptions(device: device, half: !noHalf, channelsLast: true,
                                               cudaGraphs: cudaGraphs ?? !noCudaGraphs, threads: cpuThreads))
    }
}

/// How libtorch runs: shared by the commands that run models and by `nexus serve`.
struct TorchFlags: ParsableArguments {
    @Option(name: .long, help: "CPU threads libtorch uses for one batch (default: every core).")
    var threads: Int?

    @Option(name: .long, help: "Path of libnexus_torch.so (default: $NEXUS_TORCH_LIBRARY, next to nexus, or native/build/).")
    var torchLibrary: String?

    @Flag(name: .long, help: "CUDA: run in fp32 instead of fp16.")
    var noHalf = false

    @Flag(name: .long, help: "CUDA: run eagerly instead of replaying one CUDA graph per batch size.")
    var noCudaGraphs = false

    func validate() throws {
        if let threads, !(1...1024).contains(threads) { throw ValidationError("--threads must be in 1...1024, got \(threads)") }
    }

    /// The same flags as arguments, to configure another part of the process.
    var arguments: [String] {
        var arguments: [String] = []
        if let threads { arguments += ["--threads", "\(threads)"] }
        if let torchLibrary { arguments += ["--torch-library", torchLibrary] }
        if noHalf { arguments.append("--no-half") }
        if noCudaGraphs { arguments.append("--no-cuda-graphs") }
        return arguments
    }
}
