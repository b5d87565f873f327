"""The Python kubernetes client (dynamic client) against swiftvirtd."""
import threading

import kubernetes
from kubernetes import dynamic

from conftest import vm_manifest


def client_for(daemon):
    api_client = kubernetes.config.new_client_from_config(config_file=daemon.kubeconfig)
    return dynamic.DynamicClient(api_client)


def test_dynamic_client_create_list_watch_delete(daemon):
    client = client_for(daemon)
    vms = client.resources.get(api_version="kubevirt.io/v1", kind="VirtualMachine")
    created = vms.create(body=vm_manifest("py-a", labels={"tier": "web"}), namespace="default")
    assert created.metadata.name == "py-a"
    vms.create(body=vm_manifest("py-b", labels={"tier": "db"}), namespace="default")
    listed = vms.get(namespace="default", label_selector="tier=web")
    assert [item.metadata.name for item in listed.items] == ["py-a"]
    listed = vms.get(namespace="default", label_selector="tier in (web,db)")
    assert sorted(item.metadata.name for item in listed.items) == ["py-a", "py-b"]
    start_rv = listed.metadata.resourceVersion

    seen = []

    def watch():
        for event in vms.watch(namespace="default", resource_version=start_rv, timeout=10):
            seen.append((event["type"], event["object"].metadata.name))
            if len(seen) == 2:
                break

    thread = threading.Thread(target=watch)
    thread.start()
    vms.patch(name="py-a", namespace="default", body={"metadata": {"labels": {"touched": "yes"}}},
              content_type="application/merge-patch+json")
    vms.delete(name="py-b", namespace="default")
    thread.join(15)
    assert seen == [("MODIFIED", "py-a"), ("DELETED", "py-b")]
    remaining = vms.get(namespace="default")
    assert [item.metadata.name for item in remaining.items] == ["py-a"]


def test_watch_after_compaction_is_gone(make_daemon):
    daemon = make_daemon("--compaction-interval", "1")
    client = client_for(daemon)
    vms = client.resources.get(api_version="kubevirt.io/v1", kind="VirtualMachine")
    first = vms.create(body=vm_manifest("old"), namespace="default")
    old_rv = first.metadata.resourceVersion
    for i in range(3):
        vms.patch(name="old", namespace="default", body={"metadata": {"labels": {"n": str(i)}}},
                  content_type="application/merge-patch+json")
    import time
    time.sleep(3)
    raised = None
    try:
        for _ in vms.watch(namespace="default", resource_version=old_rv, timeout=5):
            pass
    except kubernetes.client.exceptions.ApiException as error:
        raised = error
    assert raised is not None and raised.status == 410
