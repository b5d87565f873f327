import VirtError

extension JSONValue {
    /// Applies a JSON patch (RFC 6902) to this value and returns the result.
    ///
    /// `operations` is the patch document: an array of operation objects (`add`, `remove`, `replace`,
    /// `move`, `copy`, `test`) whose `path` and `from` are JSON pointers (RFC 6901, with `~0` for `~`, `~1`
    /// for `/`, and `-` for "after the last array element"). Operations apply in order and the patch is
    /// atomic: on any failure nothing is returned but the error.
    ///
    /// - Throws: `VirtError(.badRequest)` if the document is malformed (not an array, an operation without
    ///   `op`, `path`, `value` or `from`, an unknown `op`, a pointer that does not start with `/`);
    ///   `VirtError(.invalid)` if an operation cannot be applied (a path that does not exist, an array
    ///   index out of range, a failed `test`). Messages name the operation's index and path, e.g.
    ///   `json patch operation 2 (replace /spec/foo): path not found`.
    public func applyingJSONPatch(_ operations: JSONValue) throws(VirtError) -> JSONValue {
        let decoded = try JSONPatchOperation.decode(operations)
        var document = self
        for (index, operation) in decoded.enumerated() {
            do {
                try operation.apply(to: &document)
            } catch {
                throw VirtError(.invalid, "json patch operation \(index) (\(operation.summary)): \(error.message)")
            }
        }
        return document
    }
}

/// Why an operation could not be applied; becomes the tail of a `VirtError` message.
private struct JSONPatchFailure: Error {
    var message: String
    init(_ message: String) { self.message = message }

    /// A pointer that goes through a scalar: `path not found: /spec is a string, not an object or array`.
    static func notContainer(_ value: JSONValue, at pointer: JSONPointer, role: String) -> JSONPatchFailure {
        JSONPatchFailure("\(role) not found: \(pointer) is a \(value.typeName), not an object or array")
    }
}

/// One decoded RFC 6902 operation.
private struct JSONPatchOperation {
    enum Kind {
        case add(JSONValue)
        case remove
        case replace(JSONValue)
        case move(from: JSONPointer)
        case copy(from: JSONPointer)
        case test(JSONValue)
    }

    var kind: Kind
    var path: JSONPointer

    /// `replace /spec/foo`, or `move /a from /b`, for error messages.
    var summary: String {
        switch kind {
        case .add: "add \(path)"
        case .remove: "remove \(path)"
        case .replace: "replace \(path)"
        case .test: "test \(path)"
        case .move(let from): "move \(path) from \(from)"
        case .copy(let from): "copy \(path) from \(from)"
        }
    }

    /// Decodes and checks the whole document before anything is applied, so a malformed patch is always
    /// reported as a bad request, whatever its earlier operations would have done.
    static func decode(_ document: JSONValue) throws(VirtError) -> [JSONPatchOperation] {
        guard case .array(let elements) = document else {
            throw VirtError(.badRequest, "json patch document must be an array of operations, not \(document.typeNameWithArticle)")
        }
        var operations: [JSONPatchOperation] = []
        operations.reserveCapacity(elements.count)
        for (index, element) in elements.enumerated() {
            operations.append(try decode(element, index: index))
        }
        return operations
    }

