import Foundation
import Testing
import VirtAPI
import VirtError

@testable import VirtQEMU

/// Builders for converter tests: specs from JSON (as users write them) and a context that has
/// prepared everything a spec can ask for.
enum Fixture {
    static let uid = "0b6f3c52-8f0e-4d7a-9a51-3c2e7d1f4b90"

    /// A VMI spec from JSON text, decoded strictly (unknown fields fail the test).
    static func spec(_ json: String) throws -> VirtualMachineInstanceSpec {
        let decoded = try decodeTracking(VirtualMachineInstanceSpec.self, from: try JSONValue.parse(json))
        #expect(decoded.unknownFields.isEmpty, "unknown fields in the test spec: \(decoded.unknownFields)")
        return decoded.value
    }

    /// A spec with 64Mi of memory and `devices` as given (JSON object text).
    static func spec(devices: String = "{}", domain extra: String = "", spec specExtra: String = "") throws -> VirtualMachineInstanceSpec {
        let domainMembers = ["\"memory\": {\"guest\": \"64Mi\"}", "\"devices\": \(devices)", extra].filter { !$0.isEmpty }
        let specMembers = ["\"domain\": {\(domainMembers.joined(separator: ", "))}", specExtra].filter { !$0.isEmpty }
        return try spec("{\(specMembers.joined(separator: ", "))}")
    }

    /// A context with sockets, a qcow2 image for every disk of `spec`, and the kernel files.
    static func context(for spec: VirtualMachineInstanceSpec, accelerator: LaunchContext.Accelerator = .tcg) -> LaunchContext {
        var disks: [String: LaunchContext.PreparedDisk] = [:]
        for disk in spec.domain.devices.disks ?? [] {
            disks[disk.name] = LaunchContext.PreparedDisk(path: "/pod/disks/\(disk.name).qcow2", format: .qcow2)
        }
        return LaunchContext(
            accelerator: accelerator, vmiUID: uid, qmpSocketPath: "/pod/qmp.sock",
            serialSocketPath: "/pod/serial.sock", vncSocketPath: "/pod/vnc.sock", disks: disks,
            kernelPath: "/pod/kernel", initrdPath: "/pod/initrd")
    }

    /// The arguments for `spec` with the default context, adjusted by `adjust`.
    static func arguments(
        _ spec: VirtualMachineInstanceSpec, accelerator: LaunchContext.Accelerator = .tcg,
        _ adjust: (inout LaunchContext) -> Void = { _ in }
    ) throws -> [String] {
        var context = context(for: spec, accelerator: accelerator)
        adjust(&context)
        return try QEMUCommand.build(spec: spec, context: context).arguments
    }

    /// The error building `spec` throws (recording an issue when it builds).
    static func error(
        _ spec: VirtualMachineInstanceSpec, accelerator: LaunchContext.Accelerator = .tcg,
        _ adjust: (inout LaunchContext) -> Void = { _ in }
    ) -> VirtError? {
        do {
            let arguments = try Fixture.arguments(spec, accelerator: accelerator, adjust)
            Issue.record("expected an error, got \(arguments)")
            return nil
        } catch let error as VirtError {
            return error
        } catch {
            Issue.record("expected a VirtError, got \(error)")
            return nil
        }
    }
}

extension Array where Element == String {
    /// Every value that follows `option` (`-device` → all devices).
    func values(of option: String) -> [String] {
        var out: [String] = []
        for (i, arg) in enumerated() where arg == option && i + 1 < count {
            out.append(self[i + 1])
        }
        return out
    }

    /// The single value of `option`, nil when absent.
    func value(of option: String) -> String? {
        values(of: option).first
    }
}
