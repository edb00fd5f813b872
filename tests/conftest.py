"""Test-wide settings: the CPU path (the reproducible one) for unit tests and the nbval kernels alike."""

import os

# nbval's kernels inherit this process's environment.
os.environ["HELPERS_DEVICE"] = "cpu"
# ipykernel's debugger otherwise prints a warning to stderr, which strict nbval would compare.
os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
# Idle OpenMP threads sleep instead of spinning: on a 2-core CI machine a spinning pool in one
# notebook's kernel would slow everything else down. It changes no result.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
