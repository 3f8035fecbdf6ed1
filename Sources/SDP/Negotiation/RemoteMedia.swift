/// What a browser's m-line says about the media it sends: SSRCs, RTX pairs, simulcast layers.

extension MediaDescription {
    /// Announced SSRCs in the order first written, each with its RTX SSRC from `FID` groups;
    /// RTX SSRCs are not sources of their own.
    var remoteSources: [RemoteSource] {
        let pairs = ssrcGroups.filter { $0.semantics.uppercased() == "FID" && $0.ssrcs.count == 2 }
        let rtxFor = Dictionary(pairs.map { ($0.ssrcs[0], $0.ssrcs[1]) }, uniquingKeysWith: { first, _ in first })
        let repairs = Set(pairs.map { $0.ssrcs[1] })
        var seen: Set<UInt32> = []
        let ordered = (ssrcs.map(\.ssrc) + ssrcGroups.flatMap(\.ssrcs)).filter { seen.insert($0).inserted }
        return ordered.filter { !repairs.contains($0) }.map { ssrc in
            RemoteSource(ssrc: ssrc, rtxSSRC: rtxFor[ssrc],
                         cname: ssrcs.first { $0.ssrc == ssrc && $0.name == "cname" }?.value)
        }
    }

    /// The SSRC simulcast group (`a=ssrc-group:SIM`, the pre-rid form some clients still use).
    var remoteSimulcastSSRCs: [UInt32] {
        ssrcGroups.first { $0.semantics.uppercased() == "SIM" }?.ssrcs ?? []
    }

    /// The layers of `a=simulcast:send`, first alternative of each, that have an `a=rid ... send`
    /// line (RFC 8853 section 5.2: rids in the list must be declared).
    var sentSimulcastStreams: [SimulcastStream] {
        let declared = Set(rids.filter { $0.direction == .send }.map(\.id))
        return (simulcast?.send ?? []).compactMap { alternatives in
            alternatives.first { declared.contains($0.rid) }
        }
    }

    /// `a=msid`, else the msid of an `a=ssrc` line (older clients only write it there).
    var remoteMsid: MediaStreamID? {
        if let msid = msids.first { return msid }
        guard let value = ssrcs.first(where: { $0.name == "msid" })?.value else { return nil }
        let parts = value.split(separator: " ")
        guard let stream = parts.first else { return nil }
        return MediaStreamID(streamID: String(stream), trackID: parts.count > 1 ? String(parts[1]) : nil)
    }
}

extension NegotiatedMedia {
    /// Fills the remote media fields from the remote side's section when Confab receives there.
    mutating func readRemoteMedia(_ section: MediaDescription, simulcast: [SimulcastStream]) {
        remoteMsid = section.remoteMsid
        guard localDirection.receives else { return }
        remoteSources = section.remoteSources
        remoteSimulcastSSRCs = section.remoteSimulcastSSRCs
        simulcastRIDs = simulcast.map(\.rid)
    }
}
