"""Configuration is validated on load with a message naming the bad key."""
from __future__ import annotations

import pytest
import yaml

from conftest import write_config
from pipeline.config import load_config
from pipeline.errors import FactCheckError


def test_default_config_loads():
    config = load_config()
    assert config.embedding.model == "e5-small-nl" and config.retrieval.k >= 1


@pytest.mark.parametrize("key, value, message", [
    ("retrieval.k", 0, "retrieval.k"),
    ("embedding.model", "bert-large", "embedding.model"),
    ("retrieval.fusion", "magic", "retrieval.fusion"),
    ("chunking.max_sentences", "two", "chunking.max_sentences"),
])
def test_bad_values_name_the_key(tmp_path, key, value, message):
    with pytest.raises(FactCheckError, match=f"bad key '{message}'"):
        load_config(write_config(tmp_path, **{key: value}))


def test_unknown_key_is_refused(tmp_path):
    path = write_config(tmp_path)
    data = yaml.safe_load(path.read_text())
    data["retrieval"]["top_k"] = 3
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(FactCheckError, match="retrieval.top_k"):
        load_config(path)


def test_unreadable_config_is_one_line(tmp_path):
    with pytest.raises(FactCheckError, match="cannot read config"):
        load_config(tmp_path / "missing.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("paths: [unclosed")
    with pytest.raises(FactCheckError, match="not valid YAML"):
        load_config(broken)
