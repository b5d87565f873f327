import Foundation
import VirtDisk
import VirtRegistry

/// Pulls the disk of a registry image onto this node, for CDI's `source.registry` (``RegistryImageImporter``);
/// ``ContainerDiskPuller`` does it as containerDisk pulls do, unit tests fake it.
public protocol RegistryDiskPuller: Sendable {
    /// Pulls `reference` (`registry/repository:tag` or `…@sha256:…`; from an index, the image for linux and
    /// `architecture`, the node's own when nil) with `credentials`, trusting the PEM
    /// CAs of `caBundlePEM` besides the system's, and returns the path of its disk file (the only file in the
    /// image's `/disk/`), which must not be written. Throws ``ContainerDiskError`` (`pullFailed` carries the
    /// registry's own words).
    func pullDisk(_ reference: ImageReference, architecture: String?, credentials: RegistryCredentials?, caBundlePEM: String?) async throws -> String
}

/// Pulls with ``ContainerDiskStore`` into the node's containerDisk cache: blobs by digest in its registry
/// layout, the disk extracted once per manifest and checked (raw, or qcow2 without a backing file — the
/// formats CDI's registry source imports). The tag is asked for every time (`Always`), as CDI's importer pod
/// pulls it anew; layers the node already has are not fetched again.
public struct ContainerDiskPuller: RegistryDiskPuller {
    public var cacheDirectory: String

    public init(cacheDirectory: String) { self.cacheDirectory = cacheDirectory }

    public func pullDisk(_ reference: ImageReference, architecture: String?, credentials: RegistryCredentials?, caBundlePEM: String?)
        async throws -> String
    {
        let architecture = architecture ?? ContainerDiskStore.hostArchitecture
        guard let pem = caBundlePEM, !pem.isEmpty else {
            let store = ContainerDiskStore(cacheDirectory: cacheDirectory, architecture: architecture)
            return try await store.resolve(image: reference.description, credentials: credentials, pullPolicy: "Always").path
        }
        let transport = try HTTPRegistryTransport.trusting(pem: pem)
        do {
            let store = ContainerDiskStore(cacheDirectory: cacheDirectory, architecture: architecture, registryTransport: transport)
            let path = try await store.resolve(image: reference.description, credentials: credentials, pullPolicy: "Always").path
            await transport.shutdown()
            return path
        } catch {
            await transport.shutdown()
            throw error
        }
    }
}
