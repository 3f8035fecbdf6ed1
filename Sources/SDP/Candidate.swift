/// ICE candidates, `a=candidate:` (RFC 8839 section 5.1), as they appear in
/// SDP and in trickled candidate strings.

/// The candidate type after `typ`. A struct rather than an enum because
/// RFC 8839 allows extension tokens, which we keep instead of rejecting.
public struct CandidateType: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let host = CandidateType(rawValue: "host")
    public static let serverReflexive = CandidateType(rawValue: "srflx")
    public static let peerReflexive = CandidateType(rawValue: "prflx")
    public static let relay = CandidateType(rawValue: "relay")

    public var description: String { rawValue }
}

/// An extension name/value pair such as `ufrag abcd` or `network-cost 10`.
public struct CandidateExtension: Sendable, Equatable, Hashable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

public struct Candidate: Sendable, Equatable, Hashable {
    public var foundation: String
    /// 1 for RTP; 2 (RTCP) never appears with rtcp-mux but is still accepted.
    public var component: UInt16
    /// As written ("udp", "UDP", "tcp"); compare case-insensitively.
    public var transport: String
    public var priority: UInt32
    /// An IP address or, from browsers hiding local addresses, an mDNS `.local` name.
    public var address: String
    public var port: UInt16
    public var type: CandidateType
    public var relatedAddress: String?
    public var relatedPort: UInt16?
    /// active, passive or so, for TCP candidates (RFC 6544).
    public var tcpType: String?
    public var generation: UInt32?
    /// Other extensions in the order written.
    public var extensions: [CandidateExtension]

    public init(
        foundation: String, component: UInt16, transport: String, priority: UInt32,
        address: String, port: UInt16, type: CandidateType,
        relatedAddress: String? = nil, relatedPort: UInt16? = nil, tcpType: String? = nil,
        generation: UInt32? = nil, extensions: [CandidateExtension] = []
    ) {
        self.foundation = foundation
        self.component = component
        self.transport = transport
        self.priority = priority
        self.address = address
        self.port = port
        self.type = type
        self.relatedAddress = relatedAddress
        self.relatedPort = relatedPort
        self.tcpType = tcpType
        self.generation = generation
        self.extensions = extensions
    }

    /// Parses a trickled candidate, with or without the `a=` and `candidate:`
    /// prefixes, as Janus clients send them in `trickle` requests.
    public init(parsing text: String) throws(SDPError) {
        var body = Substring(text).trimmed
        if body.hasPrefix("a=") { body = body.dropFirst(2) }
        if body.hasPrefix("candidate:") { body = body.dropFirst("candidate:".count) }
        do throws(Invalid) {
            self = try Candidate.parse(body)
        } catch {
            let reason = error.reason.map { ": \($0)" } ?? ""
            throw SDPError(line: 0, message: "bad candidate '\(text)'\(reason)")
        }
    }

    static func parse(_ text: Substring) throws(Invalid) -> Candidate {
        let parts = text.fields
        guard parts.count >= 8, parts[6] == "typ" else {
            throw Invalid("expected '<foundation> <component> <transport> <priority> <address> <port> typ <type>'")
        }
        let component = try number(parts[1], "component", as: UInt16.self)
        guard (1...256).contains(component) else { throw Invalid("component \(component) not in 1..256") }
        var candidate = Candidate(
            foundation: String(parts[0]), component: component, transport: String(parts[2]),
            priority: try number(parts[3], "priority", as: UInt32.self),
            address: String(parts[4]), port: try number(parts[5], "port", as: UInt16.self),
            type: CandidateType(rawValue: String(parts[7])))
        // The rest is name/value pairs; the well-known ones get typed fields.
        let rest = parts.dropFirst(8)
        guard rest.count % 2 == 0 else { throw Invalid("extension '\(rest.last ?? "")' has no value") }
        var index = rest.startIndex
        while index < rest.endIndex {
            let name = rest[index], value = rest[index + 1]
            switch name {
            case "raddr": candidate.relatedAddress = String(value)
            case "rport": candidate.relatedPort = try number(value, "rport", as: UInt16.self)
            case "tcptype": candidate.tcpType = String(value)
            case "generation": candidate.generation = try number(value, "generation", as: UInt32.self)
            default: candidate.extensions.append(CandidateExtension(name: String(name), value: String(value)))
            }
            index += 2
        }
        return candidate
    }

    /// The attribute value, without the `candidate:` prefix.
    public var attributeValue: String {
        var parts = [foundation, "\(component)", transport, "\(priority)", address, "\(port)", "typ", type.rawValue]
        if let relatedAddress { parts += ["raddr", relatedAddress] }
        if let relatedPort { parts += ["rport", "\(relatedPort)"] }
        if let tcpType { parts += ["tcptype", tcpType] }
        if let generation { parts += ["generation", "\(generation)"] }
        for item in extensions { parts += [item.name, item.value] }
        return parts.joined(separator: " ")
    }
}
