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

/// What a frontend knows of a model: its tensors, and how backends preprocess frames when it takes them.
public struct ModelInterface: Sendable, Equatable {
    public var name: String
    public var input: TensorSpec
    public var outputs: [TensorSpec]
    public var maxBatch: Int
    /// Present when the model accepts UINT8 [H, W, C] frames and JPEGs.
    public var preprocess: PreprocessSpec?

    public var hasPreprocess: Bool { preprocess != nil }

    init(_ spec: ModelSpec) {
        name = spec.name
        input = spec.input
        outputs = spec.outputs
        maxBatch = spec.maxBatch
        preprocess = spec.preprocess
    }

    init(_ info: Nexus_Cluster_ModelInfo) throws {
        name = info.name
        input = try TensorSpec(info.input)
        outputs = try info.outputs.map(TensorSpec.init)
        maxBatch = Int(info.maxBatch)
        preprocess = info.hasPreprocess
            ? PreprocessSpec(height: Int(info.preprocess.height), width: Int(info.preprocess.width),
                             scale: info.preprocess.scale, mean: info.preprocess.mean, std: info.preprocess.std)
            : nil
    }

    var message: Nexus_Cluster_ModelInfo {
        .with {
            $0.name = name
            $0.input = input.message
            $0.outputs = outputs.map(\.message)
            $0.maxBatch = Int32(maxBatch)
            if let preprocess {
                $0.preprocess = .with {
                    $0.height = Int32(preprocess.height)
                    $0.width = Int32(preprocess.width)
                    $0.scale = preprocess.scale
                    $0.mean = preprocess.mean
                    $0.std = preprocess.std
                }
            }
        }
    }

    /// A spec good enough for `InputCheck` (paths are the backend's business).
    var checkSpec: ModelSpec {
        ModelSpec(name: name, directory: "", filePath: "", input: input, maxBatch: maxBatch, outputs: outputs,
                  preprocess: preprocess)
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
                    case .fanOut: $0.input.fanOut = .init()
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
            switch stage.input.kind {
            case let .crops(crops)?:
                inputs.append(.crops(boxesOutput: crops.boxesOutput, scoreAbove: crops.scoreAbove, maxCrops: Int(crops.maxCrops)))
            case .fanOut?: inputs.append(.fanOut)
            case .same?, nil: inputs.append(.same)
            }
            return StageSpec(name: stage.name, model: stage.model, parent: stage.parent.isEmpty ? nil : stage.parent, gamma: stage.gamma)
        }
        self.init(spec: ApplicationSpec(name: info.name, latencySLOMs: info.latencySloMs, rateShare: 1, stages: stages),
                  childInputs: inputs)
    }
}
