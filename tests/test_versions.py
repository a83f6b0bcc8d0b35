"""The versions the committed outputs were made with are recorded once, announced when they differ,
and a transformers outside the declared range is refused in one sentence."""


from companion.language import set_language
from companion.notebook_setup import (
    COMPARED_LIBRARIES,
    recorded_versions,
    transformers_refusal,
    version_difference,
)
from course_tools import lock
from course_tools.layout import LOCK


def test_the_outputs_were_recorded_with_the_locks_versions():
    locked = lock.pinned(LOCK.read_text())
    recorded = recorded_versions()
    assert set(COMPARED_LIBRARIES) <= set(recorded)
    for library, version in recorded.items():
        assert locked[lock.normalise(library)] == version, f"{library}: recorded {version}, locked {locked[library]}"


def test_no_line_when_the_running_transformers_is_the_recorded_one():
    assert version_difference(dict(recorded_versions()), recorded_versions()) is None


def test_one_line_names_both_versions_when_transformers_differs():
    recorded = {"transformers": "5.24.0"}
    line = version_difference({"transformers": "5.25.0"}, recorded)
    assert line == ("The outputs below were recorded with transformers 5.24.0; you have transformers 5.25.0, "
                    "so texts, warnings and timings may differ.")
    set_language("de")
    try:
        assert "Sie haben transformers 5.25.0" in version_difference({"transformers": "5.25.0"}, recorded)
    finally:
        set_language("en")


def test_a_transformers_below_the_floor_or_at_the_next_major_is_refused_with_the_pip_command():
    for found in ("5.15.0", "5.23.0", "6.0.0"):
        refusal = transformers_refusal(found)
        assert refusal.startswith("companion needs transformers") and f"but found {found}" in refusal
        assert 'pip install "transformers' in refusal and refusal.count(". ") == 0
    assert transformers_refusal("5.24.0") is None
    assert transformers_refusal(recorded_versions()["transformers"]) is None