    private static func decode(_ element: JSONValue, index: Int) throws(VirtError) -> JSONPatchOperation {
        func malformed(_ message: String) -> VirtError {
            VirtError(.badRequest, "json patch operation \(index): \(message)")
        }
        guard case .object(let members) = element else {
            throw malformed("must be an object, not \(element.typeNameWithArticle)")
        }
        guard let opValue = members["op"] else { throw malformed("missing \"op\"") }
        guard case .string(let op) = opValue else { throw malformed("\"op\" must be a string") }
        guard let pathValue = members["path"] else { throw malformed("missing \"path\" for \"\(op)\"") }
        guard case .string(let pathText) = pathValue else { throw malformed("\"path\" must be a string") }
        let path: JSONPointer
        do {
            path = try JSONPointer(parsing: pathText)
        } catch {
            throw malformed("invalid \"path\" \"\(pathText)\": \(error.message)")
        }

        func value() throws(VirtError) -> JSONValue {
            // A present `"value": null` is a real value; only a missing member is an error.
            guard let value = members["value"] else { throw malformed("missing \"value\" for \"\(op) \(path)\"") }
            return value
        }
        func from() throws(VirtError) -> JSONPointer {
            guard let fromValue = members["from"] else { throw malformed("missing \"from\" for \"\(op) \(path)\"") }
            guard case .string(let fromText) = fromValue else { throw malformed("\"from\" must be a string") }
            do {
                return try JSONPointer(parsing: fromText)
            } catch {
                throw malformed("invalid \"from\" \"\(fromText)\": \(error.message)")
            }
        }

        switch op {
        case "add": return JSONPatchOperation(kind: .add(try value()), path: path)
        case "remove": return JSONPatchOperation(kind: .remove, path: path)
        case "replace": return JSONPatchOperation(kind: .replace(try value()), path: path)
        case "move": return JSONPatchOperation(kind: .move(from: try from()), path: path)
        case "copy": return JSONPatchOperation(kind: .copy(from: try from()), path: path)
        case "test": return JSONPatchOperation(kind: .test(try value()), path: path)
        default:
            throw malformed("unsupported op \"\(op)\"; expected one of add, remove, replace, move, copy, test")
        }
    }

    func apply(to document: inout JSONValue) throws(JSONPatchFailure) {
        switch kind {
        case .add(let value):
            try document.add(value, at: path)
        case .remove:
            _ = try document.remove(at: path)
        case .replace(let value):
            try document.replace(at: path, with: value)
        case .move(let from):
            if from == path {
                _ = try document.value(at: from, role: "from path")
                return
            }
            if from.isProperPrefix(of: path) {
                let source = from.tokens.isEmpty ? "the whole document" : "\(from)"
                throw JSONPatchFailure("cannot move \(source) into its own child \(path)")
            }
            let value = try document.remove(at: from, role: "from path")
            try document.add(value, at: path)
        case .copy(let from):
            let value = try document.value(at: from, role: "from path")
            try document.add(value, at: path)
        case .test(let expected):
            let actual = try document.value(at: path)
            if !actual.jsonPatchEquals(expected) {
                throw JSONPatchFailure("test failed: the value is \(actual.abbreviated), expected \(expected.abbreviated)")
            }
        }
    }
}

/// A parsed RFC 6901 JSON pointer: `""` is the whole document, `"/a/0"` is member `a`, element 0.
private struct JSONPointer: Equatable, CustomStringConvertible {
    var tokens: [String]

    init(parsing text: String) throws(JSONPatchFailure) {
        if text.isEmpty {
            tokens = []
            return
        }
        guard text.hasPrefix("/") else { throw JSONPatchFailure("a JSON pointer must be empty or start with '/'") }
        var tokens: [String] = []
        for raw in text.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            guard raw.contains("~") else {
                tokens.append(String(raw))
                continue
            }
            var token = ""
            var escaping = false
            for character in raw {
                if escaping {
                    switch character {
                    case "0": token.append("~")
                    case "1": token.append("/")
                    default: throw JSONPatchFailure("'~' must be followed by '0' or '1' (write '~0' for '~' and '~1' for '/')")
                    }
                    escaping = false
                } else if character == "~" {
                    escaping = true
                } else {
                    token.append(character)
                }
            }
            if escaping { throw JSONPatchFailure("'~' must be followed by '0' or '1' (write '~0' for '~' and '~1' for '/')") }
            tokens.append(token)
        }
        self.tokens = tokens
    }

    /// The pointer in its escaped text form.
    var description: String {
        var text = ""
        for token in tokens {
            text += "/"
            for character in token {
                switch character {
                case "~": text += "~0"
                case "/": text += "~1"
                default: text.append(character)
                }
            }
        }
        return text
    }

    /// Whether `other` points strictly inside the location this pointer names.
    func isProperPrefix(of other: JSONPointer) -> Bool {
        tokens.count < other.tokens.count && Array(other.tokens.prefix(tokens.count)) == tokens
    }

    /// The pointer to the container of the location this pointer names.
    var parent: JSONPointer { prefix(tokens.count - 1) }

    /// The prefix of this pointer made of its first `count` tokens, for error messages.
    func prefix(_ count: Int) -> JSONPointer {
        var pointer = self
        pointer.tokens = Array(tokens.prefix(count))
        return pointer
    }
}

