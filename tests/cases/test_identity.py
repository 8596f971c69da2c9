"""Applicants' identifiers: GB 11643 resident IDs, GB 32100 credit codes, the keyed hash and
the masks (app.cases.identity)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.cases import identity
from app.cases.identity import (
    CREDIT_ALPHABET,
    credit_check_char,
    id_hash,
    id_kind_of,
    is_credit_code,
    is_resident_id,
    mask_id,
    mask_name,
    mask_phone,
    normalise,
    resident_check_char,
)

# Commonly cited examples of a resident ID (check character X) and a credit code.
KNOWN_RESIDENT = "11010519491231002X"
KNOWN_CREDIT = "91350100M000100Y43"
REGIONS = ["659008", "654023", "654022", "650102", "110105"]


def resident(region: str, born: date, serial: int) -> str:
    first17 = f"{region}{born:%Y%m%d}{serial:03d}"
    return first17 + resident_check_char(first17)


def credit(first17: str) -> str:
    return first17 + credit_check_char(first17)


births = st.dates(min_value=date(1900, 1, 1), max_value=date.today() - timedelta(days=1))
serials = st.integers(min_value=0, max_value=999)
credit_bodies = st.text(alphabet=CREDIT_ALPHABET, min_size=17, max_size=17)


# --- resident identity numbers (GB 11643) ---------------------------------------------------


def test_known_examples() -> None:
    assert is_resident_id(KNOWN_RESIDENT)
    assert is_credit_code(KNOWN_CREDIT)
    assert id_kind_of(KNOWN_RESIDENT) == "resident_id"
    assert id_kind_of(KNOWN_CREDIT) == "credit_code"
    assert id_kind_of("not an id") is None


@settings(max_examples=300, deadline=None)
@given(region=st.sampled_from(REGIONS), born=births, serial=serials)
def test_generated_resident_ids_are_valid(region: str, born: date, serial: int) -> None:
    value = resident(region, born, serial)
    assert is_resident_id(value)
    assert id_kind_of(value) == "resident_id"


@settings(max_examples=300, deadline=None)
@given(region=st.sampled_from(REGIONS), born=births, serial=serials)
def test_every_wrong_check_character_is_refused(region: str, born: date, serial: int) -> None:
    value = resident(region, born, serial)
    for wrong in "0123456789X":
        if wrong != value[17]:
            assert not is_resident_id(value[:17] + wrong)


@settings(max_examples=200, deadline=None)
@given(region=st.sampled_from(REGIONS), born=births, serial=serials, position=st.integers(0, 16))
def test_a_single_changed_digit_is_caught(
    region: str, born: date, serial: int, position: int
) -> None:
    value = resident(region, born, serial)
    digit = str((int(value[position]) + 1) % 10)
    changed = value[:position] + digit + value[position + 1 :]
    # Weights are never 0 mod 11, so one changed digit always changes the check character
    # (the changed number may still fail for its birth date; either way it is refused).
    assert not is_resident_id(changed)


def test_lower_case_x_is_accepted_and_normalised() -> None:
    lower = KNOWN_RESIDENT.lower()
    assert lower.endswith("x")
    assert is_resident_id(lower)
    assert normalise(lower) == KNOWN_RESIDENT
    # Every generated ID ending in X also passes written with a lower-case x.
    found = 0
    for serial in range(200):
        value = resident("659008", date(1988, 6, 15), serial)
        if value.endswith("X"):
            found += 1
            assert is_resident_id(value[:17] + "x")
    assert found > 5


def test_spaces_including_full_width_ones_are_stripped() -> None:
    spaced = f" {KNOWN_RESIDENT[:6]}\u3000{KNOWN_RESIDENT[6:14]} {KNOWN_RESIDENT[14:]}\t"
    assert normalise(spaced) == KNOWN_RESIDENT
    assert is_resident_id(spaced)
    assert is_credit_code(f"{KNOWN_CREDIT[:9]}\u3000{KNOWN_CREDIT[9:]}")


@pytest.mark.parametrize(
    "born",
    ["19900230", "19901301", "19900001", "19900100", "18991231", "20990101"],
)
def test_impossible_or_future_birth_dates_are_refused(born: str) -> None:
    first17 = f"659008{born}123"
    assert not is_resident_id(first17 + resident_check_char(first17))


def test_future_birth_date_is_refused() -> None:
    tomorrow = date.today() + timedelta(days=1)
    assert not is_resident_id(resident("659008", tomorrow, 1))
    assert is_resident_id(resident("659008", date.today(), 1))


def test_length_and_characters() -> None:
    assert not is_resident_id(KNOWN_RESIDENT[:17])  # 17 characters
    assert not is_resident_id(KNOWN_RESIDENT + "0")  # 19
    assert not is_resident_id("")
    assert not is_resident_id("A" + KNOWN_RESIDENT[1:])  # a letter among the digits
    assert not is_resident_id(KNOWN_RESIDENT[:10] + "AB" + KNOWN_RESIDENT[12:])
    assert not is_resident_id(KNOWN_RESIDENT[:17] + "Y")  # only X may be the check character
    # Full-width digits are not normalised: refused (the form asks for half-width).
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in resident("659008", date(1988, 6, 15), 1))
    assert not is_resident_id(full_width)


# --- unified social credit codes (GB 32100) --------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(body=credit_bodies)
def test_generated_credit_codes_are_valid(body: str) -> None:
    code = credit(body)
    assert code[17] in CREDIT_ALPHABET
    assert is_credit_code(code)
    assert is_credit_code(code.lower())  # normalised to upper case


@settings(max_examples=300, deadline=None)
@given(body=credit_bodies)
def test_wrong_credit_check_character_is_refused(body: str) -> None:
    code = credit(body)
    for wrong in CREDIT_ALPHABET:
        if wrong != code[17]:
            assert not is_credit_code(code[:17] + wrong)


@settings(max_examples=200, deadline=None)
@given(body=credit_bodies, position=st.integers(0, 16), letter=st.sampled_from("IOZSV"))
def test_letters_outside_the_alphabet_are_refused(body: str, position: int, letter: str) -> None:
    code = credit(body)
    assert not is_credit_code(code[:position] + letter + code[position + 1 :])
    assert not is_credit_code(code[:17] + letter)


@settings(max_examples=200, deadline=None)
@given(body=credit_bodies, position=st.integers(0, 16), shift=st.integers(1, 30))
def test_a_single_changed_credit_character_is_caught(body: str, position: int, shift: int) -> None:
    code = credit(body)
    index = (CREDIT_ALPHABET.index(code[position]) + shift) % 31
    changed = code[:position] + CREDIT_ALPHABET[index] + code[position + 1 :]
    assert not is_credit_code(changed)


def test_credit_code_length() -> None:
    assert not is_credit_code(KNOWN_CREDIT[:17])
    assert not is_credit_code(KNOWN_CREDIT + "0")
    assert not is_credit_code("")
    assert not is_credit_code(KNOWN_CREDIT[:5] + "-" + KNOWN_CREDIT[6:])


def test_a_resident_id_is_not_a_credit_code_by_accident() -> None:
    assert id_kind_of(KNOWN_RESIDENT) == "resident_id"
    assert id_kind_of(KNOWN_RESIDENT.lower()) == "resident_id"


# --- the keyed hash ------------------------------------------------------------------------


@pytest.fixture
def hash_key(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A fixed ``ID_HASH_KEY`` for the test; the cached key is cleared before and after."""
    monkeypatch.setenv("ID_HASH_KEY", "test-key-one")
    identity._key.cache_clear()
    yield
    monkeypatch.undo()
    identity._key.cache_clear()


