import ArgumentParser
import Testing
import VirtCommands

/// `swiftvirt image-upload`: virtctl's flags, and refusals that say what to fix before anything is sent.
@Suite struct ImageUploadCommandTests {
    @Test func virtctlsFlagsParse() throws {
        let upload = try ImageUpload.parse([
            "dv", "disk", "--image-path", "d.qcow2", "--size", "1Gi", "--storage-class", "shared", "--access-mode", "ReadWriteMany",
            "--volume-mode", "block", "--insecure", "--uploadproxy-url", "https://proxy:8443", "--wait-secs", "30", "--force-bind", "-n", "vms",
        ])
        #expect(upload.target == ["dv", "disk"])
        #expect(upload.imagePath == "d.qcow2" && upload.size == "1Gi" && upload.storageClass == "shared")
        #expect(upload.accessMode == "ReadWriteMany" && upload.volumeMode == "block")
        #expect(upload.insecure && upload.forceBind && !upload.noCreate)
        #expect(upload.uploadproxyURL == "https://proxy:8443" && upload.waitSecs == 30)
        #expect(upload.global.namespace == "vms")
        let existing = try ImageUpload.parse(["pvc", "disk", "--image-path", "d.raw", "--no-create"])
        #expect(existing.noCreate && existing.size == nil && existing.waitSecs == 300)
    }

    @Test func refusalsSayWhatToFix() {
        func message(_ arguments: [String]) -> String {
            do {
                _ = try ImageUpload.parse(arguments)
                return ""
            } catch {
                return ImageUpload.message(for: error)
            }
        }
        #expect(message(["dv", "disk", "--image-path", "d.qcow2"]).contains("--size is needed"))
        #expect(message(["disk", "x", "--image-path", "d.qcow2", "--size", "1Gi"]).contains("dv NAME or pvc NAME"))
        #expect(message(["dv", "disk", "--image-path", "d", "--size", "1Gi", "--volume-mode", "raw"]).contains("filesystem or block"))
        #expect(message(["dv", "disk", "--image-path", "d", "--size", "1Gi", "--access-mode", "RWO"]).contains("ReadWriteOnce"))
        #expect(!message(["dv", "disk", "--image-path", "d", "--size", "lots"]).isEmpty)
        #expect(message(["dv", "disk", "--size", "1Gi"]).contains("image-path"))
    }
}
