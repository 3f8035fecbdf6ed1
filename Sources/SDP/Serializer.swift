/// Writes SDP in the conventional order (RFC 8866 section 5 for lines, the
/// order Chrome and Janus use for attributes) with CRLF line endings.
///
/// Each list is written in its stored order, so `parse(serialized())`
/// returns an equal value; only the interleaving of different attribute
/// kinds is normalised.

extension SessionDescription {
    public func serialized() -> String {
        var out = Writer()
        out.line("v", "0")
        out.line("o", origin.text)
        out.line("s", sessionName)
        if let connection { out.line("c", connection.text) }
        for bandwidth in bandwidths { out.line("b", bandwidth.text) }
        out.line("t", timing.text)
        // Lines we do not interpret (r=, z=, extra t=, ...) follow t= so a
        // repeated t= can never take the place of the real one.
        for other in otherLines { out.line(other.type, other.value) }
        if iceLite { out.attribute("ice-lite") }
        for group in groups { out.attribute("group", group.text) }
        if extmapAllowMixed { out.attribute("extmap-allow-mixed") }
        if let msidSemantic { out.attribute("msid-semantic", msidSemantic.text) }
        out.shared(self)
        if let direction { out.attribute(direction.rawValue) }
        for attribute in attributes { out.attribute(attribute) }
        for section in media { out.media(section) }
        return out.text
    }
}

extension MediaDescription {
    /// This section alone, starting with its m= line.
    public func serialized() -> String {
        var out = Writer()
        out.media(self)
        return out.text
    }
}

extension Candidate {
    /// The full `candidate:...` form used in trickle messages.
    public var sdpAttribute: String { "candidate:" + attributeValue }
}

private struct Writer {
    var text = ""

    mutating func line(_ type: Character, _ value: String) {
        text.append(type)
        text += "="
        text += value
        text += "\r\n"
    }

    mutating func attribute(_ name: String, _ value: String? = nil) {
        line("a", value.map { "\(name):\($0)" } ?? name)
    }

    mutating func attribute(_ attribute: Attribute) { line("a", attribute.text) }

    /// ICE and DTLS attributes, in the order Chrome writes them; direction and
    /// extmap-allow-mixed go elsewhere at each level.
    mutating func shared(_ source: some SharedAttributes) {
        if let ufrag = source.iceUfrag { attribute("ice-ufrag", ufrag) }
        if let pwd = source.icePwd { attribute("ice-pwd", pwd) }
        if let options = source.iceOptions { attribute("ice-options", options.joined(separator: " ")) }
        for fingerprint in source.fingerprints { attribute("fingerprint", fingerprint.text) }
        if let setup = source.setup { attribute("setup", setup.rawValue) }
    }

    mutating func media(_ m: MediaDescription) {
        let port = m.portCount.map { "\(m.port)/\($0)" } ?? "\(m.port)"
        line("m", ([m.kind.rawValue, port, m.proto] + m.formats).joined(separator: " "))
        for other in m.otherLines { line(other.type, other.value) }
        if let connection = m.connection { line("c", connection.text) }
        for bandwidth in m.bandwidths { line("b", bandwidth.text) }

        shared(m)
        if let mid = m.mid { attribute("mid", mid) }
        for extMap in m.extMaps { attribute("extmap", extMap.text) }
        if m.extmapAllowMixed { attribute("extmap-allow-mixed") }
        if let direction = m.direction { attribute(direction.rawValue) }
        for msid in m.msids { attribute("msid", msid.text) }
        if m.rtcpMux { attribute("rtcp-mux") }
        if m.rtcpMuxOnly { attribute("rtcp-mux-only") }
        if m.rtcpReducedSize { attribute("rtcp-rsize") }
        codecs(m)
        for rid in m.rids { attribute("rid", rid.text) }
        if let simulcast = m.simulcast { attribute("simulcast", simulcast.text) }
        for group in m.ssrcGroups { attribute("ssrc-group", group.text) }
        for ssrc in m.ssrcs { attribute("ssrc", ssrc.text) }
        if let port = m.sctpPort { attribute("sctp-port", "\(port)") }
        if let size = m.maxMessageSize { attribute("max-message-size", "\(size)") }
        for attribute in m.attributes { self.attribute(attribute) }
        for candidate in m.candidates { attribute("candidate", candidate.attributeValue) }
        if m.endOfCandidates { attribute("end-of-candidates") }
    }

    /// rtpmap, rtcp-fb and fmtp grouped per payload type (rtpmap, then its
    /// feedback, then its fmtp). A merge that only takes items from the front
    /// of each list, so every list keeps its own order whatever the input was.
    private mutating func codecs(_ m: MediaDescription) {
        var feedback = m.rtcpFeedback[...]
        var fmtps = m.fmtps[...]
        for map in m.rtpMaps {
            attribute("rtpmap", map.text)
            while let next = feedback.first, next.payloadType == map.payloadType {
                attribute("rtcp-fb", next.text)
                feedback = feedback.dropFirst()
            }
            while let next = fmtps.first, next.payloadType == map.payloadType {
                attribute("fmtp", next.text)
                fmtps = fmtps.dropFirst()
            }
        }
        for rest in feedback { attribute("rtcp-fb", rest.text) }
        for rest in fmtps { attribute("fmtp", rest.text) }
    }
}
