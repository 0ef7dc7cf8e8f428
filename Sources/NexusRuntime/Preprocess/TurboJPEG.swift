import Foundation
import Glibc

/// JPEG decoding with libjpeg-turbo's TurboJPEG API, opened with dlopen (like libtorch) so `nexus` runs on
/// machines without it and only JPEG requests need it.
public final class TurboJPEG: @unchecked Sendable {
    typealias Init = @convention(c) () -> UnsafeMutableRawPointer?
    typealias Header = @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<UInt8>?, UInt, UnsafeMutablePointer<Int32>?,
                                       UnsafeMutablePointer<Int32>?, UnsafeMutablePointer<Int32>?, UnsafeMutablePointer<Int32>?) -> Int32
    typealias Decompress = @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<UInt8>?, UInt, UnsafeMutablePointer<UInt8>?,
                                           Int32, Int32, Int32, Int32, Int32) -> Int32
    typealias ErrorString = @convention(c) (UnsafeMutableRawPointer?) -> UnsafeMutablePointer<CChar>?
    typealias Destroy = @convention(c) (UnsafeMutableRawPointer?) -> Int32

    /// Larger frames are refused before decoding: 8192 x 8192 RGB is already 192 MiB.
    public static let maxSide = 8192
    static let libraryNames = ["libturbojpeg.so.0", "libturbojpeg.so"]
    /// TJPF_RGB: three bytes per pixel in R, G, B order.
    static let pixelFormatRGB: Int32 = 0

    let initDecompress: Init
    let header: Header
    let decompress: Decompress
    let errorString: ErrorString
    let destroy: Destroy

    /// Opened once per process; the error says which library names were tried.
    public static let shared: Result<TurboJPEG, RuntimeError> = {
        for name in libraryNames {
            if let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL) {
                func symbol<T>(_ symbol: String, _: T.Type) -> T? { dlsym(handle, symbol).map { unsafeBitCast($0, to: T.self) } }
                if let i = symbol("tjInitDecompress", Init.self), let h = symbol("tjDecompressHeader3", Header.self),
                   let d = symbol("tjDecompress2", Decompress.self), let e = symbol("tjGetErrorStr2", ErrorString.self),
                   let x = symbol("tjDestroy", Destroy.self) {
                    return .success(TurboJPEG(initDecompress: i, header: h, decompress: d, errorString: e, destroy: x))
                }
            }
        }
        return .failure(.libraryUnavailable(paths: libraryNames, reason: "JPEG input needs libjpeg-turbo (Debian: libturbojpeg0)"))
    }()

    init(initDecompress: @escaping Init, header: @escaping Header, decompress: @escaping Decompress,
         errorString: @escaping ErrorString, destroy: @escaping Destroy) {
        self.initDecompress = initDecompress
        self.header = header
        self.decompress = decompress
        self.errorString = errorString
        self.destroy = destroy
    }

    /// Decodes to RGB, HWC, one byte per channel. Errors are `invalidArgument` with TurboJPEG's message.
    public func decodeRGB(_ jpeg: [UInt8]) throws -> (pixels: [UInt8], height: Int, width: Int) {
        guard let handle = initDecompress() else { throw RuntimeError.invalidArgument("JPEG decoder could not start") }
        defer { _ = destroy(handle) }
        func failure(_ what: String) -> RuntimeError {
            RuntimeError.invalidArgument("\(what): \(errorString(handle).map { String(cString: $0) } ?? "unknown error")")
        }
        var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
        let headerStatus = jpeg.withUnsafeBufferPointer { header(handle, $0.baseAddress, UInt($0.count), &width, &height, &subsampling, &colorspace) }
        if headerStatus != 0 { throw failure("not a JPEG image") }
        guard width > 0, height > 0, Int(width) <= Self.maxSide, Int(height) <= Self.maxSide else {
            throw RuntimeError.invalidArgument("JPEG of \(width)x\(height) pixels: each side must be 1...\(Self.maxSide)")
        }
        var pixels = [UInt8](repeating: 0, count: Int(width) * Int(height) * 3)
        let status = jpeg.withUnsafeBufferPointer { source in
            pixels.withUnsafeMutableBufferPointer { target in
                decompress(handle, source.baseAddress, UInt(source.count), target.baseAddress, width, 0, height, Self.pixelFormatRGB, 0)
            }
        }
        if status != 0 { throw failure("cannot decode JPEG") }
        return (pixels, Int(height), Int(width))
    }
}
