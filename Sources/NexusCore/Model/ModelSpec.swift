/// One model of the repository (DESIGN.md §2), with every path resolved: what a runtime needs to load it
/// and what a backend needs to check and prepare requests for it.
public struct ModelSpec: Sendable, Equatable {
    public var name: String
    /// The model's folder, `<repo>/<name>`.
    public var directory: String
    /// The TorchScript file that runs the whole model, or for a prefix-family member, its head alone.
    public var filePath: String
    /// For a prefix-family member: the base model whose (first) output feeds this model's head.
    public var prefix: String?
    public var input: TensorSpec
    public var maxBatch: Int
    public var outputs: [TensorSpec]
    public var preprocess: PreprocessSpec?

    public init(name: String, directory: String, filePath: String, prefix: String? = nil, input: TensorSpec,
                maxBatch: Int, outputs: [TensorSpec], preprocess: PreprocessSpec? = nil) {
        self.name = name
        self.directory = directory
        self.filePath = filePath
        self.prefix = prefix
        self.input = input
        self.maxBatch = maxBatch
        self.outputs = outputs
        self.preprocess = preprocess
    }

    public var isHead: Bool { prefix != nil }
}
