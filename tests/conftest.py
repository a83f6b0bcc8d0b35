"""Shared fixtures: the course's models, loaded once per test session, offline."""

# First, before anything imports torch: importing companion applies its quiet environment
# (OMP_WAIT_POLICY=PASSIVE, no progress bars), which the notebooks' kernels inherit too.
import companion  # noqa: I001

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def tiny():
    """(model, tokenizer) of the shipped tutorial-tiny model."""
    return companion.load_model("tutorial-tiny")


@pytest.fixture(scope="session")
def smollm2():
    """(model, tokenizer) of smollm2-135m in fp32 (converted on first use, then cached)."""
    return companion.load_model("smollm2-135m")
