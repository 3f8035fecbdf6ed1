/// Choosing the one codec and the header extensions of an answered m-line.

extension MediaDescription {
    /// The offered codec Confab answers with: the first preferred name the offer has, and among
    /// several offers of that name the variant most receivers decode (see `variantRank`).
    func preferredCodec(_ preferences: CodecPreferences) -> Codec? {
        let offered = codecs
        for name in preferences.names(for: kind) {
            let wanted = name.lowercased()
            let variants = offered.filter { $0.name.lowercased() == wanted }
            // min(by:) keeps the first of equal ranks, so ties go to the offer's order.
            if let best = variants.min(by: { Self.variantRank($0, preferences) < Self.variantRank($1, preferences) }) {
                return best
            }
        }
        return nil
    }

    /// Lower is better. H.264: packetization-mode=1 (what browsers send) first, then the
    /// preferred profiles. VP9 and AV1: profile 0 (8-bit 4:2:0), which every decoder handles.
    private static func variantRank(_ codec: Codec, _ preferences: CodecPreferences) -> Int {
        switch codec.name.lowercased() {
        case "h264":
            // RFC 6184: without the parameter the profile is 420010 (baseline) and the mode 0.
            let profile = (codec.parameter("profile-level-id") ?? "420010").lowercased()
            let profileRank = preferences.h264ProfileLevelIDs.map { $0.lowercased() }.firstIndex(of: profile)
                ?? preferences.h264ProfileLevelIDs.count
            let modeRank = codec.parameter("packetization-mode") == "1" ? 0 : 1
            return modeRank * 1000 + profileRank
        case "vp9":
            return ["0", nil].contains(codec.parameter("profile-id")) ? 0 : 1
        case "av1":
            return ["0", nil].contains(codec.parameter("profile")) ? 0 : 1
        default:
            return 0
        }
    }

    /// The answer's extmaps: known URIs with usable ids, keeping the offer's ids (RFC 8285
    /// section 6), each at most once, and only when their direction still allows a use under
    /// the answer's m-line direction (Firefox offers some as `/recvonly`).
    func answeredExtMaps(direction: Direction) -> [ExtMap] {
        var seen: Set<String> = []
        return extMaps.compactMap { map in
            guard let known = HeaderExtension(rawValue: map.uri), known.applies(to: kind),
                  HeaderExtension.usableIDs.contains(map.id), seen.insert(map.uri).inserted else { return nil }
            guard let offered = map.direction else { return ExtMap(id: map.id, uri: map.uri) }
            let answered = offered.reversed.intersection(direction)
            return answered == .inactive ? nil : ExtMap(id: map.id, direction: answered, uri: map.uri)
        }
    }
}

extension NegotiatedCodec {
    /// The codec as offered in `section`, with the feedback Confab supports and its RTX format;
    /// RTX is only worth negotiating with NACK, since retransmissions answer NACKs.
    init(offered codec: Codec, in section: MediaDescription) {
        let feedback = NegotiatedFeedback(codec.feedback)
        self.init(payloadType: codec.payloadType, name: codec.name, clockRate: codec.clockRate, channels: codec.channels,
                  fmtp: FormatParameter.text(codec.parameters),
                  rtxPayloadType: feedback.contains(.nack) ? section.rtxPayloadType(for: codec.payloadType) : nil,
                  feedback: feedback)
    }
}
