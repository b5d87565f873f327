"""Fixtures for end-to-end tests: a real swiftvirtd (HTTPS, token, SQLite) and the real kubectl."""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.path.join(ROOT, ".build", "debug")
KUBECTL = os.environ.get("KUBECTL", "/usr/bin/kubectl")


class Daemon:
    """One swiftvirtd process on a fresh data directory; restartable on the same directory."""

    def __init__(self, data_dir, extra_args=(), role="api"):
        self.data_dir = data_dir
        self.role = role
        self.extra_args = list(extra_args)
        self.proc = None
        self.log_path = os.path.join(data_dir, "swiftvirtd.log")

    @property
    def kubeconfig(self):
        return os.path.join(self.data_dir, "kubeconfig")

    def start(self, listen="127.0.0.1:0"):
        if os.path.exists(self.kubeconfig):
            os.remove(self.kubeconfig)
        log = open(self.log_path, "a")
        self.proc = subprocess.Popen(
            [os.path.join(BIN, "swiftvirtd"), "--role", self.role, "--data-dir", self.data_dir, "--listen", listen]
            + self.extra_args,
            stdout=log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while time.time() < deadline:
            if os.path.exists(self.kubeconfig) and os.path.getsize(self.kubeconfig) > 0:
                break
            if self.proc.poll() is not None:
                raise RuntimeError("swiftvirtd exited: " + open(self.log_path).read())
            time.sleep(0.05)
        else:
            raise RuntimeError("swiftvirtd did not write its kubeconfig: " + open(self.log_path).read())
        cfg = yaml.safe_load(open(self.kubeconfig))
        self.server = cfg["clusters"][0]["cluster"]["server"]
        self.token = cfg["users"][0]["user"]["token"]
        self.ca_path = os.path.join(self.data_dir, "pki", "ca.crt")
        return self

    def diagnostics(self):
        """What the daemon is doing, for a failure message: every thread's backtrace (gdb) and its log's tail."""
        parts = []
        if self.proc and self.proc.poll() is None:
            try:
                out = subprocess.run(["gdb", "-p", str(self.proc.pid), "-batch", "-ex", "thread apply all bt 30"],
                                     capture_output=True, text=True, timeout=60).stdout
                parts.append("threads:\n" + "\n".join(line for line in out.splitlines() if line.startswith(("Thread", "#"))))
            except Exception as error:  # gdb missing or stuck: the log still helps
                parts.append(f"no backtrace: {error}")
        try:
            with open(os.path.join(self.data_dir, "swiftvirtd.log")) as f:
                parts.append("log tail:\n" + "".join(f.readlines()[-40:]))
        except OSError as error:
            parts.append(f"no log: {error}")
        return "\n".join(parts)

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    # Raw HTTP for tests that look at status codes and bodies.
    def request(self, method, path, body=None, content_type="application/json", token=True, headers=None):
        import requests
        h = {"Content-Type": content_type}
        if token:
            h["Authorization"] = "Bearer " + self.token
        h.update(headers or {})
        data = body if isinstance(body, (bytes, str)) or body is None else json.dumps(body)
        try:
            return requests.request(method, self.server + path, data=data, headers=h, verify=self.ca_path, timeout=30)
        except requests.exceptions.ReadTimeout as error:
            # A daemon that stops answering says what it is doing (once: later timeouts just fail).
            if getattr(self, "diagnosed", False):
                raise
            self.diagnosed = True
            raise AssertionError(f"{method} {path}: the daemon did not answer in 30 s ({error})\n{self.diagnostics()}") from error

    def kubectl(self, *args, check=True, input=None, timeout=60):
        env = dict(os.environ, KUBECONFIG=self.kubeconfig, HOME=os.path.join(self.data_dir, "home"))
        result = subprocess.run([KUBECTL, *args], env=env, capture_output=True, text=True, input=input, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
        return result

    def env(self):
        return dict(os.environ, KUBECONFIG=self.kubeconfig)

    @staticmethod
    def bin(name):
        return os.path.join(BIN, name)

    def swiftvirt(self, *args, check=True, input=None, timeout=60):
        env = dict(os.environ, KUBECONFIG=self.kubeconfig)
        result = subprocess.run([os.path.join(BIN, "swiftvirt"), *args], env=env, capture_output=True, text=True,
                                input=input, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"swiftvirt {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
        return result


@pytest.fixture
def daemon():
    data_dir = tempfile.mkdtemp(prefix="swiftvirt-e2e-")
    d = Daemon(data_dir).start()
    yield d
    d.stop()
    shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture
def make_daemon():
    """A factory for daemons with extra flags; all are stopped at the end."""
    made = []

    def factory(*extra):
        data_dir = tempfile.mkdtemp(prefix="swiftvirt-e2e-")
        d = Daemon(data_dir, extra).start()
        made.append(d)
        return d

    yield factory
    for d in reversed(made):
        d.stop()
        shutil.rmtree(d.data_dir, ignore_errors=True)


def vm_manifest(name="testvm", run_strategy="Halted", labels=None, extra_spec=None):
    vm = {
        "apiVersion": "kubevirt.io/v1",
        "kind": "VirtualMachine",
        "metadata": {"name": name, "labels": labels or {"app": name}},
        "spec": {
            "runStrategy": run_strategy,
            "template": {
                "metadata": {"labels": {"kubevirt.io/vm": name}},
                "spec": {
                    "domain": {
                        "devices": {"disks": [{"name": "rootdisk", "disk": {"bus": "virtio"}}]},
                        "resources": {"requests": {"memory": "128Mi"}},
                    },
                    "volumes": [{"name": "rootdisk", "containerDisk": {"image": "/var/lib/swiftvirt/guest/disk.qcow2"}}],
                },
            },
        },
    }
    if extra_spec:
        vm["spec"].update(extra_spec)
    return vm
