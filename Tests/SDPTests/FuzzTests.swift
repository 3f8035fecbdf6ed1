import Testing
@testable import SDP

/// Mutated real descriptions and random bytes must never crash the parser,
/// and whatever it accepts must survive a serialize/parse round trip.
@Suite struct FuzzTests {
    /// SplitMix64: deterministic, so a failure reproduces.
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ bound: Int) -> Int { bound <= 0 ? 0 : Int(next() % UInt64(bound)) }
    }

    /// Tokens that sit on parser boundaries.
    static let tokens = ["", " ", "0", "-1", "127", "128", "255", "256", "65535", "65536", "4294967296",
                         "18446744073709551616", "*", ":", "/", ";", ",", "~", "=", "typ", "raddr", "send", "recv",
                         "a=", "m=", "\r", "\n", "\u{301}", "\u{600}", "é", "🇫🇷", "\0", "\u{FFFD}"]

    static func mutate(_ text: String, _ random: inout Random) -> String {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for _ in 0...random.below(4) {
            guard !lines.isEmpty else { break }
            let index = random.below(lines.count)
            switch random.below(7) {
            case 0: lines.remove(at: index)
            case 1: lines.insert(lines[random.below(lines.count)], at: index)
            case 2: lines.swapAt(index, random.below(lines.count))
            case 3:
                // Replace one space-separated token with a boundary value.
                var fields = lines[index].split(separator: " ", omittingEmptySubsequences: false).map(String.init)
                fields[random.below(fields.count)] = tokens[random.below(tokens.count)]
                lines[index] = fields.joined(separator: " ")
            case 4:
                var bytes = Array(lines[index].utf8)
                let position = random.below(bytes.count + 1)
                bytes.insert(UInt8(truncatingIfNeeded: random.next()), at: position)
                lines[index] = String(decoding: bytes, as: UTF8.self)
            case 5:
                var bytes = Array(lines[index].utf8)
                if !bytes.isEmpty { bytes.remove(at: random.below(bytes.count)) }
                lines[index] = String(decoding: bytes, as: UTF8.self)
            default:
                lines[index] = String(lines[index].prefix(random.below(lines[index].count + 1)))
            }
        }
        return lines.joined(separator: random.below(2) == 0 ? "\n" : "\r\n")
    }

    static func randomBytes(_ random: inout Random) -> String {
        let bytes = (0..<random.below(300)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        // Half the time start like SDP so the noise reaches deeper code.
        let prefix = random.below(2) == 0 ? "v=0\no=- 1 1 IN IP4 0.0.0.0\n" : ""
        return prefix + String(decoding: bytes, as: UTF8.self)
    }

    @Test func neverCrashesAndRoundTrips() {
        var random = Random(state: 0x5DB_C0FFEE)
        let seeds = [Fixtures.chromeOffer, Fixtures.firefoxOffer, Fixtures.janusAnswer]
        var accepted = 0, rejected = 0
        for round in 0..<10_000 {
            let input = round % 5 == 4 ? Self.randomBytes(&random) : Self.mutate(seeds[round % 3], &random)
            do {
                let parsed = try SessionDescription.parse(input)
                accepted += 1
                let written = parsed.serialized()
                do {
                    let again = try SessionDescription.parse(written)
                    if again != parsed { Issue.record("round trip changed the value for input:\n\(input)") }
                } catch {
                    Issue.record("serialized output did not parse: \(error)\ninput:\n\(input)")
                }
            } catch {
                rejected += 1
                #expect(error.line >= 0 && !error.message.isEmpty)
            }
        }
        // Both paths must actually be exercised.
        #expect(accepted > 1000)
        #expect(rejected > 1000)
    }
}
