"""Bad input gets a 4xx Status naming the problem, and the store is unchanged."""
import os

import pytest
import yaml

from conftest import ROOT, vm_manifest

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


# What SwiftVirt does not run yet is refused at admission with its path, not run as something else.

def with_network(name, interface, network):
    vm = vm_manifest(name)
    spec = vm["spec"]["template"]["spec"]
    spec["domain"]["devices"]["interfaces"] = [{"name": "default", "masquerade": {}}, interface]
    spec["networks"] = [{"name": "default", "pod": {}}, network]
    return vm


def apply_refused(daemon, tmp_path, vm):
    path = os.path.join(tmp_path, "vm.yaml")
    with open(path, "w") as f:
        yaml.safe_dump(vm, f)
    result = daemon.kubectl("apply", "-f", path, check=False)
    assert result.returncode != 0, result.stdout
    assert "is invalid" in result.stderr and "not supported yet" in result.stderr, result.stderr
    name = vm["metadata"]["name"]
    assert daemon.request("GET", VMS + "/" + name).status_code == 404
    return result.stderr


def test_kubectl_apply_of_an_sriov_interface_is_refused(daemon, tmp_path):
    vm = with_network("passthrough", {"name": "vf1", "sriov": {}}, {"name": "vf1", "multus": {"networkName": "default/sriov"}})
    out = apply_refused(daemon, tmp_path, vm)
    assert "spec.template.spec.domain.devices.interfaces[1].sriov" in out
    assert "use masquerade" in out and "bridge: {}" in out


def test_kubectl_apply_of_a_masquerade_multus_interface_is_refused(daemon, tmp_path):
    vm = with_network("masq-multus", {"name": "net1", "masquerade": {}}, {"name": "net1", "multus": {"networkName": "default/br1"}})
    path = os.path.join(tmp_path, "vm.yaml")
    with open(path, "w") as f:
        yaml.safe_dump(vm, f)
    result = daemon.kubectl("apply", "-f", path, check=False)
    assert result.returncode != 0, result.stdout
    assert "spec.template.spec.domain.devices.interfaces[1].masquerade" in result.stderr, result.stderr
    assert "bridge" in result.stderr, result.stderr


def test_a_vmi_names_its_own_path(daemon):
    vmi = {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstance", "metadata": {"name": "claimed"},
           "spec": vm_manifest()["spec"]["template"]["spec"]}
    vmi["spec"]["volumes"][0] = {"name": "rootdisk", "ephemeral": {"persistentVolumeClaim": {"claimName": "root"}}}
    response = daemon.request("POST", "/apis/kubevirt.io/v1/namespaces/default/virtualmachineinstances", vmi)
    assert response.status_code == 422, response.text
    causes = response.json()["details"]["causes"]
    assert [c["field"] for c in causes] == ["spec.volumes[0].ephemeral"]
    assert "not supported yet" in causes[0]["message"]


def test_the_example_vm_is_accepted(daemon):
    result = daemon.kubectl("apply", "--dry-run=server", "-f", os.path.join(ROOT, "examples", "vm-tiny.yaml"))
    assert "vm-tiny created (server dry run)" in result.stdout
