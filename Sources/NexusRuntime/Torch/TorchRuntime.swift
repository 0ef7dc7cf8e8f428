import CNexusTorch
import Foundation
import NexusCore

/// Options of the libtorch runtime; on CPU only `threads` matters.
public struct TorchOptions: Sendable {
    /// "cpu" or "cuda:N".
    public var device: String
    public var half: Bool
    public var channelsLast: Bool
    public var cudaGraphs: Bool
    /// Intra-op CPU threads (Debian's libtorch defaults to 1).
    public var threads: Int?

    public init(device: String, half: Bool = true, channelsLast: Bool = true, cudaGraphs: Bool = true, threads: Int? = nil) {
        self.device = device
        self.half = half
        self.channelsLast = channelsLast
        self.cudaGraphs = cudaGraphs
        self.threads = threads
    }

    public var isCUDA: Bool { device.hasPrefix("cuda") }
}

/// Real models through libtorch (DESIGN.md §3.7): TorchScript files on CPU or CUDA via `native/`.
public final class TorchRuntime: ModelRuntime, @unchecked Sendable {
    public let library: TorchLibrary
    public let options: TorchOptions

    public init(library: TorchLibrary, options: TorchOptions) throws {
        if options.device != "cpu" {
            guard options.device.hasPrefix("cuda:"), let index = Int(options.device.dropFirst("cuda:".count)), index >= 0 else {
                throw RuntimeError.invalidArgument("device '\(options.device)' must be cpu or cuda:N")
            }
            guard index < library.cudaDeviceCount else {
                throw RuntimeError.invalidArgument("device '\(options.device)': this libtorch (\(library.torchVersion)) sees \(library.cudaDeviceCount) CUDA device(s)")
            }
        }
        self.library = library
        self.options = options
        if let threads = options.threads { library.setThreads(Int32(threads)) }
    }

    public var isSimulated: Bool { false }

    public var deviceDescription: String {
        var text = "torch \(options.device) (libtorch \(library.torchVersion)"
        if let threads = options.threads { text += ", \(threads) threads" }
        if options.isCUDA {
            text += options.half ? ", fp16" : ", fp32"
            if options.cudaGraphs { text += ", CUDA graphs" }
        }
        return text + ")"
    }

    /// Loads on a short-lived thread. libgomp keeps a thread team for every thread that ever ran a parallel
    /// region (the load's check forward is one), and once teams outnumber the cores it stops spinning between
    /// regions: a team left on the caller's thread made every batch on the device thread slower (resnet18,
    /// batch 1, 2 cores: 24 -> 31 ms). A thread that ends takes its team with it.
    public func load(_ spec: ModelSpec, inputShape: [Int]) throws -> any LoadedModel {
        try Self.onShortLivedThread { try self.loadHere(spec, inputShape: inputShape) }
    }

    /// Runs `body` on a new thread and waits for it.
    public static func onShortLivedThread<T>(_ body: @escaping @Sendable () throws -> T) throws -> T {
        let outcome = ThreadOutcome<T>()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            outcome.result = Result { try body() }
            done.signal()
        }
        thread.stackSize = 8 << 20
        thread.start()
        done.wait()
        return try outcome.result!.get()
    }

    func loadHere(_ spec: ModelSpec, inputShape: [Int]) throws -> any LoadedModel {
        let shape = inputShape.map(Int64.init)
        let (handle, message) = TorchLibrary.withErrorBuffer { error, capacity -> OpaquePointer? in
            spec.filePath.withCString { path in
                options.device.withCString { device in
                    shape.withUnsafeBufferPointer { dims in
                        var native = nexus_load_options(
                            device: device, half: options.half ? 1 : 0, channels_last: options.channelsLast ? 1 : 0,
                            cuda_graphs: options.cudaGraphs ? 1 : 0, sample_shape: dims.baseAddress,
                            sample_ndim: Int32(dims.count), input_dtype: Int32(Self.nativeDType(spec.input.dtype)))
                        return library.load(path, &native, error, capacity)
                    }
                }
            }
        }
        guard let handle else { throw RuntimeError.modelLoad(path: spec.filePath, message: message) }
        return TorchModel(library: library, handle: handle, spec: spec, inputElements: inputShape.reduce(1, *))
    }

    public func memoryBytes(peak: Bool) -> Int64? {
        let bytes = options.device.withCString { library.memory($0, peak ? 1 : 0) }
        return bytes < 0 ? nil : bytes
    }

    public func resetPeakMemory() { options.device.withCString { library.resetMemory($0) } }

    static func nativeDType(_ dtype: TensorDType) -> UInt32 {
        switch dtype {
        case .uint8: return NEXUS_DTYPE_UINT8.rawValue
        case .fp16: return NEXUS_DTYPE_FP16.rawValue
        case .fp32: return NEXUS_DTYPE_FP32.rawValue
        }
    }
}

/// The result a short-lived thread hands back; written before the semaphore is signalled, read after.
private final class ThreadOutcome<T>: @unchecked Sendable {
    var result: Result<T, Error>?
}
