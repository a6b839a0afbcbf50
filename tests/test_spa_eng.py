"""dlwp_utils.data.spa_eng: the generated corpus (its rules and its file) and the real spa-eng.zip
path against a local server: download, cache, offline, corrupt and wrongly laid out archives."""

from __future__ import annotations

import io
import zipfile

import pytest

from dlwp_utils.data import spa_eng
from dlwp_utils.errors import DataError

# --- the rules, driven by a scripted random source -------------------------------------------


class Scripted:
    """A stand-in for random.Random that returns the scripted choices and numbers, in order."""

    def __init__(self, *script):
        self.script = list(script)

    def choice(self, options):
        wanted = self.script.pop(0)
        matches = [o for o in options if o == wanted or (isinstance(o, tuple) and o[0] == wanted)]
        assert matches, f"{wanted!r} is not one of the options {options!r}"
        return matches[0]

    def random(self):
        value = self.script.pop(0)
        assert isinstance(value, float), f"expected a number next in the script, got {value!r}"
        return value

    def done(self):
        return not self.script


PLURAL, SINGULAR, ADJECTIVE, NO_ADJECTIVE = 0.1, 0.9, 0.1, 0.9
NOUN_SUBJECT, PRONOUN_SUBJECT = 0.9, 0.1


def test_subject_verb_object_agrees_in_gender_and_number_and_puts_colours_after_the_noun():
    rng = Scripted(
        NOUN_SUBJECT, "girl", "the", PLURAL, NO_ADJECTIVE,  # the girls
        ("want", "wants"),
        "cat", "number", ADJECTIVE, "white", "three",  # three white cats
    )
    assert spa_eng.svo_sentence(rng) == ("The girls want three white cats.", "Las niñas quieren tres gatos blancos.")
    assert rng.done()


def test_a_person_as_object_takes_the_personal_a_and_spanish_drops_yo():
    rng = Scripted(PRONOUN_SUBJECT, "I", ("see", "sees"), "boy", "the", SINGULAR, NO_ADJECTIVE)
    assert spa_eng.svo_sentence(rng) == ("I see the boy.", "Veo al niño.")
    rng = Scripted(PRONOUN_SUBJECT, "they", ("find", "finds"), "girl", "a", ADJECTIVE, "small")
    assert spa_eng.svo_sentence(rng) == ("They find a small girl.", "Ellos encuentran a una niña pequeña.")


def test_a_third_person_singular_subject_conjugates_the_verb():
    rng = Scripted(NOUN_SUBJECT, "dog", "my", SINGULAR, ADJECTIVE, "old", ("have", "has"), "book", "a", NO_ADJECTIVE)
    assert spa_eng.svo_sentence(rng) == ("My old dog has a book.", "Mi perro viejo tiene un libro.")


def test_descriptions_agree_with_the_noun_and_the_pronoun():
    rng = Scripted("red", NOUN_SUBJECT, "house", "the", SINGULAR, NO_ADJECTIVE)
    assert spa_eng.be_sentence(rng) == ("The house is red.", "La casa es roja.")
    rng = Scripted("small", 0.1, "she")
    assert spa_eng.be_sentence(rng) == ("She is small.", "Ella es pequeña.")
    rng = Scripted("blue", NOUN_SUBJECT, "flower", "number", NO_ADJECTIVE, "two")
    assert spa_eng.be_sentence(rng) == ("Two flowers are blue.", "Dos flores son azules.")


def test_existence_and_questions():
    rng = Scripted("cow", "a", ADJECTIVE, "small")
    assert spa_eng.there_sentence(rng) == ("There is a small cow.", "Hay una vaca pequeña.")
    rng = Scripted("she", ("want", "wants"), "apple", "the", PLURAL, ADJECTIVE, "red")
    assert spa_eng.question_sentence(rng) == ("Does she want the red apples?", "¿Quiere ella las manzanas rojas?")
    rng = Scripted("you", ("have", "has"), "dog", "a", NO_ADJECTIVE)
    assert spa_eng.question_sentence(rng) == ("Do you have a dog?", "¿Tienes un perro?")


def test_every_adjective_has_four_forms_and_every_verb_five():
    assert all(len(forms) == 4 for forms in spa_eng.ADJECTIVES.values())
    assert all(len(forms) == 5 for forms in spa_eng.VERBS.values())
    assert spa_eng.agree("green", "f", True) == "verdes" and spa_eng.agree("new", "f", False) == "nueva"


# --- the generated corpus ----------------------------------------------------------------------


def test_the_corpus_is_deterministic_distinct_and_one_translation_per_sentence():
    pairs = spa_eng.generate_pairs(500, seed=3)
    assert pairs == spa_eng.generate_pairs(500, seed=3)
    assert pairs != spa_eng.generate_pairs(500, seed=4)
    assert len(pairs) == 500 and len({english for english, _ in pairs}) == 500
    for english, spanish in pairs:
        assert english[0].isupper() and english[-1] in ".?"
        assert spanish.endswith(english[-1]) and spanish.startswith("¿") == english.endswith("?")
        assert "\t" not in english + spanish and " a el " not in spanish


def test_rules_that_cannot_make_enough_sentences_fail_clearly(monkeypatch):
    for maker in ("svo_sentence", "be_sentence", "there_sentence", "question_sentence"):
        monkeypatch.setattr(spa_eng, maker, lambda rng: ("Hello.", "Hola."))
    with pytest.raises(ValueError, match="cannot make 2 distinct sentences"):
        spa_eng.generate_pairs(2)


