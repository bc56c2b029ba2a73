"""Model string → family (hook API contract §7): a cap on `sonnet` must catch every sonnet model id."""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from limiter.families import _is_word, _without_bracket_suffix, is_valid_family, normalize_family

NORMALISATION = [
    ("claude-opus-4-1-20250805", "opus"),
    ("opus[1m]", "opus"),
    ("best", "opus"),
    ("opusplan", "opus"),
    ("claude-sonnet-4-5", "sonnet"),
    ("claude-3-5-haiku", "haiku"),
    ("  Claude-Sonnet-4-5-20250929  ", "sonnet"),
    ("SONNET[1M]", "sonnet"),
    ("claude-nova-2-20270101", "nova"),
    ("claude-3-nova", "nova"),
    ("fable", "fable"),
    ("default", "default"),
    ("gpt-5", "default"),
    ("<synthetic>", "default"),
    ("", "default"),
    ("   ", "default"),
    ("[1m]", "default"),
    ("claude-3-5", "default"),
]


@pytest.mark.parametrize(("model", "family"), NORMALISATION, ids=[m or "empty" for m, _ in NORMALISATION])
def test_normalises_model_ids_to_their_family(model, family):
    assert normalize_family(model, extra_families=["fable"]) == family


def test_team_extra_family_is_found_inside_a_longer_model_id():
    assert normalize_family("fable-2-preview", extra_families=["fable"]) == "fable"
    assert normalize_family("fable-2-preview") == "default"


def test_builtin_families_win_over_extra_families_in_contract_order():
    assert normalize_family("claude-opus-fable", extra_families=["fable"]) == "opus"


def test_team_aliases_replace_the_default_alias_map():
    assert normalize_family("best", aliases={"best": "sonnet"}) == "sonnet"
    assert normalize_family("fast", aliases={"fast": "haiku"}) == "haiku"
    assert normalize_family("best", aliases={}) == "best"


@pytest.mark.parametrize("model", [None, 5, ["opus"], {"m": "opus"}], ids=["null", "int", "list", "object"])
def test_non_string_models_fall_back_to_default(model):
    assert normalize_family(model) == "default"


def test_an_overlong_bare_word_is_not_a_family_name():
    assert normalize_family("a" * 40) == "default"


# The string tests in families.py stand in for these expressions (anchored at both ends: a family name
# never ends in a newline); hypothesis checks they agree, brackets and newlines included.
_FAMILY_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")
_BRACKET_SUFFIX = re.compile(r"\[[^\]]*\]\Z")
_WORD = re.compile(r"[a-z]+")


@given(st.text(alphabet=st.sampled_from("ab_9Z[]é\n -"), max_size=40))
def test_string_tests_agree_with_the_expressions_they_replace(text):
    assert is_valid_family(text) == bool(_FAMILY_NAME.fullmatch(text))
    assert _without_bracket_suffix(text) == _BRACKET_SUFFIX.sub("", text)
    assert _is_word(text) == bool(_WORD.fullmatch(text))
