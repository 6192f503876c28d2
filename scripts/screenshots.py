"""Open each pane of the desktop app on a demo vault under Xvfb and save PNGs.

    python scripts/screenshots.py [--out docs/screenshots]

Starts its own Xvfb on a free display (unless DISPLAY is already set and ``--use-display`` is
given), runs Qt on the real xcb platform, builds a throwaway demo vault with fake but realistic
entries, and saves one PNG per pane and dialog with ``QWidget.grab()``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEMO_PASSPHRASE = "orbit lantern quartz meadow"


def start_xvfb() -> subprocess.Popen:
    """Start Xvfb on the first free display and point DISPLAY at it."""
    if shutil.which("Xvfb") is None:
        sys.exit("screenshots: Xvfb is not installed (Debian package xvfb)")
    for number in range(99, 140):
        if Path(f"/tmp/.X11-unix/X{number}").exists() or Path(f"/tmp/.X{number}-lock").exists():
            continue
        proc = subprocess.Popen(
            ["Xvfb", f":{number}", "-screen", "0", "1400x900x24", "-nolisten", "tcp"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(100):
            if Path(f"/tmp/.X11-unix/X{number}").exists():
                os.environ["DISPLAY"] = f":{number}"
                return proc
            if proc.poll() is not None:
                break
            time.sleep(0.05)
        proc.kill()
    sys.exit("screenshots: could not start Xvfb")


def fill_demo_vault(manager) -> None:
    """Fake credentials that look like a developer's real vault (no real keys)."""
    now = time.time()
    day = 24 * 3600
    entries = [
        ("stripe/production", "stripe", {"secret_key": "sk_live_51HfakeDemoKeyA1b2C3d4E5",
         "publishable_key": "pk_live_51HfakeDemoKeyPub9", "account_id": "acct_1Demo2Acme3"},
         ["payments", "prod"], True, None),
        ("stripe/staging", "stripe", {"secret_key": "sk_test_4eC39HqLyjWDarjtT1zdp7dc",
         "account_id": "acct_1Demo2Acme3"}, ["payments", "staging"], False, None),
        ("aws/ci-deploy", "aws", {"access_key_id": "AKIAIOSFODNN7EXAMPLE",
         "secret_access_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
         "region": "eu-west-1"}, ["ci", "prod"], True, now + 2 * day),
        ("aws/analytics", "aws", {"access_key_id": "AKIAI44QH8DHBEXAMPLE",
         "secret_access_key": "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
         "region": "us-east-1"}, ["analytics"], False, None),
        ("db/orders-primary", "database_url",
         {"url": "postgresql://orders:Ordr-9x!q@db-1.internal:5432/orders"},
         ["prod", "postgres"], False, None),
        ("db/orders-replica", "database_url",
         {"url": "postgresql://reader:Rd-77aa@db-2.internal:5432/orders"},
         ["prod", "postgres"], False, None),
        ("db/cache", "database_url", {"url": "redis://:cache-Pw-31@cache.internal:6379/0"},
         ["prod"], False, None),
        ("github/actions-token", "generic", {"value": "ghp_DemoToken0000000000000000000000"},
         ["ci"], True, None),
        ("github/deploy-key", "ssh_key", {"private_key": _demo_ssh_key(),
         "host": "github.com", "username": "git"}, ["ci"], False, None),
        ("google/workspace-oauth", "google_oauth",
         {"client_id": "1234567890-demo.apps.googleusercontent.com",
          "client_secret": "GOCSPX-DemoSecretValue000"}, ["sso"], False, None),
        ("internal/grafana", "basic_auth", {"url": "https://grafana.internal.example.com",
         "username": "admin", "password": "graf-Adm1n-demo"}, ["monitoring"], False, None),
        ("internal/jenkins", "basic_auth", {"url": "https://ci.internal.example.com",
         "username": "deploy-bot", "password": "j3nk1ns-demo"}, ["ci"], False, now - day),
        ("mailgun/api", "api_key", {"api_key": "key-3ax6xnjp29jd6fds4gc373sgvjxteol0",
         "service": "Mailgun"}, ["email"], False, None),
        ("sentry/dsn", "api_key", {"api_key": "d3m0d5nk3y00000000000000",
         "service": "Sentry", "url": "https://sentry.io"}, ["monitoring"], False, None),
        ("slack/webhook-alerts", "generic",
         {"value": "https://hooks.slack.com/services/T000/B000/XXXXDEMO"}, ["alerts"],
         False, None),
        ("twilio/sms", "api_key_secret", {"api_key": "SKdemo00000000000000000000000000",
         "api_secret": "demoSecret0000000000000000000000", "service": "Twilio"},
         ["sms"], False, None),
        ("notes/oncall-runbook", "note", {"note": "Escalation: page the DB team first."},
         ["ops"], False, None),
        ("totp/aws-root", "totp", {"seed": "JBSWY3DPEHPK3PXP", "issuer": "AWS",
         "account": "root@example.com"}, ["mfa"], False, None),
    ]  # fmt: skip
    for name, template, fields, tags, favourite, expires in entries:
        manager.store_secret(
            name,
            fields=fields,
            template=template,
            tags=tags,
            favourite=favourite,
            expires=expires,
            notes="Rotated quarterly. Owner: platform team." if "prod" in tags else None,
        )
    # Some history to restore from.
    manager.store_secret(
        "stripe/production",
        fields={
            "secret_key": "sk_live_51HfakeDemoKeyRotated77",
            "publishable_key": "pk_live_51HfakeDemoKeyPub9",
            "account_id": "acct_1Demo2Acme3",
        },
        template="stripe",
    )
    manager.reveal("aws/ci-deploy", action="copy")


