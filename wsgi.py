"""WSGI entry point: ``gunicorn wsgi:app`` or ``flask --app wsgi ...``.

Production (see docs/deploy.md): ``gunicorn -k gevent -w 1 wsgi:app``, one process
per core. gunicorn's gevent worker monkey-patches the standard library before it
imports this module, so Socket.IO picks its gevent mode (config.SOCKETIO_ASYNC_MODE)
and psycopg 3, imported afterwards, sees the patched ``select`` and waits on the
database cooperatively instead of blocking the loop (psycopg.waiting chooses its
pure-Python poll wait over the C one). No psycogreen is needed: it only patches
psycopg2. tests/live/test_gevent.py checks both.
"""

from __future__ import annotations

import gc
import os

from forum import create_app
from forum.extensions import socketio

app = create_app()
# What start-up built lives as long as the process: kept out of the collector's full passes,
# which otherwise walked it every few seconds under chat load and held the event loop for
# ~100 ms each time (bench/chat_fanout.py's paced latency); with it frozen they take ~15 ms.
gc.collect()
gc.freeze()

if __name__ == "__main__":
    socketio.run(app, host=os.environ.get("HOST", "127.0.0.1"), port=int(os.environ.get("PORT", "5000")),
                 allow_unsafe_werkzeug=True, log_output=False)
