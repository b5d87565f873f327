"""The real kubectl against swiftvirtd."""
import json
import os
import subprocess
import time

import yaml

from conftest import KUBECTL, vm_manifest


def write(tmp_path, name, obj):
    path = os.path.join(tmp_path, name)
    with open(path, "w") as f:
        yaml.safe_dump(obj, f)
    return path


def test_apply_creates_then_updates(daemon, tmp_path):
    vm = vm_manifest("applied")
    path = write(tmp_path, "vm.yaml", vm)
    out = daemon.kubectl("apply", "-f", path).stdout
    assert "virtualmachine.kubevirt.io/applied created" in out
    vm["spec"]["runStrategy"] = "Manual"
    write(tmp_path, "vm.yaml", vm)
    out = daemon.kubectl("apply", "-f", path).stdout
    assert "virtualmachine.kubevirt.io/applied configured" in out
    got = json.loads(daemon.kubectl("get", "vm", "applied", "-o", "json").stdout)
    assert got["spec"]["runStrategy"] == "Manual"
    assert got["metadata"]["generation"] == 2
    out = daemon.kubectl("apply", "-f", path).stdout
    assert "unchanged" in out


def test_get_prints_table(daemon, tmp_path):
    daemon.kubectl("apply", "-f", write(tmp_path, "vm.yaml", vm_manifest("tabled")))
    out = daemon.kubectl("get", "vms").stdout.splitlines()
    assert out[0].split() == ["NAME", "AGE", "STATUS", "READY"]
    assert out[1].split()[0] == "tabled"
    out = daemon.kubectl("get", "vmi").stderr
    assert "No resources found in default namespace." in out


def test_get_yaml_round_trips_fields_we_do_not_model(daemon, tmp_path):
    vm = vm_manifest("roundtrip")
    spec = vm["spec"]["template"]["spec"]
    spec["domain"]["features"] = {"acpi": {}, "smm": {"enabled": True}, "hyperv": {"relaxed": {}}}
    spec["affinity"] = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}]}}}
    vm["spec"]["dataVolumeTemplates"] = [{"metadata": {"name": "dv"}, "spec": {"storage": {"resources": {"requests": {"storage": "1Gi"}}},
                                                                              "source": {"blank": {}}}}]
    daemon.kubectl("apply", "-f", write(tmp_path, "vm.yaml", vm))
    got = yaml.safe_load(daemon.kubectl("get", "vm", "roundtrip", "-o", "yaml").stdout)
    assert got["spec"]["template"]["spec"]["domain"]["features"] == spec["domain"]["features"]
    assert got["spec"]["template"]["spec"]["affinity"] == spec["affinity"]
    assert got["spec"]["dataVolumeTemplates"] == vm["spec"]["dataVolumeTemplates"]
    # A field nobody knows is refused by kubectl's strict validation, with its path named...
    vm["spec"]["template"]["spec"]["domain"]["bogusField"] = 1
    bad = daemon.kubectl("apply", "-f", write(tmp_path, "bad.yaml", vm), check=False)
    assert bad.returncode != 0
    assert "spec.template.spec.domain.bogusField" in bad.stderr
    # ...and kept verbatim when validation is off.
    daemon.kubectl("apply", "--validate=false", "-f", write(tmp_path, "bad.yaml", vm))
    got = json.loads(daemon.kubectl("get", "vm", "roundtrip", "-o", "json").stdout)
    assert got["spec"]["template"]["spec"]["domain"]["bogusField"] == 1


