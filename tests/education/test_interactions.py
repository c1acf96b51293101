"""The interaction table: section 3.1 pairs found through names, brands and misspellings."""

from __future__ import annotations

import copy

import pytest
import yaml

from education.interactions import (
    DEFAULT_PATH,
    REASON_LIMIT,
    Interaction,
    find_interactions,
    load_interactions,
    parse_table,
)
from education.library import ContentError, load_library
from education.readability import sentence_count
from messaging.segments import encode_info

LIBRARY = load_library()
TABLE = load_interactions()


def _ids(current: list[str], other: str) -> list[str]:
    return [row.id for row in find_interactions(current, other, LIBRARY)]


@pytest.mark.parametrize(
    ("current", "other", "expected"),
    [
        (["lithium"], "ibuprofen", "lithium-nsaid"),
        (["lithium"], "advil", "lithium-nsaid"),
        (["Lithobid"], "Motrin", "lithium-nsaid"),
        (["lithum"], "aleve", "lithium-nsaid"),
        (["lithium"], "Advil 200mg", "lithium-nsaid"),
        (["lithium"], "lisinopril", "lithium-ace-inhibitor-arb"),
        (["lithium"], "hctz", "lithium-thiazide"),
        (["sertraline"], "tramadol", "serotonergic-opioid-dextromethorphan"),
        (["zoloft"], "Ultram", "serotonergic-opioid-dextromethorphan"),
        (["sertraline"], "robitussin dm", "serotonergic-opioid-dextromethorphan"),
        (["phenelzine"], "sudafed", "maoi-decongestant"),
        (["phenelzine"], "pseudoephedrine", "maoi-decongestant"),
        (["Nardil"], "Claritin-D", "maoi-decongestant"),
        (["phenelzine"], "adderall", "stimulant-maoi"),
        (["clozapine"], "cipro", "clozapine-cyp1a2-inhibitor"),
        (["clozapine"], "fluvoxamine", "clozapine-cyp1a2-inhibitor"),
        (["clozapine"], "quit smoking", "clozapine-smoking-change"),
        (["lorazepam"], "oxycodone", "benzodiazepine-opioid"),
        (["klonipin"], "Percocet", "benzodiazepine-opioid"),
        (["xanax"], "beer", "benzodiazepine-cns-depressant"),
        (["lamotrigine"], "valproate", "valproate-lamotrigine"),
        (["lamictol"], "depakote", "valproate-lamotrigine"),
        (["sertraline"], "St John's wort", "serotonergic-st-johns-wort"),
        (["sertraline"], "St. John's Wort", "serotonergic-st-johns-wort"),
        (["phenelzine"], "sertraline", "maoi-serotonergic-antidepressant"),
        (["nardil"], "Lexapro", "maoi-serotonergic-antidepressant"),
        (["sertraline"], "linezolid", "serotonergic-linezolid-methylene-blue"),
        (["carbamazepine"], "birth control pill", "carbamazepine-hormonal-contraceptive"),
        (["citalopram"], "methadone", "citalopram-qt-prolonging"),
        (["sertraline"], "eliquis", "serotonergic-bleeding"),
    ],
)
def test_it_finds_the_dangerous_pairs_of_section_3(
    current: list[str], other: str, expected: str
) -> None:
    assert expected in _ids(current, other)


@pytest.mark.parametrize(
    ("one", "two"),
    [("lithium", "advil"), ("sertraline", "tramadol"), ("clozapine", "cipro")],
)
def test_it_matches_pairs_in_either_order(one: str, two: str) -> None:
    assert _ids([one], two) == _ids([two], one) != []


@pytest.mark.parametrize(
    ("current", "other"),
    [
        (["sertraline"], "tylenol"),
        (["sertraline"], "acetaminophen"),
        (["sertraline"], "xyzzy"),
        (["not a medicine"], "advil"),
        ([], "advil"),
    ],
)
def test_it_returns_an_empty_list_when_the_pair_is_not_in_the_table(
    current: list[str], other: str
) -> None:
    # Empty means "not in our table", never "safe": the caller still routes to a person.
    assert find_interactions(current, other, LIBRARY) == []


def test_it_does_not_treat_tylenol_as_an_nsaid() -> None:
    assert "nsaid" not in TABLE.terms_for("tylenol", LIBRARY)
    assert TABLE.terms_for("tylenol", LIBRARY) == {"acetaminophen"}
    assert "nsaid" in TABLE.terms_for("excedrin", LIBRARY)


@pytest.mark.parametrize(
    ("name", "term"),
    [
        ("advil", "nsaid"),
        ("motrin", "nsaid"),
        ("aleve", "nsaid"),
        ("aspirin", "nsaid"),
        ("sudafed", "decongestant"),
        ("robitussin dm", "dextromethorphan"),
        ("robitussin", "dextromethorphan"),
        ("nyquil", "dextromethorphan"),
        ("cipro", "cyp1a2_inhibitor"),
        ("tramadol", "serotonergic_opioid"),
        ("zoloft", "ssri"),
        ("addy", "stimulant"),
        ("hydroxyzine", "sedating_antihistamine"),
    ],
)
def test_it_maps_brands_and_products_to_classes(name: str, term: str) -> None:
    assert term in TABLE.terms_for(name, LIBRARY)


