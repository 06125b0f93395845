"""The load driver: many chat members and posting members against real Haven processes.

Run by tests/load/test_load.py as ``python tests/load/driver.py CONFIG_JSON``, in a
process of its own under gevent (one greenlet per member keeps 200 clients light).
It writes what every client was told, and what every chat client shows at the end,
to ``config["out"]``; the test compares that with the database.

Chat members behave like chat.js: they join a room, apply every ``chat`` change in
change-number order (a change that arrives ahead of a missing number waits 1.5 s,
then the member asks ``since``), ask again now and then, and after a dropped
connection reconnect by themselves (to the next server when theirs is gone) and
catch up from the last number applied. Each sends a line every few seconds with a
client id of its own, and resends it with the same id until the server answers.

Posting members read a thread page and answer it over HTTP every few seconds, with a
submit key of their own, resent unchanged after a failure until a clear answer.

Nobody chats or posts until every chat member has connected and joined: the measured
``seconds`` start then, so the latencies are those of a forum in use, not of 200
sockets arriving within the same second (how long that took is written out as
``joined_after``). Reconnections after a fault stay in the figures.
"""

from gevent import monkey

monkey.patch_all()

import json  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

import gevent  # noqa: E402
import gevent.event  # noqa: E402
import requests  # noqa: E402
import socketio  # noqa: E402

DIGITS = str.maketrans("0123456789", "abcdefghij")
LETTERS = str.maketrans("abcdefghij", "0123456789")
GAP_WAIT = 1.5
RESYNC_EVERY = 20.0
CALL_TIMEOUT = 10.0
JOIN_WAIT = 60.0  # the longest members wait for everyone to join before they start anyway


def encode(number: int) -> str:
    """Digits as letters: screening reads long digit runs as phone numbers."""
    return str(number).translate(DIGITS)


def decode(text: str) -> int:
    return int(text.translate(LETTERS))


def now_us() -> int:
    return time.time_ns() // 1000


class Stop(Exception):
    pass


class Countdown:
    """Set once each of ``count`` members has called ``done`` (at once when there are none);
    ``on_zero`` runs just before."""

    def __init__(self, count: int, on_zero: Any = None) -> None:
        self.left = count
        self.on_zero = on_zero
        self.event = gevent.event.Event()
        if count <= 0:
            self.event.set()

    def done(self) -> None:
        self.left -= 1
        if self.left == 0:
            if self.on_zero is not None:
                self.on_zero()
            self.event.set()

    def wait(self, timeout: float) -> bool:
        return bool(self.event.wait(timeout=timeout))


