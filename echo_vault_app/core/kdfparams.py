"""Argon2id cost parameters, apart from the cryptography bindings that use them.

Reading ``vault.keys`` needs the parameters' bounds check but not the KDF itself, and the
desktop app reads that file before its unlock window is painted; :mod:`.crypto` re-exports both
names.
"""

from typing import NamedTuple, Self


class Argon2Params(NamedTuple):
    """Argon2id cost parameters as stored in a slot or a backup header."""

    memory_kib: int
    iterations: int
    lanes: int

    # The floor follows PEERS.md: what KeePassXC and Bitwarden ship as their minimum.
    MIN_MEMORY_KIB = 64 * 1024
    MIN_ITERATIONS = 3
    MIN_LANES = 4
    # Ceilings exist so a crafted file cannot make us allocate or spin without bound.
    MAX_MEMORY_KIB = 1024 * 1024
    MAX_ITERATIONS = 32
    MAX_LANES = 64

    def check(self) -> None:
        """Bounds-check before any memory is allocated; raises ValueError naming the field."""
        for name, value, low, high in (
            ("memory", self.memory_kib, self.MIN_MEMORY_KIB, self.MAX_MEMORY_KIB),
            ("iterations", self.iterations, self.MIN_ITERATIONS, self.MAX_ITERATIONS),
            ("lanes", self.lanes, self.MIN_LANES, self.MAX_LANES),
        ):
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                raise ValueError(f"Argon2id {name} parameter out of range")

    def to_dict(self) -> dict[str, int]:
        return {"memory_kib": self.memory_kib, "iterations": self.iterations, "lanes": self.lanes}

    @classmethod
    def from_dict(cls, data: object) -> Self:
        if not isinstance(data, dict):
            raise ValueError("Argon2id parameters missing")
        params = cls(data.get("memory_kib"), data.get("iterations"), data.get("lanes"))  # type: ignore[arg-type]
        params.check()
        return params


MINIMUM_ARGON2 = Argon2Params(
    Argon2Params.MIN_MEMORY_KIB, Argon2Params.MIN_ITERATIONS, Argon2Params.MIN_LANES
)
