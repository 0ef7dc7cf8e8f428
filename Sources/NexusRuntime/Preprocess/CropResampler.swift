import NexusCore

/// Cuts a detection out of an image for a child stage (`ChildInput.crops`). One rule, written down in
/// docs/applications.md and reproduced by the cluster test's reference, so outputs can be checked exactly.
public enum CropResampler {
    /// Bilinear resampling of the continuous box over a CHW float image to `outHeight` x `outWidth`:
    /// output pixel (i, j) samples source y = y1*H + (i + 0.5) * (box height in pixels / outHeight) - 0.5,
    /// x likewise, clamped to the image, between the floor and the next pixel (clamped).
    public static func resample(chw image: [Float], channels: Int, height: Int, width: Int, box: CropBox,
                                outHeight: Int, outWidth: Int) -> [Float] {
        precondition(image.count == channels * height * width, "image has \(image.count) values, not \(channels)x\(height)x\(width)")
        func taps(start: Double, extent: Double, size: Int, outSize: Int) -> [(Int, Int, Float)] {
            let step = extent * Double(size) / Double(outSize)
            return (0..<outSize).map { o in
                let source = min(max(start * Double(size) + (Double(o) + 0.5) * step - 0.5, 0), Double(size - 1))
                let low = Int(source.rounded(.down))
                let high = min(low + 1, size - 1)
                return (low, high, Float(source - Double(low)))
            }
        }
        let ys = taps(start: box.y1, extent: box.y2 - box.y1, size: height, outSize: outHeight)
        let xs = taps(start: box.x1, extent: box.x2 - box.x1, size: width, outSize: outWidth)
        var output = [Float](repeating: 0, count: channels * outHeight * outWidth)
        for c in 0..<channels {
            let plane = c * height * width
            for (i, (y0, y1, fy)) in ys.enumerated() {
                let row0 = plane + y0 * width, row1 = plane + y1 * width
                let outRow = (c * outHeight + i) * outWidth
                for (j, (x0, x1, fx)) in xs.enumerated() {
                    let top = image[row0 + x0] + (image[row0 + x1] - image[row0 + x0]) * fx
                    let bottom = image[row1 + x0] + (image[row1 + x1] - image[row1 + x0]) * fx
                    output[outRow + j] = top + (bottom - top) * fy
                }
            }
        }
        return output
    }

    /// The pixels of the box in an HWC UINT8 frame, from floor(x1*W) up to ceil(x2*W) (at least one pixel),
    /// for a child whose preprocess resizes frames itself.
    public static func cut(hwc frame: [UInt8], height: Int, width: Int, channels: Int, box: CropBox) -> (pixels: [UInt8], height: Int, width: Int) {
        let left = min(Int((box.x1 * Double(width)).rounded(.down)), width - 1)
        let top = min(Int((box.y1 * Double(height)).rounded(.down)), height - 1)
        let right = max(min(Int((box.x2 * Double(width)).rounded(.up)), width), left + 1)
        let bottom = max(min(Int((box.y2 * Double(height)).rounded(.up)), height), top + 1)
        var pixels: [UInt8] = []
        pixels.reserveCapacity((right - left) * (bottom - top) * channels)
        for y in top..<bottom {
            let row = (y * width + left) * channels
            pixels.append(contentsOf: frame[row..<(row + (right - left) * channels)])
        }
        return (pixels, bottom - top, right - left)
    }
}
