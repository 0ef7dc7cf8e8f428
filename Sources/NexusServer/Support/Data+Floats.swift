import Foundation

extension Data {
    /// The bytes as little-endian FP32 values, copied: protobuf's `Data` may start at any address, so
    /// binding it to `Float` in place could be misaligned. A trailing partial value is ignored.
    var floats: [Float] {
        let count = self.count / MemoryLayout<Float>.size
        guard count > 0 else { return [] }
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            _ = withUnsafeBytes { source in
                memcpy(buffer.baseAddress!, source.baseAddress!, count * MemoryLayout<Float>.size)
            }
            initialized = count
        }
    }
}