class ChatMember:
    """One member in one room's chat."""

    def __init__(self, cfg: dict[str, Any], index: int, spec: dict[str, Any], deadline: float) -> None:
        self.cfg, self.index, self.spec, self.deadline = cfg, index, spec, deadline
        self.bases: list[str] = cfg["bases"]
        self.base_at = index % len(self.bases)
        self.room = spec["room_id"]
        self.cursor: int | None = None
        self.start_seq: int | None = None
        self.shown: dict[int, int] = {}  # message id -> seq of its state
        self.state: dict[int, str] = {}  # message id -> "add" | "remove"
        self.ahead: dict[int, dict[str, Any]] = {}
        self.gap_since: float | None = None
        self.live_adds: list[int] = []
        self.acked: list[list[Any]] = []  # [client_id, id, status]
        self.refused: dict[str, int] = {}
        self.send_ms: list[float] = []
        self.delivery_ms: list[float] = []
        self.reconnects = 0
        self.failed_calls = 0
        self.sio: socketio.Client | None = None
        self.connected = False
        self.counted = False

    # Applying changes, as chat.js does -----------------------------------------------------

    def apply(self, ev: dict[str, Any]) -> None:
        seq = ev.get("seq")
        mid = ev["id"]
        if isinstance(seq, int):
            if self.shown.get(mid, -1) >= seq:
                return
            self.shown[mid] = seq
        self.state[mid] = "remove" if ev["op"] == "remove" else "add"

    def drain(self) -> None:
        assert self.cursor is not None
        for seq in [s for s in self.ahead if s <= self.cursor]:
            self.apply(self.ahead.pop(seq))
        while self.cursor + 1 in self.ahead:
            self.cursor += 1
            self.apply(self.ahead.pop(self.cursor))
        self.gap_since = (self.gap_since or time.monotonic()) if self.ahead else None

    def on_chat(self, ev: dict[str, Any]) -> None:
        if ev.get("room_id") != self.room:
            return
        if ev.get("op") == "add":
            self.live_adds.append(ev["id"])
            parts = ev["message"]["html"].split()
            if len(parts) >= 4 and parts[0] == "checking":
                self.delivery_ms.append((now_us() - decode(parts[3])) / 1000)
        seq = ev.get("seq")
        if not isinstance(seq, int) or (self.cursor is not None and seq <= self.cursor):
            self.apply(ev)
            return
        self.ahead[seq] = ev
        if self.cursor is not None:
            self.drain()

    def apply_changes(self, ack: dict[str, Any]) -> None:
        assert self.cursor is not None
        for ev in ack["changes"]:
            self.apply(ev)
            self.cursor = max(self.cursor, ev["seq"])
        if not ack["has_more"]:
            self.cursor = max(self.cursor, ack["seq"])

    # Talking to the server --------------------------------------------------------------------

    def call(self, event: str, data: dict[str, Any]) -> dict[str, Any] | None:
        if self.sio is None or not self.connected:
            return None
        try:
            ack = self.sio.call(event, data, timeout=CALL_TIMEOUT)
        except Exception:  # noqa: BLE001 - timeout, disconnect: the caller retries
            self.failed_calls += 1
            return None
        return ack if isinstance(ack, dict) else None

    def connect(self) -> bool:
        """Connect (to the next server after a failure) and join, catching up; False if not now."""
        base = self.bases[self.base_at]
        sio = socketio.Client(reconnection=False)
        sio.on("chat", self.on_chat)
        sio.on("disconnect", self._on_disconnect)
        try:
            sio.connect(base, headers={"Cookie": self.spec["cookie"]}, transports=["websocket"], wait_timeout=5)
        except Exception:  # noqa: BLE001 - that server is gone or busy: try the next one
            self.base_at = (self.base_at + 1) % len(self.bases)
            return False
        self.sio, self.connected = sio, True
        data: dict[str, Any] = {"room_id": self.room}
        if self.cursor is not None:
            data["after_seq"] = self.cursor
        ack = self.call("join", data)
        if ack is None or not ack.get("ok"):
            self.drop()
            return False
        if ack["catch_up"]:
            self.apply_changes(ack)
            if ack["has_more"]:
                self.sync()
        else:
            for m in ack["messages"]:
                self.apply({"op": "add", "id": m["id"], "seq": m["seq"]})
            self.cursor = ack["seq"]
            self.start_seq = ack["seq"]
        self.drain()
        return True

    def _on_disconnect(self, *_args: Any) -> None:
        self.connected = False

    def drop(self) -> None:
        self.connected = False
        if self.sio is not None:
            try:
                self.sio.disconnect()
            except Exception:  # noqa: BLE001, S110 - already gone
                pass

    def ensure_connected(self) -> None:
        while not self.connected:
            if time.monotonic() > self.deadline + 60:
                raise Stop()
            if self.sio is not None:
                self.reconnects += 1
            if self.connect():
                return
            gevent.sleep(0.5 + random.random())  # noqa: S311

    def sync(self) -> bool:
        while True:
            ack = self.call("since", {"room_id": self.room, "after_seq": self.cursor})
            if ack is None or not ack.get("ok"):
                return False
            self.apply_changes(ack)
            if not ack["has_more"]:
                self.drain()
                return True

    def send(self, n: int) -> None:
        """Send line ``n`` and resend it with the same client id until the server answers."""
        client_id = f"load-{self.index:04d}-{n:05d}"
        sent_at = now_us()
        body = f"checking in {encode(n)} {encode(sent_at)} from {encode(self.index)}"
        started = time.monotonic()
        while True:
            self.ensure_connected()
            ack = self.call("send", {"room_id": self.room, "body": body, "client_id": client_id})
            if ack is not None:
                if ack.get("ok") or ack.get("code") == "held":
                    self.acked.append([client_id, ack["id"], ack["message"]["status"]])
                    self.send_ms.append((time.monotonic() - started) * 1000)
                    return
                code = str(ack.get("code"))
                if code in ("rate_limited", "refused", "confirm", "muted", "banned"):
                    self.refused[code] = self.refused.get(code, 0) + 1
                    return  # a clear answer: this line is not stored
                # "error" (the database or queue was briefly away): try again, same id
                self.refused[code] = self.refused.get(code, 0) + 1
            gevent.sleep(0.5)

    def run(self) -> None:
        try:
            self.ensure_connected()
            self.cfg["_joining"].done()
            self.cfg["_joining"].wait(JOIN_WAIT)
            n = 0
            next_send = time.monotonic() + random.uniform(0, self.cfg["chat_every"])  # noqa: S311
            last_sync = time.monotonic()
            while time.monotonic() < self.deadline:
                gevent.sleep(0.2)
                self.ensure_connected()
                if self.gap_since is not None and time.monotonic() - self.gap_since > GAP_WAIT:
                    self.sync()
                if time.monotonic() - last_sync > RESYNC_EVERY:
                    self.sync()
                    last_sync = time.monotonic()
                if time.monotonic() >= next_send:
                    self.send(n)
                    n += 1
                    next_send = time.monotonic() + random.uniform(0.7, 1.3) * self.cfg["chat_every"]  # noqa: S311
            # The end: once nobody sends any more, one last catch-up, as the periodic one would do.
            self.done_sending()
            self.cfg["_sending"].wait(120)
            for _ in range(40):
                self.ensure_connected()
                if self.sync():
                    break
                gevent.sleep(0.5)
        except Stop:
            self.done_sending()
        finally:
            self.drop()

    def done_sending(self) -> None:
        if not self.counted:
            self.counted = True
            self.cfg["_sending"].done()

    def report(self) -> dict[str, Any]:
        return {"member_id": self.spec["member_id"], "room_id": self.room, "start_seq": self.start_seq,
                "cursor": self.cursor, "acked": self.acked, "refused": self.refused,
                "final": {str(k): v for k, v in self.state.items()}, "live_adds": self.live_adds,
                "send_ms": self.send_ms, "delivery_ms": self.delivery_ms, "reconnects": self.reconnects,
                "failed_calls": self.failed_calls}


