import CNexusTorch
import Foundation
import Glibc

/// `libnexus_torch.so` (native/), opened with dlopen so that `nexus` builds and runs without libtorch and
/// only commands that need real models ask for it.
public final class TorchLibrary: @unchecked Sendable {
    typealias Load = @convention(c) (UnsafePointer<CChar>?, UnsafePointer<nexus_load_options>?, UnsafeMutablePointer<CChar>?, Int) -> OpaquePointer?
    typealias Run = @convention(c) (OpaquePointer?, UnsafeRawPointer?, Int32, Int64, UnsafeMutablePointer<CChar>?, Int) -> OpaquePointer?
    typealias RunOn = @convention(c) (OpaquePointer?, OpaquePointer?, Int32, Int64, Int64, UnsafeMutablePointer<CChar>?, Int) -> OpaquePointer?
    typealias Prepare = @convention(c) (OpaquePointer?, UnsafePointer<Int64>?, Int32, UnsafeMutablePointer<CChar>?, Int) -> Int32
    typealias Handle = @convention(c) (OpaquePointer?) -> Void
    typealias HandleFlag = @convention(c) (OpaquePointer?) -> Int32
    typealias Shape = @convention(c) (OpaquePointer?, Int32, UnsafeMutablePointer<Int64>?, Int32) -> Int32
    typealias Copy = @convention(c) (OpaquePointer?, Int32, UnsafeMutablePointer<Float>?, Int64, UnsafeMutablePointer<CChar>?, Int) -> Int64
    typealias Memory = @convention(c) (UnsafePointer<CChar>?, Int32) -> Int64
    typealias ResetMemory = @convention(c) (UnsafePointer<CChar>?) -> Void

    public let path: String
    let load: Load
    let run: Run
    let runOn: RunOn
    let prepare: Prepare
    let freeModel: Handle
    let isHalf: HandleFlag
    let usesGraphs: HandleFlag
    let outputsCount: HandleFlag
    let outputsShape: Shape
    let outputsCopy: Copy
    let freeOutputs: Handle
    let memory: Memory
    let resetMemory: ResetMemory
    let setThreads: @convention(c) (Int32) -> Void
    public let torchVersion: String
    public let cudaDeviceCount: Int

    /// Where the library is looked for, in order: `explicitPath`, `$NEXUS_TORCH_LIBRARY`, next to the
    /// executable (and its `../lib`), then `native/build/` under the working directory.
    public static func candidatePaths(explicitPath: String? = nil) -> [String] {
        if let explicitPath { return [explicitPath] }
        if let fromEnvironment = ProcessInfo.processInfo.environment["NEXUS_TORCH_LIBRARY"], !fromEnvironment.isEmpty {
            return [fromEnvironment]
        }
        let executable = URL(fileURLWithPath: CommandLine.arguments.first ?? "nexus").resolvingSymlinksInPath().deletingLastPathComponent()
        return [executable.appendingPathComponent("libnexus_torch.so").path,
                executable.appendingPathComponent("../lib/libnexus_torch.so").standardized.path,
                FileManager.default.currentDirectoryPath + "/native/build/libnexus_torch.so"]
    }

    /// Opens the first candidate that exists; the error names every path tried.
    public static func open(explicitPath: String? = nil) throws -> TorchLibrary {
        let candidates = candidatePaths(explicitPath: explicitPath)
        guard let path = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            throw RuntimeError.libraryUnavailable(paths: candidates, reason: "no such file")
        }
        return try TorchLibrary(path: path)
    }

    init(path: String) throws {
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            throw RuntimeError.libraryUnavailable(paths: [path], reason: String(cString: dlerror()))
        }
        func symbol<T>(_ name: String, _: T.Type) throws -> T {
            guard let address = dlsym(handle, name) else {
                throw RuntimeError.libraryUnavailable(paths: [path], reason: "it has no symbol \(name): rebuild it with native/build.sh")
            }
            return unsafeBitCast(address, to: T.self)
        }
        let version = try symbol("nexus_abi_version", (@convention(c) () -> Int32).self)()
        guard version == NEXUS_TORCH_ABI_VERSION else {
            throw RuntimeError.libraryUnavailable(paths: [path], reason: "ABI version \(version), this nexus needs \(NEXUS_TORCH_ABI_VERSION): rebuild it with native/build.sh")
        }
        self.path = path
        load = try symbol("nexus_model_load", Load.self)
        run = try symbol("nexus_model_run", Run.self)
        runOn = try symbol("nexus_model_run_on_outputs", RunOn.self)
        prepare = try symbol("nexus_model_prepare", Prepare.self)
        freeModel = try symbol("nexus_model_free", Handle.self)
        isHalf = try symbol("nexus_model_is_half", HandleFlag.self)
        usesGraphs = try symbol("nexus_model_uses_graphs", HandleFlag.self)
        outputsCount = try symbol("nexus_outputs_count", HandleFlag.self)
        outputsShape = try symbol("nexus_outputs_shape", Shape.self)
        outputsCopy = try symbol("nexus_outputs_copy_fp32", Copy.self)
        freeOutputs = try symbol("nexus_outputs_free", Handle.self)
        memory = try symbol("nexus_memory_bytes", Memory.self)
        resetMemory = try symbol("nexus_reset_peak_memory", ResetMemory.self)
        setThreads = try symbol("nexus_set_num_threads", (@convention(c) (Int32) -> Void).self)
        torchVersion = String(cString: try symbol("nexus_torch_version", (@convention(c) () -> UnsafePointer<CChar>).self)())
        cudaDeviceCount = Int(try symbol("nexus_cuda_device_count", (@convention(c) () -> Int32).self)())
    }

    /// Calls `body` with an error buffer and turns a failure into the library's message.
    static func withErrorBuffer<T>(_ body: (UnsafeMutablePointer<CChar>, Int) -> T?) -> (T?, String) {
        let capacity = 4096
        let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: capacity)
        defer { buffer.deallocate() }
        buffer[0] = 0
        let value = body(buffer, capacity)
        return (value, String(cString: buffer))
    }
}
