"""Haven as bench/pages.py serves it: the production app from the environment, with a thread
page holding up to 200 posts (Haven's default is 100) so the measured page carries all 200."""

from __future__ import annotations

import os

from forum import create_app

app = create_app({"POSTS_PER_PAGE": int(os.environ.get("BENCH_POSTS_PER_PAGE", "200"))})
