"""Issuer pane: API keys and JWTs issued through the widgets verify through the library."""

from __future__ import annotations

import json
import time

from PySide6.QtCore import Qt

from echo_vault_app.auth import AuthManager
from echo_vault_app.auth.jws import b64url_decode, b64url_encode
from echo_vault_app.gui import prompts
from echo_vault_app.gui.clipboard import KDE_HINT


def _open(app):
    pane = app.window.show_pane("issuer")
    assert pane is app.issuer
    return pane


def _library_auth(app) -> AuthManager:
    """A second AuthManager on the same vault, as another process would see the records."""
    return AuthManager(vault=app.service.manager.vault)


def test_pane_is_built_only_when_shown(unlocked_app):
    assert not unlocked_app.window.is_built("issuer")
    _open(unlocked_app)
    assert unlocked_app.window.is_built("issuer")


def test_create_api_key_shown_once_copied_and_verifies(unlocked_app, qtbot):
    tab = _open(unlocked_app).show_tab(unlocked_app.issuer.api_keys)
    qtbot.keyClicks(tab.user_edit, "deploy-bot@example.com")
    qtbot.keyClicks(tab.name_edit, "CI deploys")
    qtbot.keyClicks(tab.permissions_edit, "secrets:read, secrets:write:stripe/*")
    tab.expires_check.setChecked(True)
    tab.expires_days.setValue(30)
    qtbot.mouseClick(tab.create_button, Qt.MouseButton.LeftButton)

    key = tab.new_key_edit.text()
    assert key.startswith("ev_live_") and tab.new_key_frame.isVisible()
    record = _library_auth(unlocked_app).verify_api_key(key)
    assert record["user_id"] == "deploy-bot@example.com"
    assert record["name"] == "CI deploys"
    assert record["permissions"] == ["secrets:read", "secrets:write:stripe/*"]
    assert 29 * 86400 < record["expires_at"] - time.time() <= 30 * 86400

    qtbot.mouseClick(tab.copy_button, Qt.MouseButton.LeftButton)
    data = unlocked_app.clipboard.clipboard.mimeData()
    assert data.text() == key and data.hasFormat(KDE_HINT)
    qtbot.mouseClick(tab.hide_button, Qt.MouseButton.LeftButton)
    assert tab.new_key_edit.text() == "" and not tab.new_key_frame.isVisible()
    assert tab.model.rowCount() == 1
    assert key not in json.dumps([tab.model.data(tab.model.index(0, c)) for c in range(7)])


def test_bad_permission_is_one_line_and_creates_nothing(unlocked_app, qtbot):
    tab = _open(unlocked_app).show_tab(unlocked_app.issuer.api_keys)
    qtbot.keyClicks(tab.user_edit, "u")
    qtbot.keyClicks(tab.permissions_edit, "not a::perm")
    tab.create_key()
    assert "is not resource:action" in tab.message.message()
    assert tab.model.rowCount() == 0 and not tab.new_key_frame.isVisible()


def test_revoke_and_rotate_with_grace(unlocked_app, qtbot):
    issuer = unlocked_app.issuer_service
    first = issuer.create_api_key("alice", ["secrets:read"], name="one")
    second = issuer.create_api_key("bob", ["secrets:read"], name="two")
    tab = _open(unlocked_app).show_tab(unlocked_app.issuer.api_keys)
    auth = _library_auth(unlocked_app)
    first_id, second_id = first.split("_")[2], second.split("_")[2]

    tab.select(first_id)
    prompts.preset(True)
    tab.revoke_selected()
    auth.refresh()  # another AuthManager wrote; this one reloads (as it would within 0.5 s)
    assert auth.check_api_key(first).status.value == "revoked"

    tab.select(second_id)
    tab.grace_hours.setValue(2)
    tab.rotate_selected()
    successor = tab.new_key_edit.text()
    assert successor and successor != second
    auth.refresh()
    assert auth.check_api_key(successor).ok
    old = auth.check_api_key(second)
    assert old.ok and 1.9 * 3600 < old.record.expires_at - time.time() <= 2 * 3600
    assert tab.model.rowCount() == 3


def test_issue_jwt_with_claims_and_eddsa(unlocked_app, qtbot):
    tab = _open(unlocked_app).show_tab(unlocked_app.issuer.issue)
    qtbot.keyClicks(tab.subject_edit, "user@example.com")
    qtbot.keyClicks(tab.permissions_edit, "read write")
    tab.algorithm_box.setCurrentIndex(tab.algorithm_box.findData("EdDSA"))
    tab.lifetime.setValue(2)
    tab.claims_editor.add_row("org_id", "123")
    tab.claims_editor.add_row("team", "core")
    qtbot.mouseClick(tab.issue_button, Qt.MouseButton.LeftButton)

    token = tab.token_edit.toPlainText()
    claims = _library_auth(unlocked_app).decode_jwt_token(token)
    assert claims["sub"] == "user@example.com"
    assert claims["permissions"] == ["read", "write"]
    assert claims["org_id"] == 123 and claims["team"] == "core"
    assert 2 * 3600 - 5 <= claims["exp"] - claims["iat"] <= 2 * 3600
    header = json.loads(tab.decoded.header.toPlainText())
    assert header["alg"] == "EdDSA" and header["kid"].startswith("eddsa-")
    assert json.loads(tab.decoded.claims.toPlainText())["org_id"] == 123
    assert "exp" in tab.decoded.times.text()
    assert tab.key_label.text().endswith(header["kid"])


