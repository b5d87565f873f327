import VirtAPI
import VirtClient
import VirtError

/// What a command works with: a connected client and the namespace to use.
///
/// Obtain one with ``with(_:_:)``, which shuts the client down when the command's body returns or throws.
public struct CommandContext: Sendable {
    /// The client for the kubeconfig's current (or chosen) context.
    public let client: KubeClient
    /// `-n`, else the context's namespace, else `default`.
    public let namespace: String
    /// True when the user passed `-n/--namespace`.
    public let namespaceIsExplicit: Bool

    /// Creates a context around an existing client (for tests and embedding).
    public init(client: KubeClient, namespace: String, namespaceIsExplicit: Bool = false) {
        self.client = client
        self.namespace = namespace
        self.namespaceIsExplicit = namespaceIsExplicit
    }

    /// Loads the kubeconfig named by `options`, connects, runs `body`, and shuts the client down.
    public static func with<T>(_ options: GlobalOptions, _ body: (CommandContext) async throws -> T) async throws -> T {
        let kubeconfig = try Kubeconfig.load(explicitPath: options.kubeconfig)
        let configuration = try kubeconfig.configuration(context: options.context)
        let client = try KubeClient(configuration: configuration)
        let explicit = options.namespace.flatMap { $0.isEmpty ? nil : $0 }
        let context = CommandContext(
            client: client,
            namespace: explicit ?? configuration.namespace ?? "default",
            namespaceIsExplicit: explicit != nil
        )
        do {
            let result = try await body(context)
            await client.shutdown()
            return result
        } catch {
            await client.shutdown()
            throw error
        }
    }

    /// Resolves a resource type the user typed through the server's discovery.
    public func resource(_ typed: String) async throws(VirtError) -> APIResource {
        try await client.resource(for: typed)
    }

    /// The path of an object of `resource` in this context's namespace (ignored for cluster-scoped resources).
    public func path(_ resource: APIResource, name: String? = nil, subresource: String? = nil, namespace: String? = nil) -> ResourcePath {
        resource.path(namespace: namespace ?? self.namespace, name: name, subresource: subresource)
    }
}
