// `media.nat_1_1_mapping`: the public address to announce when Confab sits behind a 1:1 NAT
// (a cloud VM, a container with published ports). An IP is taken as it is; "auto" means the
// address the host of `general.public_url` resolves to, so one setting serves both.

#if canImport(FoundationEssentials)
import FoundationEssentials
import Glibc
#else
import Foundation
#endif
import Net

public enum PublicAddress {
    public enum Resolution: Equatable, Sendable {
        case none
        case address(TransportAddress)
        /// The mapping could not be used; announce the local addresses and say why.
        case unusable(String)
    }

    public static func resolve(mapping: String, publicURL: String,
                               lookup: (String) -> TransportAddress? = PublicAddress.lookup) -> Resolution {
        guard !mapping.isEmpty else { return .none }
        if let address = TransportAddress(ip: mapping, port: 0) { return .address(address) }
        guard mapping == "auto" else { return .unusable("media.nat_1_1_mapping must be an IP address or \"auto\"") }
        guard let host = URL(string: publicURL)?.host, !host.isEmpty else {
            return .unusable("media.nat_1_1_mapping = \"auto\" needs general.public_url")
        }
        let bare = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        if let literal = TransportAddress(ip: bare, port: 0) { return .address(literal) }
        guard let resolved = lookup(bare) else { return .unusable("cannot resolve \(bare) (general.public_url)") }
        return .address(resolved)
    }

    /// The first address getaddrinfo gives for `host`.
    public static func lookup(_ host: String) -> TransportAddress? {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &result) == 0, let first = result else { return nil }
        defer { freeaddrinfo(result) }
        return first.pointee.ai_addr.flatMap { TransportAddress(sockaddr: UnsafeRawPointer($0)) }
    }
}
