"""Where a local Helios keeps its things.

    $HELIOS_STATE_DIR (.helios/)   data of the local servers, logs/, run/ (the supervisor's
                                   socket and state), tls/ and auth/ (the gateway's credentials)
    $XDG_CACHE_HOME/helios/        what `make install` fetched: kafka/ (the broker's jars),
                                   bin/ (the Go tools); scripts/lib.sh names the same folder for
                                   the installer, which runs before this package is installed
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from helios.gateway.settings import state_dir
from helios.platform.settings import Environ


@dataclass(frozen=True)
class Layout:
    state: Path
    cache: Path

    @classmethod
    def from_env(cls, env: Environ) -> Layout:
        cache = Path(env.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "helios"
        return cls(state_dir(env), cache)

    @property
    def logs(self) -> Path:
        return self.state / "logs"

    @property
    def run(self) -> Path:
        return self.state / "run"

    def log(self, name: str) -> Path:
        return self.logs / f"{name}.log"

    @property
    def tools(self) -> Path:
        return self.cache / "bin"

    def tool(self, name: str) -> str:
        """A Go tool `make install` put in the cache (also linked onto PATH)."""
        path = self.tools / name
        return str(path) if path.exists() else name
