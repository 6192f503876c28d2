"""Session state, agent state and settings, kept in the vault (or in memory). No Qt here."""

from echo_vault_app import log as _log  # noqa: F401 (keeps the library silent by default)
from echo_vault_app.state.agents import Agent
from echo_vault_app.state.manager import StateManager
from echo_vault_app.state.settings import SETTINGS, SettingSpec

__all__ = ["SETTINGS", "Agent", "SettingSpec", "StateManager"]