def test_get_watch_sees_later_change(daemon, tmp_path):
    daemon.kubectl("apply", "-f", write(tmp_path, "vm.yaml", vm_manifest("watched")))
    env = dict(os.environ, KUBECONFIG=daemon.kubeconfig, HOME=os.path.join(daemon.data_dir, "home"))
    proc = subprocess.Popen([KUBECTL, "get", "vms", "-w", "-o", "name"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()
        assert "watched" in first
        daemon.kubectl("label", "vm", "watched", "changed=yes")
        daemon.kubectl("apply", "-f", write(tmp_path, "vm2.yaml", vm_manifest("second")))
        lines = [proc.stdout.readline(), proc.stdout.readline()]
        assert any("watched" in line for line in lines)
        assert any("second" in line for line in lines)
    finally:
        proc.kill()
        proc.wait()


def test_patch_merge_and_json(daemon, tmp_path):
    daemon.kubectl("apply", "-f", write(tmp_path, "vm.yaml", vm_manifest("patched")))
    daemon.kubectl("patch", "vm", "patched", "--type=merge", "-p", '{"spec":{"runStrategy":"Always"}}')
    got = json.loads(daemon.kubectl("get", "vm", "patched", "-o", "json").stdout)
    assert got["spec"]["runStrategy"] == "Always"
    daemon.kubectl("patch", "vm", "patched", "--type=json", "-p", '[{"op":"replace","path":"/spec/runStrategy","value":"Halted"}]')
    got = json.loads(daemon.kubectl("get", "vm", "patched", "-o", "json").stdout)
    assert got["spec"]["runStrategy"] == "Halted"
    bad = daemon.kubectl("patch", "vm", "patched", "--type=merge", "-p", '{"spec":{"runStrategy":"Sometimes"}}', check=False)
    assert bad.returncode != 0
    assert "spec.runStrategy" in bad.stderr
    strategic = daemon.kubectl("patch", "vm", "patched", "-p", '{"spec":{"runStrategy":"Always"}}', check=False)
    assert strategic.returncode != 0
    assert "strategic-merge-patch" in strategic.stderr


def test_delete(daemon, tmp_path):
    daemon.kubectl("apply", "-f", write(tmp_path, "vm.yaml", vm_manifest("deleted")))
    out = daemon.kubectl("delete", "vm", "deleted").stdout
    assert 'virtualmachine.kubevirt.io "deleted" deleted' in out
    missing = daemon.kubectl("get", "vm", "deleted", check=False)
    assert missing.returncode != 0
    assert 'virtualmachines.kubevirt.io "deleted" not found' in missing.stderr


def test_api_resources_lists_kinds_and_short_names(daemon):
    out = daemon.kubectl("api-resources").stdout
    rows = {line.split()[0]: line.split() for line in out.splitlines()[1:]}
    expectations = {
        "virtualmachines": "vm", "virtualmachineinstances": "vmi", "virtualmachineinstancemigrations": "vmim",
        "datavolumes": "dv", "network-attachment-definitions": "net-attach-def",
        "nodenetworkconfigurationpolicies": "nncp", "persistentvolumeclaims": "pvc", "persistentvolumes": "pv",
        "storageclasses": "sc", "nodes": "no", "namespaces": "ns", "pods": "po", "events": "ev",
        "certificatesigningrequests": "csr",
    }
    for resource, short in expectations.items():
        assert resource in rows, resource
        assert short in rows[resource][1].split(","), rows[resource]
    assert "migrationpolicies" in rows
    assert "leases" in rows


def test_namespaces_and_core_kinds(daemon, tmp_path):
    daemon.kubectl("create", "namespace", "team-a")
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", "namespace": "team-a"}, "data": {"a": "1"}}
    daemon.kubectl("apply", "-f", write(tmp_path, "cm.yaml", cm))
    cm["data"]["b"] = "2"
    daemon.kubectl("apply", "-f", write(tmp_path, "cm.yaml", cm))
    got = json.loads(daemon.kubectl("get", "cm", "settings", "-n", "team-a", "-o", "json").stdout)
    assert got["data"] == {"a": "1", "b": "2"}
    daemon.kubectl("apply", "-n", "team-a", "-f", write(tmp_path, "vm.yaml", vm_manifest("in-team")))
    out = daemon.kubectl("get", "vms", "-A").stdout
    assert "team-a" in out and "in-team" in out
    daemon.kubectl("delete", "namespace", "team-a", timeout=60)
    gone = daemon.kubectl("get", "vm", "in-team", "-n", "team-a", check=False)
    assert gone.returncode != 0
    missing_ns = daemon.kubectl("apply", "-n", "nowhere", "-f", write(tmp_path, "vm2.yaml", vm_manifest("lost")), check=False)
    assert missing_ns.returncode != 0
    assert 'namespaces "nowhere" not found' in missing_ns.stderr


def test_describe_shows_object(daemon, tmp_path):
    daemon.kubectl("apply", "-f", write(tmp_path, "vm.yaml", vm_manifest("described")))
    out = daemon.kubectl("describe", "vm", "described").stdout
    assert "described" in out
    assert "Run Strategy" in out or "runStrategy" in out.replace(" ", "")


# An EC P-256 request for CN=system:node:node01 (openssl req -new), PEM, base64-encoded.
CSR_REQUEST = (
    "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURSBSRVFVRVNULS0tLS0KTUlIWE1IOENBUUF3SFRFYk1Ca0dBMVVFQXd3U2MzbHpkR1Z0T201dlpHVTZibTlrWlRBeE1Ga3dFd1lIS29aSQp6ajBD"
    "QVFZSUtvWkl6ajBEQVFjRFFnQUVsenFEREtqNlJoNjl6bzRRNDlwR0ZuOEZ6amxpRkpxQW4wK0JSRXFlCnNlRmlTcFJoSDBMYW9iUG0zaE5ERTRiMDAvRXExY25qYTlHdE5XTGtkaWlx"
    "QnFBQU1Bb0dDQ3FHU000OUJBTUMKQTBnQU1FVUNJQUNQTnpVZ2g5T0xQYlZKTmZ1VVVUZ3V3c291cGRESmRPV092eG8vUU9UQ0FpRUFuNGZwM0Jzdgp3ellKY2R0eVhSUHpKMG9F"
    "R1duaHB1QVQwWjA2N1dlSy9KOD0KLS0tLS1FTkQgQ0VSVElGSUNBVEUgUkVRVUVTVC0tLS0tCg=="
)


def test_certificate_signing_requests(daemon, tmp_path):
    out = daemon.kubectl("get", "csr")
    assert "No resources found" in out.stderr
    csr = {
        "apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest", "metadata": {"name": "e2e-csr"},
        "spec": {"request": CSR_REQUEST, "signerName": "example.com/e2e", "usages": ["digital signature", "client auth"],
                 "expirationSeconds": 86400},
    }
    out = daemon.kubectl("create", "-f", write(tmp_path, "csr.yaml", csr)).stdout
    assert "certificatesigningrequest.certificates.k8s.io/e2e-csr created" in out
    got = json.loads(daemon.kubectl("get", "csr", "e2e-csr", "-o", "json").stdout)
    assert got["spec"]["request"] == CSR_REQUEST
    assert got["spec"]["signerName"] == "example.com/e2e"
    lines = daemon.kubectl("get", "csr").stdout.splitlines()
    assert lines[0].split() == ["NAME", "AGE", "SIGNERNAME", "REQUESTOR", "REQUESTEDDURATION", "CONDITION"]
    row = lines[1].split()
    assert row[0] == "e2e-csr" and row[2] == "example.com/e2e" and row[-2:] == ["24h", "Pending"]
    # kubectl certificate approve writes the Approved condition through the approval subresource.
    out = daemon.kubectl("certificate", "approve", "e2e-csr").stdout
    assert "certificatesigningrequest.certificates.k8s.io/e2e-csr approved" in out
    assert daemon.kubectl("get", "csr", "e2e-csr").stdout.splitlines()[1].split()[-1] == "Approved"
    # What Kubernetes requires is refused with the fields named.
    del csr["spec"]["request"]
    csr["spec"]["signerName"] = "nodomain"
    csr["metadata"]["name"] = "bad-csr"
    bad = daemon.kubectl("create", "-f", write(tmp_path, "bad.yaml", csr), check=False)
    assert bad.returncode != 0
    assert "spec.request: Required value" in bad.stderr
    assert "spec.signerName: Invalid value: \"nodomain\"" in bad.stderr
