import Foundation
import NexusCore
import NexusProtocol
import NexusRuntime

/// Server and model metadata, model configuration and statistics, as protocol messages that gRPC sends
/// as they are and HTTP writes as Triton's JSON (`HTTPJSON`).
extension InferenceCore {
    static let extensions = ["statistics", "model_configuration", "binary_tensor_data"]

    var serverMetadata: Inference_ServerMetadataResponse {
        .with {
            $0.name = "nexus"
            $0.version = NexusVersion.string
            $0.extensions = Self.extensions
        }
    }

    func metadata(_ application: FrontendApplication) throws(InferenceError) -> Inference_ModelMetadataResponse {
        let root = try rootModel(application)
        return .with { metadata in
            metadata.name = application.name
            metadata.versions = [Self.version]
            metadata.platform = "nexus"
            metadata.inputs = [.with {
                $0.name = root.input.name
                $0.datatype = root.input.dtype.rawValue
                $0.shape = [-1] + root.input.shape.map(Int64.init)
            }]
            metadata.outputs = application.outputs.map { output in
                .with {
                    $0.name = output.name
                    $0.datatype = "FP32"
                    $0.shape = [-1] + output.shape.map(Int64.init)
                }
            }
        }
    }

    func config(_ application: FrontendApplication) throws(InferenceError) -> Inference_ModelConfig {
        let root = try rootModel(application)
        return .with { config in
            config.name = application.name
            config.platform = "nexus"
            config.backend = "nexus"
            config.maxBatchSize = Int32(OIPRequest.maxBatch)
            config.input = [.with {
                $0.name = root.input.name
                $0.dataType = Self.dataType(root.input.dtype)
                $0.dims = root.input.shape.map(Int64.init)
            }]
            config.output = application.outputs.map { output in
                .with {
                    $0.name = output.name
                    $0.dataType = .typeFp32
                    $0.dims = output.shape.map(Int64.init)
                }
            }
            // Requests are batched across clients on the backends (DESIGN.md §3.5).
            config.dynamicBatching = .init()
        }
    }

    /// Every application's statistics (`name` ""), or one application's at `version` ("" or "1").
    func statistics(name: String, version: String) throws(InferenceError) -> Inference_ModelStatisticsResponse {
        let names = name.isEmpty ? frontend.applicationNames : [try lookup(name, version: version).name]
        let stats = frontend.statistics.withLock { $0 }
        return .with { response in
            response.modelStats = names.map { name in
                let entry = stats[name] ?? ApplicationStatistics()
                return Self.modelStatistics(name: name, entry)
            }
        }
    }

    /// Triton's ModelStatistics from one application's counters: every successful request counts once in
    /// queue and each compute phase (their counts are equal, as perf_analyzer requires).
    static func modelStatistics(name: String, _ entry: ApplicationStatistics) -> Inference_ModelStatistics {
        func duration(_ count: UInt64, _ ns: UInt64) -> Inference_StatisticDuration { .with { $0.count = count; $0.ns = ns } }
        return .with {
            $0.name = name
            $0.version = version
            $0.lastInference = entry.lastInferenceMs
            $0.inferenceCount = entry.successCount
            $0.executionCount = entry.executionCount
            $0.inferenceStats = .with {
                $0.success = duration(entry.successCount, entry.successNs)
                $0.fail = duration(entry.failCount, entry.failNs)
                $0.queue = duration(entry.successCount, entry.queueNs)
                $0.computeInput = duration(entry.successCount, entry.computeInputNs)
                $0.computeInfer = duration(entry.successCount, entry.computeInferNs)
                $0.computeOutput = duration(entry.successCount, entry.computeOutputNs)
            }
            $0.batchStats = entry.batchSizes.keys.sorted().map { size in
                let totals = entry.batchSizes[size]!
                let executions = totals.executions(batchSize: size)
                return .with {
                    $0.batchSize = UInt64(size)
                    $0.computeInput = duration(executions, totals.computeInputNs)
                    $0.computeInfer = duration(executions, totals.computeInferNs)
                    $0.computeOutput = duration(executions, totals.computeOutputNs)
                }
            }
        }
    }

    static func dataType(_ dtype: TensorDType) -> Inference_DataType {
        switch dtype {
        case .uint8: return .typeUint8
        case .fp16: return .typeFp16
        case .fp32: return .typeFp32
        }
    }
}
