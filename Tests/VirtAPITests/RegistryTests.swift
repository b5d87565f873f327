import Testing

@testable import VirtAPI

/// The registry's kinds, each described once by its `ResourceType`: the tables that used to be kept
/// beside it (admission, protobuf messages) are read from it.
@Suite struct RegistryTests {
    let types = Registry.standard.types

    @Test func namesAreUnique() {
        #expect(Set(types.map { "\($0.group)/\($0.kind)" }).count == types.count)
        #expect(Set(types.map { "\($0.apiVersion)/\($0.plural)" }).count == types.count)
        let shortNames = types.flatMap(\.shortNames)
        #expect(Set(shortNames).count == shortNames.count)
    }

    /// Each kind's admission decodes into the type named after it, and `Admission` finds it by group and kind.
    @Test func admissionIsTheKinds() throws {
        for type in types {
            let admission = try #require(type.admission, "\(type.kind)")
            let name = ["CertificateSigningRequest": "Request", "Service": "KubeService"][type.kind] ?? type.kind
            #expect(String(describing: admission.decodedType) == name)
            #expect(Admission.knowsKind(group: type.group, kind: type.kind))
            #expect(Admission.handler(group: type.group, kind: type.kind)?.decodedType == admission.decodedType)
        }
        #expect(Admission.handlers.count == types.count { $0.admission != nil })
    }

    /// The kinds kubectl's typed clients send in protobuf, and only those, have a message.
    @Test func protobufMessagesAreThoseKubectlSends() {
        #expect(types.filter { $0.protobuf != nil }.map(\.kind) == ["Namespace", "Secret", "ConfigMap", "Eviction", "CertificateSigningRequest"])
        for type in types {
            guard let message = type.protobuf else { continue }
            #expect(message.fields[1]?.name == "metadata", "\(type.kind)")
        }
    }

    /// A subresource that writes part of the object says which part; status writes status.
    @Test func subresourceWrites() {
        for type in types {
            #expect(type.subresourceWrites["status"] == (type.hasStatus ? ["status"] : nil), "\(type.kind)")
            #expect(Set(type.subresourceWrites.keys).isSubset(of: type.subresources), "\(type.kind)")
        }
        #expect(ResourceType.certificateSigningRequest.subresourceWrites["approval"] == ["status", "conditions"])
    }
}
