"""Shared fixtures: the course's models, loaded once per test session (offline: see ../conftest.py)."""

import pytest

import companion

# Each built-in model's session fixture; fixture name -> (its tokenizer, the tokenizer's state as loaded).
BUILT_IN_FIXTURES = {"tutorial-tiny": "tiny", "smollm2-135m": "smollm2"}
LOADED_TOKENIZERS: dict[str, tuple] = {}


def loaded(name: str):
    """(model, tokenizer) of a built-in model, noting its tokenizer's state for the guard below."""
    model, tokenizer = companion.load_model(name)
    LOADED_TOKENIZERS[BUILT_IN_FIXTURES[name]] = tokenizer, tokenizer_state(tokenizer)
    return model, tokenizer


@pytest.fixture(scope="session")
def tiny():
    """(model, tokenizer) of the shipped tutorial-tiny model."""
    return loaded("tutorial-tiny")


@pytest.fixture(scope="session")
def smollm2():
    """(model, tokenizer) of smollm2-135m in fp32 (converted on first use, then cached)."""
    return loaded("smollm2-135m")


@pytest.fixture
def built_in(request):
    """A function: a built-in model's name -> its session fixture's (model, tokenizer).

    For tests parametrized by model name: one load per worker instead of one per test (a cached
    smollm2-135m takes ~2.5 s to load). A test that changes the tokenizer changes a copy
    (`copy.deepcopy(tokenizer)`); the guard below holds for these too.
    """
    return lambda name: request.getfixturevalue(BUILT_IN_FIXTURES[name])


@pytest.fixture(autouse=True)
def shared_tokenizers_stay_unchanged(request):
    """Fail a test that changes the padding side or pad token of a session fixture's tokenizer.

    Tests share `tiny` and `smollm2`; a changed tokenizer would make later tests depend on
    the order they run in (with two workers, that order varies). transformers' text-generation
    pipeline, for one, switches the tokenizer it is given to left padding. Checked after every
    test against the state as loaded, for each fixture the test used (by name or through `built_in`).
    """
    yield
    for name, (tokenizer, state) in LOADED_TOKENIZERS.items():
        if name in request.fixturenames or "built_in" in request.fixturenames:
            after = tokenizer_state(tokenizer)
            assert after == state, f"the test changed the shared {name} tokenizer: {state} -> {after}"


def tokenizer_state(tokenizer) -> tuple:
    return tokenizer.padding_side, tokenizer.pad_token
