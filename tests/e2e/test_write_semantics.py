"""What the API server makes of a write, seen through the real kubectl and the Python client: Secrets from
stringData, nulls treated as absent, re-applies that change nothing, immutable content."""
import base64
import json
import os

import kubernetes
import yaml

from conftest import vm_manifest


def write(tmp_path, name, obj):
    path = os.path.join(tmp_path, name)
    with open(path, "w") as f:
        yaml.safe_dump(obj, f)
    return path


def get_json(daemon, *args):
    return json.loads(daemon.kubectl("get", *args, "-o", "json").stdout)


def test_a_secret_from_string_data_reads_back_like_kubectl_create_secret_generic(daemon, tmp_path):
    daemon.kubectl("create", "secret", "generic", "literal", "--from-literal=username=admin", "--from-literal=password=s3cr3t!")
    manifest = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "from-string-data"},
                "stringData": {"username": "admin", "password": "s3cr3t!"}}
    assert "secret/from-string-data created" in daemon.kubectl("apply", "-f", write(tmp_path, "s.yaml", manifest)).stdout
    literal = get_json(daemon, "secret", "literal")
    applied = get_json(daemon, "secret", "from-string-data")
    assert applied["data"] == literal["data"]
    assert base64.b64decode(applied["data"]["password"]) == b"s3cr3t!"
    assert applied["type"] == literal["type"] == "Opaque"
    assert "stringData" not in applied
    # The same manifest again. kubectl's 3-way patch always carries stringData (the live object never has
    # it), so it says "configured", as against Kubernetes; the write changes nothing.
    daemon.kubectl("apply", "-f", write(tmp_path, "s.yaml", manifest))
    again = get_json(daemon, "secret", "from-string-data")
    assert again["metadata"]["resourceVersion"] == applied["metadata"]["resourceVersion"]
    assert again["data"] == literal["data"]
    # A changed value goes through the 3-way patch into data.
    manifest["stringData"]["password"] = "other"
    assert "configured" in daemon.kubectl("apply", "-f", write(tmp_path, "s.yaml", manifest)).stdout
    assert base64.b64decode(get_json(daemon, "secret", "from-string-data")["data"]["password"]) == b"other"
    # The type decides which keys are required, with Kubernetes' message.
    bad = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "basic"}, "type": "kubernetes.io/basic-auth",
           "stringData": {"token": "x"}}
    result = daemon.kubectl("apply", "-f", write(tmp_path, "bad.yaml", bad), check=False)
    assert result.returncode != 0
    assert "data[username]: Required value" in result.stderr, result.stderr


def test_null_metadata_maps_and_fields_are_absent(daemon):
    vm = vm_manifest("nully")
    vm["metadata"]["annotations"] = None
    vm["metadata"]["labels"] = None
    vm["spec"]["running"] = None
    r = daemon.request("POST", "/apis/kubevirt.io/v1/namespaces/default/virtualmachines", vm)
    assert r.status_code == 201, r.text
    stored = r.json()
    assert "annotations" not in stored["metadata"] and "labels" not in stored["metadata"]
    assert "running" not in stored["spec"]
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "nully", "annotations": None},
          "data": {"a": "b"}, "binaryData": {"blob": base64.b64encode(b"\x00\x01\xff").decode()}}
    r = daemon.request("POST", "/api/v1/namespaces/default/configmaps", cm)
    assert r.status_code == 201, r.text
    got = get_json(daemon, "configmap", "nully")
    assert base64.b64decode(got["binaryData"]["blob"]) == b"\x00\x01\xff"
    assert got["data"] == {"a": "b"}


def test_a_client_that_sends_nulls_can_re_apply_without_a_change(daemon):
    """What clients built on the Python client do (Ansible's modules among them): the whole object with the
    unused one of running / runStrategy as null, created, then patched with the same body."""
    kubernetes.config.load_kube_config(config_file=daemon.kubeconfig)
    api = kubernetes.client.CustomObjectsApi()
    body = vm_manifest("resent", run_strategy="Halted")
    body["spec"]["running"] = None
    body["metadata"]["annotations"] = None
    created = api.create_namespaced_custom_object("kubevirt.io", "v1", "default", "virtualmachines", body)
    assert "running" not in created["spec"]
    for _ in range(2):
        patched = api.patch_namespaced_custom_object("kubevirt.io", "v1", "default", "virtualmachines", "resent", body)
        assert patched["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]
        assert patched["metadata"]["generation"] == 1
    replaced_body = dict(body, metadata=dict(body["metadata"], resourceVersion=created["metadata"]["resourceVersion"]))
    replaced = api.replace_namespaced_custom_object("kubevirt.io", "v1", "default", "virtualmachines", "resent", replaced_body)
    assert replaced["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]


def test_immutable_config_maps_refuse_changes_with_kubernetes_message(daemon, tmp_path):
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "frozen"}, "data": {"a": "b"}, "immutable": True}
    daemon.kubectl("apply", "-f", write(tmp_path, "cm.yaml", cm))
    cm["data"]["a"] = "c"
    result = daemon.kubectl("apply", "-f", write(tmp_path, "cm.yaml", cm), check=False)
    assert result.returncode != 0
    assert "field is immutable when `immutable` is set" in result.stderr, result.stderr
    assert get_json(daemon, "configmap", "frozen")["data"] == {"a": "b"}
