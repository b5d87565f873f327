import VirtError

/// Admission for every kind SwiftVirt serves: strict field checking, validation and defaulting.
///
/// All functions are pure over the stored `JSONValue`. Kinds are named by API group (`""` for the core
/// group, `kubevirt.io`, `cdi.kubevirt.io`, …) and kind (`VirtualMachine`); unknown kinds pass unchecked.
/// Each kind's admission (`KindAdmission`) is declared with the rest of the kind, in its `ResourceType`.
/// The API server calls them in Kubernetes' order: `applyDefaults` (on create and update), then `validate` (on create
/// and update), and rejects or warns about `unknownFields` per the request's `fieldValidation`.
public enum Admission {
    /// Field causes that make `object` invalid (empty when valid). Type errors found while decoding the
    /// typed kind come first and stop further checks. `old` is the stored object on update, `nil` on create.
    public static func validate(group: String, kind: String, object: JSONValue, old: JSONValue?) -> [VirtError.Cause] {
        guard let handler = handler(group: group, kind: kind) else { return [] }
        return handler.validate(object, old)
    }

    /// Dotted paths of fields the typed kind does not model (`spec.template.spec.domain.devices.disks[0].bogus`),
    /// sorted. Empty for unknown kinds, and when the object does not decode (`validate` reports why).
    public static func unknownFields(group: String, kind: String, object: JSONValue) -> [String] {
        guard let handler = handler(group: group, kind: kind) else { return [] }
        return handler.unknownFields(object)
    }

    /// What one decode of an object tells admission: the field causes that make it invalid (as `validate`)
    /// and the fields the typed kind does not model (as `unknownFields`).
    public struct Review: Sendable, Equatable {
        public var causes: [VirtError.Cause]
        public var unknownFields: [String]
    }

    /// `validate` and `unknownFields` together, decoding the object once.
    public static func review(group: String, kind: String, object: JSONValue, old: JSONValue?) -> Review {
        guard let handler = handler(group: group, kind: kind) else { return Review(causes: [], unknownFields: []) }
        return handler.review(object, old)
    }

    /// Fills in KubeVirt's and Kubernetes' defaults. Idempotent: applying twice changes nothing more.
    public static func applyDefaults(group: String, kind: String, object: inout JSONValue) {
        guard let handler = handler(group: group, kind: kind) else { return }
        handler.applyDefaults(&object)
    }

    /// Whether admission knows the kind (and so checks its fields).
    public static func knowsKind(group: String, kind: String) -> Bool {
        handler(group: group, kind: kind) != nil
    }

    static func handler(group: String, kind: String) -> KindAdmission? {
        let normalized = group == "core" ? "" : group
        return handlers["\(normalized)/\(kind)"]
    }

    /// Each kind's admission, from its `ResourceType` in `Registry.standard` (where it is declared).
    static let handlers: [String: KindAdmission] = Dictionary(
        Registry.standard.types.compactMap { type in type.admission.map { ("\(type.group)/\(type.kind)", $0) } },
        uniquingKeysWith: { first, _ in first })
}

/// Admission for one kind: its typed decode, its rules and its defaults. A kind's `ResourceType` carries it.
public struct KindAdmission: Sendable {
    /// The type objects of the kind decode into.
    public let decodedType: any (Decodable & Sendable).Type
    let unknownFields: @Sendable (JSONValue) -> [String]
    let review: @Sendable (JSONValue, JSONValue?) -> Admission.Review
    let applyDefaults: @Sendable (inout JSONValue) -> Void

    func validate(_ object: JSONValue, _ old: JSONValue?) -> [VirtError.Cause] {
        review(object, old).causes
    }

    /// Decodes the object as `T`; type errors become causes, then `validate` checks the typed value.
    static func typed<T: Decodable & Sendable>(
        _ type: T.Type,
        validate: @escaping @Sendable (T, _ object: JSONValue, _ old: JSONValue?) -> [VirtError.Cause] = { _, _, _ in [] },
        defaults: @escaping @Sendable (inout JSONValue) -> Void = { _ in }
    ) -> KindAdmission {
        make(T.self, decode: { object throws(VirtError) in try decodeTracking(T.self, from: object) },
             validate: validate, defaults: defaults)
    }

    /// `typed` for a kind that reads itself (`JSONObjectDecodable`): the decode is called directly.
    static func typed<T: JSONObjectDecodable & Sendable>(
        _ type: T.Type,
        validate: @escaping @Sendable (T, _ object: JSONValue, _ old: JSONValue?) -> [VirtError.Cause] = { _, _, _ in [] },
        defaults: @escaping @Sendable (inout JSONValue) -> Void = { _ in }
    ) -> KindAdmission {
        make(T.self, decode: { object throws(VirtError) in try decodeTracking(T.self, from: object) },
             validate: validate, defaults: defaults)
    }

    private static func make<T: Decodable & Sendable>(
        _ type: T.Type,
        decode: @escaping @Sendable (JSONValue) throws(VirtError) -> StrictDecodeResult<T>,
        validate: @escaping @Sendable (T, _ object: JSONValue, _ old: JSONValue?) -> [VirtError.Cause],
        defaults: @escaping @Sendable (inout JSONValue) -> Void
    ) -> KindAdmission {
        KindAdmission(
            decodedType: T.self,
            unknownFields: { object in
                (try? decode(object))?.unknownFields ?? []
            },
            review: { object, old in
                let decoded: StrictDecodeResult<T>
                do throws(VirtError) {
                    decoded = try decode(object)
                } catch {
                    let causes = error.causes.isEmpty ? [VirtError.Cause(message: error.message, field: "")] : error.causes
                    return Admission.Review(causes: causes, unknownFields: [])
                }
                return Admission.Review(causes: validate(decoded.value, object, old), unknownFields: decoded.unknownFields)
            },
            applyDefaults: defaults)
    }
}
