import Foundation
import NexusConfig
import NexusCore
import NexusTestSupport
import XCTest

/// Seeded fuzzing of the configuration loaders on mutated copies of real files: workloads (YAML), application
/// files (YAML, checked against a repository) and profiles (CSV). No text traps; every error names the file,
/// and a profile that loads holds only what a planner can use (positive, finite latencies; batch 1 present).
final class ConfigFuzzTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    static func seedFiles(_ folder: String, suffix: String) throws -> [String] {
        let url = root.appendingPathComponent(folder)
        return try FileManager.default.contentsOfDirectory(atPath: url.path).filter { $0.hasSuffix(suffix) }.sorted()
            .map { try String(contentsOf: url.appendingPathComponent($0), encoding: .utf8) }
    }

    func testMutatedWorkloadsParseOrNameTheFile() throws {
        let seeds = try Self.seedFiles("data/workloads", suffix: ".yaml")
        XCTAssertFalse(seeds.isEmpty)
        try fuzz(target: "workload", seeds: seeds, defaultIterations: 300, weight: 0.02) { text in
            _ = try WorkloadLoader.parse(text: text, path: "fuzz.yaml")
        }
    }

    func testMutatedApplicationsLoadOrNameTheFile() throws {
        try fuzz(target: "application", seeds: [ApplicationLoaderTests.valid], defaultIterations: 1_000) { text in
            _ = try ApplicationLoader.load(text: text, path: "fuzz.yaml", repository: ApplicationLoaderTests.repository)
        }
    }

    func testMutatedProfilesParseOrNameTheFile() throws {
        let seeds = try Self.seedFiles("profiles/cpu-amd-epyc-2core", suffix: ".csv")
        XCTAssertFalse(seeds.isEmpty)
        try fuzz(target: "profile", seeds: seeds, defaultIterations: 2_000) { text in
            let table = try ProfileCSV.parse(text: text, source: "fuzz.csv")
            for name in table.modelNames {
                let points = table.profiles[name]!.points
                XCTAssertTrue(points.contains { $0.batch == 1 }, "\(name): no batch 1")
                XCTAssertTrue(points.allSatisfy { $0.planningLatencyMs > 0 && $0.planningLatencyMs.isFinite }, "\(name): latencies")
            }
        }
    }

    /// Runs `load` on mutated seeds; an error must name the file (its description starts with the path).
    func fuzz(target: String, seeds: [String], defaultIterations: Int, weight: Double = 0.05, load: (String) throws -> Void) throws {
        let budget = FuzzBudget.fromEnvironment(defaultIterations: defaultIterations, weight: weight)
        var random = SeededGenerator(seed: budget.seed)
        var loaded = 0
        for iteration in 0..<budget.iterations {
            let text = TextMutator.mutate(seeds.randomElement(using: &random)!, using: &random)
            do {
                try load(text)
                loaded += 1
            } catch {
                let message = "\(error)"
                guard message.hasPrefix("fuzz.") else {
                    return XCTFail("\(target), seed \(budget.seed), input \(iteration): the error does not name the file: \(message)\n--- input ---\n\(text)")
                }
            }
        }
        FuzzBudget.report(target: target, count: budget.iterations)
        XCTAssertGreaterThan(loaded, 0, "\(target): no mutated file loaded: the mutations test only the refusal path")
    }
}