def test_claims_editor_json_validation(unlocked_app, qtbot):
    tab = _open(unlocked_app).show_tab(unlocked_app.issuer.issue)
    editor = tab.claims_editor
    editor.add_row("org_id", "123")
    editor.as_json.setChecked(True)
    assert json.loads(editor.json_edit.toPlainText()) == {"org_id": 123}
    editor.json_edit.setPlainText('{"org_id": 1,')
    qtbot.keyClicks(tab.subject_edit, "someone")
    tab.issue()
    assert "Not valid JSON" in editor.error.text() and tab.issued is None
    editor.json_edit.setPlainText('{"exp": 1}')
    tab.issue()
    assert "Reserved" in editor.error.text() and tab.issued is None
    editor.json_edit.setPlainText('{"org": {"id": 7}}')
    tab.issue()
    assert tab.issued is not None and tab.issued.claims["org"] == {"id": 7}


def test_default_lifetime_comes_from_vault_config(unlocked_app):
    from echo_vault_app.state import StateManager

    StateManager(vault=unlocked_app.service.manager.vault).config.set("token_expiry_hours", 6)
    tab = _open(unlocked_app).show_tab(unlocked_app.issuer.issue)
    assert tab.lifetime.value() == 6


def _verify(app, qtbot, token: str):
    tab = _open(app).show_tab(app.issuer.verify)
    tab.paste.setPlainText(token)
    tab.verify()
    return tab


def test_verify_valid_token(unlocked_app, qtbot):
    token = unlocked_app.issuer_service.issue_jwt(
        "carol", ["read"], {}, algorithm="HS256", lifetime_seconds=600
    ).token
    tab = _verify(unlocked_app, qtbot, token)
    assert tab.result.valid
    assert tab.verdict.text().startswith("Valid")
    assert "carol" in tab.detail.text()


def test_verify_says_expired(unlocked_app, qtbot):
    issuer = unlocked_app.issuer_service
    auth = issuer.auth()
    key = auth.keys.signer("HS256")
    now = int(time.time())
    claims = {"sub": "dave", "iat": now - 7200, "nbf": now - 7200, "exp": now - 3600}
    token = auth.tokens.sign(claims, key)
    tab = _verify(unlocked_app, qtbot, token)
    assert tab.result.reason == "expired"
    assert tab.verdict.text().startswith("Expired at ")
    assert json.loads(tab.decoded.claims.toPlainText())["sub"] == "dave"


def test_verify_says_forged(unlocked_app, qtbot):
    token = unlocked_app.issuer_service.issue_jwt(
        "erin", ["read"], {}, algorithm="HS256", lifetime_seconds=600
    ).token
    header, payload, signature = token.split(".")
    claims = json.loads(b64url_decode(payload))
    claims["permissions"] = ["*"]
    forged = ".".join([header, b64url_encode(json.dumps(claims).encode()), signature])
    tab = _verify(unlocked_app, qtbot, forged)
    assert tab.result.reason == "bad_signature"
    assert tab.verdict.text().startswith("Forged or altered")
    assert "signature" in tab.detail.text()


def test_verify_says_garbage(unlocked_app, qtbot):
    tab = _verify(unlocked_app, qtbot, "hello.this-is.not a token")
    assert tab.result.reason == "malformed"
    assert tab.verdict.text() == "Not a well-formed token"
    assert tab.detail.text()
    assert tab.decoded.claims.toPlainText() == ""


def test_verify_from_other_vault_is_unknown_key(unlocked_app, qtbot):
    other = AuthManager(secret_key="x" * 40)
    tab = _verify(unlocked_app, qtbot, other.create_jwt_token("mallory", ["read"]))
    assert tab.result.reason == "unknown_key"


def test_export_jwks_file(unlocked_app, tmp_path):
    issuer = unlocked_app.issuer_service
    issuer.issue_jwt("f", [], {}, algorithm="EdDSA", lifetime_seconds=60)
    issuer.issue_jwt("g", [], {}, algorithm="ES256", lifetime_seconds=60)
    tab = _open(unlocked_app).show_tab(unlocked_app.issuer.signing_keys)
    assert tab.tree.topLevelItemCount() >= 3
    target = tmp_path / "jwks.json"
    prompts.preset(str(target))
    tab.export_jwks()
    document = json.loads(target.read_text())
    assert {k["alg"] for k in document["keys"]} == {"EdDSA", "ES256"}
    assert all("d" not in k for k in document["keys"])  # public halves only
    assert document == _library_auth(unlocked_app).jwks()
    assert "Exported 2" in tab.message.message()
