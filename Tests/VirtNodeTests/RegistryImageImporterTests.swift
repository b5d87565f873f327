import Foundation
import Synchronization
import Testing
import VirtAPI
import VirtClient
import VirtDisk
import VirtReconcile
import VirtRegistry

@testable import VirtNode

/// A puller that answers from a script and records what it was asked.
final class FakeRegistryDiskPuller: RegistryDiskPuller {
    let answer: Result<String, ContainerDiskError>
    let calls = Mutex<[(reference: String, architecture: String?, credentials: RegistryCredentials?, caBundlePEM: String?)]>([])

    init(_ answer: Result<String, ContainerDiskError>) { self.answer = answer }

    func pullDisk(_ reference: ImageReference, architecture: String?, credentials: RegistryCredentials?, caBundlePEM: String?) async throws -> String {
        calls.withLock { $0.append((reference.description, architecture, credentials, caBundlePEM)) }
        return try answer.get()
    }
}

/// CDI's registry source on the node: the handler hands the claim's URL, secretRef and certConfigMap to the
/// importer; the registry importer pulls the disk and has the next importer convert the file; the
/// registry's refusals are retried with its own words, as CDI restarts its importer pod.
@Suite struct RegistryImageImporterTests {
    static func request(url: String = "docker://127.0.0.1:5000/guest:v1") -> VolumeImportRequest {
        var request = VolumeImportRequest(source: "registry", url: url, username: "tester", password: "s3cret",
                                          caBundlePEM: "PEM", target: "/v/disk.img", size: 64 << 20, logPath: "/v/disk.img.import.log")
        request.headers = ["X-Ignored: 1"]
        request.architecture = "arm64"
        return request
    }