extension JSONValue {
    /// The value a pointer names. `role` says which pointer failed ("path" or "from path").
    fileprivate func value(at pointer: JSONPointer, role: String = "path") throws(JSONPatchFailure) -> JSONValue {
        var current = self
        for (depth, token) in pointer.tokens.enumerated() {
            switch current {
            case .object(let members):
                guard let member = members[token] else { throw JSONPatchFailure("\(role) not found") }
                current = member
            case .array(let elements):
                let index = try JSONValue.arrayIndex(token, count: elements.count, allowEnd: false, at: pointer.prefix(depth + 1))
                current = elements[index]
            default:
                throw JSONPatchFailure.notContainer(current, at: pointer.prefix(depth), role: role)
            }
        }
        return current
    }

    /// Runs `body` on the container that holds the last token of `pointer`, in place.
    ///
    /// The pointer must have at least one token. Intermediate locations must exist.
    fileprivate mutating func withParent(
        of pointer: JSONPointer,
        role: String = "path",
        depth: Int = 0,
        _ body: (inout JSONValue, String) throws(JSONPatchFailure) -> Void
    ) throws(JSONPatchFailure) {
        let token = pointer.tokens[depth]
        if depth == pointer.tokens.count - 1 {
            try body(&self, token)
            return
        }
        switch self {
        case .object(var members):
            guard var child = members[token] else { throw JSONPatchFailure("\(role) not found") }
            // Drop our reference first so the child's storage stays uniquely referenced while it changes.
            members[token] = nil
            self = .null
            defer { members[token] = child; self = .object(members) }
            try child.withParent(of: pointer, role: role, depth: depth + 1, body)
        case .array(var elements):
            let index = try JSONValue.arrayIndex(token, count: elements.count, allowEnd: false, at: pointer.prefix(depth + 1))
            var child = elements[index]
            elements[index] = .null
            self = .null
            defer { elements[index] = child; self = .array(elements) }
            try child.withParent(of: pointer, role: role, depth: depth + 1, body)
        default:
            throw JSONPatchFailure.notContainer(self, at: pointer.prefix(depth), role: role)
        }
    }

    /// RFC 6902 `add`: sets an object member (replacing it if present) or inserts into an array.
    fileprivate mutating func add(_ value: JSONValue, at pointer: JSONPointer) throws(JSONPatchFailure) {
        guard !pointer.tokens.isEmpty else {
            self = value
            return
        }
        try withParent(of: pointer) { (parent: inout JSONValue, token: String) throws(JSONPatchFailure) in
            switch parent {
            case .object(var members):
                parent = .null
                members[token] = value
                parent = .object(members)
            case .array(var elements):
                let index = try JSONValue.arrayIndex(token, count: elements.count, allowEnd: true, at: pointer)
                parent = .null
                elements.insert(value, at: index)
                parent = .array(elements)
            default:
                throw JSONPatchFailure.notContainer(parent, at: pointer.parent, role: "path")
            }
        }
    }

