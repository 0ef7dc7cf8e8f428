/// Element type of a tensor as the Open Inference Protocol names it (`FP32`, ...).
public enum TensorDType: String, Sendable, CaseIterable, Codable {
    case uint8 = "UINT8"
    case fp16 = "FP16"
    case fp32 = "FP32"

    public var byteSize: Int {
        switch self {
        case .uint8: return 1
        case .fp16: return 2
        case .fp32: return 4
        }
    }
}

/// A named tensor of one sample: its shape has no batch dimension.
public struct TensorSpec: Sendable, Equatable, Codable {
    public var name: String
    public var dtype: TensorDType
    public var shape: [Int]

    public init(name: String, dtype: TensorDType, shape: [Int]) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
    }

    public var elementCount: Int { shape.reduce(1, *) }
    public var byteCount: Int { elementCount * dtype.byteSize }
}
