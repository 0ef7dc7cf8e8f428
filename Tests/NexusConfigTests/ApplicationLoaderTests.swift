import Foundation
import NexusConfig
import NexusCore
import Testing

/// Application files: a good one becomes a `ServedApplication`; a bad one names the file, the line and the
/// key path, checked against the model repository.
@Suite struct ApplicationLoaderTests {
    static func model(_ name: String, prefix: String? = nil, input: [Int] = [3, 32, 32], dtype: TensorDType = .fp32,
                      outputs: [TensorSpec], preprocess: PreprocessSpec? = nil) -> ModelSpec {
        ModelSpec(name: name, directory: "/repo/\(name)", filePath: "/repo/\(name)/model.pt", prefix: prefix,
                  input: TensorSpec(name: "input", dtype: dtype, shape: input), maxBatch: 16, outputs: outputs,
                  preprocess: preprocess)
    }

    static let repository = ModelRepository(root: "/repo", models: [
        "detector": model("detector", input: [3, 64, 64], outputs: [
            TensorSpec(name: "boxes", dtype: .fp32, shape: [10, 5]),
            TensorSpec(name: "scores", dtype: .fp32, shape: [10]),
        ]),
        "trunk": model("trunk", outputs: [TensorSpec(name: "features", dtype: .fp32, shape: [64])]),
        "cars": model("cars", prefix: "trunk", outputs: [TensorSpec(name: "logits", dtype: .fp32, shape: [10])]),
        "gray": model("gray", input: [1, 32, 32], outputs: [TensorSpec(name: "logits", dtype: .fp32, shape: [10])]),
    ])

    static let path = "/apps/traffic.yaml"

    /// Line numbers matter: the error cases below replace or insert lines by number.
    static let valid = """
        name: traffic
        latencySLOMs: 50
        stages:
          - name: detect
            model: detector
          - name: recognise
            model: cars
            parent: detect
            gamma: 3
            input: {crops: {from: boxes, scoreAbove: 0.5, max: 8}}
        """

    static func replacing(line: Int, with text: String, in yaml: String = valid) -> String {
        var lines = yaml.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines[line - 1] = text
        return lines.joined(separator: "\n")
    }

    static func inserting(_ text: String, after line: Int, in yaml: String = valid) -> String {
        var lines = yaml.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines.insert(text, at: line)
        return lines.joined(separator: "\n")
    }

    func loadError(_ yaml: String) -> String {
        do {
            _ = try ApplicationLoader.load(text: yaml, path: Self.path, repository: Self.repository)
            return "loaded"
        } catch {
            return "\(error)"
        }
    }

