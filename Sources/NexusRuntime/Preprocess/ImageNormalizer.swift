import NexusCore

/// Turns an RGB HWC frame into a model input: bilinear resize (half-pixel centres, no antialiasing, as
/// torch's `interpolate(mode="bilinear", align_corners=False)`), then `(pixel / scale - mean) / std`,
/// written CHW.
public enum ImageNormalizer {
    public static func normalize(pixels: UnsafeBufferPointer<UInt8>, height: Int, width: Int, channels: Int,
                                 spec: PreprocessSpec, into output: UnsafeMutableBufferPointer<Float>) {
        let outHeight = spec.height, outWidth = spec.width
        precondition(output.count == channels * outHeight * outWidth && pixels.count == height * width * channels)
        let gain = (0..<channels).map { 1 / (spec.scale * spec.std[$0]) }
        let offset = (0..<channels).map { spec.mean[$0] / spec.std[$0] }
        if height == outHeight && width == outWidth {
            for y in 0..<height {
                for x in 0..<width {
                    let source = (y * width + x) * channels
                    for c in 0..<channels {
                        output[(c * outHeight + y) * outWidth + x] = Float(pixels[source + c]) * gain[c] - offset[c]
                    }
                }
            }
            return
        }
        let yTaps = taps(from: height, to: outHeight)
        let xTaps = taps(from: width, to: outWidth)
        for y in 0..<outHeight {
            let (y0, y1, wy) = yTaps[y]
            for x in 0..<outWidth {
                let (x0, x1, wx) = xTaps[x]
                for c in 0..<channels {
                    let p00 = Float(pixels[(y0 * width + x0) * channels + c]), p01 = Float(pixels[(y0 * width + x1) * channels + c])
                    let p10 = Float(pixels[(y1 * width + x0) * channels + c]), p11 = Float(pixels[(y1 * width + x1) * channels + c])
                    let top = p00 + (p01 - p00) * wx, bottom = p10 + (p11 - p10) * wx
                    output[(c * outHeight + y) * outWidth + x] = (top + (bottom - top) * wy) * gain[c] - offset[c]
                }
            }
        }
    }

    /// For each output index: the two source indices and the weight of the second.
    static func taps(from inSize: Int, to outSize: Int) -> [(Int, Int, Float)] {
        let ratio = Float(inSize) / Float(outSize)
        return (0..<outSize).map { index in
            let position = max(0, (Float(index) + 0.5) * ratio - 0.5)
            let lower = min(Int(position), inSize - 1)
            let upper = min(lower + 1, inSize - 1)
            return (lower, upper, position - Float(lower))
        }
    }
}