class Poster:
    """One member reading a thread and answering it over HTTP."""

    def __init__(self, cfg: dict[str, Any], index: int, spec: dict[str, Any], deadline: float) -> None:
        self.cfg, self.index, self.spec, self.deadline = cfg, index, spec, deadline
        self.bases: list[str] = cfg["bases"]
        self.base_at = index % len(self.bases)
        self.http = requests.Session()
        self.http.headers["Cookie"] = spec["cookie"]
        self.acked: list[list[Any]] = []  # [submit_key, post_id]
        self.statuses: dict[str, int] = {}
        self.page_ms: list[float] = []
        self.post_ms: list[float] = []
        self.token: str | None = None

    def count(self, what: str) -> None:
        self.statuses[what] = self.statuses.get(what, 0) + 1

    def request(self, method: str, path: str, **kw: Any) -> requests.Response | None:
        base = self.bases[self.base_at]
        try:
            response = self.http.request(method, base + path, timeout=15, allow_redirects=False, **kw)
        except requests.RequestException:
            self.count("connection error")
            self.base_at = (self.base_at + 1) % len(self.bases)  # as a proxy would fail over
            return None
        self.count(str(response.status_code))
        return response

    def read(self) -> bool:
        started = time.monotonic()
        response = self.request("GET", f"/threads/{self.spec['thread_id']}")
        if response is None or response.status_code != 200:
            return False
        self.page_ms.append((time.monotonic() - started) * 1000)
        match = re.search(r'name="csrf_token" value="([^"]+)"', response.text)
        if match:
            self.token = match.group(1)
        return True

    def answer(self, n: int) -> None:
        key = f"loadpost-{self.index:03d}-{n:05d}"
        data = {"body": f"Thank you for writing this. Reply {encode(n)} from {encode(self.index)}.",
                "submit_key": key}
        started = time.monotonic()
        for _attempt in range(60):
            if self.token is None and not self.read():
                gevent.sleep(0.5)
                continue
            response = self.request("POST", f"/threads/{self.spec['thread_id']}/replies",
                                    data={**data, "csrf_token": self.token})
            if response is not None and response.status_code == 302:
                match = re.search(r"#post-(\d+)$", response.headers.get("Location", ""))
                if match:
                    self.acked.append([key, int(match.group(1))])
                    self.post_ms.append((time.monotonic() - started) * 1000)
                return
            if response is not None and response.status_code in (400, 403, 409, 422, 429):
                return  # a clear refusal (limit, screening): nothing stored, nothing to resend
            gevent.sleep(0.5)  # 503 or a lost connection: the same submission again

    def run(self) -> None:
        n = 0
        self.cfg["_joining"].wait(JOIN_WAIT)
        gevent.sleep(random.uniform(0, self.cfg["post_every"]))  # noqa: S311
        while time.monotonic() < self.deadline:
            self.read()
            self.answer(n)
            n += 1
            gevent.sleep(random.uniform(0.7, 1.3) * self.cfg["post_every"])  # noqa: S311

    def report(self) -> dict[str, Any]:
        return {"member_id": self.spec["member_id"], "thread_id": self.spec["thread_id"], "acked": self.acked,
                "statuses": self.statuses, "page_ms": self.page_ms, "post_ms": self.post_ms}


