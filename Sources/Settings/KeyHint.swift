/// "did you mean" suggestions for unknown keys.
enum KeyHint {
    /// The candidate within edit distance 2 of `name` (closest first, then schema order), or nil.
    static func closest(to name: String, among candidates: [String]) -> String? {
        candidates
            .map { (candidate: $0, distance: distance(name, $0)) }
            .filter { $0.distance <= 2 }
            .min { $0.distance < $1.distance }?
            .candidate
    }

    /// Levenshtein distance over characters.
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1]
            for (j, y) in b.enumerated() {
                current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1)))
            }
            previous = current
        }
        return previous[b.count]
    }
}
