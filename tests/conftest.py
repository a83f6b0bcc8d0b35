"""Shared fixtures: the course's models, loaded once per test session, offline."""

import os

# `make test` runs two pytest workers side by side (pytest-xdist); each worker, and each
# notebook kernel it starts for nbval, then uses one CPU thread, as `make run` does.
# Strict nbval thus also proves that this gives the committed (sequentially built) outputs.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ["OMP_NUM_THREADS"] = "1"

# Before anything imports torch: importing companion applies its quiet environment
# (OMP_WAIT_POLICY=PASSIVE, no progress bars), which the notebooks' kernels inherit too.
import companion  # noqa: E402,I001

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def tiny():
    """(model, tokenizer) of the shipped tutorial-tiny model."""
    return companion.load_model("tutorial-tiny")


@pytest.fixture(scope="session")
def smollm2():
    """(model, tokenizer) of smollm2-135m in fp32 (converted on first use, then cached)."""
    return companion.load_model("smollm2-135m")
