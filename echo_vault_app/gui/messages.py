"""One-line, translated messages for the library's exceptions.

Widgets show these instead of exception text or tracebacks. The library's messages never carry
a value, so where no better sentence exists its own message is shown.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QCoreApplication

from echo_vault_app import errors


def _tr(text: str) -> str:
    return QCoreApplication.translate("Messages", text)


def describe(exc: BaseException) -> str:
    """The sentence to show a person for ``exc``."""
    if isinstance(exc, errors.UnlockThrottled):
        seconds = max(1, math.ceil(exc.retry_after))
        return _tr("Too many wrong attempts. Try again in %n s.").replace("%n", str(seconds))
    if isinstance(exc, errors.WrongPassphrase):
        if "no passphrase" in str(exc):
            return _tr("This vault has no passphrase. Use the recovery key.")
        return _tr("Wrong passphrase. Check Caps Lock and try again.")
    if isinstance(exc, errors.WrongRecoveryKey):
        if "typo" in str(exc):
            return _tr("The recovery key has a typo: its check letters do not match.")
        if "not an Echo Vault recovery key" in str(exc):
            return _tr("That is not a recovery key. Check for missing characters.")
        return _tr("That recovery key does not open this vault.")
    if isinstance(exc, errors.VaultLocked):
        reason = str(exc).partition("(")[2].rstrip(")")
        if reason and reason != "no passphrase given":
            return _tr("Enter the passphrase. The keyring did not unlock the vault: %1").replace(
                "%1", reason
            )
        return _tr("The vault is locked. Unlock it first.")
    if isinstance(exc, errors.KeyringError):
        return _tr("System keyring: %1").replace("%1", str(exc))
    if isinstance(exc, errors.VaultDamaged):
        return _tr("The vault files are damaged: %1").replace("%1", str(exc))
    if isinstance(exc, errors.EchoVaultError):
        text = str(exc)
        return text[:1].upper() + text[1:] if text else type(exc).__name__
    return _tr("Something went wrong (%1). Details were written to the log.").replace(
        "%1", type(exc).__name__
    )
