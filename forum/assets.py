"""Copy front-end packages installed by npm (package.json) into forum/static/vendor.

Run by ``make`` after ``npm ci``; the vendor folder is build output and not committed.
Every asset is then served by Haven itself: no page loads anything from another host.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "forum" / "static" / "vendor"
FILES = {
    "node_modules/socket.io-client/dist/socket.io.min.js": "socket.io.min.js",
}


def main() -> int:
    VENDOR.mkdir(parents=True, exist_ok=True)
    for source, target in FILES.items():
        path = ROOT / source
        if not path.exists():
            print(f"missing {source}: run `npm ci` first", file=sys.stderr)
            return 1
        shutil.copyfile(path, VENDOR / target)
    print(f"copied {len(FILES)} front-end file(s) to {VENDOR.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
