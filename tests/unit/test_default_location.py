"""Where the vault lives when ECHO_VAULT_PATH is unset: the platform's user data folder."""

from __future__ import annotations

import sys
from pathlib import Path

import platformdirs
import pytest

from echo_vault_app import config

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="the XDG rule applies on Linux and the BSDs"
)


@pytest.mark.parametrize("xdg", [None, "", "relative/data", "/srv/data", "/srv/data/"])
def test_default_path_is_where_platformdirs_puts_it(monkeypatch, tmp_path, xdg):
    monkeypatch.delenv(config.ENV_PATH, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    if xdg is None:
        monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    else:
        monkeypatch.setenv("XDG_DATA_HOME", xdg)

    expected = Path(platformdirs.user_data_dir(config.APP_NAME, appauthor=False)) / "vault"
    assert config.default_vault_path() == expected


def test_echo_vault_path_wins(monkeypatch, tmp_path):
    monkeypatch.setenv(config.ENV_PATH, str(tmp_path / "elsewhere"))
    monkeypatch.setenv("XDG_DATA_HOME", "/srv/data")
    assert config.default_vault_path() == tmp_path / "elsewhere"
