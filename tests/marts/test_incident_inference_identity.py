"""Word inference of marts.incidents: the precompiled matchers give exactly the answers of the plain
per-phrase rule (kept below as the oracle) on generated incidents with tricky texts."""

import json
import random
import re

import polars as pl
import pytest

from assets.marts.incidents.inference import (
    IMPACT_ORDER,
    STATUS_WORDS_FILE,
    components_named,
    impact_from_words,
    inferred_components_and_impact,
    with_components_and_impact,
)

WORDS = json.loads(STATUS_WORDS_FILE.read_text(encoding="utf-8"))


# The oracle: the rule as first written, one pattern built and searched per phrase and per incident.
def oracle_whole_words(phrase: str) -> re.Pattern[str]:
    body = r"\s+".join(re.escape(word) for word in phrase.split())
    return re.compile(rf"(?<!\w){body}(?!\w)", re.IGNORECASE)


def oracle_components_named(text, names):
    if not text:
        return []
    found = []
    for name in sorted({n for n in names if n and n.strip()}, key=lambda n: (-len(n), n)):
        pattern = oracle_whole_words(name)
        if pattern.search(text):
            found.append(name)
            text = pattern.sub(" \x00 ", text)
    return sorted(found)


def oracle_impact_from_words(title, text, update_statuses=()):
    if any(oracle_whole_words(p).search(title or "") for p in WORDS["maintenance_title_phrases"]):
        return "maintenance"
    if set(WORDS["maintenance_update_statuses"]) & set(update_statuses):
        return "maintenance"
    for level in IMPACT_ORDER:
        if any(oracle_whole_words(p).search(text or "") for p in WORDS["impact_phrases"][level]):
            return level
    return None


# Generated worlds: names inside longer names, names next to punctuation and non-ASCII letters, any case,
# any whitespace (tabs, line breaks, no-break and em spaces) between words, every status phrase.
COMPONENTS = {
    "anthropic": {
        "API": "api",
        "Claude API": "api",
        "Claude API (api.anthropic.com)": "api",
        "claude.ai": "consumer_app",
        "Claude Code": "coding_agent",
        "(beta)": "api",  # starts with a non-word character: only counts once a longer name is blanked
        "Ünïcode Console": "console",
        "  ": "nothing",  # blank names never count
    },
    "openai": {"ChatGPT": "consumer_app", "API": "api", "Sora": "video", "chatgpt api": "api"},
    "mistral": {},
}
SEPARATORS = [" ", "  ", "\t", "\n", " \n ", "\u00a0", "\u2003"]
GLUE = ["", "", "", "é", "ß", "_", "2", "x", "-", ".", ",", "(", ")", ":", "İ", "ſ"]
FILLER = ["we", "are", "investigating", "Rapid", "APIs", "coder", "Opus", "ſlow", "K", "été", "sorry"]


def _variant(phrase: str, rng: random.Random) -> str:
    """The phrase in a random case, with random whitespace between its words."""
    words = [rng.choice([w, w.upper(), w.lower(), w.title()]) for w in phrase.split()]
    return "".join(rng.choice(SEPARATORS) + w for w in words).lstrip(" ")


def _text(rng: random.Random, provider: str, length: int) -> str | None:
    if length == 0:
        return rng.choice([None, "", " \n\t"])
    phrases = [*COMPONENTS[provider], *FILLER, *WORDS["maintenance_title_phrases"]]
    phrases += [p for level in IMPACT_ORDER for p in WORDS["impact_phrases"][level]]
    parts = [_variant(rng.choice(phrases), rng) for _ in range(length)]
    return "".join(rng.choice(GLUE) + p + rng.choice(GLUE) + rng.choice(SEPARATORS) for p in parts)


