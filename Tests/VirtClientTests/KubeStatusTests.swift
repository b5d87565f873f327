import Testing
import VirtAPI
import VirtClient
import VirtCommands
import VirtError

@Suite struct KubeStatusTests {
    @Test func notFoundStatus() {
        let body = #"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","reason":"NotFound","code":404,"message":"virtualmachines.kubevirt.io \"nope\" not found","details":{"name":"nope","group":"kubevirt.io","kind":"virtualmachines"}}"#
        let error = KubeStatus.error(httpStatus: 404, body: Array(body.utf8))
        #expect(error.code == .notFound)
        #expect(error.message == #"virtualmachines.kubevirt.io "nope" not found"#)
        #expect(error.details == VirtError.Details(name: "nope", group: "kubevirt.io", kind: "virtualmachines"))
        let status = error.cause as? ServerStatus
        #expect(status?.httpStatus == 404)
        #expect(status?.reason == "NotFound")
        #expect(ErrorReport.message(for: error) == #"Error from server (NotFound): virtualmachines.kubevirt.io "nope" not found"#)
    }

    @Test func invalidStatusKeepsFieldCauses() {
        let status: JSONValue = [
            "kind": "Status", "status": "Failure", "reason": "Invalid", "code": 422,
            "message": #"VirtualMachine.kubevirt.io "x" is invalid: spec.runStrategy: Unsupported value: "Sometimes""#,
            "details": [
                "name": "x", "group": "kubevirt.io", "kind": "VirtualMachine",
                "causes": [["reason": "FieldValueNotSupported", "message": #"Unsupported value: "Sometimes""#, "field": "spec.runStrategy"]],
            ],
        ]
        let error = KubeStatus.error(status: status)
        #expect(error.code == .invalid)
        #expect(error.causes == [VirtError.Cause(reason: "FieldValueNotSupported", message: #"Unsupported value: "Sometimes""#, field: "spec.runStrategy")])
    }

    @Test(arguments: [
        ("AlreadyExists", 409, VirtError.Code.exists),
        ("Conflict", 409, .conflict),
        ("Expired", 410, .gone),
        ("Gone", 410, .gone),
        ("UnsupportedMediaType", 415, .unsupported),
        ("Forbidden", 403, .forbidden),
        ("SomethingNew", 409, .conflict),
        ("SomethingNew", 503, .serviceUnavailable),
        ("SomethingNew", 418, .internal),
    ])
    func reasonsMapToCodes(reason: String, httpStatus: Int, code: VirtError.Code) {
        #expect(KubeStatus.code(reason: reason, httpStatus: httpStatus) == code)
        let error = KubeStatus.error(status: ["kind": "Status", "reason": .string(reason), "code": .int(Int64(httpStatus)), "message": "m"])
        #expect(error.code == code)
        #expect((error.cause as? ServerStatus)?.reason == reason)
    }

    @Test func bodiesThatAreNotStatusGetKubectlsWording() {
        let notFound = KubeStatus.error(httpStatus: 404, body: Array("404 page not found".utf8))
        #expect(notFound.code == .notFound)
        #expect(notFound.message == "the server could not find the requested resource")
        #expect(ErrorReport.message(for: notFound) == "Error from server (NotFound): the server could not find the requested resource")

        let internalError = KubeStatus.error(httpStatus: 500, body: Array("boom".utf8))
        #expect(internalError.code == .internal)
        #expect(internalError.message == #"an error on the server ("boom") has prevented the request from succeeding"#)
    }

    @Test func missingReasonFallsBackToTheHTTPStatus() {
        let error = KubeStatus.error(status: ["kind": "Status", "code": 409, "message": "busy"])
        #expect(error.code == .conflict)
        #expect((error.cause as? ServerStatus)?.reason == "Conflict")
    }

    @Test func unauthorizedReadsLikeKubectl() {
        let error = KubeStatus.error(status: ["kind": "Status", "reason": "Unauthorized", "code": 401, "message": "Unauthorized"])
        #expect(ErrorReport.message(for: error) == "error: You must be logged in to the server (Unauthorized)")
    }

    @Test func clientSideErrorsAreNotFromTheServer() {
        #expect(ErrorReport.message(for: VirtError(.notFound, #"the server doesn't have a resource type "foo""#)) == #"error: the server doesn't have a resource type "foo""#)
        #expect(KubeStatus.serverStatus(of: VirtError(.notFound, "x")) == nil)
    }
}

@Suite struct WatchStreamTests {
    @Test func linesSplitAcrossChunks() {
        var splitter = LineSplitter()
        #expect(splitter.append(Array(#"{"type":"ADD"#.utf8)).isEmpty)
        let lines = splitter.append(Array("ED\"}\r\n\n{\"a\":1}\n{\"b\"".utf8))
        #expect(lines.map { String(decoding: $0, as: UTF8.self) } == [#"{"type":"ADDED"}"#, #"{"a":1}"#])
        #expect(splitter.finish().map { String(decoding: $0, as: UTF8.self) } == #"{"b""#)
        #expect(splitter.finish() == nil)
    }

    @Test func eventsDecode() throws {
        let event = try WatchEvent.decode(Array(#"{"type":"MODIFIED","object":{"kind":"VirtualMachine","metadata":{"name":"vm1","resourceVersion":"7"}}}"#.utf8))
        #expect(event.type == .modified)
        #expect(event.resourceVersion == "7")
        #expect(event.object[path: ["metadata", "name"]] == .string("vm1"))
    }

    @Test func errorEventsThrowTheirStatus() {
        let line = #"{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 5 (101)","reason":"Expired","code":410}}"#
        let error = #expect(throws: VirtError.self) { try WatchEvent.decode(Array(line.utf8)) }
        #expect(error?.code == .gone)
        #expect(error?.message == "too old resource version: 5 (101)")
    }

    @Test func garbageIsAnError() {
        #expect(throws: VirtError.self) { try WatchEvent.decode(Array("not json".utf8)) }
        #expect(throws: VirtError.self) { try WatchEvent.decode(Array(#"{"type":"WEIRD","object":{}}"#.utf8)) }
    }
}
