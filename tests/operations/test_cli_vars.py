"""``regiocode refresh --var KEY=VALUE``: dbt vars for one build, read as YAML, refused clearly when malformed."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from dagster_project.cli import app, parse_vars


def test_values_are_read_as_yaml() -> None:
    assert parse_vars(["nid_lambda=0.5", "peers_k=3", "peers_reference_year=null",
                       "rank_normalisations=[minmax, zscore]", "education_proxy_indicator=researchers"]) == {
        "nid_lambda": 0.5, "peers_k": 3, "peers_reference_year": None,
        "rank_normalisations": ["minmax", "zscore"], "education_proxy_indicator": "researchers",
    }


def test_a_value_may_contain_equals_signs_and_be_empty() -> None:
    assert parse_vars(["label=a=b", "empty="]) == {"label": "a=b", "empty": ""}


@pytest.mark.parametrize("item", ["nid_lambda", "=0.5", "x=[unclosed"])
def test_malformed_items_are_refused(item: str) -> None:
    with pytest.raises(ValueError, match="--var"):
        parse_vars([item])


def test_cli_refuses_a_malformed_var_before_running_anything(tmp_path) -> None:
    result = CliRunner().invoke(app, ["refresh", "--var", "nid_lambda", "--home", str(tmp_path)])
    assert result.exit_code == 2
    assert "expected KEY=VALUE" in result.output
    assert not (tmp_path / "work").exists()
