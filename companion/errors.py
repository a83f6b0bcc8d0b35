"""Errors the companion package raises. Each message says what to do next.

All inherit from `CompanionError`, which is a `ValueError` so that code catching
transformers' own `ValueError`s keeps working.
"""


class CompanionError(ValueError):
    """Base class of every error the companion package raises on purpose."""


class UnknownModelError(CompanionError):
    """The model name is neither built in, a local folder, nor reachable on the hub."""


class MissingPackageError(CompanionError, ImportError):
    """An optional package is missing; the message holds the install command."""


class ModelNotBuiltError(CompanionError):
    """A built-in model's files are not there yet (e.g. tutorial-tiny before training)."""


class PaddingError(CompanionError):
    """A batch is padded in a way that breaks decoder-only generation."""


class ArgumentTypeError(CompanionError, TypeError):
    """An argument has the wrong type (None, a tokenizer where the model goes, a number as text...).

    Both a `TypeError` (what Python raises for a wrong type) and a `CompanionError`, so
    `except TypeError` and `except CompanionError` both catch it. The message names the
    argument, what it got, and what to pass instead.
    """
