import ArgumentParser

@main
struct Nexus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nexus",
        abstract: "Nexus: a GPU cluster engine for DNN video analytics (SOSP'19), in Swift.",
        subcommands: [PlanCommand.self, SimulateCommand.self, BenchCoreCommand.self, ProfileCommand.self, BenchExecutorCommand.self,
                      SchedulerCommand.self, BackendCommand.self, FrontendCommand.self, ServeCommand.self,
                      ClusterStatusCommand.self, BenchCommand.self]
    )
}
