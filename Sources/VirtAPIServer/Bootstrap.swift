import ServiceLifecycle
import VirtAPI
import VirtError
import VirtStore

/// Objects every cluster starts with.
public enum Bootstrap {
    /// Creates the standard namespaces when they are missing.
    public static func ensureNamespaces(_ handler: ResourceHandler) async throws {
        guard let type = handler.registry.resource(group: "", version: "v1", plural: "namespaces") else { return }
        for name in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            let key = StoreKey(resource: type.storeResource, namespace: "", name: name)
            if try await handler.store.get(key) != nil { continue }
            let target = RequestTarget(type: type, namespace: nil, name: nil, subresource: nil)
            do {
                _ = try await handler.create(["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(name)]],
                                             target: target, fieldValidation: "Ignore", dryRun: false)
            } catch let error as VirtError where error.code == .exists {}
        }
    }

    /// Creates the built-in StorageClasses when they are missing: `local` (provisioner `swiftvirt.io/local`,
    /// `WaitForFirstConsumer`, the default class) and `shared` (provisioner `swiftvirt.io/shared`,
    /// `Immediate`). Both delete their volumes with their claims and allow expansion. A class the
    /// administrator changed or deleted-and-recreated is left as it is.
    public static func ensureStorageClasses(_ handler: ResourceHandler) async throws {
        guard let type = handler.registry.resource(group: "storage.k8s.io", version: "v1", plural: "storageclasses") else { return }
        let classes: [JSONValue] = [
            [
                "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
                "metadata": ["name": .string(StorageNames.localClass),
                             "annotations": [StorageNames.defaultClassAnnotation: "true"]],
                "provisioner": .string(StorageNames.localProvisioner), "reclaimPolicy": "Delete",
                "volumeBindingMode": .string(StorageNames.waitForFirstConsumer), "allowVolumeExpansion": true,
            ],
            [
                "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
                "metadata": ["name": .string(StorageNames.sharedClass)],
                "provisioner": .string(StorageNames.sharedProvisioner), "reclaimPolicy": "Delete",
                "volumeBindingMode": .string(StorageNames.immediate), "allowVolumeExpansion": true,
            ],
        ]
        for object in classes {
            let name = object[path: ["metadata", "name"]]?.stringValue ?? ""
            let key = StoreKey(resource: type.storeResource, namespace: "", name: name)
            if try await handler.store.get(key) != nil { continue }
            let target = RequestTarget(type: type, namespace: nil, name: nil, subresource: nil)
            do {
                _ = try await handler.create(object, target: target, fieldValidation: "Ignore", dryRun: false)
            } catch let error as VirtError where error.code == .exists {}
        }
    }
}

/// Compacts the store's history on a timer, keeping about one interval of events (as Kubernetes does with
/// etcd every five minutes).
public struct Compactor: Service {
    let store: any RevisionedStore
    let interval: Duration

    public init(store: any RevisionedStore, interval: Duration) {
        self.store = store
        self.interval = interval
    }

    public func run() async throws {
        try await cancelWhenGracefulShutdown {
            var previous = try await store.currentRevision()
            while !Task.isCancelled {
                do {
                    try await Task.sleep(for: interval)
                } catch {
                    return
                }
                try await store.compact(toRevision: previous)
                previous = try await store.currentRevision()
            }
        }
    }
}