def test_id_hash_is_equal_for_x_and_spacing_variants(hash_key: None) -> None:
    expected = id_hash(KNOWN_RESIDENT)
    assert len(expected) == 64
    for variant in (
        KNOWN_RESIDENT.lower(),
        f" {KNOWN_RESIDENT} ",
        f"{KNOWN_RESIDENT[:6]}\u3000{KNOWN_RESIDENT[6:]}",
    ):
        assert id_hash(variant) == expected
    assert id_hash(KNOWN_CREDIT.lower()) == id_hash(KNOWN_CREDIT)
    assert id_hash(KNOWN_CREDIT) != expected


def test_id_hash_depends_on_the_key(hash_key: None, monkeypatch: pytest.MonkeyPatch) -> None:
    first = id_hash(KNOWN_RESIDENT)
    monkeypatch.setenv("ID_HASH_KEY", "test-key-two")
    identity._key.cache_clear()
    second = id_hash(KNOWN_RESIDENT)
    assert first != second
    assert KNOWN_RESIDENT not in first and KNOWN_RESIDENT not in second
    monkeypatch.setenv("ID_HASH_KEY", "test-key-one")
    identity._key.cache_clear()
    assert id_hash(KNOWN_RESIDENT) == first


def test_id_hash_distinguishes_ids(hash_key: None) -> None:
    values = {resident("659008", date(1970, 1, 1) + timedelta(days=d), 7) for d in range(300)}
    assert len({id_hash(v) for v in values}) == len(values)


# --- masks ---------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(region=st.sampled_from(REGIONS), born=births, serial=serials)
def test_mask_id_keeps_the_region_and_the_last_four(region: str, born: date, serial: int) -> None:
    value = resident(region, born, serial)
    masked = mask_id(value)
    assert masked == value[:6] + "*" * 8 + value[-4:]
    assert f"{born:%Y%m%d}" not in masked
    assert mask_id(value.lower()) == masked  # normalised first


def test_mask_id_of_credit_code_and_short_values() -> None:
    assert mask_id(KNOWN_CREDIT) == KNOWN_CREDIT[:6] + "********" + KNOWN_CREDIT[-4:]
    assert mask_id("12345") == "*****"
    assert mask_id("") == ""


def test_mask_phone() -> None:
    assert mask_phone("13912345678") == "139****5678"
    assert mask_phone(" 13912345678 ") == "139****5678"
    assert mask_phone("0999-3082316") == "099*****2316"
    assert mask_phone("12345") == "*****"
    assert mask_phone("") == ""


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三", "张*"),
        ("王秀英", "王**"),
        ("古再丽努尔·买买提", "古********"),
        ("叶尔兰·努尔兰", "叶******"),
        (" 李 ", "李"),
        ("", ""),
    ],
)
def test_mask_name(name: str, masked: str) -> None:
    assert mask_name(name) == masked
    assert len(mask_name(name)) == len(name.strip())
