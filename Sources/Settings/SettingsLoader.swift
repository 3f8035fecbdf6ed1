#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Reads `confab.cfg` (libconfig syntax) into `Settings`, then applies `CONFAB_*` environment overrides.
/// Every problem is reported as `file:line: message`, all of them at once.
public enum SettingsLoader {
    /// Reads the file at `path`; messages name it exactly as passed. `@include` is relative to its directory.
    public static func load(
        path: String, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(SettingsError) -> Settings {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SettingsError(.init(file: path, line: nil, key: nil, message: "cannot read the file"))
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw SettingsError(.init(file: path, line: nil, key: nil, message: "is not UTF-8 text"))
        }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        return try parse(text: text, fileName: path, includeDirectory: directory, environment: environment)
    }

    /// Parses configuration text; `fileName` only prefixes the messages.
    public static func parse(
        text: String, fileName: String, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(SettingsError) -> Settings {
        try parse(text: text, fileName: fileName, includeDirectory: nil, environment: environment)
    }

    /// The embedded defaults with the environment overrides applied, for running without a file.
    public static func defaults(
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(SettingsError) -> Settings {
        try build(document: [], fileName: "defaults", environment: environment)
    }

    private static func parse(
        text: String, fileName: String, includeDirectory: String?, environment: [String: String]
    ) throws(SettingsError) -> Settings {
        let root: ConfigNode
        do throws(LibConfigDocument.SyntaxError) {
            root = try LibConfigDocument.parse(text, includeDirectory: includeDirectory)
        } catch {
            throw SettingsError(.init(file: error.file ?? fileName, line: error.line, key: nil, message: error.message))
        }
        let document = if case .group(let members) = root.value { members } else { [ConfigNode]() }
        return try build(document: document, fileName: fileName, environment: environment)
    }

    private static func build(
        document: [ConfigNode], fileName: String, environment: [String: String]
    ) throws(SettingsError) -> Settings {
        var settings = Settings()
        var report = Report(fileName: fileName)
        let root = Input(key: "", value: .group(document), origin: .file(fileName, line: 0))
        Field.decodeMembers(document, of: root, fields: Schema.settings, into: &settings, report: &report)
        for (variable, key) in Schema.environment {
            guard let text = environment[variable], !text.isEmpty,
                  let field = Field.lookup(key, in: Schema.settings) else { continue }
            field.decode(&settings, Input(key: key, value: .string(text), origin: .environment(variable)), &report)
        }
        CrossChecks.run(settings, report: &report)
        if let first = report.problems.first {
            throw SettingsError(first, Array(report.problems.dropFirst()))
        }
        return settings
    }
}
