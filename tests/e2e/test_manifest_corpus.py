"""Our own corpus of manifests, one per feature area (tests/e2e/manifests), through the real kubectl.

Each manifest in manifests/ is applied (or created, when it says `# verb: create`) and read back: every
field it gives must be stored as given (the server may add defaults and status, never change or drop
what was sent). Each manifest in manifests/refused/ is one a KubeVirt or CDI cluster refuses too; its
first line, `# refused: TEXT`, is what kubectl must print.
"""
import glob
import json
import os

import pytest
import yaml

HERE = os.path.dirname(__file__)
ACCEPTED = sorted(glob.glob(os.path.join(HERE, "manifests", "*.yaml")))
REFUSED = sorted(glob.glob(os.path.join(HERE, "manifests", "refused", "*.yaml")))


def documents(path):
    with open(path) as f:
        return [doc for doc in yaml.safe_load_all(f) if doc]


def header(path, key):
    """The value of a `# key: value` comment at the top of the manifest, or None."""
    with open(path) as f:
        for line in f:
            if not line.startswith("#"):
                break
            if line.startswith(f"# {key}:"):
                return line.split(":", 1)[1].strip()
    return None


def differences(given, stored, path=""):
    """Where `stored` does not hold `given`: a missing key, another value, a list of another length."""
    if isinstance(given, dict):
        if not isinstance(stored, dict):
            return [f"{path or '.'}: expected an object, stored {stored!r}"]
        found = []
        for key, value in given.items():
            child = f"{path}.{key}" if path else key
            if key not in stored:
                found.append(f"{child}: missing")
            else:
                found += differences(value, stored[key], child)
        return found
    if isinstance(given, list):
        if not isinstance(stored, list) or len(stored) != len(given):
            return [f"{path}: expected {given!r}, stored {stored!r}"]
        found = []
        for i, (a, b) in enumerate(zip(given, stored)):
            found += differences(a, b, f"{path}[{i}]")
        return found
    if given != stored:
        return [f"{path}: expected {given!r}, stored {stored!r}"]
    return []


def test_the_corpus_is_there():
    assert len(ACCEPTED) >= 15
    assert len(REFUSED) >= 5
    for path in REFUSED:
        assert header(path, "refused"), f"{path} does not say how it is refused"


@pytest.mark.parametrize("path", ACCEPTED, ids=os.path.basename)
def test_manifest_is_stored_as_given(daemon, path):
    verb = header(path, "verb") or "apply"
    out = daemon.kubectl(verb, "-f", path).stdout
    docs = documents(path)
    assert out.count(" created") == len(docs), out

    stored = json.loads(daemon.kubectl("get", "-f", path, "-o", "json").stdout)
    items = stored["items"] if stored.get("kind") == "List" else [stored]
    assert len(items) == len(docs)
    for given, got in zip(docs, items):
        assert got["metadata"]["uid"]
        assert differences(given, got) == [], f"{given['kind']}/{given['metadata']['name']}"

    if verb == "apply":
        # Applying the same manifest again changes nothing.
        again = daemon.kubectl("apply", "-f", path).stdout
        assert again.count(" unchanged") == len(docs), again
        after = json.loads(daemon.kubectl("get", "-f", path, "-o", "json").stdout)
        after_items = after["items"] if after.get("kind") == "List" else [after]
        assert [i["metadata"]["resourceVersion"] for i in after_items] == \
            [i["metadata"]["resourceVersion"] for i in items]


@pytest.mark.parametrize("path", REFUSED, ids=os.path.basename)
def test_manifest_is_refused_with_its_reason(daemon, path):
    expected = header(path, "refused")
    result = daemon.kubectl("apply", "-f", path, check=False)
    assert result.returncode != 0, result.stdout
    assert "is invalid" in result.stderr, result.stderr
    assert expected in result.stderr, result.stderr
    doc = documents(path)[0]
    missing = daemon.kubectl("get", "-f", path, check=False)
    assert missing.returncode != 0
    assert "NotFound" in missing.stderr or "not found" in missing.stderr, missing.stderr
    assert doc["metadata"]["name"] in missing.stderr
