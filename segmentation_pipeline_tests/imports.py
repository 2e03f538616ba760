"""What importing a module drags in, checked in a fresh interpreter."""

import subprocess
import sys
from pathlib import Path


def loaded_by_import(module: str, heavy: tuple[str, ...]) -> list[str]:
    """Which of the ``heavy`` top-level packages a fresh interpreter has loaded after ``import module``."""
    code = f"import sys, {module}; print(','.join(m for m in {heavy!r} if m in sys.modules))"
    run = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=Path(__file__).parents[1]
    )
    return [name for name in run.stdout.strip().split(",") if name]
