import ArgumentParser

struct BenchCoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench-core", abstract: "Benchmark (not yet).")
    func run() throws {}
}
