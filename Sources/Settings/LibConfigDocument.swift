import CLibConfig

/// The only code that touches libconfig: parse text, copy the tree into `ConfigNode`s, free everything.
enum LibConfigDocument {
    struct SyntaxError: Error {
        /// The @include file the error is in; nil for the text itself.
        var file: String?
        var line: Int
        var message: String
    }

    /// `includeDirectory` is where `@include "x.cfg"` looks; nil leaves it relative to the working directory.
    static func parse(_ text: String, includeDirectory: String?) throws(SyntaxError) -> ConfigNode {
        // On the heap: each setting points back at its config_t, so the struct must not move.
        let config = UnsafeMutablePointer<config_t>.allocate(capacity: 1)
        config_init(config)
        defer {
            config_destroy(config)
            config.deallocate()
        }
        if let includeDirectory {
            config_set_include_dir(config, includeDirectory)
        }
        guard config_read_string(config, text) == CONFIG_TRUE, let root = config.pointee.root else {
            throw SyntaxError(
                file: config.pointee.error_file.map { String(cString: $0) },
                line: Int(config.pointee.error_line),
                message: config.pointee.error_text.map { String(cString: $0) } ?? "syntax error")
        }
        return node(root)
    }

    private static func node(_ setting: UnsafePointer<config_setting_t>) -> ConfigNode {
        let value: ConfigNode.Value
        switch Int32(setting.pointee.type) {
        case CONFIG_TYPE_INT, CONFIG_TYPE_INT64: value = .integer(Int64(config_setting_get_int64(setting)))
        case CONFIG_TYPE_FLOAT: value = .float(config_setting_get_float(setting))
        case CONFIG_TYPE_STRING: value = .string(config_setting_get_string(setting).map { String(cString: $0) } ?? "")
        case CONFIG_TYPE_BOOL: value = .bool(config_setting_get_bool(setting) != 0)
        case CONFIG_TYPE_GROUP: value = .group(children(setting))
        case CONFIG_TYPE_ARRAY: value = .array(children(setting))
        default: value = .list(children(setting))
        }
        return ConfigNode(
            name: setting.pointee.name.map { String(cString: $0) },
            value: value,
            line: Int(setting.pointee.line),
            file: setting.pointee.file.map { String(cString: $0) })
    }

    private static func children(_ setting: UnsafePointer<config_setting_t>) -> [ConfigNode] {
        (0..<max(0, config_setting_length(setting))).compactMap { index in
            config_setting_get_elem(setting, UInt32(index)).map { node($0) }
        }
    }
}
