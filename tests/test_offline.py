"""Offline and safe by construction: no connection leaves the machine, no pickle, no remote code.

The repository's conftest.py sets HF_HUB_OFFLINE=1 and installs the socket guard of
tests/offline/offline_guard.py in the test process and, through PYTHONPATH and
tests/offline/sitecustomize.py, in every Python process the tests start: child processes
and the Jupyter kernels that nbval and papermill start. These tests prove each of those
is guarded, that localhost still works (kernels need it), and that `companion.load_model`
loads safetensors only and never runs a model folder's own code.
"""

import json
import os
import pickle
import re
import runpy
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import nbformat
import offline_guard
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import companion
from companion import models
from companion.errors import UnknownModelError
from course_tools.run import run_notebook

OFFLINE_FOLDER = Path(offline_guard.__file__).parent
# An address outside the machine (example.com's old IPv4 address): the guard must stop
# connections to it before a packet leaves.
OUTSIDE = ("93.184.216.34", 80)
BLOCKED_MESSAGE = "outbound connection to 93.184.216.34:80 blocked: the course runs offline (tests/offline)"

# What a child Python process reports: the connection attempt and the offline setting.
PROBE = textwrap.dedent(
    """
    import os, socket
    try:
        socket.create_connection(("93.184.216.34", 80), timeout=3)
        print("CONNECTED")
    except OSError as error:
        print(f"{type(error).__name__}: {error}")
    print("HF_HUB_OFFLINE =", os.environ.get("HF_HUB_OFFLINE"))
    """
)


def local_listener(family=socket.AF_INET, host="127.0.0.1") -> socket.socket:
    """A listening TCP socket on a loopback address (port chosen by the system)."""
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.bind((host, 0))
    listener.listen()
    return listener


# --- the guard in the test process -------------------------------------------------------

def test_the_session_is_offline():
    import huggingface_hub.constants

    assert offline_guard.installed()
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert huggingface_hub.constants.HF_HUB_OFFLINE is True  # set before huggingface_hub was imported
    assert os.environ["PYTHONPATH"].split(os.pathsep)[0] == str(OFFLINE_FOLDER)


def test_outbound_connection_is_blocked_in_the_test_process():
    start = time.perf_counter()
    with pytest.raises(offline_guard.OutboundConnectionBlocked) as error:
        socket.create_connection(OUTSIDE, timeout=3)
    assert time.perf_counter() - start < 1  # refused on the spot, no network timeout
    assert str(error.value) == BLOCKED_MESSAGE
    assert isinstance(error.value, OSError)  # HTTP clients report it as a failed connection


@pytest.mark.parametrize("method", ["connect", "connect_ex"])
@pytest.mark.parametrize(
    "family, address, shown",
    [
        (socket.AF_INET, ("huggingface.co", 443), "huggingface.co:443"),  # a name: blocked before any DNS query
        (socket.AF_INET6, ("2606:4700::6810:84e5", 443), "[2606:4700::6810:84e5]:443"),
        (socket.AF_INET6, ("::ffff:93.184.216.34", 80), "[::ffff:93.184.216.34]:80"),
    ],
)
def test_every_way_to_connect_out_is_blocked(method, family, address, shown):
    expected = "^" + re.escape(f"outbound connection to {shown} blocked: the course runs offline")
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        with pytest.raises(offline_guard.OutboundConnectionBlocked, match=expected):
            getattr(sock, method)(address)


def is_outside(address) -> bool:
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:127.0.0.1 is loopback too
    return not (address.is_loopback or (mapped is not None and mapped.is_loopback))


@settings(max_examples=30, deadline=None)
@given(address=st.ip_addresses().filter(is_outside), port=st.integers(1, 65535))
def test_any_address_outside_the_machine_is_blocked(address, port):
    family = socket.AF_INET if address.version == 4 else socket.AF_INET6
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.settimeout(2)
        with pytest.raises(offline_guard.OutboundConnectionBlocked, match="the course runs offline"):
            sock.connect((str(address), port))


@pytest.mark.parametrize(
    "family, listen_on, connect_to",
    [
        (socket.AF_INET, "127.0.0.1", "127.0.0.1"),
        (socket.AF_INET, "127.0.0.1", "localhost"),
        (socket.AF_INET, "127.8.9.10", "127.8.9.10"),  # all of 127.0.0.0/8 is this machine
        (socket.AF_INET6, "::1", "::1"),
    ],
)
def test_localhost_is_allowed(family, listen_on, connect_to):
    try:
        listener = local_listener(family, listen_on)
    except OSError as error:  # e.g. a machine without IPv6
        pytest.skip(f"cannot listen on {listen_on}: {error}")
    with listener, socket.create_connection((connect_to, listener.getsockname()[1]), timeout=3) as client:
        accepted, _ = listener.accept()
        with accepted:
            client.sendall(b"ping")
            assert accepted.recv(4) == b"ping"


