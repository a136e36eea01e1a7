"""Stage the app for `flet build`: its packages, the entry point and the icons, copied into packaging/src.

    python packaging/stage.py

`flet build` packages one folder whose root holds the entry module; the app's code lives in the
repository's packages beside the central service's, so the device's part is copied here first. What
is staged: app/, device/, edge_sync/ (sources only), packaging/main.py, and assets/icon*.png and
assets/splash*.png (Flet makes every platform's icons and splash screens from them).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SRC = HERE / "src"
PACKAGES = ("app", "device", "edge_sync")
IMAGES = ("icon*.png", "splash*.png")


def stage(root: Path = ROOT, out: Path = SRC) -> list[Path]:
    """Copy the device app into `out` (emptied first); returns the top-level paths written."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    written: list[Path] = []
    for name in PACKAGES:
        written.append(Path(shutil.copytree(root / name, out / name,
                                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))))
    written.append(Path(shutil.copy2(HERE / "main.py", out / "main.py")))
    assets = out / "assets"
    assets.mkdir()
    for pattern in IMAGES:
        for image in sorted((root / "assets").glob(pattern)):
            written.append(Path(shutil.copy2(image, assets / image.name)))
    return written


if __name__ == "__main__":
    paths = stage()
    print(f"Staged {len(paths)} paths into {SRC}. Next: cd {HERE} && flet build <target> (see README.md there)",
          file=sys.stdout)
