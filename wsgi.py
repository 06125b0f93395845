"""WSGI entry point: ``gunicorn wsgi:app`` or ``flask --app wsgi ...``.

Under gunicorn's gevent worker the standard library is already patched by the
worker; psycogreen then makes psycopg yield to the loop instead of blocking it.
"""

from __future__ import annotations

import os

if os.environ.get("SOCKETIO_ASYNC_MODE") == "gevent":
    from psycogreen.gevent import patch_psycopg  # type: ignore[import-untyped]

    try:
        patch_psycopg()
    except Exception:  # noqa: BLE001,S110 - psycogreen targets psycopg2; psycopg 3 is gevent-aware
        pass

from forum import create_app  # noqa: E402
from forum.extensions import socketio  # noqa: E402

app = create_app()

if __name__ == "__main__":
    socketio.run(app, host=os.environ.get("HOST", "127.0.0.1"), port=int(os.environ.get("PORT", "5000")),
                 allow_unsafe_werkzeug=True, log_output=False)
