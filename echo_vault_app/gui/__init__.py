"""The desktop application: PySide6 panes on top of the Qt-free library.

Widgets never call the library directly: they go through :class:`~.service.VaultService`, run
slow work through :mod:`.worker`, and ask the user anything through :mod:`.prompts`.
"""