def test_embedded_profile_writes_spa_txt_in_the_books_layout(cache, capsys):
    path = spa_eng.load_spa_eng("embedded")
    assert path == cache / "datasets" / "spa-eng-embedded" / "spa-eng" / "spa.txt"
    lines = path.read_text(encoding="utf-8").split("\n")[:-1]  # the book's parsing code
    assert len(lines) == spa_eng.EMBEDDED_PAIRS
    assert all(len(line.split("\t")) == 2 for line in lines)
    assert "spa-eng: embedded stand-in, 4,000 English-Spanish pairs" in capsys.readouterr().out
    assert [p.name for p in path.parent.iterdir()] == ["spa.txt"], "temporary files left behind"
    first = path.read_bytes()
    spa_eng.load_spa_eng("embedded")
    assert path.read_bytes() == first


# --- reading and checking a spa.txt --------------------------------------------------------------


def test_count_pairs_names_the_first_line_that_is_not_a_pair(tmp_path):
    path = tmp_path / "spa.txt"
    path.write_text("Go.\tVe.\nRun!\n", encoding="utf-8")
    with pytest.raises(DataError, match="line 2, is not an English<TAB>Spanish pair: 'Run!'"):
        spa_eng.count_pairs(path)
    path.write_text("Go.\tVe.\nHi.\tHola.\tCC-BY 2.0\n", encoding="utf-8")  # a third column is fine
    assert spa_eng.count_pairs(path) == 2


def test_count_pairs_refuses_empty_and_non_utf8_files(tmp_path):
    path = tmp_path / "spa.txt"
    path.write_text("", encoding="utf-8")
    with pytest.raises(DataError, match="holds no sentence pairs"):
        spa_eng.count_pairs(path)
    path.write_bytes("Hi.\tHola señor.\n".encode("latin-1"))
    with pytest.raises(DataError, match="as UTF-8 text"):
        spa_eng.count_pairs(path)


# --- the real path, against a local server -------------------------------------------------------

FIXTURE_TEXT = "Go.\tVe.\nI see the boy.\tVeo al niño.\nDo you have a dog?\t¿Tienes un perro?\n"


def zip_bytes(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text.encode("utf-8"))
    return buffer.getvalue()


@pytest.fixture
def serve(http_server, monkeypatch):
    """Serve the given bytes as spa-eng.zip on 127.0.0.1 and point the real code path at it."""
    base, root = http_server
    monkeypatch.setattr(spa_eng, "SPA_ENG_URL", f"{base}/spa-eng.zip")

    def put(data: bytes) -> None:
        (root / "spa-eng.zip").write_bytes(data)

    return put


def test_book_profile_downloads_extracts_and_reads_the_archive(serve, cache, capsys):
    serve(zip_bytes({"spa-eng/spa.txt": FIXTURE_TEXT, "spa-eng/_about.txt": "Tatoeba"}))
    path = spa_eng.load_spa_eng("book")
    assert path == cache / "datasets" / "spa-eng_extracted" / "spa-eng" / "spa.txt"
    assert path.read_text(encoding="utf-8") == FIXTURE_TEXT
    assert "spa-eng: 3 English-Spanish pairs from" in capsys.readouterr().out
    assert sorted(p.name for p in (cache / "datasets").iterdir()) == [
        ".spa-eng.zip.dlwp-manifest.json", "spa-eng.zip", "spa-eng_extracted"]


def test_a_cached_archive_is_used_without_the_network(serve, cache, monkeypatch, closed_port_url):
    serve(zip_bytes({"spa-eng/spa.txt": FIXTURE_TEXT}))
    spa_eng.load_spa_eng("book")
    monkeypatch.setattr(spa_eng, "SPA_ENG_URL", f"{closed_port_url}/spa-eng.zip")
    assert spa_eng.load_spa_eng("book").read_text(encoding="utf-8") == FIXTURE_TEXT


def test_offline_book_profile_is_one_clear_error_and_leaves_nothing(cache, monkeypatch, closed_port_url):
    monkeypatch.setattr(spa_eng, "SPA_ENG_URL", f"{closed_port_url}/spa-eng.zip")
    with pytest.raises(DataError) as err:
        spa_eng.load_spa_eng("book")
    assert "Could not download spa-eng.zip" in str(err.value) and 'PROFILE = "embedded"' in str(err.value)
    assert list((cache / "datasets").iterdir()) == []


def test_a_truncated_archive_is_deleted_and_the_next_run_fetches_it_again(serve, cache):
    good = zip_bytes({"spa-eng/spa.txt": FIXTURE_TEXT * 50})
    serve(good[:-60])
    with pytest.raises(DataError, match="truncated or corrupt"):
        spa_eng.load_spa_eng("book")
    assert list((cache / "datasets").iterdir()) == []
    serve(good)
    assert spa_eng.count_pairs(spa_eng.load_spa_eng("book")) == 150


def test_an_archive_without_spa_txt_is_refused_and_deleted(serve, cache):
    serve(zip_bytes({"fra-eng/fra.txt": FIXTURE_TEXT}))
    with pytest.raises(DataError) as err:
        spa_eng.load_spa_eng("book")
    assert "has no spa-eng/spa.txt" in str(err.value) and "fra-eng/fra.txt" in str(err.value)
    assert list((cache / "datasets").iterdir()) == []


def test_a_damaged_spa_txt_in_the_archive_is_named(serve, cache):
    serve(zip_bytes({"spa-eng/spa.txt": "Go.\tVe.\nthis line has no tab\n"}))
    with pytest.raises(DataError, match="line 2, is not an English<TAB>Spanish pair.*were deleted"):
        spa_eng.load_spa_eng("book")
    assert list((cache / "datasets").iterdir()) == [], "a damaged extraction would be trusted next time"