    @Test func aTwoStageApplicationWithCropsLoads() throws {
        let app = try ApplicationLoader.load(text: Self.valid, path: Self.path, repository: Self.repository)
        #expect(app.name == "traffic")
        #expect(app.spec.latencySLOMs == 50)
        #expect(app.spec.rateShare == 1)
        #expect(app.spec.stages == [
            StageSpec(name: "detect", model: "detector"),
            StageSpec(name: "recognise", model: "cars", parent: "detect", gamma: 3, prefixGroup: "trunk"),
        ])
        #expect(app.childInputs == [.same, .crops(boxesOutput: "boxes", scoreAbove: 0.5, maxCrops: 8)])
        #expect(app.spec.parentIndices == [nil, 0])
        #expect(app.expectedRatePerSecond == nil)
    }

    @Test func anExpectedRateGivesEachStageItsShare() throws {
        let app = try ApplicationLoader.load(text: Self.inserting("expectedRatePerSecond: 200", after: 2), path: Self.path,
                                             repository: Self.repository)
        #expect(app.expectedRatePerSecond == 200)
        #expect(app.expectedStageRates == [200, 600], "recognise: gamma 3 per detection call")
    }

    @Test func inputSameAndNoInputAreBothTheParentsInput() throws {
        let same = try ApplicationLoader.load(text: Self.replacing(line: 10, with: "    input: same"), path: Self.path, repository: Self.repository)
        #expect(same.childInputs == [.same, .same])
        let absent = try ApplicationLoader.load(text: Self.replacing(line: 10, with: ""), path: Self.path, repository: Self.repository)
        #expect(absent.childInputs == [.same, .same])
        #expect(absent.spec.stages[1].prefixGroup == "trunk")
        // A child that preprocesses frames itself may take crops whatever its input's channels.
        var repository = Self.repository
        repository.models["gray"]!.preprocess = PreprocessSpec(height: 32, width: 32, scale: 255, mean: [0.5], std: [0.5])
        let gray = try ApplicationLoader.load(text: Self.replacing(line: 7, with: "    model: gray"), path: Self.path, repository: repository)
        #expect(gray.childInputs[1] == .crops(boxesOutput: "boxes", scoreAbove: 0.5, maxCrops: 8))
        #expect(gray.spec.stages[1].prefixGroup == nil)
    }

    /// (yaml, "line: key path: message" that the error must contain after the file name).
    @Test(arguments: [
        (ApplicationLoaderTests.replacing(line: 9, with: "    gama: 3"), "9: stages[1].gama: unknown key"),
        (ApplicationLoaderTests.inserting("gama: 3", after: 2), "3: gama: unknown key"),
        (ApplicationLoaderTests.replacing(line: 10, with: "    input: {crops: {from: boxes, scoreAbove: 0.5, max: 8, min: 1}}"), "10: stages[1].input.crops.min: unknown key"),
        (ApplicationLoaderTests.replacing(line: 7, with: "    model: trucks"), "7: stages[1].model: 'trucks' is not a model of /repo (it has: cars, detector, gray, trunk)"),
        (ApplicationLoaderTests.replacing(line: 8, with: "    parent: later"), "8: stages[1].parent: 'later' is not a stage listed before 'recognise'"),
        (ApplicationLoaderTests.replacing(line: 8, with: "    parent: recognise"), "8: stages[1].parent: 'recognise' is not a stage listed before 'recognise'"),
        (ApplicationLoaderTests.inserting("    input: {crops: {from: boxes, scoreAbove: 0.5, max: 8}}", after: 5),
         "6: stages[0].input: a root stage takes the client's input; crops need a parent"),
        (ApplicationLoaderTests.replacing(line: 2, with: "latencySLOMs: 0"), "2: latencySLOMs: must be > 0, got 0.0"),
        (ApplicationLoaderTests.replacing(line: 2, with: "latencySLOMs: -20"), "2: latencySLOMs: must be > 0, got -20.0"),
        (ApplicationLoaderTests.replacing(line: 6, with: "  - name: detect"), "6: stages[1].name: 'detect' is used by an earlier stage"),
        (ApplicationLoaderTests.replacing(line: 9, with: "    gamma: -1"), "9: stages[1].gamma: must be >= 0, got -1.0"),
        (ApplicationLoaderTests.inserting("expectedRatePerSecond: -5", after: 2), "3: expectedRatePerSecond: must be in 0...10000000, got -5.0"),
        (ApplicationLoaderTests.inserting("expectedRatePerSecond: 2e9", after: 2), "3: expectedRatePerSecond: must be in 0...10000000, got 2000000000.0"),
        (ApplicationLoaderTests.replacing(line: 10, with: "    input: all"), "10: stages[1].input: must be 'same' or {crops: {from, scoreAbove, max}}, got 'all'"),
    ])
    func badApplicationsNameTheFileLineAndKey(yaml: String, expected: String) {
        let error = loadError(yaml)
        #expect(error.hasPrefix("\(Self.path):"), "\(error)")
        #expect(error.contains("\(Self.path):\(expected)"), "\(error)")
    }

    /// Crops: the parent's output must exist and be [N, 5], `max` in range, both inputs images.
    @Test(arguments: [
        ("{from: nope, scoreAbove: 0.5, max: 8}", "stages[1].input.crops.from: 'nope' is not an output of 'detector' (outputs: boxes, scores)"),
        ("{from: scores, scoreAbove: 0.5, max: 8}", "stages[1].input.crops.from: 'scores' of 'detector' must have shape [N, 5] (x1, y1, x2, y2, score), has [10]"),
        ("{from: boxes, scoreAbove: 0.5, max: 0}", "stages[1].input.crops.max: must be in 1...256, got 0"),
        ("{from: boxes, scoreAbove: 0.5, max: 257}", "stages[1].input.crops.max: must be in 1...256, got 257"),
        ("{from: boxes, scoreAbove: .nan, max: 8}", "stages[1].input.crops.scoreAbove: must be a number, got nan"),
    ])
    func badCropsNameTheFileLineAndKey(crops: String, expected: String) {
        let error = loadError(Self.replacing(line: 10, with: "    input: {crops: \(crops)}"))
        #expect(error.contains("\(Self.path):"), "\(error)")
        #expect(error.contains(expected), "\(error)")
        // The line of the offending key (the `input:` line: the crops are written inline).
        #expect(error.hasPrefix("\(Self.path):10: "), "\(error)")
    }

    @Test func cropsNeedImagesWithTheSameChannels() {
        // gray takes 1 channel, no preprocess; the detector gives 3-channel images.
        let error = loadError(Self.replacing(line: 7, with: "    model: gray"))
        #expect(error.contains("\(Self.path)"), "\(error)")
        #expect(error.contains("stages[1].input.crops.from: crops need 'detector' to take FP32 [C, H, W] and 'gray' FP32 [C, h, w] with the same C"), "\(error)")
        // A crop without `max` is a missing key.
        let missing = loadError(Self.replacing(line: 10, with: "    input: {crops: {from: boxes, scoreAbove: 0.5}}"))
        #expect(missing.contains("\(Self.path):10: stages[1].input.crops.max: required key is missing"), "\(missing)")
    }

    @Test func childBeforeParentIsRefused() {
        let childFirst = """
            name: traffic
            latencySLOMs: 50
            stages:
              - name: recognise
                model: cars
                parent: detect
              - name: detect
                model: detector
            """
        #expect(loadError(childFirst).contains("\(Self.path):6: stages[0].parent: 'detect' is not a stage listed before 'recognise'"))
    }

    // MARK: Folders

    func folder(_ files: [String: String]) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("nexus-apps-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for (name, text) in files { try text.write(toFile: "\(directory)/\(name)", atomically: true, encoding: .utf8) }
        return directory
    }

    static let faces = """
        name: faces
        latencySLOMs: 20
        stages:
          - {name: find, model: detector}
        """

    @Test func aFolderLoadsEveryYAMLFileSortedByName() throws {
        let directory = try folder(["b.yml": Self.valid, "a.yaml": Self.faces, "notes.txt": "not an application"])
        let apps = try ApplicationLoader.load(directory: directory, repository: Self.repository)
        #expect(apps.map(\.name) == ["faces", "traffic"])
        #expect(apps[0].spec.stages == [StageSpec(name: "find", model: "detector")])
        #expect(apps[1].childInputs.count == 2)
    }

    @Test func anApplicationNameUsedByTwoFilesIsRefused() throws {
        let directory = try folder(["a.yaml": Self.valid, "b.yaml": Self.valid])
        #expect { try ApplicationLoader.load(directory: directory, repository: Self.repository) } throws: { error in
            "\(error)".contains("\(directory)/b.yaml") && "\(error)".contains("name: 'traffic' is already defined by a.yaml")
        }
        // The second file's `name:` line.
        #expect { try ApplicationLoader.load(directory: directory, repository: Self.repository) } throws: { error in
            "\(error)".hasPrefix("\(directory)/b.yaml:1: name: ")
        }
    }

    @Test func anErrorInAFileNamesThatFile() throws {
        let directory = try folder(["a.yaml": Self.faces, "b.yaml": Self.replacing(line: 9, with: "    gama: 3")])
        #expect { try ApplicationLoader.load(directory: directory, repository: Self.repository) } throws: { error in
            "\(error)".hasPrefix("\(directory)/b.yaml:9: stages[1].gama: unknown key")
        }
    }

    @Test func aMissingOrEmptyFolderIsAnError() throws {
        #expect(throws: ConfigError.fileNotFound(path: "/nonexistent/apps", what: "applications directory")) {
            try ApplicationLoader.load(directory: "/nonexistent/apps", repository: Self.repository)
        }
        let empty = try folder(["readme.md": "nothing"])
        #expect { try ApplicationLoader.load(directory: empty, repository: Self.repository) } throws: { error in
            "\(error)".contains(empty) && "\(error)".contains("application files (*.yaml)")
        }
    }

    // MARK: One model, one application

    @Test func oneModelApplicationsServeEveryModelAlone() {
        let apps = ApplicationLoader.oneModelApplications(repository: Self.repository, latencySLOMs: 25)
        #expect(apps.map(\.name) == ["cars", "detector", "gray", "trunk"])
        for app in apps {
            #expect(app.spec.latencySLOMs == 25)
            #expect(app.childInputs == [.same])
            #expect(app.spec.stages.count == 1)
            #expect(app.spec.stages[0].name == app.name && app.spec.stages[0].model == app.name)
            #expect(app.spec.stages[0].parent == nil)
            #expect(app.spec.stages[0].prefixGroup == Self.repository.models[app.name]!.prefix)
        }
        #expect(apps[0].spec.stages[0].prefixGroup == "trunk")
        #expect(ApplicationLoader.oneModelApplications(repository: ModelRepository(root: "/empty", models: [:]), latencySLOMs: 25).isEmpty)
    }
}
