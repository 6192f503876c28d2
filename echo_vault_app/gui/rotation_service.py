"""What the rotation wizard asks for (:class:`RotationPlan`) and the run that carries it out.

:func:`run_rotation` is called on a worker thread. It runs the chosen steps in a fixed order
(API keys, signing keys, data key, then the unlock secrets) and reports progress through a
callback. A failing step stops the run; the report then says which steps finished and why the
next one did not, so the user knows exactly what state the vault is in.

``rotate_data_key`` re-seals values in batches of 20,000 per transaction and takes the vault
exclusively only for the rekey itself, so a library call from the GUI thread during a run (a
search typed into the browser, say) waits for at most one batch — under a second at 100,000
secrets on a 2-core machine — rather than for the whole re-seal.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from echo_vault_app.errors import EchoVaultError
from echo_vault_app.gui.issuer_service import IssuerService
from echo_vault_app.gui.messages import describe
from echo_vault_app.gui.service import VaultService

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
"""``progress(step, done, total)``: a step key from :data:`STEPS` and its own counts."""

STEPS = ("api-keys", "signing-keys", "data-key", "passphrase", "recovery-key", "reseal")


@dataclass(frozen=True)
class RotationPlan:
    """The wizard's answers. ``passphrase`` is the new (or, for re-sealing, kept) passphrase."""

    data_key: bool = False
    passphrase: str | None = None
    recovery_key: bool = False
    reseal: bool = False
    signing_algorithms: tuple[str, ...] = ()
    overlap_seconds: float = 86400.0
    api_key_ids: tuple[str, ...] = ()
    grace_seconds: float = 86400.0

    def steps(self) -> list[str]:
        """The steps that will run, in order; re-sealing covers passphrase and recovery key."""
        chosen = {
            "api-keys": bool(self.api_key_ids),
            "signing-keys": bool(self.signing_algorithms),
            "data-key": self.data_key,
            "passphrase": self.passphrase is not None and not self.reseal,
            "recovery-key": self.recovery_key and not self.reseal,
            "reseal": self.reseal,
        }
        return [step for step in STEPS if chosen[step]]


@dataclass
class RotationReport:
    """What the run did. New keys are here once, for the summary page to show and forget."""

    done: list[str] = field(default_factory=list)
    failed_step: str | None = None
    error: str = ""
    recovery_key: str | None = None
    new_api_keys: dict[str, str] = field(default_factory=dict)  # old key id -> new key
    new_kids: dict[str, str] = field(default_factory=dict)  # algorithm -> new kid
    resealed_values: int = 0
    notices: list[str] = field(default_factory=list)


def run_rotation(
    service: VaultService,
    issuer: IssuerService,
    plan: RotationPlan,
    progress: Progress,
    *,
    kdf_seconds: float,
) -> RotationReport:
    """Carry out ``plan`` on the unlocked vault (call it on a worker thread)."""
    report = RotationReport()
    for step in plan.steps():
        progress(step, 0, 0)
        try:
            _run_step(step, service, issuer, plan, progress, report, kdf_seconds)
        except EchoVaultError as exc:
            log.error("rotation step %s failed with %s", step, type(exc).__name__)
            report.failed_step, report.error = step, describe(exc)
            return report
        report.done.append(step)
        progress(step, 1, 1)
    return report


def _run_step(
    step: str,
    service: VaultService,
    issuer: IssuerService,
    plan: RotationPlan,
    progress: Progress,
    report: RotationReport,
    kdf_seconds: float,
) -> None:
    from echo_vault_app.core import crypto, rotation

    vault = service.manager.vault
    if step == "api-keys":
        for number, key_id in enumerate(plan.api_key_ids, 1):
            report.new_api_keys[key_id] = issuer.rotate_api_key(key_id, plan.grace_seconds)
            progress(step, number, len(plan.api_key_ids))
    elif step == "signing-keys":
        for number, alg in enumerate(plan.signing_algorithms, 1):
            report.new_kids[alg] = issuer.rotate_signing_key(alg, plan.overlap_seconds)
            progress(step, number, len(plan.signing_algorithms))
    elif step == "data-key":
        result = rotation.rotate_data_key(
            vault, lambda _stage, done, total: progress(step, done, total)
        )
        report.resealed_values = result.resealed
    elif step == "passphrase":
        vault.set_passphrase(plan.passphrase, crypto.tune_argon2(kdf_seconds))
    elif step == "recovery-key":
        report.recovery_key = rotation.reissue_recovery_key(vault)
    elif step == "reseal":
        report.recovery_key, notices = rotation.reseal_vault_key(
            vault, passphrase=plan.passphrase, params=crypto.tune_argon2(kdf_seconds)
        )
        report.notices.extend(notices)