def test_it_lists_urgent_rows_first_without_duplicates() -> None:
    rows = find_interactions(["lithium", "sertraline", "zoloft"], "Advil PM", LIBRARY)
    ids = [r.id for r in rows]
    assert ids == ["lithium-nsaid", "serotonergic-bleeding"]
    assert [r.tier for r in rows] == ["urgent", "prompt"]


def test_it_returns_typed_rows() -> None:
    (row,) = find_interactions(["lithium"], "ibuprofen", LIBRARY)
    assert isinstance(row, Interaction)
    assert row.severity == "major" and row.tier == "urgent"
    assert "lithium" in row.a and "nsaid" in row.b
    assert row.source


def test_it_uses_only_known_names_and_classes() -> None:
    TABLE.check_against(LIBRARY)
    known = TABLE.known_terms(LIBRARY)
    for row in TABLE.pairs:
        assert set(row.a) <= known and set(row.b) <= known, row.id


@pytest.mark.parametrize("row", TABLE.pairs, ids=lambda r: r.id)
def test_it_keeps_every_reason_to_one_plain_neutral_sentence(row: Interaction) -> None:
    info = encode_info(row.reason)
    assert info.encoding == "GSM-7" and info.units <= REASON_LIMIT
    assert sentence_count(row.reason) == 1 and row.reason.endswith(".")
    lowered = row.reason.lower()
    for advice in ("safe", "do not", "don't", "avoid", "stop taking", "should", "double"):
        assert advice not in lowered, (row.id, advice)


def test_it_covers_every_routed_row_of_section_3() -> None:
    ids = {row.id for row in TABLE.pairs}
    assert {
        "maoi-serotonergic-antidepressant",
        "serotonergic-linezolid-methylene-blue",
        "maoi-serotonergic-opioid-dextromethorphan",
        "serotonergic-opioid-dextromethorphan",
        "serotonergic-triptan",
        "lithium-nsaid",
        "lithium-ace-inhibitor-arb",
        "lithium-thiazide",
        "lithium-fluid-loss",
        "lithium-serotonergic",
        "lithium-haloperidol",
        "clozapine-cyp1a2-inhibitor",
        "clozapine-level-changer",
        "clozapine-smoking-change",
        "clozapine-anticholinergic-opioid",
        "clozapine-carbamazepine",
        "carbamazepine-lowers-partner",
        "carbamazepine-hormonal-contraceptive",
        "carbamazepine-maoi",
        "valproate-lamotrigine",
        "lamotrigine-estrogen-contraceptive",
        "benzodiazepine-opioid",
        "benzodiazepine-cns-depressant",
        "stimulant-maoi",
        "citalopram-qt-prolonging",
        "cyp2d6-inhibitor-partner",
        "serotonergic-bleeding",
        "bupropion-seizure-risk",
    } <= ids


def _raw() -> dict[str, object]:
    data = yaml.safe_load(DEFAULT_PATH.read_text())
    assert isinstance(data, dict)
    return copy.deepcopy(data)


def _first_pair(data: dict[str, object]) -> dict[str, object]:
    pairs = data["pairs"]
    assert isinstance(pairs, list) and isinstance(pairs[0], dict)
    first: dict[str, object] = pairs[0]
    return first


@pytest.mark.parametrize(
    ("field", "value", "where"),
    [
        ("severity", "deadly", "pairs[0].severity"),
        ("tier", "routine", "pairs[0].tier"),
        ("reason", "x" * (REASON_LIMIT + 1), "pairs[0].reason"),
        ("reason", "One sentence. Two sentences.", "pairs[0].reason"),
        ("reason", "Curly \u2019quote\u2019.", "pairs[0].reason"),
        ("a", [], "pairs[0].a"),
        ("advice", "take it", "pairs[0].advice"),
    ],
)
def test_it_rejects_bad_pairs_naming_file_and_field(field: str, value: object, where: str) -> None:
    data = _raw()
    _first_pair(data)[field] = value
    with pytest.raises(ContentError) as err:
        parse_table("interactions.yaml", data)
    assert (err.value.file, err.value.field) == ("interactions.yaml", where)


def test_it_rejects_unknown_terms_and_duplicate_ids() -> None:
    data = _raw()
    _first_pair(data)["b"] = ["sertralin"]
    with pytest.raises(ContentError, match="unknown 'sertralin'"):
        parse_table("interactions.yaml", data).check_against(LIBRARY)
    data = _raw()
    pairs = data["pairs"]
    assert isinstance(pairs, list)
    pairs.append(pairs[0])
    with pytest.raises(ContentError, match="duplicate id"):
        parse_table("interactions.yaml", data)


def test_it_rejects_a_brand_that_names_two_ingredients() -> None:
    data = _raw()
    members = data["members"]
    assert isinstance(members, dict)
    members["naproxen"]["names"].append("advil")
    with pytest.raises(ContentError, match="'advil' already names"):
        parse_table("interactions.yaml", data)
