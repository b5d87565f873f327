import Foundation
import Logging
import VirtAPI
import VirtClient
import VirtError
import VirtReconcile

/// CDI's DataSource controller: a DataSource names a PVC (the "golden image" that DataVolumes clone through
/// `sourceRef`); its status says whether that PVC is there to clone, in CDI's shape:
///
/// | the PVC | `Ready` |
/// | --- | --- |
/// | missing | `False`, reason `NotFound` |
/// | filled by a DataVolume of its name that has not succeeded | `False`, reason the DataVolume's phase (`ImportInProgress`, …) |
/// | bound, and its import or clone (if any) succeeded | `True`, reason `Ready` |
/// | otherwise (not bound yet, its import not done) | `False`, reason `NotPopulated` |
///
/// `status.source` is `spec.source`. The only writer of a DataSource's status.
public struct DataSourceController: Reconciler {
    let client: any APIClient
    let dataSources: ObjectCache
    let claims: ObjectCache
    let dataVolumes: ObjectCache
    let now: @Sendable () -> Date
    let logger: Logger

    public init(client: any APIClient, dataSources: ObjectCache, claims: ObjectCache, dataVolumes: ObjectCache,
                now: @escaping @Sendable () -> Date = { Date() }, logger: Logger) {
        self.client = client
        self.dataSources = dataSources
        self.claims = claims
        self.dataVolumes = dataVolumes
        self.now = now
        self.logger = logger
    }

    /// The path DataSources are served at.
    public static let path = ResourcePath(group: "cdi.kubevirt.io", version: "v1beta1", resource: "datasources")

    /// The keys of the DataSources (among `dataSources`) that name the claim (or DataVolume) `key`.
    public static func naming(_ key: ObjectKey, in dataSources: ObjectCache) -> [ObjectKey] {
        dataSources.list().compactMap { object in
            guard let pvc = object[path: ["spec", "source", "pvc"]], pvc["name"]?.stringValue == key.name,
                  (pvc["namespace"]?.stringValue ?? object.metadataNamespace) == key.namespace
            else { return nil }
            return ObjectKey(object: object)
        }
    }

    public func reconcile(_ key: ObjectKey) async throws -> ReconcileResult {
        guard let object = dataSources.get(key), object.metadataDeletionTimestamp == nil else { return .done }
        let dataSource: DataSource
        do {
            dataSource = try object.decoded()
        } catch {
            throw TerminalError("DataSource \(key) does not decode", cause: error)
        }
        let ready = readiness(of: dataSource.spec.source, namespace: key.namespace ?? "default")
        let old: DataSourceStatus? = try? object["status"]?.decoded(as: DataSourceStatus.self)
        var status = old ?? DataSourceStatus()
        status.source = dataSource.spec.source
        var conditions = ConditionList(status.conditions)
        if let existing = conditions.get(ready.type), existing.status == ready.status, existing.reason == ready.reason,
           existing.message == ready.message {
        } else {
            let timestamp = KubeTime.format(now())
            var stamped = ready
            stamped.lastHeartbeatTime = timestamp
            conditions.set(stamped, now: timestamp)
        }
        status.conditions = conditions.value
        guard status != old else { return .done }
        let updated = try object.replacingStatus(from: old, to: status)
        _ = try await client.updateStatus(Self.path.inNamespace(key.namespace).named(key.name), body: updated)
        return .done
    }

    /// The `Ready` condition for a DataSource's source (see the type's table).
    func readiness(of source: DataSourceSource, namespace: String) -> Condition {
        let type = CDINames.DataSourceCondition.ready
        guard let pvc = source.pvc else {
            return Condition(type: type, status: "False", reason: "NotFound", message: "the DataSource names no PVC")
        }
        let claimKey = ObjectKey(namespace: pvc.namespace.isEmpty ? namespace : pvc.namespace, name: pvc.name)
        let described = "\(claimKey.namespace ?? namespace)/\(pvc.name)"
        guard let claim = claims.get(claimKey) else {
            return Condition(type: type, status: "False", reason: CDINames.Reason.notFound, message: "PVC \(described) not found")
        }
        if let dataVolume = dataVolumes.get(claimKey), let phase = dataVolume[path: ["status", "phase"]]?.stringValue,
           phase != CDINames.Phase.succeeded {
            return Condition(type: type, status: "False", reason: phase, message: "DataVolume \(described) is \(phase)")
        }
        guard CDINames.isPopulated(claim) else {
            return Condition(type: type, status: "False", reason: "NotPopulated", message: "PVC \(described) is not populated yet")
        }
        return Condition(type: type, status: "True", reason: CDINames.CloneReason.ready, message: "")
    }
}