def main() -> int:
    cfg = json.loads(sys.argv[1])
    random.seed(cfg.get("seed", 1))
    started = time.monotonic()
    deadline = started + cfg["seconds"]
    chatters = [ChatMember(cfg, i, spec, deadline) for i, spec in enumerate(cfg["chat"])]
    posters = [Poster(cfg, i, spec, deadline) for i, spec in enumerate(cfg["posters"])]
    joined_after: list[float] = []

    def all_joined() -> None:
        """Every chat member is in its room: the measured seconds start now, for everyone."""
        now = time.monotonic()
        joined_after.append(now - started)
        for member in [*chatters, *posters]:
            member.deadline = now + cfg["seconds"]

    cfg["_joining"] = Countdown(len(chatters), all_joined)
    cfg["_sending"] = Countdown(len(chatters))
    greenlets = [gevent.spawn(c.run) for c in chatters] + [gevent.spawn(p.run) for p in posters]
    print("started", flush=True)
    gevent.joinall(greenlets, timeout=cfg["seconds"] + JOIN_WAIT + 150)
    failures = [repr(g.exception) for g in greenlets if g.dead and g.exception is not None]
    unfinished = sum(1 for g in greenlets if not g.dead)
    gevent.killall(greenlets, timeout=5)
    with open(cfg["out"], "w") as out:
        json.dump({"chat": [c.report() for c in chatters], "posters": [p.report() for p in posters],
                   "failures": failures, "unfinished": unfinished,
                   "joined_after": joined_after[0] if joined_after else None}, out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