    @Test func theDiskIsPulledWithTheSecretsCredentialsThenImportedAsAFile() async {
        let puller = FakeRegistryDiskPuller(.success("/cache/sha256-abc/disk.qcow2"))
        let next = FakeVolumeImporter([.succeeded])
        let outcome = await RegistryImageImporter(puller: puller, next: next).run(Self.request()) { _ in }
        #expect(outcome == .succeeded)
        let call = puller.calls.withLock { $0.first }
        #expect(call?.reference == "127.0.0.1:5000/guest:v1")
        #expect(call?.credentials == RegistryCredentials(username: "tester", password: "s3cret"))
        #expect(call?.caBundlePEM == "PEM")
        #expect(call?.architecture == "arm64")
        let forwarded = try? #require(next.requests.withLock { $0.first })
        #expect(forwarded?.file == "/cache/sha256-abc/disk.qcow2")
        #expect(forwarded?.url == "docker://127.0.0.1:5000/guest:v1")
        #expect(forwarded?.username == nil && forwarded?.password == nil && forwarded?.caBundlePEM == nil)
        #expect(forwarded?.headers == [])
        #expect(forwarded?.target == "/v/disk.img")
        // The importer's command line reads the file, and records the image's URL in the marker.
        #expect(forwarded.map { ImporterProcess.arguments(for: $0, caBundlePath: nil) } == [
            "--target", "/v/disk.img", "--size", String(64 << 20), "--progress",
            "--file", "/cache/sha256-abc/disk.qcow2", "--origin", "docker://127.0.0.1:5000/guest:v1",
        ])
    }

    @Test func otherSourcesGoToTheNextImporterAsTheyAre() async {
        let puller = FakeRegistryDiskPuller(.success("/never"))
        let next = FakeVolumeImporter([.succeeded])
        let http = VolumeImportRequest(source: "http", url: "http://127.0.0.1:9/disk.qcow2", target: "/v/disk.img", size: 1, logPath: "/v/log")
        _ = await RegistryImageImporter(puller: puller, next: next).run(http) { _ in }
        #expect(puller.calls.withLock { $0.isEmpty })
        #expect(next.requests.withLock { $0 } == [http])
    }

    @Test func aMissingTagIsRetriedWithTheRegistrysWords() async {
        let error = ContainerDiskError.pullFailed(
            image: "127.0.0.1:5000/guest:nope", error: .notFound(reference: "127.0.0.1:5000/guest:nope", message: "MANIFEST_UNKNOWN: manifest unknown"))
        let next = FakeVolumeImporter([])
        let outcome = await RegistryImageImporter(puller: FakeRegistryDiskPuller(.failure(error)), next: next).run(Self.request()) { _ in }
        guard case .failed(let reason, let message, let retryable) = outcome else { Issue.record("\(outcome)"); return }
        #expect(reason == "ImagePullFailed")
        #expect(message.contains("MANIFEST_UNKNOWN: manifest unknown"))
        #expect(retryable)
        #expect(next.requests.withLock { $0.isEmpty })
    }

    @Test func refusedCredentialsAreRetriedAndNameTheSecretRef() async {
        let error = ContainerDiskError.pullFailed(image: "127.0.0.1:5000/guest:v1", error: .denied(
            reference: "127.0.0.1:5000/guest:v1", status: 401, message: "UNAUTHORIZED: authentication required", withCredentials: true))
        let outcome = await RegistryImageImporter(puller: FakeRegistryDiskPuller(.failure(error)), next: FakeVolumeImporter([])).run(Self.request()) { _ in }
        guard case .failed(_, let message, let retryable) = outcome else { Issue.record("\(outcome)"); return }
        #expect(message.contains("401 UNAUTHORIZED: authentication required"))
        #expect(message.contains("spec.source.registry.secretRef"))
        #expect(!message.contains("imagePullSecret"))
        #expect(retryable)
    }

    @Test func anUntrustedCertificateIsRetriedAndPointsAtTheCertConfigMap() async {
        let error = ContainerDiskError.pullFailed(image: "127.0.0.1:5000/guest:v1", error: .unreachable(
            registry: "127.0.0.1:5000", detail: "https: TLS: handshake failed: CERTIFICATE_VERIFY_FAILED; http: 400 (the registry speaks only TLS)"))
        let outcome = await RegistryImageImporter(puller: FakeRegistryDiskPuller(.failure(error)), next: FakeVolumeImporter([])).run(Self.request()) { _ in }
        guard case .failed(_, let message, let retryable) = outcome else { Issue.record("\(outcome)"); return }
        #expect(message.contains("CERTIFICATE_VERIFY_FAILED"))
        #expect(message.contains("spec.source.registry.certConfigMap"))
        #expect(retryable)
    }

    @Test func anImageWithoutADiskFailsWithoutRetrying() async {
        let error = ContainerDiskError.noDisk(image: "127.0.0.1:5000/guest:v1", detail: "/disk is empty or missing")
        let outcome = await RegistryImageImporter(puller: FakeRegistryDiskPuller(.failure(error)), next: FakeVolumeImporter([])).run(Self.request()) { _ in }
        guard case .failed(_, let message, let retryable) = outcome else { Issue.record("\(outcome)"); return }
        #expect(message == "registry image 127.0.0.1:5000/guest:v1 holds no disk: /disk is empty or missing")
        #expect(!retryable)
    }

    @Test(arguments: ["oci-archive:///images/disk.tar", "docker:///local/path", "https://127.0.0.1:5000/guest:v1", "docker://127.0.0.1:5000/Guest:v1"])
    func aURLThatIsNotADockerReferenceFailsNamingTheField(url: String) async {
        let puller = FakeRegistryDiskPuller(.success("/never"))
        let outcome = await RegistryImageImporter(puller: puller, next: FakeVolumeImporter([])).run(Self.request(url: url)) { _ in }
        guard case .failed(let reason, let message, let retryable) = outcome else { Issue.record("\(outcome)"); return }
        #expect(reason == "InvalidSource")
        #expect(message.contains("spec.source.registry.url"))
        #expect(!retryable)
        #expect(puller.calls.withLock { $0.isEmpty })
    }

    @Test func theHandlerGivesTheImporterTheClaimsRegistryURLAndTheSecretsCredentials() async throws {
        let world = VolumeImportHandlerTests.World()
        defer { try? FileManager.default.removeItem(atPath: world.base) }
        world.seed(source: "registry", extra: [CDINames.Annotation.endpoint: "docker://127.0.0.1:5000/guest:v1",
                                               CDINames.Annotation.secretName: "creds", CDINames.Annotation.registryArchitecture: "arm64"])
        world.client.seed(ResourcePath.core("secrets").inNamespace("default"), [
            "apiVersion": "v1", "kind": "Secret", "metadata": ["name": "creds", "namespace": "default"],
            "data": ["accessKeyId": .string(Data("tester".utf8).base64EncodedString()),
                     "secretKey": .string(Data("s3cret".utf8).base64EncodedString())],
        ])
        #expect(VolumeImportHandler.wantsImport(try #require(world.client.objects(StorageNames.claims).first)))
        let importer = FakeVolumeImporter([.succeeded])
        #expect(try await world.reconcile(world.handler(importer)) == .done)
        let request = try #require(importer.requests.withLock { $0.first })
        #expect(request.source == "registry")
        #expect(request.url == "docker://127.0.0.1:5000/guest:v1")
        #expect(request.username == "tester")
        #expect(request.password == "s3cret")
        #expect(request.architecture == "arm64")
        #expect(request.target == world.base + "/local/pvc-1/disk.img")
        #expect(world.annotation(CDINames.Annotation.podPhase) == "Succeeded")
    }
}
