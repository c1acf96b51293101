"""The education library: schema, SMS limits, reading level, names and safety wording."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from education.library import (
    DEFAULT_DIR,
    TEXT_KEYS,
    ContentError,
    Library,
    Medication,
    TextKey,
    load_library,
    parse_medication,
)
from education.readability import fk_grade, sentence_count, syllables, words
from messaging.segments import MAX_GSM_UNITS, encode_info

LIBRARY = load_library()
FILES = sorted(DEFAULT_DIR.glob("*.yaml"))
ALL_TEXTS = [(m.name, key, text) for m in LIBRARY for key, text in m.texts.items()]
REQUIRED = [
    "sertraline", "fluoxetine", "citalopram", "escitalopram", "paroxetine", "fluvoxamine",
    "venlafaxine", "desvenlafaxine", "duloxetine", "bupropion", "mirtazapine", "trazodone",
    "vortioxetine", "lithium", "valproate", "lamotrigine", "carbamazepine", "quetiapine",
    "olanzapine", "risperidone", "aripiprazole", "haloperidol", "clozapine", "lurasidone",
    "ziprasidone", "lorazepam", "clonazepam", "alprazolam", "diazepam", "buspirone",
    "hydroxyzine", "methylphenidate", "amphetamine", "lisdexamfetamine", "atomoxetine",
    "guanfacine", "phenelzine",
]  # fmt: skip
NEVER_STOP_SUDDENLY = [
    "lithium", "clozapine", "lamotrigine", "valproate", "carbamazepine", "paroxetine",
    "venlafaxine", "duloxetine", "guanfacine",
]  # fmt: skip
CONTACT_TEAM = ["clozapine", "lamotrigine", "lithium", "phenelzine"]
ANTIDEPRESSANT_CLASSES = {"ssri", "snri", "atypical_antidepressant", "tricyclic", "maoi"}


def _valid_file() -> dict[str, object]:
    data = yaml.safe_load((DEFAULT_DIR / "sertraline.yaml").read_text())
    assert isinstance(data, dict)
    return data


# ---------------------------------------------------------------- loading and schema


def test_it_loads_every_file_against_the_schema() -> None:
    for file in FILES:
        med = parse_medication(file.name, yaml.safe_load(file.read_text()))
        assert med.name == file.stem
    assert len(LIBRARY) == len(FILES)


def test_it_has_at_least_32_medicines_including_the_required_ones() -> None:
    assert len(LIBRARY) >= 32
    assert set(REQUIRED) <= set(LIBRARY.names())
    assert LIBRARY.names() == sorted(LIBRARY.names())


def test_it_reads_no_file_at_import() -> None:
    probe = textwrap.dedent(
        """
        import sys
        opened = []
        sys.addaudithook(
            lambda event, args: opened.append(str(args[0]))
            if event == "open" and str(args[0]).endswith(".yaml") else None
        )
        import education.library, education.interactions, education.readability
        assert not opened, opened
        """
    )
    subprocess.run([sys.executable, "-c", probe], check=True, cwd=Path(__file__).parents[2])


def test_it_caches_the_library_per_directory(tmp_path: Path) -> None:
    assert load_library() is LIBRARY
    assert load_library(DEFAULT_DIR) is LIBRARY
    (tmp_path / "sertraline.yaml").write_text((DEFAULT_DIR / "sertraline.yaml").read_text())
    other = load_library(tmp_path)
    assert other is not LIBRARY and other.names() == ["sertraline"]


def _long() -> str:
    return "word " * 70


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d.pop("brands"), "brands"),
        (lambda d: d.update(dosage="50 mg"), "dosage"),
        (lambda d: d.update(never_stop_suddenly="yes"), "never_stop_suddenly"),
        (lambda d: d.update(drug_class="antidepressant"), "drug_class"),
        (lambda d: d.update(missed_dose_rule="double_up"), "missed_dose_rule"),
        (lambda d: d.update(aliases="zolft"), "aliases"),
        (lambda d: d.update(name="Sertraline"), "name"),
        (lambda d: d.update(sources=[]), "sources"),
        (lambda d: d.update(sources=[{"title": "x", "url": "http://a.b"}]), "sources[0].url"),
        (lambda d: d["reviewed"].update(status="reviewed"), "reviewed"),
        (lambda d: d["texts"].pop("otc"), "texts.otc"),
        (lambda d: d["texts"].update(dose="Take 50 mg."), "texts.dose"),
        (lambda d: d["texts"].update(onset=_long()), "texts.onset"),
        (lambda d: d["texts"].update(onset="It\u2019s fine."), "texts.onset"),
        (lambda d: d["texts"].update(onset="Soon \u2014 maybe."), "texts.onset"),
        (lambda d: d["texts"].update(onset="Yes \U0001f44d"), "texts.onset"),
        (lambda d: d["texts"].update(onset=3), "texts.onset"),
    ],
)
def test_it_rejects_schema_problems_naming_file_and_field(change: object, field: str) -> None:
    data = _valid_file()
    assert callable(change)
    change(data)
    with pytest.raises(ContentError) as err:
        parse_medication("sertraline.yaml", data)
    assert (err.value.file, err.value.field) == ("sertraline.yaml", field)
    assert "sertraline.yaml" in str(err.value) and field in str(err.value)


def test_it_rejects_a_name_that_does_not_match_its_file(tmp_path: Path) -> None:
    (tmp_path / "zoloft.yaml").write_text((DEFAULT_DIR / "sertraline.yaml").read_text())
    with pytest.raises(ContentError, match="zoloft.yaml: name"):
        load_library(tmp_path)


def test_it_rejects_a_name_claimed_by_two_medicines() -> None:
    first = parse_medication("sertraline.yaml", _valid_file())
    clash = _valid_file()
    clash.update(name="fluoxetine", brands=["Prozac"], aliases=["zolft"])
    second = parse_medication("fluoxetine.yaml", clash)
    with pytest.raises(ContentError, match="zolft"):
        Library([first, second], {"fluoxetine": "fluoxetine.yaml"})


def test_it_cites_a_public_drug_information_page_for_every_medicine() -> None:
    for med in LIBRARY:
        assert med.sources
        for source in med.sources:
            assert re.fullmatch(
                r"https://medlineplus\.gov/druginfo/meds/(a\d{6}\.html)?"
                r"|https://dailymed\.nlm\.nih\.gov/dailymed/\S+",
                source.url,
            ), (med.name, source.url)
            assert med.name.split()[0] in source.title.lower() or med.name == "valproate"


def test_it_never_claims_a_review_that_did_not_happen() -> None:
    for med in LIBRARY:
        review = med.reviewed
        if review.status == "draft":
            assert review.by is None and review.date is None, med.name
        else:
            assert review.by and review.date, med.name


# ---------------------------------------------------------------- every text


@pytest.mark.parametrize(("name", "key", "text"), ALL_TEXTS)
def test_it_fits_every_text_in_one_gsm7_sms(name: str, key: TextKey, text: str) -> None:
    info = encode_info(text)
    assert info.encoding == "GSM-7", (name, key)
    assert info.units <= MAX_GSM_UNITS, (name, key, info.units)


@pytest.mark.parametrize(("name", "key", "text"), ALL_TEXTS)
def test_it_keeps_every_text_at_or_below_reading_grade_8(
    name: str, key: TextKey, text: str
) -> None:
    assert fk_grade(text) <= 8.0, (name, key, round(fk_grade(text), 2))


@pytest.mark.parametrize(("name", "key", "text"), ALL_TEXTS)
def test_it_never_advises_doubling_a_dose(name: str, key: TextKey, text: str) -> None:
    for match in re.finditer(r"double", text, re.IGNORECASE):
        before = text[: match.start()].lower()
        assert before.endswith(("do not ", "don't ", "never ")), (name, key, text)


@pytest.mark.parametrize(("name", "key", "text"), ALL_TEXTS)
def test_it_gives_no_dose_amounts(name: str, key: TextKey, text: str) -> None:
    assert not re.search(r"\d\s*(?:mg|mcg|milligram)", text, re.IGNORECASE), (name, key)


def test_it_does_not_name_the_medicine_in_its_own_texts() -> None:
    # Default SMS templates name no drug (RISK_AND_COMPLIANCE.md 5.2); texts say "this medicine".
    for med in LIBRARY:
        for key, text in med.texts.items():
            for name in (med.name, *med.brands, *med.aliases):
                assert not re.search(rf"\b{re.escape(name)}\b", text, re.IGNORECASE), (
                    med.name,
                    key,
                    name,
                )


def test_it_has_every_text_key_for_every_medicine() -> None:
    for med in LIBRARY:
        assert [key for key, _ in med.texts.items()] == list(TEXT_KEYS)
        assert all(med.text(key) for key in TEXT_KEYS)


# ---------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("typed", "generic"),
    [
        ("zoloft", "sertraline"),
        ("zolft", "sertraline"),
        ("Zoloft ", "sertraline"),
        ("Seroquil", "quetiapine"),
        ("seroquel xr", "quetiapine"),
        ("lamictol", "lamotrigine"),
        ("lithum", "lithium"),
        ("klonipin", "clonazepam"),
        ("adderall", "amphetamine"),
        ("aderall", "amphetamine"),
        ("addy", "amphetamine"),
        ("mixed amphetamine salts", "amphetamine"),
        ("wellbutrin", "bupropion"),
        ("Wellbutrin XL", "bupropion"),
        ("divalproex", "valproate"),
        ("Depakote", "valproate"),
        ("trazadone", "trazodone"),
        ("xanax", "alprazolam"),
        ("Nardil", "phenelzine"),
        ("SERTRALINE", "sertraline"),
    ],
)
def test_it_resolves_brands_misspellings_and_aliases(typed: str, generic: str) -> None:
    med = LIBRARY.get(typed)
    assert isinstance(med, Medication)
    assert med.name == generic


@pytest.mark.parametrize("typed", ["tylenol", "", "   ", "vitamin d", "zolofty"])
def test_it_returns_none_for_names_it_does_not_know(typed: str) -> None:
    assert LIBRARY.get(typed) is None


# ---------------------------------------------------------------- safety flags and wording


@pytest.mark.parametrize(
    "name",
    NEVER_STOP_SUDDENLY + [m.name for m in LIBRARY if m.drug_class == "benzodiazepine"],
)
def test_it_marks_medicines_that_must_never_stop_suddenly(name: str) -> None:
    med = LIBRARY.get(name)
    assert med is not None and med.never_stop_suddenly
    assert "do not stop" in med.text("stopping").lower()
    assert "care team" in med.text("stopping")


def test_it_asks_to_talk_before_stopping_any_medicine() -> None:
    for med in LIBRARY:
        assert "care team" in med.text("stopping"), med.name
    assert len([m for m in LIBRARY if m.drug_class == "benzodiazepine"]) >= 4


@pytest.mark.parametrize("name", CONTACT_TEAM + [m.name for m in LIBRARY if m.drug_class == "maoi"])
def test_it_routes_missed_doses_of_special_medicines_to_the_care_team(name: str) -> None:
    med = LIBRARY.get(name)
    assert med is not None and med.missed_dose_rule == "contact_team"
    text = med.text("missed_dose").lower()
    assert "care team before you take your next dose" in text
    assert "do not restart on your own" in text


def test_it_keeps_missed_dose_texts_consistent_with_their_rule() -> None:
    for med in LIBRARY:
        text = med.text("missed_dose").lower()
        assert "do not double up" in text, med.name
        if med.missed_dose_rule == "skip_and_resume":
            assert "skip it" in text and "usual time" in text, med.name
        if med.missed_dose_rule == "take_if_remembered_unless_close":
            assert "when you remember" in text, med.name


def test_it_tells_people_when_to_call_911_and_988() -> None:
    for med in LIBRARY:
        red = med.text("red_flags")
        assert "911" in red, med.name
        if med.drug_class in ANTIDEPRESSANT_CLASSES:
            assert "988" in red, med.name


# ---------------------------------------------------------------- the readability meter


@pytest.mark.parametrize(
    ("word", "count"),
    [
        ("the", 1), ("cat", 1), ("medicine", 3), ("medicines", 3), ("doses", 2),
        ("changes", 2), ("takes", 1), ("needed", 2), ("tired", 1), ("table", 2),
        ("people", 2), ("whole", 1), ("diarrhea", 4), ("nausea", 3), ("lithium", 3),
        ("usual", 3), ("special", 2), ("anxiety", 4), ("being", 2), ("easier", 3),
        ("seizure", 2), ("emergency", 4), ("breathing", 2), ("pharmacist", 3),
        ("evaluation", 5), ("don't", 1), ("911", 3), ("ADHD", 4), ("OCD", 3),
    ],
)  # fmt: skip
def test_it_counts_syllables_with_the_documented_heuristic(word: str, count: int) -> None:
    assert syllables(word) == count


@pytest.mark.parametrize(
    ("text", "n_words", "n_sentences", "n_syllables"),
    [
        ("The cat sat on the mat.", 6, 1, 6),
        ("Take it with food. Call us if you feel sick.", 10, 2, 10),
        (
            "The Australian platypus is seemingly a hybrid of a mammal and reptilian creature.",
            13,
            1,
            26,
        ),
        ("Pharmacological interventions necessitate comprehensive evaluation.", 5, 1, 23),
        ("Do not stop over-the-counter pain pills!", 8, 1, 10),
    ],
)
def test_it_measures_grade_on_sentences_of_known_grade(
    text: str, n_words: int, n_sentences: int, n_syllables: int
) -> None:
    # Counts done by hand; the grade is the published Flesch-Kincaid formula over them.
    expected = 0.39 * n_words / n_sentences + 11.8 * n_syllables / n_words - 15.59
    assert len(words(text)) == n_words
    assert sentence_count(text) == n_sentences
    assert sum(syllables(w) for w in words(text)) == n_syllables
    assert fk_grade(text) == pytest.approx(expected)


def test_it_orders_easy_and_hard_text_by_grade() -> None:
    easy = fk_grade("The cat sat on the mat.")
    hard = fk_grade("Pharmacological interventions necessitate comprehensive evaluation.")
    assert easy == pytest.approx(-1.45)
    assert hard == pytest.approx(40.64)
    assert fk_grade("") == 0.0
