import NexusCore

/// Something that can load models onto one device and run batches on them (DESIGN.md §3.7): libtorch
/// through `native/` (`TorchRuntime`), or a profile-driven simulated device (`SimulatedRuntime`).
public protocol ModelRuntime: AnyObject, Sendable {
    /// What runs the models, for logs and reports: "torch cpu (libtorch 1.13.1, 2 threads)",
    /// "SIMULATED (profiles ...)". Simulated runtimes say so here.
    var deviceDescription: String { get }
    var isSimulated: Bool { get }
    /// Loads `spec`'s file. `inputShape` is one sample's input: the spec's own for a whole model or a
    /// prefix, the prefix's output for a head.
    func load(_ spec: ModelSpec, inputShape: [Int]) throws -> any LoadedModel
    /// Device memory in use (or at its peak since `resetPeakMemory`), when the device can tell.
    func memoryBytes(peak: Bool) -> Int64?
    func resetPeakMemory()
}

/// A model on a device. One thread at a time runs it (the device's executor thread).
public protocol LoadedModel: AnyObject {
    var spec: ModelSpec { get }
    /// Runs `batch` samples laid out one after another in `input` (`batch x inputShape` floats).
    func run(_ input: UnsafeBufferPointer<Float>, batch: Int) throws -> any ModelOutputs
    /// Runs on rows `rows` of output 0 of `source` without leaving the device (a head after its prefix).
    func run(on source: any ModelOutputs, rows: Range<Int>) throws -> any ModelOutputs
    /// Captures what the device can prepare ahead for these batch sizes (CUDA graphs); may do nothing.
    func prepare(batches: [Int]) throws
}

/// The outputs of one run, batch dimension first, possibly still on the device.
public protocol ModelOutputs: AnyObject {
    var count: Int { get }
    func shape(at index: Int) -> [Int]
    /// Output `index` copied to host as fp32, all rows.
    func floats(at index: Int) throws -> [Float]
}

/// A runtime failure with the message of the layer that failed (libtorch's, dlopen's, ...).
public enum RuntimeError: Error, Equatable, CustomStringConvertible {
    /// The native library could not be loaded; `paths` are the places looked in.
    case libraryUnavailable(paths: [String], reason: String)
    case modelLoad(path: String, message: String)
    case execution(model: String, message: String)
    case invalidArgument(String)

    public var description: String {
        switch self {
        case let .libraryUnavailable(paths, reason):
            return "libnexus_torch.so is unavailable (\(reason)); looked in: \(paths.joined(separator: ", ")). "
                + "Build it with native/build.sh, or set NEXUS_TORCH_LIBRARY to its path."
        case let .modelLoad(path, message): return "cannot load \(path): \(message)"
        case let .execution(model, message): return "\(model): \(message)"
        case let .invalidArgument(message): return message
        }
    }
}
