"""A third-party client end to end: Ansible's kubevirt.core modules (from the `ansible` package) create, stop,
start and delete a VM on the all-in-one daemon, each task run twice — the second run must report no change —
and the info modules report the VM and its running VMI."""
import json
import os
import subprocess
import sys
import tempfile

import yaml

from test_vms import GUEST, VMIS, VMS, cluster, guest_image, phase, qemu_pids, wait_for  # noqa: F401 (fixtures)

NAME = "ansible-vm"

# The template spec the module wraps into spec.template.spec.
TEMPLATE_SPEC = {
    "domain": {
        "memory": {"guest": "256Mi"},
        "devices": {"disks": [{"name": "root", "disk": {"bus": "virtio"}}]},
    },
    "terminationGracePeriodSeconds": 5,
    "volumes": [{"name": "root", "containerDisk": {"image": f"{GUEST}/disk.qcow2"}}],
}


def vm_task(kubeconfig, **params):
    return {"kubevirt.core.kubevirt_vm": {
        "kubeconfig": kubeconfig, "namespace": "default", "name": NAME, "wait": True, "wait_sleep": 1,
        "wait_timeout": 120, **params}}


def run_twice(d, workdir, step, task):
    """Runs a playbook holding `task` twice in a row; returns both runs' results for localhost."""
    playbook = [{"hosts": "localhost", "gather_facts": False, "tasks": [
        {"name": f"{step} (first)", "diff": True, **task},
        {"name": f"{step} (again)", "diff": True, **task},
    ]}]
    return run_playbook(d, workdir, step, playbook)


def run_playbook(d, workdir, step, playbook):
    path = os.path.join(workdir, f"{step}.yml")
    with open(path, "w") as f:
        yaml.safe_dump(playbook, f, sort_keys=False)
    env = dict(os.environ,
               ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
               ANSIBLE_HOME=os.path.join(workdir, "ansible-home"),
               ANSIBLE_LOCAL_TEMP=os.path.join(workdir, "ansible-tmp"),
               ANSIBLE_LOCALHOST_WARNING="False",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="False",
               ANSIBLE_PYTHON_INTERPRETER=sys.executable,
               HOME=os.path.join(workdir, "home"))
    result = subprocess.run([sys.executable, "-m", "ansible", "playbook", "-i", "localhost,", "-c", "local", path],
                            env=env, capture_output=True, text=True, timeout=400)
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        raise AssertionError(f"ansible-playbook {step} printed no JSON ({result.returncode}):\n"
                             f"{result.stdout}\n{result.stderr}")
    tasks = [t["hosts"]["localhost"] for t in report["plays"][0]["tasks"]]
    failed = [(t.get("msg"), t.get("reason")) for t in tasks if t.get("failed")]
    assert result.returncode == 0 and not failed, (
        f"ansible-playbook {step} failed ({result.returncode}): {failed}\n{result.stderr}\n"
        + open(d.log_path).read()[-4000:])
    return tasks


def assert_changed_then_idempotent(step, runs, method):
    """The first run changed the VM with `method`; the second changed nothing, not even the generation."""
    first, again = runs
    assert first["changed"] is True, f"{step}: the first run must change the VM: {first}"
    assert first["method"] == method
    assert again["changed"] is False, f"{step}: the second run must change nothing: {again.get('diff', again)}"
    # The module warns when only metadata.generation or metadata.resourceVersion moved: a no-op write.
    assert not again.get("warnings"), f"{step}: {again['warnings']}"
    if method != "delete":
        assert again["result"]["metadata"]["generation"] == first["result"]["metadata"]["generation"]


