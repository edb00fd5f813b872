"""Test-wide settings for every pytest run in this project (unit tests and nbval's notebook kernels alike).

It lives at the project's root so that it applies however pytest is started: `make test`, `pytest tests`,
or `pytest --nbval notebooks/04_self_attention.ipynb`. nbval's kernels inherit this process's environment.
"""

import importlib.util
import os
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "project_kernel", Path(__file__).parent / "scripts" / "project_kernel.py"
)
project_kernel = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(project_kernel)

# The CPU path: the reproducible one, which the committed outputs were made on.
os.environ["HELPERS_DEVICE"] = "cpu"
# matplotlib's and IPython's configuration in folders of this environment, never the user's home
# (a font cache, a matplotlibrc or an IPython startup file there could change an output).
project_kernel.use_private_config()
# Idle OpenMP threads sleep instead of spinning: on a 2-core CI machine a spinning pool in one
# notebook's kernel would slow everything else down. It changes no result.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def pytest_report_header(config):
    """Name the CPU: the committed outputs repeat to the last digit only on the kind of CPU that made them."""
    import platform

    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            model = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), model)
    except OSError:
        pass
    import torch

    capability = torch.backends.cpu.get_cpu_capability()
    return f"CPU: {model}, PyTorch kernels {capability} (the committed outputs were made on an Intel Xeon, AVX512)"
