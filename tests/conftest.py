"""Shared fixtures: the course's models, loaded once per test session, offline."""

import os

# One CPU thread for this process and the notebook kernels it starts for nbval, as the
# builder and `make run` do (companion.course.use_one_thread_per_kernel): `make test` runs two
# pytest workers side by side (pytest-xdist), one per core.
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


@pytest.fixture(autouse=True)
def shared_tokenizers_stay_unchanged(request):
    """Fail a test that changes the padding side or pad token of a session fixture's tokenizer.

    Tests share `tiny` and `smollm2`; a changed tokenizer would make later tests depend on
    the order they run in (with two workers, that order varies). transformers' text-generation
    pipeline, for one, switches the tokenizer it is given to left padding.
    """
    shared = [name for name in ("tiny", "smollm2") if name in request.fixturenames]
    before = {name: tokenizer_state(request.getfixturevalue(name)[1]) for name in shared}
    yield
    for name in shared:
        after = tokenizer_state(request.getfixturevalue(name)[1])
        assert after == before[name], f"the test changed the shared {name} tokenizer: {before[name]} -> {after}"


def tokenizer_state(tokenizer) -> tuple:
    return tokenizer.padding_side, tokenizer.pad_token
