import Foundation
import NexusConfig
import NexusCore
import Testing

/// model.yaml entries: good ones load with paths resolved; bad ones name the file and the key.
@Suite struct ModelRepositoryTests {
    /// A scratch repository with `entries` (folder name -> model.yaml text), each with an empty model.pt and head.pt.
    func repository(_ entries: [String: String]) throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("nexus-repo-\(UUID().uuidString)").path
        for (name, yaml) in entries {
            try FileManager.default.createDirectory(atPath: "\(root)/\(name)", withIntermediateDirectories: true)
            try yaml.write(toFile: "\(root)/\(name)/model.yaml", atomically: true, encoding: .utf8)
            for file in ["model.pt", "head.pt"] { FileManager.default.createFile(atPath: "\(root)/\(name)/\(file)", contents: Data()) }
        }
        try FileManager.default.createDirectory(atPath: "\(root)/_reference", withIntermediateDirectories: true)
        return root
    }

    static let trunk = """
        name: trunk
        input: {name: input, dtype: FP32, shape: [3, 32, 32]}
        maxBatch: 64
        outputs: [{name: features, dtype: FP32, shape: [64]}]
        preprocess: {resize: [32, 32], scale: 255, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5]}
        """
    static let head = """
        name: cars
        prefix: trunk
        head: head.pt
        input: {name: input, dtype: FP32, shape: [3, 32, 32]}
        maxBatch: 32
        outputs: [{name: logits, dtype: FP32, shape: [10]}]
        """

    @Test func loadsModelsAndPrefixFamilies() throws {
        let root = try repository(["trunk": Self.trunk, "cars": Self.head])
        let repository = try ModelRepository.load(root: root)
        #expect(repository.modelNames == ["cars", "trunk"])
        let trunk = try repository.model("trunk"), cars = try repository.model("cars")
        #expect(trunk.filePath == "\(root)/trunk/model.pt" && trunk.prefix == nil)
        #expect(trunk.preprocess == PreprocessSpec(height: 32, width: 32, scale: 255, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5]))
        #expect(cars.filePath == "\(root)/cars/head.pt" && cars.prefix == "trunk" && cars.outputs[0].shape == [10])
        #expect(try repository.profile(model: "trunk", device: "cpu") == nil)
        #expect(throws: (any Error).self) { try repository.model("missing") }
    }

    @Test(arguments: [
        ("name: other", "model.yaml:1: name: 'other' must equal the folder name 'trunk'"),
        ("colour: red", "model.yaml:6: colour: unknown key"),
        ("maxBatch: 0", "maxBatch: 0 is outside 1...4096"),
        ("input: {name: input, dtype: INT7, shape: [3, 32, 32]}", "input.dtype"),
        ("input: {name: input, dtype: FP32, shape: [3, 0, 32]}", "input.shape: [3, 0, 32] must list one or more sizes, each at least 1"),
        ("input: {name: input, dtype: FP32, shape: [3, 32, 32], size: 4}", "input.size: unknown key"),
        ("outputs: []", "outputs: at least one output is required"),
        ("preprocess: {resize: [30, 32], mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5]}", "preprocess.resize: [30, 32] must match the input shape"),
        ("preprocess: {resize: [32, 32], mean: [0.5], std: [0.5, 0.5, 0.5]}", "preprocess.mean: needs 3 values (one per channel), has 1"),
        ("preprocess: {resize: [32, 32], mean: [0.5, 0.5, 0.5], std: [0.5, 0, 0.5]}", "preprocess.std: needs 3 non-zero values"),
        ("file: missing.pt", "file: \(String.placeholderRoot)/trunk/missing.pt does not exist"),
        ("head: head.pt", "prefix: a model with `head` needs `prefix`"),
    ])
    func badEntriesNameTheFileAndKey(replacement: String, message: String) throws {
        let key = String(replacement.prefix { $0 != ":" })
        var lines = Self.trunk.split(separator: "\n").map(String.init)
        if let index = lines.firstIndex(where: { $0.hasPrefix(key + ":") }) { lines[index] = replacement } else { lines.append(replacement) }
        let root = try repository(["trunk": lines.joined(separator: "\n")])
        let expected = message.replacingOccurrences(of: String.placeholderRoot, with: root)
        #expect { try ModelRepository.load(root: root) } throws: { error in
            "\(error)".contains("\(root)/trunk/model.yaml") && "\(error)".contains(expected)
        }
    }

    @Test func prefixMustExistTakeTheSameInputAndNotNest() throws {
        let orphan = try repository(["cars": Self.head])
        #expect { try ModelRepository.load(root: orphan) } throws: { "\($0)".contains("cars/model.yaml: prefix: 'trunk' is not a model of") }
        let otherInput = try repository(["trunk": Self.trunk, "cars": Self.head.replacingOccurrences(of: "[3, 32, 32]", with: "[3, 16, 16]")])
        #expect { try ModelRepository.load(root: otherInput) } throws: { "\($0)".contains("cars/model.yaml: input: must equal the prefix 'trunk''s input") }
        let missingHead = try repository(["trunk": Self.trunk, "cars": Self.head.replacingOccurrences(of: "head: head.pt", with: "head: nothere.pt")])
        #expect { try ModelRepository.load(root: missingHead) } throws: { "\($0)".contains("cars/model.yaml:3: head: ") && "\($0)".contains("nothere.pt does not exist") }
        #expect { try ModelRepository.load(root: "/nonexistent/repo") } throws: { "\($0)".contains("/nonexistent/repo: no such model repository directory") }
    }
}

private extension String {
    static let placeholderRoot = "<root>"
}