def test_unix_sockets_are_allowed(tmp_path):
    path = str(tmp_path / "socket")
    with socket.socket(socket.AF_UNIX) as listener, socket.socket(socket.AF_UNIX) as client:
        listener.bind(path)
        listener.listen()
        client.connect(path)
        accepted, _ = listener.accept()
        with accepted:
            client.sendall(b"ping")
            assert accepted.recv(4) == b"ping"
        with socket.socket(socket.AF_UNIX) as second_client:
            assert second_client.connect_ex(path) == 0


# --- the guard in the processes the tests start -------------------------------------------

def test_child_python_process_is_guarded():
    completed = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.splitlines() == [f"OutboundConnectionBlocked: {BLOCKED_MESSAGE}", "HF_HUB_OFFLINE = 1"]


def test_a_shadowed_sitecustomize_still_runs(tmp_path):
    """tests/offline/sitecustomize.py hides any other sitecustomize (Debian ships one): it runs it too."""
    other = tmp_path / "other"
    other.mkdir()
    (other / "sitecustomize.py").write_text(f"open({str(tmp_path / 'ran')!r}, 'w').close()\n")
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join([str(OFFLINE_FOLDER), str(other)]))
    code = "import offline_guard; print(offline_guard.installed())"
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=environment, timeout=60
    )
    assert completed.stdout.strip() == "True", completed.stderr
    assert (tmp_path / "ran").exists()


@pytest.mark.notebooks
def test_notebook_kernel_is_guarded_and_still_talks_to_localhost(tmp_path):
    """A papermill kernel (as nbval's) gets the guard; its own localhost traffic still works."""
    localhost_check = textwrap.dedent(
        """
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        client = socket.create_connection(listener.getsockname(), timeout=3)
        print("localhost:", "ok" if listener.accept()[0] else "failed")
        """
    )
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(PROBE), nbformat.v4.new_code_cell(localhost_check)],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )
    path = tmp_path / "offline_probe.ipynb"
    nbformat.write(notebook, path)
    run = run_notebook(path, tmp_path / "executed.ipynb")
    assert run.error is None, run.error
    executed = nbformat.read(tmp_path / "executed.ipynb", as_version=4)
    printed = ["".join(output.get("text", "") for output in cell.outputs) for cell in executed.cells]
    assert printed == [f"OutboundConnectionBlocked: {BLOCKED_MESSAGE}\nHF_HUB_OFFLINE = 1\n", "localhost: ok\n"]


# --- companion.load_model offline ---------------------------------------------------------

def test_a_hub_id_fails_fast_with_the_offline_message():
    start = time.perf_counter()
    with pytest.raises(UnknownModelError, match=r"cannot reach the hub right now \(offline\)") as error:
        companion.load_model("someone/some-model")
    assert time.perf_counter() - start < 5
    assert str(error.value).startswith("Cannot load the model 'someone/some-model': it is not a built-in name")


def test_hub_check_goes_through_the_guard_when_hf_hub_offline_is_unset(monkeypatch):
    """Without HF_HUB_OFFLINE, hub_is_reachable really connects: the guard's OSError means "offline"."""
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setattr(models, "HUB_HOST", OUTSIDE[0])  # an IP address: no name lookup before the guard
    start = time.perf_counter()
    assert models.hub_is_reachable() is False
    with pytest.raises(UnknownModelError, match=r"cannot reach the hub right now \(offline\)"):
        companion.load_model("someone/some-model")
    assert time.perf_counter() - start < 5


# --- safetensors only, no remote code ----------------------------------------------------

class CreatesFileWhenUnpickled:
    """A pickle payload: unpickling it calls open(marker, "w"), i.e. runs code."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def malicious_pickle(marker: Path) -> bytes:
    """The bytes of a pytorch_model.bin whose unpickling creates `marker`; proven live here."""
    payload = pickle.dumps({"model.embed_tokens.weight": CreatesFileWhenUnpickled(marker)})
    control = marker.with_name(marker.name + "-control")
    pickle.loads(pickle.dumps(CreatesFileWhenUnpickled(control)))
    assert control.exists(), "the payload must really run code when unpickled"
    control.unlink()
    return payload


def save_tiny(tiny, folder: Path) -> Path:
    model, tokenizer = tiny
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def bin_only_copy(tiny, folder: Path) -> Path:
    """A folder with the tiny model's weights only as pytorch_model.bin (as pre-safetensors checkpoints ship)."""
    import torch

    save_tiny(tiny, folder)
    (folder / "model.safetensors").unlink()
    torch.save(tiny[0].state_dict(), folder / "pytorch_model.bin")
    return folder


