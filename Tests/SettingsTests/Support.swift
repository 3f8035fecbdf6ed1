import Testing
@testable import Settings

/// Parses `text` as confab.cfg with no environment, so the machine running the tests cannot leak in.
func parse(_ text: String, environment: [String: String] = [:]) throws(SettingsError) -> Settings {
    try SettingsLoader.parse(text: text, fileName: "confab.cfg", environment: environment)
}

/// The full error text for `text`, or nil when it loads.
func errorText(_ text: String, environment: [String: String] = [:]) -> String? {
    do {
        _ = try parse(text, environment: environment)
        return nil
    } catch {
        return error.description
    }
}
