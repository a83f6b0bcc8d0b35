"""Shared fixtures: the course's models, loaded once per test session (offline: see ../conftest.py)."""

import pytest

import companion


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
