import Foundation
import NexusCore

/// Reads one `model.yaml` (keys in docs/model-repository.md) and checks it against the files beside it.
enum ModelEntryLoader {
    struct Entry: Decodable {
        var name: String
        var file: String?
        var prefix: String?
        var head: String?
        var input: TensorSpec
        var maxBatch: Int
        var outputs: [TensorSpec]
        var preprocess: Preprocess?

        static let knownKeys: Set<String> = ["name", "file", "prefix", "head", "input", "maxBatch", "outputs", "preprocess"]
    }

    struct Preprocess: Decodable {
        var resize: [Int]
        var scale: Float?
        var mean: [Float]
        var std: [Float]

        static let knownKeys: Set<String> = ["resize", "scale", "mean", "std"]
    }

    static let tensorKeys: Set<String> = ["name", "dtype", "shape"]
    /// Beyond this a batch is a configuration mistake, not a plan.
    static let maxBatchLimit = 4096

    static func load(directory: String, name: String) throws -> ModelSpec {
        let path = "\(directory)/model.yaml"
        let document = try YAMLDocument(text: try TextFile.read(path, what: "model.yaml"), path: path)
        try document.requireKnownKeys(Entry.knownKeys, at: document.root, path: "")
        if let input = document.root["input"] { try document.requireKnownKeys(tensorKeys, at: input, path: "input") }
        for (index, output) in document.items(of: document.root, key: "outputs").enumerated() {
            try document.requireKnownKeys(tensorKeys, at: output, path: "outputs[\(index)]")
        }
        if let preprocess = document.root["preprocess"] {
            try document.requireKnownKeys(Preprocess.knownKeys, at: preprocess, path: "preprocess")
        }
        let entry = try document.decode(Entry.self)
        func fail(_ key: String, _ message: String) -> WorkloadError {
            WorkloadError(source: path, line: document.root[key]?.mark?.line, path: key, message: message)
        }

        if entry.name != name { throw fail("name", "'\(entry.name)' must equal the folder name '\(name)'") }
        guard (1...maxBatchLimit).contains(entry.maxBatch) else {
            throw fail("maxBatch", "\(entry.maxBatch) is outside 1...\(maxBatchLimit)")
        }
        try check(entry.input, key: "input", fail: fail)
        if entry.outputs.isEmpty { throw fail("outputs", "at least one output is required") }
        for (index, output) in entry.outputs.enumerated() { try check(output, key: "outputs[\(index)]", fail: fail) }

        let fileName: String
        switch (entry.file, entry.prefix, entry.head) {
        case let (file?, nil, nil): fileName = file
        case (nil, nil, nil): fileName = "model.pt"
        case let (nil, _?, head?): fileName = head
        case (nil, _?, nil): throw fail("head", "a model with `prefix` needs `head`, the TorchScript file of its own layers")
        case (nil, nil, _?): throw fail("prefix", "a model with `head` needs `prefix`, the model whose output it reads")
        default: throw fail("file", "give either `file` (a whole model) or `prefix` + `head` (a prefix-family member), not both")
        }
        let filePath = "\(directory)/\(fileName)"
        guard FileManager.default.fileExists(atPath: filePath) else {
            throw fail(entry.head != nil ? "head" : "file", "\(filePath) does not exist")
        }
        return ModelSpec(name: name, directory: directory, filePath: filePath, prefix: entry.prefix, input: entry.input,
                         maxBatch: entry.maxBatch, outputs: entry.outputs,
                         preprocess: try entry.preprocess.map { try preprocessSpec($0, input: entry.input, fail: fail) })
    }

    static func check(_ tensor: TensorSpec, key: String, fail: (String, String) -> WorkloadError) throws {
        if tensor.name.isEmpty { throw fail("\(key).name", "must not be empty") }
        if tensor.shape.isEmpty || tensor.shape.contains(where: { $0 <= 0 }) {
            throw fail("\(key).shape", "\(tensor.shape) must list one or more sizes, each at least 1")
        }
    }

    static func preprocessSpec(_ entry: Preprocess, input: TensorSpec, fail: (String, String) -> WorkloadError) throws -> PreprocessSpec {
        guard entry.resize.count == 2, entry.resize.allSatisfy({ $0 > 0 }) else {
            throw fail("preprocess.resize", "\(entry.resize) must be [height, width], both at least 1")
        }
        guard input.shape.count == 3, input.shape[1] == entry.resize[0], input.shape[2] == entry.resize[1] else {
            throw fail("preprocess.resize", "\(entry.resize) must match the input shape [channels, height, width] \(input.shape)")
        }
        let channels = input.shape[0]
        if entry.mean.count != channels { throw fail("preprocess.mean", "needs \(channels) values (one per channel), has \(entry.mean.count)") }
        if entry.std.count != channels || entry.std.contains(0) {
            throw fail("preprocess.std", "needs \(channels) non-zero values (one per channel), has \(entry.std)")
        }
        if let scale = entry.scale, scale <= 0 { throw fail("preprocess.scale", "\(scale) must be positive") }
        if input.dtype == .uint8 { throw fail("input.dtype", "UINT8 input cannot take normalised pixels: use FP32 or FP16") }
        return PreprocessSpec(height: entry.resize[0], width: entry.resize[1], scale: entry.scale ?? 255,
                              mean: entry.mean, std: entry.std)
    }
}
