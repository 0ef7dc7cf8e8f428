import Dispatch
import Foundation
import NexusConfig
import NexusCore
import NexusRuntime
import Testing

/// Where the real-model tests find libtorch's shim and the exported CI models. `.ci/run` builds and
/// exports them and sets NEXUS_REQUIRE_TORCH=1, so there a missing piece fails instead of skipping.
enum Fixtures {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    static let environment = ProcessInfo.processInfo.environment
    static let repositoryPath = environment["NEXUS_TEST_REPO"] ?? "\(packageRoot)/out/test-models"
    static let libraryPath = environment["NEXUS_TORCH_LIBRARY"] ?? "\(packageRoot)/native/build/libnexus_torch.so"
    static let referencePath = "\(repositoryPath)/_reference"

    static var torchPresent: Bool {
        FileManager.default.fileExists(atPath: libraryPath) && FileManager.default.fileExists(atPath: "\(repositoryPath)/resnet18/model.pt")
    }
    /// Run the real-model suites when their files exist, and always under CI (where absence is a failure).
    static var torchTestsEnabled: Bool { torchPresent || environment["NEXUS_REQUIRE_TORCH"] == "1" }
    static var fixturesEnabled: Bool { FileManager.default.fileExists(atPath: "\(referencePath)/jpeg/image.jpg") || environment["NEXUS_REQUIRE_TORCH"] == "1" }

    static func repository() throws -> ModelRepository { try ModelRepository.load(root: repositoryPath) }

    static let runtime: Result<TorchRuntime, Error> = Result {
        try TorchRuntime(library: try TorchLibrary.open(explicitPath: libraryPath), options: TorchOptions(device: "cpu", threads: 2))
    }

    static func torch() throws -> TorchRuntime { try runtime.get() }

    /// The exporter's reference: per sample, its input and its output computed alone in PyTorch.
    static func reference(_ model: String) throws -> (inputs: [[Float]], outputs: [[Float]]) {
        let folder = "\(referencePath)/\(model)"
        let meta = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(folder)/meta.json"))) as! [String: Any]
        let count = meta["count"] as! Int
        let inputs = try floats("\(folder)/input.f32")
        let outputs = try floats("\(folder)/output.f32")
        return (chunks(inputs, count: count), chunks(outputs, count: count))
    }

    static func bytes(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }

    static func floats(_ path: String) throws -> [Float] {
        let data = try bytes(path)
        return data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }

    static func chunks(_ values: [Float], count: Int) -> [[Float]] {
        let size = values.count / count
        return (0..<count).map { Array(values[($0 * size)..<(($0 + 1) * size)]) }
    }

    static func fp32Bytes(_ values: [Float]) -> [UInt8] { values.withUnsafeBytes { Array($0) } }

    static func maxRelativeError(_ actual: [Float], _ expected: [Float]) -> Float {
        let scale = max(expected.map(abs).max() ?? 1, 1e-6)
        return zip(actual, expected).map { abs($0 - $1) }.max().map { $0 / scale } ?? .infinity
    }
}

/// Collects the outcomes of requests submitted with completions, and waits (bounded) until all arrived:
/// a test fails, rather than hangs, when a request is never answered.
final class OutcomeCollector: @unchecked Sendable {
    private let lock = NSLock()
    private let group = DispatchGroup()
    private(set) var outcomes: [Int: InferenceOutcome] = [:]
    private(set) var duplicates = 0

    func completion(for index: Int) -> @Sendable (InferenceOutcome) -> Void {
        group.enter()
        return { [self] outcome in
            lock.lock()
            if outcomes[index] != nil { duplicates += 1 } else { outcomes[index] = outcome }
            lock.unlock()
            group.leave()
        }
    }

    /// True when every submitted request was answered within `seconds`.
    func waitAll(seconds: Double = 120) -> Bool { group.wait(timeout: .now() + seconds) == .success }

    func count(where predicate: (InferenceOutcome) -> Bool) -> Int {
        lock.lock()
        defer { lock.unlock() }
        return outcomes.values.filter(predicate).count
    }
}

extension InferenceOutcome {
    var isSuccess: Bool { if case .success = self { return true } else { return false } }
    var isDropped: Bool { if case .failure(.deadlineExceeded) = self { return true } else { return false } }
    var error: InferenceError? { if case let .failure(error) = self { return error } else { return nil } }
}
