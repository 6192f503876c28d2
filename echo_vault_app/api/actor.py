"""The audit actor of one request, without touching other threads' actors.

The API serves many clients at once from worker threads (and, inside the desktop app, shares
the vault with the GUI), so setting the vault's ``audit.actor`` per request would mislabel
events written concurrently by others. The core trail reads a context-local actor first; inside
:func:`acting_as` events of *this thread's* call carry the client's identity.
"""

from __future__ import annotations

from echo_vault_app.core.audit import acting_as, current_actor

__all__ = ["acting_as", "current_actor"]
