import Foundation
import VirtAPI
import VirtError

/// Moving between raw objects (what the API and the informer caches hold) and typed kinds (what
/// reconcilers reason about), without losing fields the typed kinds do not model.
extension JSONValue {
    /// Decodes a typed kind from this value.
    ///
    /// - Throws: `VirtError.invalid` naming the field that does not fit.
    public func decoded<T: Decodable>(as type: T.Type = T.self) throws(VirtError) -> T {
        try JSONValueDecoder().decodeChecked(T.self, from: self)
    }

    /// Encodes a typed value (a kind, a status, a condition) as a `JSONValue`.
    public init(encoding value: some Encodable) throws(VirtError) {
        let data: Data
        do {
            data = try JSONEncoder().encode(value)
        } catch {
            throw VirtError(.internal, "cannot encode \(type(of: value)) as JSON: \(error)")
        }
        self = try JSONValue.parse(Array(data))
    }

    /// This object with `status` changed the way `old` → `new` differ, keeping every status field the
    /// typed status does not model (a merge patch computed between the two typed values, applied to the
    /// raw status).
    public func replacingStatus<S: Encodable>(from old: S?, to new: S) throws(VirtError) -> JSONValue {
        let oldJSON = try old.map { v throws(VirtError) in try JSONValue(encoding: v) } ?? .object([:])
        let newJSON = try JSONValue(encoding: new)
        let patch = oldJSON.creatingMergePatch(to: newJSON)
        var result = self
        let current = self["status"].flatMap { $0.objectValue == nil ? nil : $0 } ?? .object([:])
        result["status"] = current.applyingMergePatch(patch)
        return result
    }
}
