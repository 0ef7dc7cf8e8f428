/// How an image (a JPEG, or a UINT8 HWC RGB frame) becomes a model's input: bilinear resize to
/// `height` x `width`, then `(pixel / scale - mean[c]) / std[c]` per channel, laid out CHW.
public struct PreprocessSpec: Sendable, Equatable {
    public var height: Int
    public var width: Int
    public var scale: Float
    public var mean: [Float]
    public var std: [Float]

    public init(height: Int, width: Int, scale: Float = 255, mean: [Float], std: [Float]) {
        self.height = height
        self.width = width
        self.scale = scale
        self.mean = mean
        self.std = std
    }
}