def generated_incidents(seed: int, count: int) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Incidents (with a published impact or not), their updates and their listed components."""
    rng = random.Random(seed)
    statuses = ["investigating", "identified", "monitoring", "resolved", "postmortem", None]
    statuses += WORDS["maintenance_update_statuses"]
    incidents, updates, affected = [], [], []
    for number in range(count):
        provider = rng.choice([*COMPONENTS, "unconfigured"])
        vocabulary = provider if provider in COMPONENTS else "mistral"
        key = (provider, f"i{number}")
        title = _text(rng, vocabulary, rng.choice([0, 1, 3, 6]))
        incidents.append((*key, title, rng.choice([None, None, "minor", "none", "maintenance"])))
        for _ in range(rng.choice([0, 0, 1, 2, 4])):
            body = _text(rng, vocabulary, rng.choice([0, 2, 8]))
            updates.append((*key, rng.choice(statuses), body))
        for _ in range(rng.choice([0, 0, 0, 1, 2])):
            affected.append((*key, rng.choice([None, "API", "Sora", "Claude Code"])))
    keys = {"provider": pl.String, "incident_id": pl.String}
    return (
        pl.DataFrame(incidents, schema={**keys, "title": pl.String, "impact": pl.String}, orient="row"),
        pl.DataFrame(updates, schema={**keys, "status": pl.String, "body": pl.String}, orient="row"),
        pl.DataFrame(affected, schema={**keys, "component_name": pl.String}, orient="row"),
    )


def oracle_words(incidents: pl.DataFrame, updates: pl.DataFrame) -> dict:
    """(provider, incident_id) -> (components, impact) its words name, by the oracle."""
    answers = {}
    for provider, incident_id, title in incidents.select("provider", "incident_id", "title").iter_rows():
        mine = updates.filter((pl.col("provider") == provider) & (pl.col("incident_id") == incident_id))
        bodies = "\n".join(b for b in mine["body"] if b is not None)
        text = "\n".join(t for t in (title, bodies) if t)
        statuses = [s for s in mine["status"] if s is not None]
        answers[(provider, incident_id)] = (
            oracle_components_named(text, COMPONENTS.get(provider, {})),
            oracle_impact_from_words(title, text, statuses),
        )
    return answers


@pytest.mark.parametrize("seed", [13, 2026])
def test_inference_matches_the_per_phrase_oracle_on_generated_incidents(seed):
    incidents, updates, _ = generated_incidents(seed, 300)
    rng = random.Random(seed)
    needs = incidents.with_columns(
        needs_components=pl.Series([rng.random() < 0.8 for _ in range(incidents.height)]),
        needs_impact=pl.Series([rng.random() < 0.8 for _ in range(incidents.height)]),
    )
    words = oracle_words(incidents, updates)
    expected = {
        key: (components if need_c else None, impact if need_i else None)
        for (key, (components, impact)), need_c, need_i in zip(
            words.items(), needs["needs_components"], needs["needs_impact"], strict=True
        )
        if need_c or need_i  # incidents needing neither are left out
    }
    got = inferred_components_and_impact(needs, updates, COMPONENTS)
    assert {(p, i): (c, impact) for p, i, c, impact in got.iter_rows()} == expected
    # the generated texts reach every answer, so the comparison covers both sides of every rule
    assert {impact for _, impact in words.values()} == {*IMPACT_ORDER, "maintenance", None}
    component_sets = [components for components, _ in words.values()]
    assert [] in component_sets and any(len(c) >= 3 for c in component_sets)
    assert any({"API", "Claude API"} <= set(c) for c in component_sets)  # a short name also on its own


@pytest.mark.parametrize("seed", [7, 8])
def test_mart_components_and_impact_match_the_oracle(seed):
    incidents, updates, affected = generated_incidents(seed, 250)
    words = oracle_words(incidents, updates)
    listed = {
        key: sorted(set(group["component_name"].drop_nulls()))
        for key, group in affected.group_by("provider", "incident_id")
    }
    got = with_components_and_impact(incidents, updates, affected, COMPONENTS)
    assert got.height == incidents.height
    for flag in ("components_inferred", "impact_inferred"):  # both sides of each rule occur
        assert got[flag].value_counts()["count"].min() >= 10, flag
    for row in got.iter_rows(named=True):
        key = (row["provider"], row["incident_id"])
        inferred_components, inferred_impact = words[key]
        listed_components = listed.get(key, [])
        components = listed_components or inferred_components
        capabilities = sorted({COMPONENTS.get(key[0], {}).get(c) for c in components} - {None})
        expected = (components, capabilities, not listed_components and bool(inferred_components))
        assert (row["components"], row["capabilities"], row["components_inferred"]) == expected
        published = incidents.filter(
            (pl.col("provider") == key[0]) & (pl.col("incident_id") == key[1])
        )["impact"][0]
        assert row["impact"] == (published if published is not None else inferred_impact)
        assert row["impact_inferred"] == (published is None and inferred_impact is not None)


@pytest.mark.parametrize("seed", range(4))
def test_components_named_matches_the_oracle_for_any_name_list(seed):
    rng = random.Random(seed)
    names = [*COMPONENTS["anthropic"], *COMPONENTS["openai"], "", "claude api", "AP", "I"]
    for _ in range(150):
        chosen = rng.sample(names, rng.randint(0, len(names)))
        text = _text(rng, "anthropic", rng.choice([0, 1, 4, 10]))
        assert components_named(text, chosen) == oracle_components_named(text, chosen), (text, chosen)


@pytest.mark.parametrize(
    ("text", "names", "expected"),
    [
        ("Claude API(beta) errors", ["Claude API", "(beta)"], ["(beta)", "Claude API"]),  # after blanking
        ("x(beta) errors", ["(beta)"], []),  # a word character right before it
        ("Clau\u00a0de\tAPI and Éclaude API", ["Claude API"], []),  # letters glued on both sides
        ("ſora and SORA\u2003", ["Sora"], ["Sora"]),
    ],
)
def test_components_named_edge_cases_agree_with_the_oracle(text, names, expected):
    assert components_named(text, names) == oracle_components_named(text, names) == expected


@pytest.mark.parametrize(
    ("title", "text", "statuses"),
    [
        (None, None, ()),
        ("", "", ["investigating"]),
        ("Planned\n\tMAINTENANCE", "Planned\n\tMAINTENANCE", ()),
        ("maintenances", "maintenances and major outages", ()),  # plurals are other words
        ("Update", "full\u00a0outage", ()),
        ("Update", "ſlow and errors", ["in_progress"]),
        ("Update", "ſlow", ()),  # Python's any-case match: the long s is an s
    ],
)
def test_impact_from_words_edge_cases_agree_with_the_oracle(title, text, statuses):
    assert impact_from_words(title, text, statuses) == oracle_impact_from_words(title, text, statuses)
