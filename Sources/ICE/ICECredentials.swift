// Local ICE credentials (RFC 8445 §5.3): a ufrag of at least 24 bits and a password of at
// least 128 bits of randomness, drawn from the ice-char alphabet.

public struct ICECredentials: Sendable, Hashable {
    public let ufrag: String
    public let pwd: String

    public init(ufrag: String, pwd: String) {
        self.ufrag = ufrag
        self.pwd = pwd
    }

    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")

    /// 8 ice-chars (48 bits) of ufrag and 24 (144 bits) of password.
    public static func random() -> ICECredentials {
        var generator = SystemRandomNumberGenerator()
        func draw(_ count: Int) -> String {
            String((0..<count).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] })
        }
        return ICECredentials(ufrag: draw(8).replacingSlash(), pwd: draw(24))
    }
}

private extension String {
    /// A ufrag travels inside USERNAME "a:b" and in URLs of some tools; keep it alphanumeric.
    func replacingSlash() -> String {
        String(map { $0 == "/" || $0 == "+" ? "x" : $0 })
    }
}
