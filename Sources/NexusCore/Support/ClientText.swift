/// Text a client sent (a model name, an input name, a datatype), as an error message quotes it. Errors are
/// cut to a bounded length: a 16 KB model name echoed in full makes the error itself too large to deliver,
/// and a few hundred such errors close the client's connection.
public enum ClientText {
    /// Characters kept of one quoted client string.
    public static let maxCharacters = 64

    /// `text` whole when short, else its first `maxCharacters` characters and how long it was.
    public static func quote(_ text: String) -> String {
        guard text.utf8.count > maxCharacters else { return text }
        return "\(text.prefix(maxCharacters))... (\(text.utf8.count) bytes)"
    }
}
