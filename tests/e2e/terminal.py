"""A terminal for end-to-end tests: tmux, installed here if the machine lacks it."""

from __future__ import annotations

import os
import shutil
import subprocess

INSTALLERS = (  # (package manager, commands run in turn)
    ("apt-get", (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "tmux"])),
    ("dnf", (["dnf", "install", "-y", "-q", "tmux"],)),
    ("apk", (["apk", "add", "-q", "tmux"],)),
    ("brew", (["brew", "install", "tmux"],)),
)


def ensure_tmux() -> str:
    """The tmux binary; installs it with the system's package manager when it is missing."""
    found = shutil.which("tmux")
    if found:
        return found
    sudo = [] if os.geteuid() == 0 or not shutil.which("sudo") else ["sudo", "-n"]
    for tool, cmds in INSTALLERS:
        if not shutil.which(tool):
            continue
        for cmd in cmds:
            prefix = [] if tool == "brew" else sudo
            subprocess.run([*prefix, *cmd], check=False, timeout=600, capture_output=True)
        found = shutil.which("tmux")
        if found:
            return found
    raise RuntimeError(
        "tmux is missing and could not be installed (tried apt-get, dnf, apk, brew); "
        "install tmux to run the end-to-end test"
    )


class Tmux:
    """One detached tmux session on a private server socket."""

    def __init__(self, name: str, width: int = 100, height: int = 30) -> None:
        self.bin = ensure_tmux()
        self.socket = f"qtui-test-{os.getpid()}"
        self.name, self.width, self.height = name, width, height

    def _tmux(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.bin, "-L", self.socket, *args], capture_output=True, text=True, timeout=30
        )

    def start(self, command: str, cwd: str) -> None:
        self._tmux(
            "new-session", "-d", "-s", self.name, "-x", str(self.width), "-y", str(self.height),
            "-c", cwd, command,
        )  # fmt: skip
        self._tmux("set-option", "-t", self.name, "remain-on-exit", "on")

    def screen(self, history: int = 0, escapes: bool = False) -> str:
        """What the pane shows, with ``history`` lines of scrollback above it; ``escapes``
        keeps the colour and attribute escape sequences."""
        flags = ["-e"] if escapes else []
        return self._tmux("capture-pane", "-p", *flags, "-S", str(-history), "-t", self.name).stdout

    def keys(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", self.name, *keys)

    def dead(self) -> bool:
        out = self._tmux("list-panes", "-t", self.name, "-F", "#{pane_dead}").stdout
        return out.strip() in ("1", "")

    def kill(self) -> None:
        self._tmux("kill-server")
