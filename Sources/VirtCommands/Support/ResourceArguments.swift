import VirtError

/// What a user named on the command line: `TYPE [NAME...]`, `TYPE1,TYPE2`, or `TYPE/NAME...`.
public struct ResourceArguments: Sendable, Equatable {
    /// One resource type as typed, with the names asked for (empty: all of that type).
    public struct Selection: Sendable, Equatable {
        /// The type as typed (`vm`, `virtualmachines.kubevirt.io`).
        public var type: String
        /// The object names; empty for all.
        public var names: [String]

        /// Creates a selection.
        public init(type: String, names: [String]) {
            self.type = type
            self.names = names
        }
    }

    /// The selections in the order given.
    public var selections: [Selection]

    /// Parses positional arguments.
    ///
    /// - Parameter verb: used in messages (`You must specify the type of resource to get`).
    /// - Throws: `VirtError.badRequest` with what to type instead.
    public init(_ arguments: [String], verb: String) throws(VirtError) {
        guard let first = arguments.first, !first.isEmpty else {
            throw VirtError(.badRequest, "you must specify the type of resource to \(verb), e.g. `swiftvirt \(verb) vms`; `swiftvirt api-resources` lists them")
        }
        if first.contains("/") {
            var selections: [Selection] = []
            for argument in arguments {
                let parts = argument.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                    throw VirtError(.badRequest, "arguments in resource/name form must have a single resource and name: \"\(argument)\"")
                }
                if let index = selections.firstIndex(where: { $0.type == parts[0] }) {
                    selections[index].names.append(parts[1])
                } else {
                    selections.append(Selection(type: parts[0], names: [parts[1]]))
                }
            }
            self.selections = selections
            return
        }
        let names = Array(arguments.dropFirst())
        if let mixed = names.first(where: { $0.contains("/") }) {
            throw VirtError(.badRequest, "there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (\"\(mixed)\")")
        }
        let types = first.split(separator: ",").map(String.init).filter { !$0.isEmpty }
        guard !types.isEmpty else {
            throw VirtError(.badRequest, "you must specify the type of resource to \(verb)")
        }
        self.selections = types.map { Selection(type: $0, names: names) }
    }

    /// Whether any names were given.
    public var hasNames: Bool { selections.contains { !$0.names.isEmpty } }
}
