"""Shared fixtures: the course's models, loaded once per test session, offline."""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch is imported anywhere
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

import pytest  # noqa: E402

import companion  # noqa: E402


@pytest.fixture(scope="session")
def tiny():
    """(model, tokenizer) of the shipped tutorial-tiny model."""
    return companion.load_model("tutorial-tiny")


@pytest.fixture(scope="session")
def smollm2():
    """(model, tokenizer) of smollm2-135m in fp32 (converted on first use, then cached)."""
    return companion.load_model("smollm2-135m")
