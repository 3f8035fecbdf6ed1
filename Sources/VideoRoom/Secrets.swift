/// Janus's JANUS_CHECK_SECRET: when `expected` is set, `member` must be present, a string, and equal.
func checkSecret(_ expected: String?, in request: RequestBody, member: String) throws(VideoRoomError) {
    guard let expected else { return }
    try request.validate([.string(member, required: true)])
    guard constantTimeEquals(request.string(member) ?? "", expected) else { throw .wrong(member) }
}

/// Compares without leaking, through timing, how much of a secret matched.
func constantTimeEquals(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8), y = Array(b.utf8)
    var difference = UInt8(truncatingIfNeeded: x.count ^ y.count)
    for i in 0..<max(x.count, y.count) {
        difference |= (i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0)
    }
    return difference == 0 && x.count == y.count
}
