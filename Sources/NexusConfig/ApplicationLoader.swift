import Foundation
import NexusCore

/// Reads the applications a cluster serves: one YAML file per application in a folder (keys in
/// docs/applications.md), checked against the model repository so that a typo fails at start-up with the
/// file, line and key, not at the first request.
public enum ApplicationLoader {
    struct Entry: Decodable {
        var name: String
        var latencySLOMs: Double
        var expectedRatePerSecond: Double?
        var stages: [Stage]
        static let knownKeys: Set<String> = ["name", "latencySLOMs", "expectedRatePerSecond", "stages"]
    }

    struct Stage: Decodable {
        var name: String
        var model: String
        var parent: String?
        var gamma: Double?
        var input: Input?
        static let knownKeys: Set<String> = ["name", "model", "parent", "gamma", "input"]
    }

    /// `same`, or `{crops: {from, scoreAbove, max}}`.
    enum Input: Decodable {
        case same
        case crops(Crops)

        init(from decoder: Decoder) throws {
            if let text = try? decoder.singleValueContainer().decode(String.self) {
                guard text == "same" else {
                    throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                            debugDescription: "must be 'same' or {crops: {from, scoreAbove, max}}, got '\(text)'"))
                }
                self = .same
                return
            }
            let container = try decoder.container(keyedBy: Keys.self)
            self = .crops(try container.decode(Crops.self, forKey: .crops))
        }
        enum Keys: String, CodingKey { case crops }
    }

    struct Crops: Decodable {
        var from: String
        var scoreAbove: Double
        var max: Int
        static let knownKeys: Set<String> = ["from", "scoreAbove", "max"]
    }

    /// The largest `expectedRatePerSecond` accepted: far above what any cluster serves, low enough that a
    /// typo (an extra digit run) fails at start-up instead of planning thousands of GPUs.
    public static let maxExpectedRatePerSecond: Double = 10_000_000

    /// Most crops one parent call may fan out to: each is a model call.
    public static let maxCropsLimit = 256

    /// Every `*.yaml` / `*.yml` file of `directory`, sorted by name.
    public static func load(directory: String, repository: ModelRepository) throws -> [ServedApplication] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ConfigError.fileNotFound(path: directory, what: "applications directory")
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: directory)
            .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
        guard !files.isEmpty else {
            throw ConfigError.fileNotFound(path: directory, what: "application files (*.yaml) in the applications directory")
        }
        var applications: [ServedApplication] = []
        for file in files {
            let path = "\(directory)/\(file)"
            let application = try load(text: try TextFile.read(path, what: "application file"), path: path, repository: repository)
            if let earlier = applications.firstIndex(where: { $0.name == application.name }) {
                let text = try TextFile.read(path, what: "application file")
                let line = try YAMLDocument(text: text, path: path).root["name"]?.mark?.line
                throw WorkloadError(source: path, line: line, path: "name",
                                    message: "'\(application.name)' is already defined by \(files[earlier])")
            }
            applications.append(application)
        }
        return applications
    }

    /// One application per model of the repository, named after it, each with `latencySLOMs`: what
    /// `nexus serve` serves when no applications folder is given.
    public static func oneModelApplications(repository: ModelRepository, latencySLOMs: Double) -> [ServedApplication] {
        repository.modelNames.map { name in
            ServedApplication(
                spec: ApplicationSpec(name: name, latencySLOMs: latencySLOMs, rateShare: 1, stages: [
                    StageSpec(name: name, model: name, prefixGroup: repository.models[name]?.prefix),
                ]),
                childInputs: [.same])
        }
    }

    public static func load(text: String, path: String, repository: ModelRepository) throws -> ServedApplication {
        let document = try YAMLDocument(text: text, path: path)
        try document.requireKnownKeys(Entry.knownKeys, at: document.root, path: "")
        for (index, stage) in document.items(of: document.root, key: "stages").enumerated() {
            try document.requireKnownKeys(Stage.knownKeys, at: stage, path: "stages[\(index)]")
            if let crops = stage["input"]?["crops"] {
                try document.requireKnownKeys(Crops.knownKeys, at: crops, path: "stages[\(index)].input.crops")
            }
        }
        let entry = try document.decode(Entry.self)
        func fail(_ key: String, _ message: String, stage: Int? = nil) -> WorkloadError {
            var node = document.root
            if let stage, let item = document.root["stages"]?.sequence?[stage] { node = item }
            // The deepest node of the key path that exists gives the line.
            var line = node.mark?.line
            for part in key.split(separator: ".") {
                guard let next = node[String(part)] else { break }
                node = next
                line = next.mark?.line ?? line
            }
            return WorkloadError(source: path, line: line, path: stage.map { "stages[\($0)].\(key)" } ?? key, message: message)
        }

        guard !entry.name.isEmpty, !entry.name.contains("/") else { throw fail("name", "'\(entry.name)' must be non-empty and without '/'") }
        guard entry.latencySLOMs.isFinite, entry.latencySLOMs > 0 else {
            throw fail("latencySLOMs", "must be > 0, got \(entry.latencySLOMs)")
        }
        if let rate = entry.expectedRatePerSecond, !(rate.isFinite && rate >= 0 && rate <= maxExpectedRatePerSecond) {
            throw fail("expectedRatePerSecond", "must be in 0...\(Int(maxExpectedRatePerSecond)), got \(rate)")
        }
        guard !entry.stages.isEmpty else { throw fail("stages", "must list at least one stage") }
        var stages: [StageSpec] = []
        var inputs: [ChildInput] = []
        for (s, stage) in entry.stages.enumerated() {
            guard !stage.name.isEmpty, !stage.name.contains("/") else {
                throw fail("name", "'\(stage.name)' must be non-empty and without '/'", stage: s)
            }
            if stages.contains(where: { $0.name == stage.name }) {
                throw fail("name", "'\(stage.name)' is used by an earlier stage", stage: s)
            }
            guard let model = repository.models[stage.model] else {
                throw fail("model", "'\(stage.model)' is not a model of \(repository.root) (it has: \(repository.modelNames.joined(separator: ", ")))", stage: s)
            }
            if let gamma = stage.gamma, !(gamma.isFinite && gamma >= 0) { throw fail("gamma", "must be >= 0, got \(gamma)", stage: s) }
            var input = ChildInput.same
            if let parentName = stage.parent {
                guard let parentIndex = stages.firstIndex(where: { $0.name == parentName }) else {
                    throw fail("parent", "'\(parentName)' is not a stage listed before '\(stage.name)' (a parent comes first)", stage: s)
                }
                let parentModel = repository.models[stages[parentIndex].model]!
                if case let .crops(crops)? = stage.input {
                    input = try cropsInput(crops, parent: parentModel, child: model, fail: { fail("input.crops.\($0)", $1, stage: s) })
                }
            } else if case .crops? = stage.input {
                throw fail("input", "a root stage takes the client's input; crops need a parent", stage: s)
            }
            stages.append(StageSpec(name: stage.name, model: stage.model, parent: stage.parent, gamma: stage.gamma,
                                    prefixGroup: model.prefix))
            inputs.append(input)
        }
        return ServedApplication(spec: ApplicationSpec(name: entry.name, latencySLOMs: entry.latencySLOMs, rateShare: 1, stages: stages),
                                 childInputs: inputs, expectedRatePerSecond: entry.expectedRatePerSecond)
    }

    /// Crops come from an output of rows of 5 (x1, y1, x2, y2, score) and are cut from the parent's input,
    /// so both inputs must be images: FP32 [C, H, W] with the same C, or frames the child preprocesses.
    static func cropsInput(_ crops: Crops, parent: ModelSpec, child: ModelSpec,
                           fail: (String, String) -> WorkloadError) throws -> ChildInput {
        guard let boxes = parent.outputs.first(where: { $0.name == crops.from }) else {
            throw fail("from", "'\(crops.from)' is not an output of '\(parent.name)' (outputs: \(parent.outputs.map(\.name).joined(separator: ", ")))")
        }
        guard boxes.shape.count == 2, boxes.shape[1] == 5 else {
            throw fail("from", "'\(crops.from)' of '\(parent.name)' must have shape [N, 5] (x1, y1, x2, y2, score), has \(boxes.shape)")
        }
        guard crops.scoreAbove.isFinite else { throw fail("scoreAbove", "must be a number, got \(crops.scoreAbove)") }
        guard (1...maxCropsLimit).contains(crops.max) else { throw fail("max", "must be in 1...\(maxCropsLimit), got \(crops.max)") }
        let image = parent.input.shape.count == 3 && parent.input.dtype == .fp32
        let childImage = child.input.shape.count == 3 && child.input.dtype == .fp32 && child.input.shape[0] == parent.input.shape.first
        guard image, childImage || child.preprocess != nil else {
            throw fail("from", "crops need '\(parent.name)' to take FP32 [C, H, W] and '\(child.name)' FP32 [C, h, w] with the same C (or preprocess); they take \(parent.input.dtype.rawValue) \(parent.input.shape) and \(child.input.dtype.rawValue) \(child.input.shape)")
        }
        return .crops(boxesOutput: crops.from, scoreAbove: crops.scoreAbove, maxCrops: crops.max)
    }
}
