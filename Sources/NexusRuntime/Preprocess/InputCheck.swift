import NexusCore

/// What a raw tensor sent for a model is, once its shape, datatype and byte count have been checked: the
/// model's own input, or a frame its preprocess resizes. Shared by the backend's decoder and the
/// frontend, which rejects a bad request before it costs a hop.
public enum InputForm: Sendable, Equatable {
    case modelInput
    case frame(height: Int, width: Int, channels: Int)
}

public enum InputCheck {
    /// `rawShape` may carry a leading batch dimension of 1.
    public static func check(dtype: TensorDType, rawShape: [Int], byteCount: Int, for spec: ModelSpec) throws(InferenceError) -> InputForm {
        let shape = rawShape.count > 1 && rawShape.first == 1 && rawShape.count != spec.input.shape.count ? Array(rawShape.dropFirst()) : rawShape
        if shape.isEmpty {
            throw .invalidArgument("input '\(spec.input.name)' shape []: a tensor needs at least one dimension")
        }
        let expectedBytes: Int
        switch ClientShape.byteCount(shape, elementBytes: dtype.byteSize) {
        case let .success(bytes): expectedBytes = bytes
        case .failure(.dimensionBelowOne):
            throw .invalidArgument("input '\(spec.input.name)' shape \(ClientShape.describe(rawShape)): every dimension must be at least 1")
        case .failure(.overflow):
            throw .invalidArgument("input '\(spec.input.name)' shape \(ClientShape.describe(rawShape)) of \(dtype.rawValue) is larger than any request can be (more than \(Int.max) bytes)")
        }
        guard byteCount == expectedBytes else {
            throw .invalidArgument("input '\(spec.input.name)' has \(byteCount) bytes; shape \(ClientShape.describe(rawShape)) of \(dtype.rawValue) needs \(expectedBytes)")
        }
        if shape == spec.input.shape {
            guard dtype == spec.input.dtype else {
                throw .invalidArgument("input '\(spec.input.name)' datatype \(dtype.rawValue) does not match model '\(spec.name)''s \(spec.input.dtype.rawValue)")
            }
            return .modelInput
        }
        if spec.preprocess != nil, dtype == .uint8, shape.count == 3, shape[2] == spec.input.shape[0] {
            guard shape[0] <= TurboJPEG.maxSide, shape[1] <= TurboJPEG.maxSide else {
                throw .invalidArgument("input '\(spec.input.name)' frame \(shape[0])x\(shape[1]): each side must be at most \(TurboJPEG.maxSide)")
            }
            return .frame(height: shape[0], width: shape[1], channels: shape[2])
        }
        var expected = "\(spec.input.shape) of \(spec.input.dtype.rawValue)"
        if spec.preprocess != nil { expected += ", or an image [height, width, \(spec.input.shape[0])] of UINT8" }
        throw .invalidArgument("input '\(spec.input.name)' shape \(ClientShape.describe(rawShape)) does not match model '\(spec.name)': expected \(expected)")
    }
}
