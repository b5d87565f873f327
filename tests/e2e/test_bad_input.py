"""Bad input gets a 4xx Status naming the problem, and the store is unchanged."""
import pytest

from conftest import vm_manifest

VMS = "/apis/kubevirt.io/v1/namespaces/default/virtualmachines"


def store_revision(daemon):
    return daemon.request("GET", "/api/v1/namespaces").json()["metadata"]["resourceVersion"]


def without(obj, *path):
    target = obj
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return obj


CASES = [
    ("malformed json", "POST", VMS, '{"apiVersion": "kubevirt.io/v1", "kind": ', "application/json", 400, "malformed JSON"),
    ("malformed yaml", "POST", VMS, "apiVersion: kubevirt.io/v1\nkind: [VirtualMachine\n", "application/yaml", 400, "malformed YAML"),
    ("wrong apiVersion", "POST", VMS, dict(vm_manifest("x"), apiVersion="kubevirt.io/v2"), None, 400, "kubevirt.io/v2"),
    ("wrong kind", "POST", VMS, dict(vm_manifest("x"), kind="VirtualMachineInstance"), None, 400, "VirtualMachineInstance"),
    ("name differs from path", "PUT", VMS + "/other", vm_manifest("x"), None, 400, "does not match the name"),
    ("namespace differs from path", "POST", VMS, dict(vm_manifest("x"), metadata={"name": "x", "namespace": "kube-system"}), None, 400, "namespace"),
    ("unknown runStrategy", "POST", VMS, vm_manifest("x", run_strategy="Sometimes"), None, 422, "spec.runStrategy"),
    ("disk without volume", "POST", VMS, without(vm_manifest("x"), "spec", "template", "spec", "volumes"), None, 422,
     "spec.template.spec.domain.devices.disks[0].name"),
    ("bad name", "POST", VMS, vm_manifest("Not_A_Name"), None, 422, "metadata.name"),
    ("not an object", "POST", VMS, "[1,2]", "application/json", 400, "object"),
    ("unknown strict field", "POST", VMS + "?fieldValidation=Strict", dict(vm_manifest("x"), extra={"a": 1}), None, 422, "extra"),
]


@pytest.mark.parametrize("name,method,path,body,content_type,code,needle", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_refused(daemon, name, method, path, body, content_type, code, needle):
    if method == "PUT":
        daemon.request("POST", VMS, vm_manifest("other"))
    before = store_revision(daemon)
    response = daemon.request(method, path, body, content_type=content_type or "application/json")
    assert response.status_code == code, response.text
    status = response.json()
    assert status["kind"] == "Status" and status["status"] == "Failure" and status["code"] == code
    text = status["message"] + " ".join(c.get("field", "") for c in status.get("details", {}).get("causes", []))
    assert needle in text, status
    assert store_revision(daemon) == before
    assert daemon.request("GET", VMS + "/x").status_code == 404


def test_memory_must_be_positive(daemon):
    vm = vm_manifest("x")
    vm["spec"]["template"]["spec"]["domain"]["resources"]["requests"]["memory"] = "0"
    response = daemon.request("POST", VMS, vm)
    assert response.status_code == 422
    assert "memory" in response.text


def test_dry_run_writes_nothing(daemon):
    before = store_revision(daemon)
    response = daemon.request("POST", VMS + "?dryRun=All", vm_manifest("dry"))
    assert response.status_code == 201
    assert response.json()["metadata"]["name"] == "dry"
    assert store_revision(daemon) == before
    assert daemon.request("GET", VMS + "/dry").status_code == 404
