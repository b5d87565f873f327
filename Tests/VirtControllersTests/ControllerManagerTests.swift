import Testing
import VirtAPI
import VirtClient
import VirtControllers
import VirtReconcile
import VirtTestSupport

@Suite struct ControllerManagerTests {
    func eventually(_ what: String, _ condition: @Sendable () -> Bool) async {
        // A bound that tells a hang from a slow machine: the suites that boot guests under TCG keep both
        // cores busy, and this chain crosses eight informers and four controllers.
        let deadline = ContinuousClock.now + .seconds(90)
        while !condition(), ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(10)) }
        #expect(condition(), "timed out waiting for \(what)")
    }

    @Test func aVMGoesFromManifestToRunningThroughInformersAndQueues() async throws {
        let client = FakeAPIClient()
        client.seed(nodePath, nodeManifest(name: "node-a"))
        let manager = ControllerManager(client: client, configuration: .init(vmi: .init(emulation: .disabled)), logger: quietLogger)
        let running = Task { try await manager.run() }

        _ = try await client.create(vmPath, body: vmManifest())
        await eventually("the VMI to be scheduled") {
            client.object(vmiPath.named("testvm"))?.phase == "Scheduled"
        }
        let pods = client.objects(podPath)
        #expect(pods.count == 1)
        #expect(pods.first?[path: ["spec", "nodeName"]] == "node-a")
        #expect(client.object(vmiPath.named("testvm"))?[path: ["status", "nodeName"]] == "node-a")
        await eventually("the VM to show Starting") { client.object(vmPath.named("testvm"))?.printableStatus == "Starting" }

        // The node agent: pod running, VMI Running.
        if var pod = pods.first {
            pod[path: ["status", "phase"]] = "Running"
            client.seed(podPath, pod)
        }
        if var vmi = client.object(vmiPath.named("testvm")) {
            vmi[path: ["status", "phase"]] = "Running"
            client.seed(vmiPath, vmi)
        }
        await eventually("the VM to be Running and ready") {
            let vm = client.object(vmPath.named("testvm"))
            return vm?.printableStatus == "Running" && vm?[path: ["status", "ready"]] == true
        }

        // Stop: the VMI and its pod go away, the VM shows Stopped.
        if var vm = client.object(vmPath.named("testvm")) {
            vm[path: ["spec", "runStrategy"]] = "Halted"
            _ = try await client.update(vmPath.named("testvm"), body: vm)
        }
        await eventually("the VM to be Stopped") {
            client.object(vmPath.named("testvm"))?.printableStatus == "Stopped" && client.objects(podPath).isEmpty
                && client.object(vmiPath.named("testvm")) == nil
        }
        let reasons = Set(client.events().compactMap { $0["reason"]?.stringValue })
        #expect(reasons.isSuperset(of: ["SuccessfulCreate", "Scheduled", "SuccessfulDelete"]))
        running.cancel()
        _ = try? await running.value
    }

    @Test func aPodWaitsForANodeAndIsBoundWhenOneAppears() async throws {
        let client = FakeAPIClient()
        let manager = ControllerManager(client: client, configuration: .init(vmi: .init(emulation: .disabled)), logger: quietLogger)
        let running = Task { try await manager.run() }
        _ = try await client.create(vmiPath, body: vmiManifest())
        await eventually("the VMI to be unschedulable") {
            client.object(vmiPath.named("testvm"))?.condition("PodScheduled")?["message"] == "no nodes available to schedule pods"
        }
        client.seed(nodePath, nodeManifest(name: "late"))
        await eventually("the pod to be bound") {
            client.object(vmiPath.named("testvm"))?.phase == "Scheduled"
        }
        running.cancel()
        _ = try? await running.value
    }
}