    /// RFC 6902 `remove`: removes an existing object member or array element and returns it.
    fileprivate mutating func remove(at pointer: JSONPointer, role: String = "path") throws(JSONPatchFailure) -> JSONValue {
        guard !pointer.tokens.isEmpty else { throw JSONPatchFailure("cannot remove the whole document") }
        var removed = JSONValue.null
        try withParent(of: pointer, role: role) { (parent: inout JSONValue, token: String) throws(JSONPatchFailure) in
            switch parent {
            case .object(var members):
                guard let value = members[token] else { throw JSONPatchFailure("\(role) not found") }
                parent = .null
                members[token] = nil
                parent = .object(members)
                removed = value
            case .array(var elements):
                let index = try JSONValue.arrayIndex(token, count: elements.count, allowEnd: false, at: pointer)
                parent = .null
                removed = elements.remove(at: index)
                parent = .array(elements)
            default:
                throw JSONPatchFailure.notContainer(parent, at: pointer.parent, role: role)
            }
        }
        return removed
    }

    /// RFC 6902 `replace`: replaces an existing value (the target must exist).
    fileprivate mutating func replace(at pointer: JSONPointer, with value: JSONValue) throws(JSONPatchFailure) {
        guard !pointer.tokens.isEmpty else {
            self = value
            return
        }
        try withParent(of: pointer) { (parent: inout JSONValue, token: String) throws(JSONPatchFailure) in
            switch parent {
            case .object(var members):
                guard members[token] != nil else { throw JSONPatchFailure("path not found") }
                parent = .null
                members[token] = value
                parent = .object(members)
            case .array(var elements):
                let index = try JSONValue.arrayIndex(token, count: elements.count, allowEnd: false, at: pointer)
                parent = .null
                elements[index] = value
                parent = .array(elements)
            default:
                throw JSONPatchFailure.notContainer(parent, at: pointer.parent, role: "path")
            }
        }
    }

    /// Reads an RFC 6901 array index: `0` or digits without a leading zero, or `-` (one past the end,
    /// only where `allowEnd` is set). The index must be below `count` (or equal to it with `allowEnd`).
    fileprivate static func arrayIndex(
        _ token: String, count: Int, allowEnd: Bool, at pointer: JSONPointer
    ) throws(JSONPatchFailure) -> Int {
        if token == "-" {
            guard allowEnd else {
                throw JSONPatchFailure("path not found: '-' (past the end of the array) names no element at \(pointer)")
            }
            return count
        }
        let utf8 = token.utf8
        guard !utf8.isEmpty, utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
            utf8.count == 1 || utf8.first != UInt8(ascii: "0")
        else {
            throw JSONPatchFailure("\"\(token)\" is not a valid array index at \(pointer)")
        }
        guard let index = Int(token), index < count || (allowEnd && index == count) else {
            let size = count == 1 ? "1 element" : "\(count) elements"
            throw JSONPatchFailure("path not found: index \(token) is out of bounds at \(pointer) (the array has \(size))")
        }
        return index
    }

    /// JSON equality as RFC 6902 `test` defines it: numbers compare by value (`1` equals `1.0`), objects
    /// ignore member order, arrays compare element by element.
    fileprivate func jsonPatchEquals(_ other: JSONValue) -> Bool {
        switch (self, other) {
        case (.int(let a), .int(let b)): return a == b
        case (.double(let a), .double(let b)): return a == b
        case (.int(let i), .double(let d)), (.double(let d), .int(let i)): return JSONValue.double(d).intValue == i
        case (.array(let a), .array(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.jsonPatchEquals($1) }
        case (.object(let a), .object(let b)):
            guard a.count == b.count else { return false }
            for (key, value) in a {
                guard let otherValue = b[key], value.jsonPatchEquals(otherValue) else { return false }
            }
            return true
        default:
            return self == other
        }
    }

    /// "an object", "a string", "null": the type name as it reads in a sentence.
    fileprivate var typeNameWithArticle: String {
        switch self {
        case .null: "null"
        case .object, .array: "an \(typeName)"
        default: "a \(typeName)"
        }
    }

    /// A short rendering of a value for error messages.
    fileprivate var abbreviated: String {
        let text = serialized()
        guard text.count > 80 else { return text }
        return String(text.prefix(77)) + "..."
    }
}
