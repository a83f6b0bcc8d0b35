"""Tests for the exercise checks of notebook 06 (companion/exercises/going_further.py)."""

import companion  # noqa: F401  (quiet environment before torch)
import pytest

from companion.exercises.going_further import check_floor_ms_per_token, check_seven_billion_memory
from companion.models import load_model
from companion.throughput import weight_bytes


@pytest.fixture(scope="module")
def tiny_model():
    return load_model("tutorial-tiny")[0]


def test_floor_accepts_the_right_answer(tiny_model, capsys):
    right = weight_bytes(tiny_model) / (20.0 * 1e9) * 1000
    assert check_floor_ms_per_token(right, tiny_model, 20.0)
    assert capsys.readouterr().out.startswith("Correct!")


@pytest.mark.parametrize(
    ("scale", "hint_word"),
    [(1 / 1000, "seconds"), (1000, "units"), (None, "one number")],
)
def test_floor_hints_point_at_the_mistake(tiny_model, capsys, scale, hint_word):
    right = weight_bytes(tiny_model) / (20.0 * 1e9) * 1000
    answer = None if scale is None else right * scale
    assert not check_floor_ms_per_token(answer, tiny_model, 20.0)
    output = capsys.readouterr().out
    assert output.startswith("Not yet. Hint:") and hint_word in output


def test_floor_hint_for_an_inverted_answer(tiny_model, capsys):
    right = weight_bytes(tiny_model) / (20.0 * 1e9) * 1000
    assert not check_floor_ms_per_token(1 / right, tiny_model, 20.0)
    assert "upside down" in capsys.readouterr().out


def test_seven_billion_memory(capsys):
    assert check_seven_billion_memory({"fp32": 28, "bf16": 14, "4bit": 3.9})
    assert capsys.readouterr().out.startswith("Correct!")
    assert not check_seven_billion_memory({"fp32": 28, "bf16": 14, "4bit": 28})
    assert '"4bit"' in capsys.readouterr().out
    assert not check_seven_billion_memory({"fp32": 224, "bf16": 14, "4bit": 3.5})
    assert "bits" in capsys.readouterr().out
    assert not check_seven_billion_memory({"fp32": 28e9, "bf16": 14, "4bit": 3.5})
    assert "bytes" in capsys.readouterr().out
    assert not check_seven_billion_memory(None)
    assert "dict" in capsys.readouterr().out
    assert not check_seven_billion_memory({"fp32": True, "bf16": 14, "4bit": 3.5})
