"""Process facts shared by the cleaners of left-behind files (publish copies, Typst roots): no heavy imports."""

from __future__ import annotations

import os


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` may still run: only a definite "no such process" says it is gone, so files of a
    process that cannot be checked (another user's: PermissionError) are left alone."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True
