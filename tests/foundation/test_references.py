import re

from hypothesis import given
from hypothesis import strategies as st

from core.references import ALPHABET, SYMBOLS, new_reference, normalize_reference

PATTERN = re.compile(
    r"^[0-9A-HJKMNP-TV-Z]{3}-[0-9A-HJKMNP-TV-Z]{3}-[0-9A-HJKMNP-TV-Z]{3}-[0-9A-HJKMNP-TV-Z]{3}$"
)


def test_references_are_well_formed_and_carry_at_least_60_bits():
    assert len(ALPHABET) == 32 and SYMBOLS * 5 >= 60
    for _ in range(1000):
        assert PATTERN.match(new_reference())


def test_references_are_unique():
    sample = {new_reference() for _ in range(50_000)}
    assert len(sample) == 50_000


@given(st.text(alphabet=ALPHABET, min_size=12, max_size=12))
def test_normalize_forgives_case_spacing_and_lookalikes(raw):
    canonical = normalize_reference(raw)
    assert canonical is not None and PATTERN.match(canonical)
    sloppy = " ".join(raw.lower()[i : i + 4] for i in range(0, 12, 4))
    assert normalize_reference(sloppy) == canonical
    assert normalize_reference(raw.replace("1", "I").replace("0", "o")) == canonical


@given(st.text(max_size=30))
def test_normalize_never_accepts_garbage(text):
    result = normalize_reference(text)
    assert result is None or PATTERN.match(result)


def test_wrong_length_or_letters_rejected():
    assert normalize_reference("K7Q-4MZ-9XP") is None
    assert normalize_reference("K7Q-4MZ-9XP-2HU") is None  # U is not in the alphabet
    assert normalize_reference("") is None
