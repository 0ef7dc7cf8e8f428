import NexusCore
import NexusProtocol
import NexusRuntime

/// Between the core's values and cluster.proto's messages. Kept in one file so the wire format has one
/// definition of each mapping.
extension ModelTable {
    init(_ update: Nexus_Cluster_ModelTableUpdate) {
        self.init(dutyCycleMs: update.dutyCycleMs, sessions: update.sessions.map { entry in
            ModelTable.Entry(sessionID: entry.sessionID, models: entry.models, maxBatch: Int(entry.maxBatch),
                             latencyMs: entry.latencyMs.isEmpty ? nil : entry.latencyMs)
        })
    }

    func message(version: UInt64, nodeID: UInt64) -> Nexus_Cluster_ModelTableUpdate {
        .with { update in
            update.version = version
            update.nodeID = nodeID
            update.dutyCycleMs = dutyCycleMs
            update.sessions = sessions.map { entry in
                .with {
                    $0.sessionID = entry.sessionID
                    $0.models = entry.models
                    $0.maxBatch = Int32(entry.maxBatch)
                    $0.latencyMs = entry.latencyMs ?? []
                }
            }
        }
    }
}

extension ClusterAssignment {
    var routeMessage: Nexus_Cluster_RouteUpdate {
        .with { update in
            update.version = version
            update.routes = routes.keys.sorted().map { session in
                .with {
                    $0.sessionID = session
                    $0.targets = routes[session]!.map { target in
                        .with {
                            $0.nodeID = target.nodeID
                            $0.address = target.address
                            $0.ratePerSecond = target.ratePerSecond
                        }
                    }
                }
            }
            update.stages = stages.map { binding in
                .with {
                    $0.application = binding.application
                    $0.stage = binding.stage
                    $0.sessionID = binding.sessionID
                    $0.budgetMs = binding.budgetMs
                }
            }
        }
    }
}

extension TensorSpec {
    var message: Nexus_Cluster_TensorInfo {
        .with {
            $0.name = name
            $0.dtype = dtype.rawValue
            $0.shape = shape.map(Int64.init)
        }
    }

    init(_ info: Nexus_Cluster_TensorInfo) throws {
        guard let dtype = TensorDType(rawValue: info.dtype) else {
            throw ServerError.startup("the scheduler sent tensor '\(info.name)' with unknown dtype '\(info.dtype)'")
        }
        self.init(name: info.name, dtype: dtype, shape: info.shape.map(Int.init))
    }
}

/// What a frontend knows of a model: its tensors, and whether it takes frames.
public struct ModelInterface: Sendable, Equatable {
    public var name: String
    public var input: TensorSpec
    public var outputs: [TensorSpec]
    public var maxBatch: Int
    public var hasPreprocess: Bool
    /// [height, width] the backend resizes frames to.
    public var resize: [Int]

    init(_ spec: ModelSpec) {
        name = spec.name
        input = spec.input
        outputs = spec.outputs
        maxBatch = spec.maxBatch
        hasPreprocess = spec.preprocess != nil
        resize = spec.preprocess.map { [$0.height, $0.width] } ?? []
    }

    init(_ info: Nexus_Cluster_ModelInfo) throws {
        name = info.name
        input = try TensorSpec(info.input)
        outputs = try info.outputs.map(TensorSpec.init)
        maxBatch = Int(info.maxBatch)
        hasPreprocess = info.hasPreprocess_p
        resize = info.resize.map(Int.init)
    }

    var message: Nexus_Cluster_ModelInfo {
        .with {
            $0.name = name
            $0.input = input.message
            $0.outputs = outputs.map(\.message)
            $0.maxBatch = Int32(maxBatch)
            $0.hasPreprocess_p = hasPreprocess
            $0.resize = resize.map(Int64.init)
        }
    }

    /// A spec good enough for `InputCheck` (paths are the backend's business).
    var checkSpec: ModelSpec {
        ModelSpec(name: name, directory: "", filePath: "", input: input, maxBatch: maxBatch, outputs: outputs,
                  preprocess: hasPreprocess ? PreprocessSpec(height: resize.first ?? 1, width: resize.last ?? 1, mean: [], std: []) : nil)
    }
}

extension ServedApplication {
    var message: Nexus_Cluster_ApplicationInfo {
        .with { info in
            info.name = name
            info.latencySloMs = spec.latencySLOMs
            info.stages = spec.stages.enumerated().map { s, stage in
                .with {
                    $0.name = stage.name
                    $0.model = stage.model
                    $0.parent = stage.parent ?? ""
                    $0.gamma = stage.gamma ?? 1
                    switch childInputs[s] {
                    case .same: $0.input.same = .init()
                    case let .crops(output, score, maxCrops):
                        $0.input.crops = .with {
                            $0.boxesOutput = output
                            $0.scoreAbove = score
                            $0.maxCrops = Int32(maxCrops)
                        }
                    }
                }
            }
        }
    }

    init(_ info: Nexus_Cluster_ApplicationInfo) {
        var inputs: [ChildInput] = []
        let stages = info.stages.map { stage -> StageSpec in
            if case let .crops(crops)? = stage.input.kind {
                inputs.append(.crops(boxesOutput: crops.boxesOutput, scoreAbove: crops.scoreAbove, maxCrops: Int(crops.maxCrops)))
            } else {
                inputs.append(.same)
            }
            return StageSpec(name: stage.name, model: stage.model, parent: stage.parent.isEmpty ? nil : stage.parent, gamma: stage.gamma)
        }
        self.init(spec: ApplicationSpec(name: info.name, latencySLOMs: info.latencySloMs, rateShare: 1, stages: stages),
                  childInputs: inputs)
    }
}

extension InferenceError {
    /// gRPC status code of this error (DESIGN.md §4).
    var statusCode: Int32 {
        switch self {
        case .invalidArgument: return 3
        case .deadlineExceeded: return 4
        case .notFound: return 5
        case .resourceExhausted: return 8
        case .internalError: return 13
        case .unavailable: return 14
        }
    }

    var message: String {
        switch self {
        case let .invalidArgument(m), let .notFound(m), let .resourceExhausted(m), let .deadlineExceeded(m),
             let .unavailable(m), let .internalError(m):
            return m
        }
    }

    init(statusCode: Int32, message: String) {
        switch statusCode {
        case 3: self = .invalidArgument(message)
        case 4: self = .deadlineExceeded(message)
        case 5: self = .notFound(message)
        case 8: self = .resourceExhausted(message)
        case 14: self = .unavailable(message)
        default: self = .internalError(message)
        }
    }
}
