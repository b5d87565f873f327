import ArgumentParser

/// Options every command takes: which server (kubeconfig, context) and which namespace.
public struct GlobalOptions: ParsableArguments, Sendable {
    /// `--kubeconfig PATH`.
    @Option(name: .long, help: ArgumentHelp("The kubeconfig file (default: the first file in $KUBECONFIG, then ~/.kube/config).", valueName: "path"))
    public var kubeconfig: String?

    /// `--context NAME`.
    @Option(name: .long, help: ArgumentHelp("The kubeconfig context to use (default: current-context).", valueName: "name"))
    public var context: String?

    /// `-n/--namespace NAME`.
    @Option(name: [.short, .long], help: ArgumentHelp("The namespace (default: the context's namespace, else \"default\").", valueName: "namespace"))
    public var namespace: String?

    /// Creates empty options (ArgumentParser fills them in).
    public init() {}
}