def _demo_ssh_key() -> str:
    """A freshly generated throwaway Ed25519 key, so the template's checks accept it."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return (
        Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.OpenSSH,
            serialization.NoEncryption(),
        )
        .decode("ascii")
        .strip()
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--use-display", action="store_true", help="use the current DISPLAY")
    args = parser.parse_args()

    xvfb = None if args.use_display and os.environ.get("DISPLAY") else start_xvfb()
    os.environ["QT_QPA_PLATFORM"] = "xcb"
    os.environ["ECHO_VAULT_NO_KEYRING"] = "1"
    os.environ.pop("ECHO_VAULT_MASTER_KEY", None)
    work = Path(tempfile.mkdtemp(prefix="echo-vault-shots-"))
    os.environ["XDG_CONFIG_HOME"] = str(work / "config")
    try:
        return _shoot(args.out, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if xvfb is not None:
            xvfb.terminate()
            xvfb.wait(timeout=10)


def _shoot(out: Path, work: Path) -> int:
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from echo_vault_app.core.vault import Vault
    from echo_vault_app.gui import prompts, worker
    from echo_vault_app.gui.app import EchoVaultApp
    from echo_vault_app.gui.settings import GuiSettings
    from echo_vault_app.gui.settings_dialog import SettingsDialog
    from echo_vault_app.secrets.manager import SecretsManager

    out.mkdir(parents=True, exist_ok=True)
    qt_app = QApplication(["echo-vault"])
    qt_app.setApplicationName("Echo Vault")
    worker.set_synchronous(True)
    prompts.set_test_mode(True)

    def settle(ms: int = 250) -> None:
        end = time.monotonic() + ms / 1000
        while time.monotonic() < end:
            qt_app.processEvents()
            time.sleep(0.01)

    def save(widget, name: str) -> None:
        settle()
        pixmap = widget.grab()
        path = out / f"{name}.png"
        pixmap.save(str(path), "PNG")
        print(f"saved {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")

    def make(folder: Path) -> EchoVaultApp:
        settings = GuiSettings(QSettings(str(work / "gui.ini"), QSettings.Format.IniFormat))
        settings.mark_notice_shown("no-tray")
        app = EchoVaultApp(folder, settings=settings, use_keyring=False, kdf_seconds=0)
        app.window.resize(1100, 700)
        app.window.show()
        app.start()
        return app

    # First run: the create pane, with a passphrase typed in.
    fresh = make(work / "fresh-vault")
    fresh.window.create_pane.passphrase.first.setText(DEMO_PASSPHRASE)
    fresh.window.create_pane.passphrase.second.setText(DEMO_PASSPHRASE)
    save(fresh.window, "01-create-vault")
    fresh.window.create_pane.create_button.click()
    settle()
    if fresh.window.recovery_dialog is not None:
        save(fresh.window.recovery_dialog, "02-recovery-key")
        fresh.window.recovery_dialog.confirm.setChecked(True)
        fresh.window.recovery_dialog.accept()
    fresh.close()

    folder = work / "demo-vault"
    created = Vault.create(folder, passphrase=DEMO_PASSPHRASE, use_keyring=False, kdf_seconds=0)
    fill_demo_vault(SecretsManager(vault=created.vault))
    created.vault.lock()

    app = make(folder)
    app.window.unlock_pane.passphrase.setText("wrong guess")
    app.window.unlock_pane.unlock_button.click()
    save(app.window, "03-unlock")
    app.service.unlock(recovery_key=created.recovery_key)
    settle()
    app.browser.select("stripe/production")
    save(app.window, "04-secrets-browser")

    app.window.message_bar.hide()
    app.browser.search.setText("tag:prod")
    settle()
    app.browser.select("db/orders-primary")
    row = app.browser.details.row_for("password")
    row.reveal.setChecked(True)
    save(app.window, "05-filter-and-reveal")
    row.reveal.setChecked(False)
    app.browser.search.clear()

    form = app.browser.add_secret("stripe")
    form.name_edit.setText("stripe/eu")
    form.editors["secret_key"].set_value("pk_live_notasecretkey")
    form.buttons.button(form.buttons.StandardButton.Save).click()
    save(form, "06-add-from-template")
    form.reject()

    history = app.browser.show_history("stripe/production")
    save(history, "07-history")
    history.reject()

    app.browser.select("internal/grafana")
    app.browser.delete_current()
    save(app.window, "08-trash-undo")
    app.browser.message.action.click()

    app.window.show_pane("templates")
    save(app.window, "09-templates")
    app.window.show_pane("audit")
    app.audit.verify()
    save(app.window, "10-audit-log")

    dialog = SettingsDialog(
        app.service,
        app.settings,
        app.idle.watches_session,
        app.window,
        api_switch=app.api_switch,
    )
    dialog.show()
    save(dialog, "11-settings")
    dialog.reject()

    app.window.show_pane("secrets")
    app.open_quick()
    app.quick_window.search.setText("aws")
    save(app.quick_window, "12-quick-copy")
    app.quick_window.hide()

    _shoot_issuer(app, save, settle)
    _shoot_backups(app, save, settle, work)
    _shoot_rotation(app, save, settle)
    app.close()
    return 0


def _shoot_issuer(app, save, settle) -> None:
    """API keys with a fresh key shown once, a token beside its decoded parts, a refusal."""
    issuer = app.issuer_service
    issuer.create_api_key("deploy-bot@example.com", ["secrets:read:stripe/*"], name="CI deploys",
                          expires_in=90 * 86400)  # fmt: skip
    issuer.create_api_key("grafana@example.com", ["audit:read"], name="Dashboards")
    pane = app.window.show_pane("issuer")
    tab = pane.show_tab(pane.api_keys)
    tab.user_edit.setText("billing-worker@example.com")
    tab.name_edit.setText("Billing worker")
    tab.permissions_edit.setText("secrets:read:stripe/*, secrets:read:db/*")
    tab.create_key()
    save(app.window, "13-issuer-api-keys")
    tab.forget_new_key()

    tab = pane.show_tab(pane.issue)
    tab.subject_edit.setText("deploy-bot@example.com")
    tab.permissions_edit.setText("secrets:read:stripe/*")
    tab.algorithm_box.setCurrentIndex(tab.algorithm_box.findData("EdDSA"))
    tab.lifetime.setValue(8)
    tab.claims_editor.add_row("org_id", "4521")
    tab.claims_editor.add_row("env", "production")
    tab.issue()
    save(app.window, "14-issuer-token")

    # A token whose claims were edited after signing (permissions widened to "*").
    import json

    from echo_vault_app.auth.jws import b64url_decode, b64url_encode

    head, payload, signature = tab.issued.token.split(".")
    claims = json.loads(b64url_decode(payload))
    claims["permissions"] = ["*"]
    tampered = f"{head}.{b64url_encode(json.dumps(claims).encode())}.{signature}"
    tab = pane.show_tab(pane.verify)
    tab.paste.setPlainText(tampered)
    tab.verify()
    save(app.window, "15-issuer-verify")
    tab.paste.clear()
    app.window.show_pane("secrets")


def _shoot_backups(app, save, settle, work: Path) -> None:
    """The export dialog filled in, and the import dialog showing its preview."""
    password = "harbor velvet quartz 1984 lantern"
    backup = work / "echo-vault-2026-12-03.evbackup"
    dialog = app.open_backup_export()
    dialog.file.set_path("~/Backups/echo-vault-2026-12-03.evbackup")
    dialog.password.first.setText(password)
    dialog.password.second.setText(password)
    dialog.scope_tags.setChecked(True)
    dialog.tags_edit.setText("prod")
    save(dialog, "16-backup-export")
    dialog.file.set_path(backup)
    dialog.scope_all.setChecked(True)
    dialog.export()
    dialog.close()

    # Changes after the backup, with no history kept, so the preview has something to say.
    manager = app.service.manager
    depth = manager.store.history_depth()
    manager.store.set_history_depth(0)
    manager.store_secret("stripe/staging", fields={"secret_key": "sk_test_51HchangedAfterBackup",
                         "account_id": "acct_1Demo2Acme3"}, template="stripe")  # fmt: skip
    manager.delete_secret("slack/webhook-alerts")
    dialog = app.open_backup_import()
    dialog.file.set_path(backup)
    dialog.password.setText(password)
    dialog.run_preview()
    dialog.file.set_path("~/Backups/echo-vault-2026-12-03.evbackup")
    dialog.status.setText(dialog.tr("Nothing is written until you press Import."))
    dialog.import_button.setEnabled(True)
    save(dialog, "17-backup-import-preview")
    dialog.close()
    manager.store.set_history_depth(depth)


def _shoot_rotation(app, save, settle) -> None:
    """The rotation wizard on its signing- and API-key page, mid-way through."""
    wizard = app.open_rotation()
    for key in ("data-key", "signing-keys", "api-keys"):
        wizard.choose_page.boxes[key].setChecked(True)
    save(wizard, "18-rotation-choose")
    wizard.next()
    wizard.backup_page.note_exported(18)
    wizard.next()
    first = wizard.auth_page.api_list.item(0)
    if first is not None:
        first.setCheckState(first.checkState().Checked)
    save(wizard, "19-rotation-keys")
    wizard.close()


if __name__ == "__main__":
    sys.exit(main())
