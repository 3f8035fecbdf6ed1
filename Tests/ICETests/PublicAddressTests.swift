/// nat_1_1_mapping: an IP as it is, "auto" from general.public_url's host (no real lookups here).
import Testing
import Net
@testable import ICE

@Suite struct PublicAddressTests {
    let noLookup: (String) -> TransportAddress? = { _ in nil }

    @Test func literalAddressesAndEmptyMapping() {
        #expect(PublicAddress.resolve(mapping: "", publicURL: "https://x") == .none)
        #expect(PublicAddress.resolve(mapping: "203.0.113.9", publicURL: "", lookup: noLookup)
            == .address(TransportAddress(ip: "203.0.113.9", port: 0)!))
        #expect(PublicAddress.resolve(mapping: "2001:db8::9", publicURL: "", lookup: noLookup)
            == .address(TransportAddress(ip: "2001:db8::9", port: 0)!))
    }

    @Test func autoUsesThePublicURLHost() {
        #expect(PublicAddress.resolve(mapping: "auto", publicURL: "https://198.51.100.4:8443/room", lookup: noLookup)
            == .address(TransportAddress(ip: "198.51.100.4", port: 0)!))
        #expect(PublicAddress.resolve(mapping: "auto", publicURL: "https://[2001:db8::4]/", lookup: noLookup)
            == .address(TransportAddress(ip: "2001:db8::4", port: 0)!))
        let meet = TransportAddress(ip: "192.0.2.77", port: 0)!
        #expect(PublicAddress.resolve(mapping: "auto", publicURL: "https://meet.example.org") { $0 == "meet.example.org" ? meet : nil }
            == .address(meet))
    }

    @Test func unusableMappingsSayWhy() {
        guard case .unusable(let reason) = PublicAddress.resolve(mapping: "auto", publicURL: "", lookup: noLookup) else {
            Issue.record("expected unusable"); return
        }
        #expect(reason.contains("general.public_url"))
        guard case .unusable = PublicAddress.resolve(mapping: "auto", publicURL: "https://nowhere.invalid", lookup: noLookup),
              case .unusable = PublicAddress.resolve(mapping: "my-nat", publicURL: "", lookup: noLookup) else {
            Issue.record("expected unusable"); return
        }
    }
}
