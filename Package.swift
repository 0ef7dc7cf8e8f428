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
        .package(url: "https://github.com/grpc/grpc-swift-2", exact: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", exact: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", exact: "2.4.1"),
        .package(url: "https://github.com/apple/swift-protobuf", exact: "1.39.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-http2", from: "1.46.0"),
        // Process edges: services with graceful shutdown, and logging through the ecosystem's Logger.
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", exact: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        // Metrics (issue 12): recorded through swift-metrics' API, exported by swift-prometheus at /metrics.
        // Hummingbird: HTTP/REST (KServe v2, Triton's HTTP protocol) beside gRPC in the frontend, and /metrics.
        .package(url: "https://github.com/apple/swift-metrics", exact: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", exact: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1"),
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
        .target(name: "NexusRuntime", dependencies: [
            "NexusCore", "CNexusTorch", .product(name: "Metrics", package: "swift-metrics"),
        ]),
        // Generated from Protos/ by Protos/generate.sh and committed (no build plugin: it compiles protoc).
        .target(
            name: "NexusProtocol",
            dependencies: [
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        // Scheduler, frontend and backend processes: thin gRPC shells around the core and the executor.
        .target(
            name: "NexusServer",
            dependencies: [
                "NexusCore", "NexusConfig", "NexusRuntime", "NexusProtocol",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ]
        ),
        // The /metrics endpoint: the Prometheus backend of swift-metrics, bootstrapped once per process by the
        // CLI, served as Prometheus text by a Hummingbird service (the libraries record through swift-metrics only).
        .target(
            name: "NexusMetricsEndpoint",
            dependencies: [
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The load generator of `nexus bench`: open-loop Poisson load over the Open Inference Protocol against
        // any OIP server; it borrows the servers' transport plumbing and nothing else.
        .target(
            name: "NexusBench",
            dependencies: [
                "NexusCore", "NexusProtocol", "NexusServer",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
            ]
        ),
        // Builders for tests (Hummingbird's pattern: tests read like use).
        .target(name: "NexusTestSupport", dependencies: ["NexusCore"]),
        .executableTarget(
            name: "nexus",
            dependencies: [
                "NexusCore", "NexusConfig", "NexusSimulator", "NexusRuntime", "NexusServer", "NexusBench",
                "NexusMetricsEndpoint",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "NexusCoreTests", dependencies: ["NexusCore", "NexusTestSupport"]),
        .testTarget(name: "NexusConfigTests", dependencies: ["NexusConfig", "NexusCore", "NexusTestSupport"]),
        .testTarget(name: "NexusRuntimeTests", dependencies: ["NexusRuntime", "NexusConfig", "NexusTestSupport"]),
        .testTarget(name: "NexusServerTests", dependencies: [
            "NexusServer", "NexusConfig", "NexusRuntime", "NexusProtocol", "NexusCore", "NexusTestSupport",
            .product(name: "NIOPosix", package: "swift-nio"), .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "NIOHTTP2", package: "swift-nio-http2"), .product(name: "NIOHPACK", package: "swift-nio-http2"),
            .product(name: "GRPCCore", package: "grpc-swift-2"), .product(name: "Logging", package: "swift-log"),
            .product(name: "MetricsTestKit", package: "swift-metrics"),
        ]),
        .testTarget(name: "NexusMetricsEndpointTests", dependencies: [
            "NexusMetricsEndpoint", .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ]),
        .testTarget(name: "NexusBenchTests", dependencies: [
            "NexusBench", "NexusServer", "NexusProtocol", "NexusCore",
            .product(name: "GRPCCore", package: "grpc-swift-2"), .product(name: "NIOPosix", package: "swift-nio"),
        ]),
        .testTarget(name: "NexusSimulatorTests", dependencies: ["NexusSimulator", "NexusConfig", "NexusRuntime", "NexusTestSupport"]),
    ]
)
