"""Listener processes for bench/chat_fanout.py: many Socket.IO listeners on gevent, one process.

A thread per python-socketio client costs more CPU than the servers being measured;
here each listener is a greenlet speaking the Engine.IO v4 / Socket.IO v5 text
protocol over websocket-client (made cooperative by gevent's monkey-patching), so
the clients stay light. Usage (by chat_fanout.py): ``python bench/_chat_listener.py CONFIG_JSON``;
prints ``ready`` once every listener has joined, and writes its records to ``out``.
"""

from gevent import monkey

monkey.patch_all()

import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import gevent  # noqa: E402
import websocket  # noqa: E402

LETTERS = str.maketrans("abcdefghij", "0123456789")


def decode(text: str) -> int:
    return int(text.translate(LETTERS))


def main() -> int:
    cfg = json.loads(sys.argv[1])
    records: list[tuple[int, int, float, str]] = []
    joined: list[int] = []
    done = gevent.event.Event()
    expected = cfg["expected"] * len(cfg["cookies"])

    def listener(index: int, base: str, cookie: str | None) -> None:
        name = f"{cfg['name']}-{index}"
        url = base.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        # websocket-client checks UTF-8 in a pure-Python loop per byte (without wsaccel): a client
        # cost growing with the payload, not the server's. Decoding the text still validates it, in C.
        ws = websocket.create_connection(url, header=[f"Cookie: {cookie}"] if cookie else [], timeout=60,
                                         skip_utf8_validation=True)
        assert ws.recv().startswith("0")
        ws.send("40")
        answer = ws.recv()
        assert answer.startswith("40"), answer
        ws.send("420" + json.dumps(["join", {"room_id": cfg["room_id"]}]))
        ws.settimeout(None)
        while not done.is_set():
            frame = ws.recv()
            if frame.startswith('42["chat"'):
                now = time.time()
                event = json.loads(frame[2:])[1]
                parts = event["message"]["html"].split()
                records.append((decode(parts[1]), int(now * 1e6) - decode(parts[2]), now, name))
                if len(records) >= expected:
                    done.set()
            elif frame == "2":
                ws.send("3")
            elif frame.startswith("430"):
                ack = json.loads(frame[3:])[0]
                assert ack.get("ok"), ack
                joined.append(index)
                if len(joined) == len(cfg["cookies"]):
                    print("ready", flush=True)
        ws.close()

    greenlets = [gevent.spawn(listener, i, cfg["bases"][i % len(cfg["bases"])], cookie)
                 for i, cookie in enumerate(cfg["cookies"])]
    # Finish when everything arrived, or 15 s after the last arrival (a lost message must not hang the run).
    last, idle_since = -1, time.monotonic()
    while not done.is_set():
        gevent.sleep(0.1)
        if any(g.dead and g.exception for g in greenlets):
            raise SystemExit(f"listener failed: {[g.exception for g in greenlets if g.exception][0]!r}")
        if len(records) != last:
            last, idle_since = len(records), time.monotonic()
        elif records and time.monotonic() - idle_since > 15:
            break
        elif time.monotonic() - idle_since > 180:
            break
    done.set()
    gevent.killall(greenlets, timeout=2)
    with open(cfg["out"], "w") as out:
        json.dump(records, out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
