import ArgumentParser

@main
struct Nexus: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nexus",
        abstract: "Nexus: a GPU cluster engine for DNN video analytics (SOSP'19), in Swift.",
        subcommands: [PlanCommand.self, SimulateCommand.self, BenchCoreCommand.self, ProfileCommand.self, BenchExecutorCommand.self]
    )
}
