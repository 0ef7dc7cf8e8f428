import Foundation
import NexusProtocol

/// An inference answer in Triton's HTTP form: a JSON header, then the bytes of each output the client asked
/// for as binary data (`binary_data_size` in its parameters), in the order of the header's outputs.
enum HTTPInferResponse {
    struct Encoded {
        var body: Data
        /// The JSON part's length when binary outputs follow it (`Inference-Header-Content-Length`), else nil.
        var headerLength: Int?
    }

    static func encode(_ response: Inference_ModelInferResponse, binaryOutputs: Set<String>) -> Encoded {
        var binary = Data()
        let outputs: [[String: Any]] = zip(response.outputs, response.rawOutputContents).map { output, bytes in
            var json: [String: Any] = ["name": output.name, "datatype": output.datatype, "shape": output.shape]
            if binaryOutputs.contains(output.name) {
                json["parameters"] = ["binary_data_size": bytes.count]
                binary.append(bytes)
            } else {
                json["data"] = floats(bytes).map(Double.init)
            }
            return json
        }
        var header: [String: Any] = [
            "model_name": response.modelName, "model_version": response.modelVersion, "outputs": outputs,
            "parameters": response.parameters.mapValues(HTTPJSON.value),
        ]
        if !response.id.isEmpty { header["id"] = response.id }
        let json = HTTPJSON.data(header)
        guard !binary.isEmpty else { return Encoded(body: json, headerLength: nil) }
        return Encoded(body: json + binary, headerLength: json.count)
    }

    /// Little-endian FP32 values, as the backends send them.
    static func floats(_ bytes: Data) -> [Float] {
        var values = [Float](repeating: 0, count: bytes.count / MemoryLayout<Float>.size)
        _ = values.withUnsafeMutableBytes { bytes.copyBytes(to: $0) }
        return values
    }
}
