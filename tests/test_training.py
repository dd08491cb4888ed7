"""The model is retrained exactly when something training reads has changed."""

from pathlib import Path

from bot import training
from bot.nlu import components


def test_model_name_follows_every_training_input(tmp_path, monkeypatch):
    for name in ("nlu_data/nlu/a.yml", "config.yml", "domain.yml", "bot/nlu/normalize.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    monkeypatch.setattr(training, "ROOT", tmp_path)
    monkeypatch.setattr(training, "INPUTS", ["nlu_data", "config.yml", "domain.yml", "bot/nlu"])
    before = training.content_hash()
    assert training.content_hash() == before
    (tmp_path / "bot/nlu/normalize.py").write_text("TEENCODE = {'ko': 'khong'}")
    changed = training.content_hash()
    assert changed != before
    (tmp_path / "nlu_data/nlu/a.yml").write_text("y")
    assert training.content_hash() != changed


def test_component_fingerprints_cover_the_normalisation_and_place_tables(tmp_path, monkeypatch):
    tables = [tmp_path / "normalize.py", tmp_path / "gazetteer.yml"]
    for table in tables:
        table.write_text("a")
    monkeypatch.setattr(components, "_TABLES", tuple(tables))
    before = components.VietnameseTokenizer.fingerprint_addon({})
    assert components.PlaceExtractor.fingerprint_addon({}) == before
    tables[1].write_text("b")
    assert components.VietnameseTokenizer.fingerprint_addon({}) != before
    assert components.LinearIntentClassifier.fingerprint_addon({}) != before


def test_the_real_inputs_include_the_tables_that_change_understanding():
    for entry in ("nlu_data", "config.yml", "domain.yml", "bot/nlu", "bot/geo/gazetteer.yml"):
        assert entry in training.INPUTS
    names = {p.name for p in components._TABLES}
    assert {"normalize.py", "vietnamese.py", "names.py", "gazetteer.yml"} <= names
    for table in components._TABLES:  # a table the components read retrains the model too
        path = table.resolve().relative_to(training.ROOT)
        assert any(path == Path(entry) or Path(entry) in path.parents for entry in training.INPUTS), path
