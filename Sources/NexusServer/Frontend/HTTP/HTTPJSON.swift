import Foundation
import NexusProtocol

/// The protocol's messages as Triton's HTTP API writes them: snake_case names, integers as JSON numbers
/// (protobuf's own JSON form writes int64 as strings, which Triton's clients do not parse).
enum HTTPJSON {
    static func data(_ object: Any) -> Data {
        (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
    }

    static func error(_ message: String) -> Data { data(["error": message]) }

    static func value(_ parameter: Inference_InferParameter) -> Any {
        switch parameter.parameterChoice {
        case let .boolParam(value)?: return value
        case let .int64Param(value)?: return value
        case let .stringParam(value)?: return value
        case let .doubleParam(value)?: return value
        case let .uint64Param(value)?: return value
        case nil: return NSNull()
        }
    }

    static func serverMetadata(_ metadata: Inference_ServerMetadataResponse) -> [String: Any] {
        ["name": metadata.name, "version": metadata.version, "extensions": metadata.extensions]
    }

    static func modelMetadata(_ metadata: Inference_ModelMetadataResponse) -> [String: Any] {
        func tensors(_ list: [Inference_ModelMetadataResponse.TensorMetadata]) -> [[String: Any]] {
            list.map { ["name": $0.name, "datatype": $0.datatype, "shape": $0.shape] }
        }
        return ["name": metadata.name, "versions": metadata.versions, "platform": metadata.platform,
                "inputs": tensors(metadata.inputs), "outputs": tensors(metadata.outputs)]
    }

    static func modelConfig(_ config: Inference_ModelConfig) -> [String: Any] {
        func tensor(name: String, type: Inference_DataType, dims: [Int64]) -> [String: Any] {
            ["name": name, "data_type": dataTypeName(type), "dims": dims]
        }
        return [
            "name": config.name, "platform": config.platform, "backend": config.backend,
            "max_batch_size": config.maxBatchSize,
            "input": config.input.map { tensor(name: $0.name, type: $0.dataType, dims: $0.dims) },
            "output": config.output.map { tensor(name: $0.name, type: $0.dataType, dims: $0.dims) },
            "dynamic_batching": [String: Any](),
        ]
    }

    /// `TYPE_FP32` and its kin, the names Triton's configuration uses.
    static func dataTypeName(_ type: Inference_DataType) -> String {
        switch type {
        case .typeUint8: return "TYPE_UINT8"
        case .typeFp16: return "TYPE_FP16"
        case .typeFp32: return "TYPE_FP32"
        default: return "TYPE_INVALID"
        }
    }

    static func statistics(_ response: Inference_ModelStatisticsResponse) -> [String: Any] {
        func duration(_ stat: Inference_StatisticDuration) -> [String: Any] { ["count": stat.count, "ns": stat.ns] }
        return ["model_stats": response.modelStats.map { model -> [String: Any] in
            let stats = model.inferenceStats
            return [
                "name": model.name, "version": model.version, "last_inference": model.lastInference,
                "inference_count": model.inferenceCount, "execution_count": model.executionCount,
                "inference_stats": [
                    "success": duration(stats.success), "fail": duration(stats.fail), "queue": duration(stats.queue),
                    "compute_input": duration(stats.computeInput), "compute_infer": duration(stats.computeInfer),
                    "compute_output": duration(stats.computeOutput), "cache_hit": duration(stats.cacheHit),
                    "cache_miss": duration(stats.cacheMiss),
                ],
                "batch_stats": model.batchStats.map { batch -> [String: Any] in
                    ["batch_size": batch.batchSize, "compute_input": duration(batch.computeInput),
                     "compute_infer": duration(batch.computeInfer), "compute_output": duration(batch.computeOutput)]
                },
            ]
        }]
    }
}
