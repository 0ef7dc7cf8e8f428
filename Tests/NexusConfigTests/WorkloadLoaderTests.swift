import Foundation
import NexusCore
import Testing
@testable import NexusConfig

/// The repository's `data/` folder, found from this file so tests run from any working directory.
let dataDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("data")

@Suite struct WorkloadLoaderTests {
    @Test(arguments: ["game", "traffic", "mixed"])
    func theShippedWorkloadsLoad(name: String) throws {
        let loaded = try WorkloadLoader.load(path: dataDirectory.appendingPathComponent("workloads/\(name).yaml").path)
        #expect(loaded.workload.name == name)
        #expect(loaded.profileColumn == .graphP99)
        #expect(loaded.profilesPath.hasSuffix("data/h100-torchvision-fp16-profiles.csv"))
        for app in loaded.workload.applications {
            for stage in app.stages { _ = try loaded.curves.curve(for: stage.model) }
        }
    }

    @Test func theGameStudyHasTwentyGamesSharingTheResNet50Prefix() throws {
        let workload = try WorkloadLoader.load(path: dataDirectory.appendingPathComponent("workloads/game.yaml").path).workload
        #expect(workload.applications.count == 20)
        #expect(workload.gpus == 16)
        #expect(workload.networkMs == 0.5)
        #expect(Set(workload.applications.map { $0.stages[0].prefixGroup }) == ["resnet50"])
        #expect(abs(workload.applications.map(\.rateShare).reduce(0, +) - 1) < 1e-3)
    }

    func temporaryWorkload(_ yaml: String) throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("nexus-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: dataDirectory.appendingPathComponent("h100-torchvision-fp16-profiles.csv"),
                                         to: folder.appendingPathComponent("profiles.csv"))
        let path = folder.appendingPathComponent("w.yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func loadError(_ yaml: String) throws -> String {
        let path = try temporaryWorkload(yaml)
        do {
            _ = try WorkloadLoader.load(path: path)
            return "loaded"
        } catch {
            return "\(error)".replacingOccurrences(of: path, with: "w.yaml")
        }
    }

    let valid = """
    name: tiny
    profiles: profiles.csv
    totalRatePerSecond: 100
    applications:
      - name: app
        latencySLOMs: 20
        rateShare: 1
        stages:
          - {name: s, model: resnet18}
    """

    @Test func aMinimalWorkloadLoads() throws {
        #expect(try loadError(valid) == "loaded")
    }

    @Test func aMisspeltKeyIsRejectedWithItsLine() throws {
        let text = valid.replacingOccurrences(of: "{name: s, model: resnet18}", with: "{name: s, model: resnet18, gama: 2}")
        #expect(try loadError(text) == "w.yaml:9: applications[0].stages[0].gama: unknown key (known keys: gamma, head, model, name, parent, prefixGroup)")
    }

    @Test func aWrongTypeNamesThePathAndLine() throws {
        let text = valid.replacingOccurrences(of: "latencySLOMs: 20", with: "latencySLOMs: fast")
        #expect(try loadError(text) == "w.yaml:6: applications[0].latencySLOMs: expected a number")
    }

    @Test func aMissingKeyIsNamed() throws {
        let text = valid.replacingOccurrences(of: "totalRatePerSecond: 100\n", with: "")
        #expect(try loadError(text).hasPrefix("w.yaml:1: totalRatePerSecond: required key is missing"))
    }

    @Test func anUnprofiledModelIsNamedWithTheProfiledOnes() throws {
        let text = valid.replacingOccurrences(of: "model: resnet18", with: "model: lenet")
        let message = try loadError(text)
        #expect(message.hasPrefix("w.yaml: applications[0].stages[0].model: 'lenet' has no profile in "))
        #expect(message.contains("resnet50"))
    }

    @Test func aMissingProfileFileSaysWhereItLooked() throws {
        let text = valid.replacingOccurrences(of: "profiles: profiles.csv", with: "profiles: nowhere.csv")
        #expect(try loadError(text).hasPrefix("w.yaml: profiles: 'nowhere.csv' not found (looked in "))
    }

    @Test func brokenYAMLAndMissingFilesAreClearErrors() throws {
        #expect(try loadError("name: [unclosed").hasPrefix("w.yaml:"))
        #expect(try loadError("name: [unclosed").contains("not valid YAML"))
        #expect(throws: ConfigError.fileNotFound(path: "/no/such.yaml", what: "workload")) {
            try WorkloadLoader.load(path: "/no/such.yaml")
        }
    }

    @Test func theProfileColumnCanBeOverridden() throws {
        let path = try temporaryWorkload(valid)
        let loaded = try WorkloadLoader.load(path: path, profileColumn: .graphMedian)
        #expect(try loaded.curves.curve(for: "resnet18").latencyMs[1] == 0.3605)
    }
}
