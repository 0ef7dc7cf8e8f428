// swift-tools-version:6.0
import PackageDescription

// Layout (DESIGN.md §6): the pure core has no dependencies at all, so its tests rebuild in seconds;
// file formats live in NexusConfig; the simulator drives the core in virtual time; NexusRuntime runs real
// models (libtorch through native/, opened at run time) and the backend executor; `nexus` is the CLI.
let package = Package(
    name: "Nexus",
    products: [
        .executable(name: "nexus", targets: ["nexus"]),
        .library(name: "NexusCore", targets: ["NexusCore"]),
        .library(name: "NexusSimulator", targets: ["NexusSimulator"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        .target(name: "NexusCore"),
        .target(
            name: "NexusConfig",
            dependencies: ["NexusCore", .product(name: "Yams", package: "Yams")]
        ),
        .target(name: "NexusSimulator", dependencies: ["NexusCore"]),
        // Types of native/nexus_torch.h only: libtorch itself is opened with dlopen at run time.
        .target(name: "CNexusTorch"),
        .target(name: "NexusRuntime", dependencies: ["NexusCore", "CNexusTorch"]),
        // Builders for tests (Hummingbird's pattern: tests read like use).
        .target(name: "NexusTestSupport", dependencies: ["NexusCore"]),
        .executableTarget(
            name: "nexus",
            dependencies: [
                "NexusCore", "NexusConfig", "NexusSimulator", "NexusRuntime",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "NexusCoreTests", dependencies: ["NexusCore", "NexusTestSupport"]),
        .testTarget(name: "NexusConfigTests", dependencies: ["NexusConfig"]),
        .testTarget(name: "NexusRuntimeTests", dependencies: ["NexusRuntime", "NexusConfig"]),
        .testTarget(name: "NexusSimulatorTests", dependencies: ["NexusSimulator", "NexusConfig", "NexusTestSupport"]),
    ]
)