def test_a_folder_with_only_bin_weights_loads_and_generates_the_same_tokens(tiny, tmp_path):
    import torch

    folder = bin_only_copy(tiny, tmp_path / "bin-only")
    model, tokenizer = companion.load_model(str(folder))
    inputs = tokenizer(["1, 2, 3,"], return_tensors="pt")
    expected = tiny[0].generate(**inputs, max_new_tokens=8, do_sample=False)
    assert torch.equal(model.generate(**inputs, max_new_tokens=8, do_sample=False), expected)


def test_a_bin_that_would_run_code_is_never_unpickled(tiny, tmp_path):
    folder = save_tiny(tiny, tmp_path / "malicious")
    (folder / "model.safetensors").unlink()
    marker = tmp_path / "unpickled"
    (folder / "pytorch_model.bin").write_bytes(malicious_pickle(marker))
    with pytest.raises(Exception, match=r"(?i)weights.only"):
        companion.load_model(str(folder))
    assert not marker.exists(), "torch.load(weights_only=True) must refuse the payload"


def test_before_torch_2_6_a_bin_only_folder_is_refused_with_the_fix(tiny, tmp_path):
    from companion.models import pickle_refusal

    folder = bin_only_copy(tiny, tmp_path / "bin-only")
    refusal = pickle_refusal(str(folder), "2.5.1+cu121")
    assert "has only pickle weights (pytorch_model.bin)" in refusal and 'pip install "torch>=2.6"' in refusal
    assert pickle_refusal(str(folder), "2.6.0") is None
    assert pickle_refusal(str(save_tiny(tiny, tmp_path / "safe")), "2.5.1") is None
    readme = " ".join((Path(__file__).resolve().parent.parent / "README.md").read_text().split())
    shown = refusal.replace(repr(str(folder)), "...").replace("2.5.1+cu121", "2.5.1")
    assert shown in readme, "the README shows the refusal as load_model words it"


def test_a_pickle_next_to_safetensors_is_ignored(tiny, tmp_path):
    folder = save_tiny(tiny, tmp_path / "both")
    marker = tmp_path / "unpickled"
    (folder / "pytorch_model.bin").write_bytes(malicious_pickle(marker))
    model, tokenizer = companion.load_model(str(folder))
    assert not marker.exists()
    expected = companion.generate_text(*tiny, "1, 2, 3", max_new_tokens=8)
    assert companion.generate_text(model, tokenizer, "1, 2, 3", max_new_tokens=8) == expected


def add_remote_code(folder: Path, marker_folder: Path, model_type: str | None = None) -> list[Path]:
    """Make `folder` ask for its own code (auto_map), code that creates a marker file when run."""
    config = json.loads((folder / "config.json").read_text())
    config["auto_map"] = {"AutoConfig": "configuration_custom.CustomConfig",
                          "AutoModelForCausalLM": "modeling_custom.CustomModel"}
    if model_type:
        config["model_type"] = model_type
        config["architectures"] = ["CustomModel"]
    (folder / "config.json").write_text(json.dumps(config))
    tokenizer_config = json.loads((folder / "tokenizer_config.json").read_text())
    tokenizer_config["auto_map"] = {"AutoTokenizer": ["tokenization_custom.CustomTokenizer", None]}
    (folder / "tokenizer_config.json").write_text(json.dumps(tokenizer_config))
    markers = []
    for module in ("configuration_custom", "modeling_custom", "tokenization_custom"):
        marker = marker_folder / f"{module}-ran"
        (folder / f"{module}.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
        markers.append(marker)
    return markers


def test_a_model_type_that_needs_remote_code_is_refused_without_running_it(tiny, tmp_path):
    folder = save_tiny(tiny, tmp_path / "custom")
    markers = add_remote_code(folder, tmp_path, model_type="custom-remote-model")
    with pytest.raises(companion.CompanionError, match=r"needs Python code of its own.*trust_remote_code=True"):
        companion.load_model(str(folder))
    assert [marker for marker in markers if marker.exists()] == []
    runpy.run_path(str(folder / "modeling_custom.py"))  # the control: the code does create its marker
    assert markers[1].exists()


def test_a_known_model_type_with_an_auto_map_loads_with_transformers_own_code(tiny, tmp_path):
    folder = save_tiny(tiny, tmp_path / "llama-with-auto-map")
    markers = add_remote_code(folder, tmp_path)
    model, tokenizer = companion.load_model(str(folder))
    assert [marker for marker in markers if marker.exists()] == []
    assert type(model).__module__ == "transformers.models.llama.modeling_llama"
    assert not [name for name in sys.modules if name.endswith(("configuration_custom", "modeling_custom"))]
    expected = companion.generate_text(*tiny, "1, 2, 3", max_new_tokens=8)
    assert companion.generate_text(model, tokenizer, "1, 2, 3", max_new_tokens=8) == expected


def test_trust_remote_code_must_be_asked_for_with_a_bool():
    with pytest.raises(TypeError, match="trust_remote_code must be True or False"):
        companion.load_model("tutorial-tiny", trust_remote_code="yes")
