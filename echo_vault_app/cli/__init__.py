"""``echo-vault-cli``: the vault for scripts and headless machines, built on the library only."""
