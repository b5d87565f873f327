import VirtAPI
import VirtClient
import VirtError

extension APIClient {
    /// `GET`; nil when the object does not exist.
    public func getIfPresent(_ path: ResourcePath) async throws(VirtError) -> JSONValue? {
        do {
            return try await get(path)
        } catch {
            if error.code == .notFound { return nil }
            throw error
        }
    }

    /// `DELETE`; an object already gone is fine.
    public func deleteIfPresent(_ path: ResourcePath) async throws(VirtError) {
        do {
            _ = try await delete(path, propagationPolicy: nil, gracePeriodSeconds: nil)
        } catch {
            if error.code != .notFound { throw error }
        }
    }

    /// `PUT …/status`; false on a conflict (read again and retry), true when written or the object is gone.
    public func updateStatusUnlessConflict(_ path: ResourcePath, body: JSONValue) async throws(VirtError) -> Bool {
        do {
            _ = try await updateStatus(path, body: body)
            return true
        } catch {
            if error.code == .conflict { return false }
            if error.code == .notFound { return true }
            throw error
        }
    }
}
