"""One exception hierarchy for the whole library.

Every failure a user can cause or meet has its own class, so the CLI, the GUI and the REST API
can map it to a one-line message and a stable exit status without parsing text. Messages never
contain a secret value, a key or a token.
"""

from __future__ import annotations


class EchoVaultError(Exception):
    """Base of every error the library raises on purpose.

    ``exit_code`` is the CLI's exit status for this kind of failure (documented in README).
    """

    exit_code = 1


class UsageError(EchoVaultError):
    """The caller asked for something malformed (bad name, bad option, bad value)."""

    exit_code = 2


class ValidationError(UsageError):
    """A value does not fit what its template or setting expects."""


class InvalidName(UsageError):
    """A secret name is empty, too long or contains characters we refuse."""


class AuthenticationError(EchoVaultError):
    """An unlock secret (passphrase, recovery key, keyring entry, master key) was refused."""

    exit_code = 3


class WrongPassphrase(AuthenticationError):
    """The passphrase does not open any passphrase slot."""


class WrongRecoveryKey(AuthenticationError):
    """The recovery key is malformed or does not open the recovery slot."""


class WrongMasterKey(AuthenticationError):
    """``ECHO_VAULT_MASTER_KEY`` is malformed or does not open the headless slot."""


class UnlockThrottled(AuthenticationError):
    """Too many wrong passphrases: the next try is allowed only after ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class KeyringError(EchoVaultError):
    """The OS keyring is missing, locked, refused (plaintext backend) or holds a bad entry."""

    exit_code = 3


class VaultLocked(EchoVaultError):
    """The vault must be unlocked first (or was locked while the call waited)."""

    exit_code = 4


class VaultNotFound(EchoVaultError):
    """No vault exists at the given folder."""

    exit_code = 4


class VaultExists(UsageError):
    """``init`` was asked to create a vault where one already is."""


class VaultDamaged(EchoVaultError):
    """A vault file is unreadable: truncated, corrupted or not ours. It is never rewritten."""

    exit_code = 5


class KeyFileDamaged(VaultDamaged):
    """``vault.keys`` is missing, unparseable or fails its checks."""


class DatabaseDamaged(VaultDamaged):
    """The SQLCipher database does not open with the recovered data key or fails its checks."""


class UnsafeSQLite(VaultDamaged):
    """The SQLite library in use has no SQLCipher: refusing to create a plaintext vault."""


class NotFound(EchoVaultError):
    """The named object (secret, field, key, template, session...) does not exist."""

    exit_code = 6


class SecretNotFound(NotFound):
    """No live secret has that name."""


class Conflict(EchoVaultError):
    """A write lost a race or would overwrite something it should not."""

    exit_code = 7


class VersionConflict(Conflict):
    """A check-and-set write expected a version that is no longer current."""


class VaultBusy(Conflict):
    """Another process held the vault longer than the busy timeout; nothing was written."""


class ReadInterrupted(EchoVaultError):
    """A background read was cut short because a newer request made its result pointless."""


class StorageError(EchoVaultError):
    """The disk refused a write (full, read-only, I/O error); the transaction was rolled back."""

    exit_code = 9


class AuditError(EchoVaultError):
    """The audit trail could not be written, so the audited operation was refused."""

    exit_code = 8


class BackupError(EchoVaultError):
    """A backup file cannot be written or read."""

    exit_code = 5


class BackupCorrupted(BackupError):
    """The backup is truncated, tampered with or not a backup at all."""


class BackupWrongPassword(BackupError):
    """The backup password does not match the file's check value."""

    exit_code = 3


class BackupVersionUnsupported(BackupError):
    """The backup was written by a newer format version than this Echo Vault reads."""


class WeakPassword(UsageError):
    """A backup or account password is too weak; the message says why."""