def test_kubevirt_vm_with_run_strategy_creates_stops_starts_and_deletes_idempotently(cluster):
    d = cluster
    workdir = tempfile.mkdtemp(prefix="swiftvirt-ansible-", dir=d.data_dir)
    kc = d.kubeconfig

    # Create, running, and wait until the VM is Ready.
    runs = run_twice(d, workdir, "create", vm_task(kc, run_strategy="Always", labels={"app": NAME},
                                                    spec=TEMPLATE_SPEC))
    assert_changed_then_idempotent("create", runs, "create")
    assert runs[1]["method"] == "update"
    created = runs[1]["result"]
    assert created["spec"]["runStrategy"] == "Always"
    assert all("running" not in run["result"]["spec"] for run in runs), "the module's running: null is not stored"
    ready = [c for c in created["status"]["conditions"] if c["type"] == "Ready"]
    assert ready and ready[0]["status"] == "True"
    assert phase(d, NAME) == "Running"
    assert len(qemu_pids(d.data_dir)) == 1, "the guest's QEMU runs"
    generation = d.request("GET", f"{VMS}/{NAME}").json()["metadata"]["generation"]

    # The info modules see the VM and its running VMI, on the node that runs it.
    info = run_playbook(d, workdir, "info", [{"hosts": "localhost", "gather_facts": False, "tasks": [
        {"name": "vm info", "kubevirt.core.kubevirt_vm_info": {
            "kubeconfig": kc, "namespace": "default", "name": NAME, "wait": True, "wait_sleep": 1}},
        {"name": "vm info by label", "kubevirt.core.kubevirt_vm_info": {
            "kubeconfig": kc, "namespace": "default", "label_selectors": [f"app={NAME}"]}},
        {"name": "vmi info", "kubevirt.core.kubevirt_vmi_info": {
            "kubeconfig": kc, "namespace": "default", "name": NAME, "wait": True, "wait_sleep": 1}},
    ]}])
    vm_info, by_label, vmi_info = info
    assert all(t["changed"] is False for t in info)
    assert [r["metadata"]["name"] for r in vm_info["resources"]] == [NAME]
    assert vm_info["resources"][0]["spec"]["runStrategy"] == "Always"
    assert vm_info["resources"][0]["status"]["printableStatus"] == "Running"
    assert vm_info["resources"][0]["status"]["ready"] is True
    assert [r["metadata"]["name"] for r in by_label["resources"]] == [NAME]
    [vmi] = vmi_info["resources"]
    assert vmi["metadata"]["name"] == NAME
    assert vmi["status"]["phase"] == "Running"
    assert vmi["status"]["nodeName"] == "node-a"
    assert [o["kind"] for o in vmi["metadata"]["ownerReferences"]] == ["VirtualMachine"]
    assert d.request("GET", f"{VMS}/{NAME}").json()["metadata"]["generation"] == generation

    # Stop: the VMI goes away and so does QEMU.
    runs = run_twice(d, workdir, "stop", vm_task(kc, run_strategy="Halted", labels={"app": NAME},
                                                  spec=TEMPLATE_SPEC))
    assert_changed_then_idempotent("stop", runs, "update")
    stopped = runs[1]["result"]
    assert stopped["spec"]["runStrategy"] == "Halted"
    assert stopped["status"]["printableStatus"] == "Stopped"
    assert d.request("GET", f"{VMIS}/{NAME}").status_code == 404
    wait_for(lambda: not qemu_pids(d.data_dir), 30, "QEMU to exit")
    vmi_gone = run_playbook(d, workdir, "vmi-gone", [{"hosts": "localhost", "gather_facts": False, "tasks": [
        {"name": "vmi info", "kubevirt.core.kubevirt_vmi_info": {
            "kubeconfig": kc, "namespace": "default", "name": NAME}},
        {"name": "vm info, stopped", "kubevirt.core.kubevirt_vm_info": {
            "kubeconfig": kc, "namespace": "default", "name": NAME, "wait": True, "running": False,
            "wait_sleep": 1}},
    ]}])
    assert vmi_gone[0]["resources"] == []
    assert vmi_gone[1]["resources"][0]["status"]["printableStatus"] == "Stopped"

    # Start again.
    runs = run_twice(d, workdir, "start", vm_task(kc, run_strategy="Always", labels={"app": NAME},
                                                   spec=TEMPLATE_SPEC))
    assert_changed_then_idempotent("start", runs, "update")
    assert phase(d, NAME) == "Running"
    assert len(qemu_pids(d.data_dir)) == 1, "the guest's QEMU runs again"

    # Delete and wait until the VM is gone.
    runs = run_twice(d, workdir, "delete", vm_task(kc, state="absent"))
    assert_changed_then_idempotent("delete", runs, "delete")
    assert d.request("GET", f"{VMS}/{NAME}").status_code == 404
    wait_for(lambda: d.request("GET", f"{VMIS}/{NAME}").status_code == 404, 30, "the VMI to go")
    wait_for(lambda: not qemu_pids(d.data_dir), 30, "QEMU to exit")


def test_kubevirt_vm_with_the_running_field_is_idempotent_too(cluster):
    """The module's other form: `running` instead of `run_strategy` (it then sends runStrategy: null)."""
    d = cluster
    workdir = tempfile.mkdtemp(prefix="swiftvirt-ansible-", dir=d.data_dir)
    kc = d.kubeconfig

    runs = run_twice(d, workdir, "create-halted", vm_task(kc, running=False, spec=TEMPLATE_SPEC))
    assert_changed_then_idempotent("create-halted", runs, "create")
    assert runs[1]["method"] == "update"
    for run in runs:
        assert run["result"]["spec"]["running"] is False
        assert "runStrategy" not in run["result"]["spec"], "the module's runStrategy: null is not stored"
    assert runs[1]["result"]["status"]["printableStatus"] == "Stopped"
    assert not qemu_pids(d.data_dir)

    runs = run_twice(d, workdir, "run", vm_task(kc, running=True, spec=TEMPLATE_SPEC))
    assert_changed_then_idempotent("run", runs, "update")
    assert runs[1]["result"]["spec"]["running"] is True
    assert runs[1]["result"]["status"]["printableStatus"] == "Running"
    assert phase(d, NAME) == "Running"
    assert len(qemu_pids(d.data_dir)) == 1, "the guest's QEMU runs"

    runs = run_twice(d, workdir, "delete", vm_task(kc, state="absent"))
    assert_changed_then_idempotent("delete", runs, "delete")
    assert d.request("GET", f"{VMS}/{NAME}").status_code == 404
    wait_for(lambda: not qemu_pids(d.data_dir), 30, "QEMU to exit")
