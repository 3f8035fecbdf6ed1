/// One key of the schema: how its value is decoded into `Root`. Groups list their members.
struct Field<Root>: Sendable {
    let name: String
    let members: [Field<Root>]
    let decode: @Sendable (inout Root, Input, inout Report) -> Void

    /// A setting with a value: parse it, store it, and remember where it was set.
    static func value<T>(
        _ name: String, _ path: WritableKeyPath<Root, T> & Sendable,
        _ parse: @escaping @Sendable (Input) throws(Failure) -> T
    ) -> Field {
        Field(name: name, members: []) { root, input, report in
            do throws(Failure) {
                root[keyPath: path] = try parse(input)
                report.origins[input.key] = input.origin
            } catch {
                report.add(error)
            }
        }
    }

    static func group(_ name: String, _ members: [Field]) -> Field {
        Field(name: name, members: members) { root, input, report in
            guard case .group(let nodes) = input.value else {
                return report.add(input.failure("must be a group, got \(input.value.kindName)"))
            }
            decodeMembers(nodes, of: input, fields: members, into: &root, report: &report)
        }
    }

    /// Decodes each member by name. Names not in `fields` are errors, since a typo would otherwise be silently ignored.
    static func decodeMembers(
        _ nodes: [ConfigNode], of parent: Input, fields: [Field], into root: inout Root, report: inout Report
    ) {
        let prefix = parent.key.isEmpty ? "" : parent.key + "."
        for node in nodes {
            let name = node.name ?? ""
            let input = parent.child(node, key: prefix + name)
            if let field = fields.first(where: { $0.name == name }) {
                field.decode(&root, input, &report)
            } else {
                let hint = KeyHint.closest(to: name, among: fields.map(\.name)).map { " (did you mean \(prefix)\($0)?)" }
                report.add(Failure(key: input.key, origin: input.origin, message: "unknown key \(input.key)\(hint ?? "")"))
            }
        }
    }

    /// The field at a dotted key such as `http.port`.
    static func lookup(_ key: String, in fields: [Field]) -> Field? {
        var candidates = fields
        var found: Field?
        for name in key.split(separator: ".") {
            found = candidates.first { $0.name == name }
            candidates = found?.members ?? []
        }
        return found
    }
}

// Shorthands for the common kinds, so the schema reads as a table. The closures spell out
// `throws(Failure)` because Swift 6 does not infer a closure's thrown type from its context.
extension Field {
    static func bool(_ name: String, _ path: WritableKeyPath<Root, Bool> & Sendable) -> Field {
        value(name, path) { input throws(Failure) in try input.bool() }
    }

    static func integer(_ name: String, _ path: WritableKeyPath<Root, Int> & Sendable, _ range: ClosedRange<Int>) -> Field {
        value(name, path) { input throws(Failure) in try input.integer(range) }
    }

    static func integer(_ name: String, _ path: WritableKeyPath<Root, Int> & Sendable, _ range: PartialRangeFrom<Int>) -> Field {
        integer(name, path, range.lowerBound...Int.max)
    }

    static func port(_ name: String, _ path: WritableKeyPath<Root, Int> & Sendable) -> Field {
        integer(name, path, 1...65535)
    }

    /// `check` returns what is wrong ("must start with '/'"), or nil when the text is fine.
    static func string(
        _ name: String, _ path: WritableKeyPath<Root, String> & Sendable,
        _ check: @escaping @Sendable (String) -> String? = { _ in nil }
    ) -> Field {
        value(name, path) { input throws(Failure) in try input.string(check) }
    }

    static func portRange(_ name: String, _ path: WritableKeyPath<Root, Settings.PortRange> & Sendable) -> Field {
        value(name, path) { input throws(Failure) in try input.portRange() }
    }

    static func strings(
        _ name: String, _ path: WritableKeyPath<Root, [String]> & Sendable, splitCommas: Bool,
        each check: @escaping @Sendable (String) -> String? = { _ in nil }
    ) -> Field {
        value(name, path) { input throws(Failure) in try input.strings(splitCommas: splitCommas, each: check) }
    }

    static func logLevel(_ name: String, _ path: WritableKeyPath<Root, Settings.LogLevel> & Sendable) -> Field {
        value(name, path) { input throws(Failure) in try input.logLevel() }
    }

    static func iceMode(_ name: String, _ path: WritableKeyPath<Root, Settings.ICEMode> & Sendable) -> Field {
        value(name, path) { input throws(Failure) in try input.iceMode() }
    }

    static func roomID(_ name: String, _ path: WritableKeyPath<Root, UInt64> & Sendable) -> Field {
        value(name, path) { input throws(Failure) in try UInt64(input.integer(1...Int.max)) }
    }

    static func codecs(_ name: String, _ path: WritableKeyPath<Root, String> & Sendable, _ known: [String]) -> Field {
        value(name, path) { input throws(Failure) in try input.codecs(known) }
    }
}
