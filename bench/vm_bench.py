#!/usr/bin/env python3
"""VM start latency and per-VM overhead, each next to its baseline measured in the same run.

1. Create -> QEMU "running" (QMP) for the tiny guest, N runs through SwiftVirt (POST a VMI, wait for the
   node agent to report Running, which it does right after QMP query-status says running), against the
   same QEMU command line started by hand (exec -> QMP running).
2. Per-VM host memory overhead: with 10 VMs running, the RSS of everything SwiftVirt adds per VM beyond
   the QEMU processes (swiftvirtd's growth, plus any per-VM helper process: there is none by design).
3. The daemon idle with 20 VMs: its threads and RSS with no VM, and once 20 guests have booted and sit
   idle (the baseline is the same daemon before the VMs, in the same run).

Usage: bench/vm_bench.py [--runs 20] [--vms 10] [--idle 20] [--parts latency,memory,idle] [--binary .build/release/swiftvirtd]
"""
import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import requests
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
GUEST = "/var/lib/swiftvirt/guest"


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, max(0, int(round(p * len(values) + 0.5)) - 1))]


def threads(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    return 0


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Cluster:
    def __init__(self, binary):
        self.dir = tempfile.mkdtemp(prefix="swiftvirt-bench-")
        self.proc = subprocess.Popen([binary, "--role", "all", "--data-dir", self.dir, "--listen", "127.0.0.1:0",
                                      "--emulation", "--node-name", "bench"],
                                     stdout=open(os.path.join(self.dir, "log"), "w"), stderr=subprocess.STDOUT)
        kubeconfig = os.path.join(self.dir, "kubeconfig")
        for _ in range(300):
            if os.path.exists(kubeconfig) and os.path.getsize(kubeconfig):
                break
            time.sleep(0.05)
        cfg = yaml.safe_load(open(kubeconfig))
        self.server = cfg["clusters"][0]["cluster"]["server"]
        self.session = requests.Session()
        self.session.headers["Authorization"] = "Bearer " + cfg["users"][0]["user"]["token"]
        self.session.verify = os.path.join(self.dir, "pki", "ca.crt")
        self.session.trust_env = False  # else REQUESTS_CA_BUNDLE replaces our CA
        self.wait(lambda: self.get("/api/v1/nodes/bench").status_code == 200, 30)

    def get(self, path):
        return self.session.get(self.server + path, timeout=30)

    def wait(self, predicate, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if predicate():
                return
            time.sleep(0.002 if timeout < 60 else 0.5)
        raise RuntimeError("timed out")

    def vmi(self, name, memory="256Mi"):
        return {
            "apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstance", "metadata": {"name": name},
            "spec": {
                "domain": {"memory": {"guest": memory}, "devices": {"disks": [{"name": "root", "disk": {"bus": "virtio"}}]}},
                "terminationGracePeriodSeconds": 0,
                "volumes": [{"name": "root", "containerDisk": {"image": f"{GUEST}/disk.qcow2"}}],
            },
        }

    def start_vmi(self, name, memory="256Mi"):
        """POST a VMI and wait on a watch (as a client would; polling would steal the CPU being measured)
        for the node agent to report it Running."""
        path = "/apis/kubevirt.io/v1/namespaces/default/virtualmachineinstances"
        rv = self.get(path + "?limit=1").json()["metadata"]["resourceVersion"]
        watch = self.session.get(f"{self.server}{path}?watch=1&resourceVersion={rv}&fieldSelector=metadata.name%3D{name}",
                                 stream=True, timeout=120)
        t0 = time.monotonic()
        r = self.session.post(self.server + path, json=self.vmi(name, memory), timeout=30)
        assert r.status_code == 201, r.text
        for line in watch.iter_lines():
            if line and json.loads(line)["object"].get("status", {}).get("phase") == "Running":
                break
        elapsed = time.monotonic() - t0
        watch.close()
        return elapsed

    def delete_vmi(self, name, wait=True):
        path = f"/apis/kubevirt.io/v1/namespaces/default/virtualmachineinstances/{name}"
        self.session.delete(self.server + path, timeout=30)
        if wait:
            self.wait(lambda: self.get(path).status_code == 404, 120)

    def qemu_pids(self):
        pids = []
        for pid in os.listdir("/proc"):
            if pid.isdigit():
                try:
                    cmd = open(f"/proc/{pid}/cmdline", "rb").read()
                except OSError:
                    continue
                if cmd.startswith(b"qemu-system-x86_64") and self.dir.encode() in cmd:
                    pids.append(int(pid))
        return pids

    def close(self):
        for pid in self.qemu_pids():
            os.kill(pid, signal.SIGKILL)
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        runc_root = os.path.join(self.dir, "pods", ".runc")
        for c in subprocess.run(["runc", "--root", runc_root, "list", "-q"], capture_output=True, text=True).stdout.split():
            subprocess.run(["runc", "--root", runc_root, "delete", "--force", c], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


def qmp_running(path, deadline):
    while time.monotonic() < deadline:
        try:
            s = socket.socket(socket.AF_UNIX)
            s.connect(path)
            break
        except OSError:
            time.sleep(0.001)
    f = s.makefile("rwb")
    f.readline()
    for cmd in ({"execute": "qmp_capabilities"}, {"execute": "query-status"}):
        f.write(json.dumps(cmd).encode() + b"\n")
        f.flush()
        while True:
            reply = json.loads(f.readline())
            if "return" in reply or "error" in reply:
                break
    s.close()
    return reply["return"]["status"] == "running"


def raw_qemu(argv, workdir):
    """Starts QEMU with SwiftVirt's own command line, by hand: exec -> QMP says running."""
    qmp = os.path.join(workdir, "qmp.sock")
    args = argv
    t0 = time.monotonic()
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ok = qmp_running(qmp, t0 + 30)
    elapsed = time.monotonic() - t0
    p.kill()
    p.wait()
    os.remove(qmp) if os.path.exists(qmp) else None
    assert ok
    return elapsed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--vms", type=int, default=10)
    parser.add_argument("--idle", type=int, default=20)
    parser.add_argument("--parts", default="latency,memory,idle")
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build", "release", "swiftvirtd"))
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    subprocess.run([os.path.join(ROOT, "guest", "build.sh"), GUEST], check=True, capture_output=True)
    cluster = Cluster(args.binary)
    try:
        if "idle" in parts:
            idle(cluster, args.idle)
        swift, raw = [], []
        for i in range(args.runs if "latency" in parts else 0):
            name = f"lat-{i}"
            swift.append(cluster.start_vmi(name))
            pid = cluster.qemu_pids()[0]
            argv = [a.decode() for a in open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")[:-1]]
            state = next(a for a in argv if "/state/" in a)
            state = state[state.index("/"):state.index("/state/") + len("/state")]
            work = tempfile.mkdtemp(prefix="raw-qemu-")
            shutil.copytree(os.path.join(state, "disks"), os.path.join(work, "disks"))
            cluster.delete_vmi(name)
            try:
                raw.append(raw_qemu([a.replace(state, work) for a in argv], work))
            except Exception as error:
                print(f"raw run {i} failed: {error}", file=sys.stderr)
            shutil.rmtree(work, ignore_errors=True)
        ms = lambda v: f"{v * 1000:.0f} ms"
        if "latency" not in parts:
            return
        print(f"Create -> QEMU running, tiny guest, TCG, {args.runs} runs")
        print(f"  SwiftVirt (POST VMI -> Running): p50 {ms(pct(swift, .5))}, p95 {ms(pct(swift, .95))}")
        if raw:
            print(f"  raw QEMU (exec -> QMP running):  p50 {ms(pct(raw, .5))}, p95 {ms(pct(raw, .95))}  ({len(raw)} runs)")
            print(f"  difference:                      p50 {ms(pct(swift, .5) - pct(raw, .5))}, p95 {ms(pct(swift, .95) - pct(raw, .95))}"
                  "  (targets: p50 <= 100 ms, p95 <= 250 ms)")
        if "memory" not in parts:
            return
        base = rss_kib(cluster.proc.pid)
        for i in range(args.vms):
            cluster.start_vmi(f"mem-{i}")
        time.sleep(5)
        pids = cluster.qemu_pids()
        daemon = rss_kib(cluster.proc.pid)
        others = 0  # per-VM helper processes besides QEMU: runc exits once the container started
        for pid in os.listdir("/proc"):
            if pid.isdigit() and int(pid) not in pids:
                try:
                    cmd = open(f"/proc/{pid}/cmdline", "rb").read()
                except OSError:
                    continue
                if cluster.dir.encode() in cmd and int(pid) != cluster.proc.pid:
                    others += rss_kib(pid)
        per_vm = (daemon - base + others) / max(1, len(pids)) / 1024
        qemu = sum(rss_kib(p) for p in pids) / max(1, len(pids)) / 1024
        print(f"Per-VM host memory with {len(pids)} VMs running (256 MiB guests)")
        print(f"  SwiftVirt overhead per VM: {per_vm:.2f} MiB (daemon RSS {base / 1024:.0f} -> {daemon / 1024:.0f} MiB, other per-VM processes {others / 1024:.0f} MiB)"
              "  (target <= 8 MiB; KubeVirt ~240 MiB)")
        print(f"  baseline, QEMU's own RSS per VM: {qemu:.0f} MiB")
    finally:
        cluster.close()


def idle(cluster, count):
    """Threads and RSS of the daemon before any VM and with `count` booted, idle guests (128 MiB each)."""
    time.sleep(3)
    pid = cluster.proc.pid
    before = (threads(pid), rss_kib(pid))
    names = [f"idle-{i}" for i in range(count)]
    for name in names:
        cluster.start_vmi(name, memory="128Mi")
    # Let every guest finish booting (TCG on two cores takes a while), then sample the quiet daemon.
    time.sleep(max(20, count * 3))
    samples = []
    for _ in range(5):
        samples.append((threads(pid), rss_kib(pid)))
        time.sleep(1)
    after_threads = max(t for t, _ in samples)
    after_rss = max(r for _, r in samples)
    print(f"The daemon with {count} idle VMs (baseline: the same daemon with none, in this run)")
    print(f"  threads: {before[0]} -> {after_threads} ({(after_threads - before[0]) / count:+.2f} per VM)")
    print(f"  RSS:     {before[1] / 1024:.1f} -> {after_rss / 1024:.1f} MiB ({(after_rss - before[1]) / 1024 / count:+.2f} MiB per VM)")
    for name in names:
        cluster.delete_vmi(name, wait=False)
    cluster.wait(lambda: not cluster.qemu_pids(), 120)


if __name__ == "__main__":
    main()
