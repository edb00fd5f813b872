"""The lab command's server: JupyterLab from this environment starts headless, answers, and stops.

It starts the server as `make lab` does (served from the project root, opening notebooks/), on 127.0.0.1
with a free port and a token instead of a browser.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
JUPYTER = Path(sys.executable).parent / "jupyter"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def lab_recipe_options() -> list[str]:
    """The options `make lab` passes to `jupyter lab` (so this test starts the same server)."""
    recipe = re.search(r"^lab:.*\n\t(.+)$", (ROOT / "Makefile").read_text(encoding="utf-8"), re.MULTILINE)
    assert recipe, "the Makefile has no `lab:` target with a one-line recipe"
    words = recipe.group(1).replace("$(CURDIR)", str(ROOT)).split()
    assert words[0] == "$(BIN)/jupyter" and words[1] == "lab", recipe.group(1)
    return [word for word in words[2:] if not word.startswith("--port")]


def test_jupyterlab_starts_answers_and_stops(tmp_path: Path) -> None:
    port, token = free_port(), secrets.token_hex(16)
    options = lab_recipe_options()
    assert "--LabApp.default_url=/lab/tree/notebooks" in options, options
    assert f"--LabApp.app_settings_dir={ROOT / 'jupyterlab-settings'}" in options, options
    command = [
        str(JUPYTER),
        "lab",
        *options,
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={ROOT}",
    ]
    # A settings folder of its own, as a learner who never changed a setting has.
    environment = {
        **os.environ,
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "settings"),
    }
    server = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=environment, start_new_session=True
    )
    try:
        status, deadline = None, time.monotonic() + 60
        while status is None and time.monotonic() < deadline:
            assert server.poll() is None, f"jupyter lab exited early:\n{server.stdout.read().decode()[-2000:]}"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=2) as reply:
                    status = json.load(reply)
            except OSError:
                time.sleep(0.3)
        assert status is not None, "JupyterLab did not answer /api/status within 60 s"
        base = f"http://127.0.0.1:{port}"
        with urllib.request.urlopen(f"{base}/?token={token}", timeout=5) as reply:
            assert reply.url.startswith(f"{base}/lab/tree/notebooks"), f"opens {reply.url}, not notebooks/"
        with urllib.request.urlopen(f"{base}/api/contents/notebooks?token={token}", timeout=5) as reply:
            names = {item["name"] for item in json.load(reply)["content"]}
        assert {f"0{n}" for n in range(6)} <= {name[:2] for name in names}, sorted(names)
        # The notebooks show ../assets/figures/*.png: reachable only when the server's root is the project.
        with urllib.request.urlopen(f"{base}/files/assets/figures/transformer.png?token={token}", timeout=5) as reply:
            assert reply.read(8) == b"\x89PNG\r\n\x1a\n"
        with urllib.request.urlopen(f"{base}/api/kernelspecs?token={token}", timeout=5) as reply:
            kernels = json.load(reply)["kernelspecs"]
        assert "applied-dl-notebooks" in kernels, f"project kernel not registered (run `make setup`): {sorted(kernels)}"
        env = kernels["applied-dl-notebooks"]["spec"].get("env", {})
        assert {"MPLCONFIGDIR", "MATPLOTLIBRC", "IPYTHONDIR"} <= set(env), (
            f"the project kernel runs with the user's matplotlib/IPython configuration (run `make kernel`): {env}"
        )
        # The project's settings: JupyterLab neither asks about nor fetches "official Jupyter news".
        plugin = "@jupyterlab/apputils-extension:notification"
        with urllib.request.urlopen(f"{base}/lab/api/settings/{plugin}?token={token}", timeout=5) as reply:
            defaults = {key: value.get("default") for key, value in json.load(reply)["schema"]["properties"].items()}
        assert defaults["fetchNews"] == "false" and defaults["checkForUpdates"] is False, defaults
        # ... and where it has no kernel name yet (Run All the moment a notebook opens), it starts the
        # server's default kernel, the project's, instead of asking "Select Kernel" (issue 32).
        plugin = "@jupyterlab/notebook-extension:tracker"
        with urllib.request.urlopen(f"{base}/lab/api/settings/{plugin}?token={token}", timeout=5) as reply:
            schema = json.load(reply)["schema"]["properties"]
        assert schema["autoStartDefaultKernel"]["default"] is True, schema["autoStartDefaultKernel"]
        with urllib.request.urlopen(f"{base}/api/kernelspecs?token={token}", timeout=5) as reply:
            assert json.load(reply)["default"] == "applied-dl-notebooks", "the server's default kernel"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
    assert server.returncode is not None
    # The address the learner is told to open is the one JupyterLab prints, and the README says so.
    printed = server.stdout.read().decode(errors="replace")
    # (A token given on the command line is printed as "..."; `make lab`'s own, generated one is printed whole.)
    address = re.search(rf"http://127\.0\.0\.1:{port}(/\S*)\?token=(?:\.\.\.|{token})", printed)
    assert address, f"JupyterLab printed no 127.0.0.1 address with a token:\n{printed[-2000:]}"
    assert address.group(1) == "/lab/tree/notebooks", address.group(0)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "`http://127.0.0.1:8888/lab/tree/notebooks?token=...`" in readme, "the README names another address"
