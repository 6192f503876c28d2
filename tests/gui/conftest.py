"""Fixtures for the desktop app's tests: offscreen Qt, real vaults in tmp_path, no keyring.

Slow work runs synchronously (the worker's test mode) except where a test asks for the thread
pool, and every prompt is answered from a queue instead of opening a modal window.
"""

from __future__ import annotations

import os
import shutil

os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ["ECHO_VAULT_NO_KEYRING"] = "1"
os.environ.pop("ECHO_VAULT_MASTER_KEY", None)

from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from PySide6.QtCore import QSettings  # noqa: E402

from echo_vault_app.core.vault import Vault  # noqa: E402
from echo_vault_app.gui import prompts, worker  # noqa: E402
from echo_vault_app.gui.settings import GuiSettings  # noqa: E402
from echo_vault_app.secrets.manager import SecretsManager  # noqa: E402

PASSPHRASE = "correct horse battery staple"


@dataclass
class DemoVault:
    folder: Path
    recovery_key: str
    passphrase: str = PASSPHRASE


@pytest.fixture(autouse=True)
def _test_modes():
    prompts.set_test_mode(True)
    worker.set_synchronous(True)
    yield
    worker.set_synchronous(False)
    prompts.set_test_mode(False)


@pytest.fixture
def gui_settings(tmp_path: Path) -> GuiSettings:
    return GuiSettings(QSettings(str(tmp_path / "gui.ini"), QSettings.Format.IniFormat))


def fill_demo(manager: SecretsManager) -> None:
    """A handful of realistic secrets: several templates, tags, history, expiry, favourite."""
    manager.store_secret(
        "stripe/production",
        fields={"secret_key": "sk_live_51Habcdefghijkl", "account_id": "acct_1032D82eZvKYlo2C"},
        template="stripe",
        tags=["payments", "prod"],
        favourite=True,
    )
    manager.store_secret(
        "stripe/staging",
        fields={"secret_key": "sk_test_4eC39HqLyjWDarjtT1zdp7dc"},
        template="stripe",
        tags=["payments"],
    )
    manager.store_secret(
        "db/orders",
        fields={"url": "https://db.example.com", "username": "orders", "password": "pw-one"},
        template="basic_auth",
    )
    manager.store_secret(
        "db/orders",
        fields={"url": "https://db.example.com", "username": "orders", "password": "pw-two"},
        template="basic_auth",
    )
    manager.store_secret("github/token", "ghp_exampletoken123", tags=["ci"])
    import time

    manager.store_secret("legacy/ftp", "old-ftp-pass", expires=time.time() + 3600)


@pytest.fixture(scope="session")
def _demo_original(tmp_path_factory) -> DemoVault:
    folder = tmp_path_factory.mktemp("demo") / "vault"
    created = Vault.create(folder, passphrase=PASSPHRASE, use_keyring=False, kdf_seconds=0)
    fill_demo(SecretsManager(vault=created.vault))
    created.vault.lock()
    return DemoVault(folder, created.recovery_key)


@pytest.fixture
def demo_vault(_demo_original: DemoVault, tmp_path: Path) -> DemoVault:
    """A private copy of the demo vault (building one costs an Argon2 run and many writes)."""
    folder = tmp_path / "vault"
    shutil.copytree(_demo_original.folder, folder)
    return DemoVault(folder, _demo_original.recovery_key)


@pytest.fixture
def make_app(qtbot, gui_settings):
    """Build an EchoVaultApp on a folder the way main() does, without tray or keyring."""
    from echo_vault_app.gui.app import EchoVaultApp

    apps = []

    def make(folder: Path, **kwargs) -> EchoVaultApp:
        kwargs.setdefault("with_tray", False)
        app = EchoVaultApp(
            folder, settings=gui_settings, use_keyring=False, kdf_seconds=0, **kwargs
        )
        qtbot.addWidget(app.window)
        app.window.show()
        app.start()
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.close()


@pytest.fixture
def unlocked_app(make_app, demo_vault):
    """An app on the demo vault, unlocked with the recovery key (fast: no Argon2)."""
    app = make_app(demo_vault.folder)
    app.service.unlock(recovery_key=demo_vault.recovery_key)
    assert app.service.is_unlocked
    return app
