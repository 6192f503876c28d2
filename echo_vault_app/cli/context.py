"""Opening the vault for a CLI command: paths, unlock secrets and the audit actor."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from echo_vault_app import config
from echo_vault_app.cli.inputs import Inputs
from echo_vault_app.core.audit import default_actor
from echo_vault_app.core.vault import Vault
from echo_vault_app.errors import KeyringError, VaultLocked
from echo_vault_app.secrets import SecretsManager

log = logging.getLogger(__name__)

ACTOR = default_actor("cli")


class Context:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.folder = Path(args.vault).expanduser() if args.vault else config.default_vault_path()
        self.inputs = Inputs(args.passphrase_stdin, args.passphrase_file)
        self.use_keyring = not args.no_keyring
        self._manager: SecretsManager | None = None

    def open_vault(self) -> Vault:
        """Unlock through the unlock order, asking for the passphrase only when needed."""
        recovery = None
        if self.args.recovery_key_stdin:
            recovery = sys.stdin.readline().strip()
        try:
            vault = Vault.open(
                self.folder,
                use_keyring=self.use_keyring,
                recovery_key=recovery,
                passphrase=self.inputs.passphrase() if self._explicit_passphrase() else None,
                actor=ACTOR,
            )
        except (VaultLocked, KeyringError) as exc:
            passphrase = self.inputs.passphrase()
            if passphrase is None:
                raise VaultLocked(
                    f"{exc}; give --passphrase-stdin, --passphrase-file or ECHO_VAULT_MASTER_KEY"
                ) from None
            vault = Vault.open(
                self.folder, use_keyring=self.use_keyring, passphrase=passphrase, actor=ACTOR
            )
        for notice in vault.notices:
            print(f"echo-vault-cli: note: {notice}", file=sys.stderr)
        if sys.stderr.isatty():
            self._mention_expiring(vault)
        return vault

    @staticmethod
    def _mention_expiring(vault: Vault) -> None:
        """At unlock, as KeePassXC does, point at secrets that expired or expire soon."""
        from echo_vault_app.secrets.store import SecretStore

        soon = SecretStore(vault).expiring()
        if soon:
            print(
                f"echo-vault-cli: note: {len(soon)} secret(s) expired or expire within 3 days"
                " (see `echo-vault-cli expiring`)",
                file=sys.stderr,
            )

    def _explicit_passphrase(self) -> bool:
        return bool(self.inputs.passphrase_stdin or self.inputs.passphrase_file)

    @property
    def manager(self) -> SecretsManager:
        if self._manager is None:
            self._manager = SecretsManager(vault=self.open_vault())
        return self._manager

    def close(self) -> None:
        if self._manager is not None:
            self._manager.lock()
