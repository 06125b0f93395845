/* Live chat for the panel in forum/templates/chat/_panel.html.
 *
 * Without this file (or without the Socket.IO client) the panel is a plain form that
 * posts to /rooms/<slug>/chat. With it, messages arrive live over Socket.IO, each send
 * is acknowledged by the server, and after a dropped connection the client rejoins and
 * fetches every change it missed, in order, without duplicates.
 *
 * Every change to a room's chat (a line added, redacted or removed) carries the room's
 * next change number (seq). The client applies changes in that order: one that arrives
 * ahead of a missing number waits briefly, then the client asks the server ("since")
 * for everything after the last number it applied. It also asks after a reconnect and
 * every half minute, so a broadcast lost on the way still arrives.
 * Message HTML comes from the server, escaped and linkified when it was stored.
 */
(function () {
  "use strict";
  var panel = document.getElementById("chat");
  if (!panel || typeof window.io !== "function") { return; }

  var roomId = parseInt(panel.getAttribute("data-room-id"), 10);
  var maxLength = parseInt(panel.getAttribute("data-max-length"), 10) || 1000;
  var log = document.getElementById("chat-log");
  var form = document.getElementById("chat-form");
  var input = document.getElementById("chat-input");
  var sendButton = document.getElementById("chat-send");
  var errorBox = document.getElementById("chat-error");
  var nudge = document.getElementById("chat-nudge");
  var nudgeText = document.getElementById("chat-nudge-text");
  var announcer = document.getElementById("chat-announce");
  var count = document.getElementById("chat-count");
  var countLabel = document.getElementById("chat-count-label");
  var status = document.getElementById("chat-status");
  var older = document.getElementById("chat-older");
  var me = panel.getAttribute("data-me");
  var muteUrl = panel.getAttribute("data-mute-url");  // ".../messages/0/mute-author"
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');

  var seen = {};          // message id -> true, so a message is never shown twice
  var shownSeq = {};      // message id -> change number of what is shown (or of its removal)
  var oldestId = null;    // the oldest shown: "Load older messages" asks before it
  // The last change number applied, every one before it too (null until the first join
  // answers, unless the page came with its lines and the number read before them).
  var cursor = panel.hasAttribute("data-seq") ? parseInt(panel.getAttribute("data-seq"), 10) : null;
  var ahead = {};         // change number -> event that came before a missing number
  var gapTimer = null;
  var syncing = false;
  var joined = false;
  var pending = null;     // {body, clientId}: resent with the same id, so it is stored once
  var ACK_TIMEOUT = 10000;
  var GAP_WAIT = 1500;    // how long a change may wait for a missing number before asking
  var RESYNC_EVERY = 30000;

  Array.prototype.forEach.call(log.querySelectorAll("li[data-id]"), function (li) {
    var id = parseInt(li.getAttribute("data-id"), 10);
    note(id);
    var seq = parseInt(li.getAttribute("data-seq"), 10);
    if (!isNaN(seq)) { shownSeq[id] = seq; }
  });
  localTimes(log);

  function note(id) {
    seen[id] = true;
    if (oldestId === null || id < oldestId) { oldestId = id; }
  }

  function setStatus(text) { status.textContent = text; }

  function showError(text) {
    errorBox.textContent = text || "";
    if (text) { input.setAttribute("aria-invalid", "true"); } else { input.removeAttribute("aria-invalid"); }
  }

  function newClientId() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function localTimes(root) {
    Array.prototype.forEach.call(root.querySelectorAll("time.chat-time[datetime]"), function (t) {
      var d = new Date(t.getAttribute("datetime"));
      if (!isNaN(d.getTime())) {
        t.textContent = d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
      }
    });
  }

  /* A plain form, as on the server-rendered lines: posting it mutes the author and reloads. */
  function muteForm(m) {
    var form = document.createElement("form");
    form.method = "post";
    form.className = "inline chat-mute";
    form.action = muteUrl.replace("/0/", "/" + m.id + "/");
    [["csrf_token", csrfMeta ? csrfMeta.getAttribute("content") : ""], ["next", window.location.pathname]]
      .forEach(function (pair) {
        var input = document.createElement("input");
        input.type = "hidden";
        input.name = pair[0];
        input.value = pair[1];
        form.appendChild(input);
      });
    var button = document.createElement("button");
    button.type = "submit";
    button.className = "link-button";
    button.textContent = "Mute";
    var who = document.createElement("span");
    who.className = "visually-hidden";
    who.textContent = " " + m.author;
    button.appendChild(who);
    form.appendChild(button);
    return form;
  }

  function build(m) {
    var li = document.createElement("li");
    li.className = "chat-msg" + (m.status === "held" ? " chat-held" : "") + (m.muted ? " chat-muted" : "");
    li.id = "chat-msg-" + m.id;
    li.setAttribute("data-id", String(m.id));
    var author = document.createElement("span");
    author.className = "chat-author";
    author.textContent = m.muted ? "A member you muted" : (m.author || "A former member");
    var time = document.createElement("time");
    time.className = "chat-time";
    time.setAttribute("datetime", m.created_at || "");
    li.appendChild(author);
    li.appendChild(document.createTextNode(" "));
    li.appendChild(time);
    li.appendChild(document.createTextNode(" "));
    if (m.status === "held") {
      var badge = document.createElement("span");
      badge.className = "badge";
      badge.textContent = "Waiting for review";
      li.appendChild(badge);
      li.appendChild(document.createTextNode(" "));
    }
    var body = document.createElement("span");
    body.className = "chat-body";
    body.innerHTML = m.html;  // escaped and linkified by the server when stored
    if (m.muted) {
      // Muted author: a placeholder the reader can open, like the server-rendered lines.
      var details = document.createElement("details");
      details.className = "muted-post";
      var summary = document.createElement("summary");
      summary.textContent = "Hidden because you muted this member ";
      var hint = document.createElement("span");
      hint.className = "hint";
      hint.textContent = "(show)";
      summary.appendChild(hint);
      details.appendChild(summary);
      details.appendChild(body);
      li.appendChild(details);
    } else {
      li.appendChild(body);
      if (m.author && m.author !== me && muteUrl) {
        li.appendChild(document.createTextNode(" "));
        li.appendChild(muteForm(m));
      }
    }
    localTimes(li);
    return li;
  }

  function nearBottom() {
    return log.scrollHeight - log.scrollTop - log.clientHeight < 60;
  }

  /* Insert in id order, whatever order messages arrive in (live, catch-up, history);
     a message already shown is replaced (a redaction, a line that came back). */
  function add(m, announce) {
    if (!m || typeof m.id !== "number") { return false; }
    if (seen[m.id]) {
      var old = document.getElementById("chat-msg-" + m.id);
      if (!old) { return false; }
      old.parentNode.replaceChild(build(m), old);
      return true;
    }
    var stick = nearBottom();
    var li = build(m);
    var next = null;
    var items = log.children;
    for (var i = items.length - 1; i >= 0; i--) {
      if (parseInt(items[i].getAttribute("data-id"), 10) < m.id) { next = items[i].nextSibling; break; }
      next = items[i];
    }
    log.insertBefore(li, next);
    note(m.id);
    if (stick) { log.scrollTop = log.scrollHeight; }
    if (announce && !m.muted) {
      var line = document.createElement("p");
      line.textContent = (m.author || "A former member") + ": " + li.querySelector(".chat-body").textContent;
      announcer.appendChild(line);
      while (announcer.childNodes.length > 5) { announcer.removeChild(announcer.firstChild); }
    }
    return true;
  }

  function remove(id) {
    var li = document.getElementById("chat-msg-" + id);
    if (li) { li.parentNode.removeChild(li); }
    delete seen[id];
  }

  /* Apply one change, unless what is shown of that message is already as new. */
  function apply(ev, announce) {
    if (!ev || typeof ev.id !== "number") { return; }
    if (typeof ev.seq === "number") {
      if (shownSeq[ev.id] !== undefined && shownSeq[ev.id] >= ev.seq) { return; }
      shownSeq[ev.id] = ev.seq;
    }
    if (ev.op === "add" || ev.op === "update") { add(ev.message, announce && ev.op === "add" && !seen[ev.id]); }
    if (ev.op === "remove") { remove(ev.id); }
  }

  /* Apply the changes that now follow the cursor without a gap; ask for the rest if one remains. */
  function drain() {
    Object.keys(ahead).forEach(function (key) {
      var seq = parseInt(key, 10);
      if (seq <= cursor) { apply(ahead[key], true); delete ahead[key]; }
    });
    while (ahead[cursor + 1]) {
      var ev = ahead[cursor + 1];
      delete ahead[cursor + 1];
      cursor += 1;
      apply(ev, true);
    }
    if (Object.keys(ahead).length && !gapTimer) {
      gapTimer = window.setTimeout(function () { gapTimer = null; sync(); }, GAP_WAIT);
    }
  }

  function receive(ev) {
    if (typeof ev.seq !== "number") { apply(ev, true); return; }
    if (cursor !== null && ev.seq <= cursor) { apply(ev, true); return; }
    ahead[ev.seq] = ev;
    if (cursor !== null) { drain(); }
  }

  /* Everything after the cursor, page by page, from the server. */
  function applyChanges(ack) {
    ack.changes.forEach(function (ev) {
      apply(ev, false);
      if (ev.seq > cursor) { cursor = ev.seq; }
    });
    if (!ack.has_more && typeof ack.seq === "number" && ack.seq > cursor) { cursor = ack.seq; }
  }

  function sync() {
    if (syncing || cursor === null || !joined) { return; }
    syncing = true;
    if (gapTimer) { window.clearTimeout(gapTimer); gapTimer = null; }
    emit("since", { room_id: roomId, after_seq: cursor }, function (ack) {
      syncing = false;
      if (!ack || !ack.ok) { return; }
      applyChanges(ack);
      if (ack.has_more) { sync(); return; }
      drain();
    });
  }

  function setCount(n) {
    if (typeof n !== "number") { return; }
    count.textContent = String(n);
    countLabel.textContent = n === 1 ? "member" : "members";
  }

  var socket = window.io({ reconnectionDelayMax: 5000 });

  function emit(event, data, done) {
    socket.timeout(ACK_TIMEOUT).emit(event, data, function (err, ack) {
      done(err ? null : ack);
    });
  }

  function join() {
    var data = { room_id: roomId };
    if (cursor !== null) { data.after_seq = cursor; }
    emit("join", data, function (ack) {
      if (!ack) { setStatus("The chat isn't answering. Retrying…"); return; }
      if (!ack.ok) {
        joined = false;
        setStatus(ack.code === "unauthorized" ? ack.error : "This chat isn't available to you.");
        input.disabled = true;
        sendButton.disabled = true;
        return;
      }
      joined = true;
      setStatus("");
      setCount(ack.present);
      if (ack.catch_up) {
        applyChanges(ack);
        if (ack.has_more) { sync(); } else { drain(); }
      } else {
        ack.messages.forEach(function (m) {
          if (typeof m.seq === "number" && m.seq > 0) { shownSeq[m.id] = m.seq; }
          add(m, false);
        });
        cursor = ack.seq;
        older.hidden = !ack.has_more;
        log.scrollTop = log.scrollHeight;
        drain();
      }
      if (pending) { send(pending); }
    });
  }

  socket.on("connect", function () { join(); });
  socket.on("disconnect", function (reason) {
    joined = false;
    if (reason === "io server disconnect") {
      setStatus("Your session has ended. Please log in again to keep chatting.");
      input.disabled = true;
      sendButton.disabled = true;
    } else {
      setStatus("Connection lost. Reconnecting…");
    }
  });
  socket.on("connect_error", function () {
    if (!socket.active) {
      setStatus("Please log in to join the chat.");
      input.disabled = true;
      sendButton.disabled = true;
    } else {
      setStatus("Can't reach Haven right now. Retrying…");
    }
  });
  socket.on("chat", function (ev) {
    if (!ev || ev.room_id !== roomId) { return; }
    receive(ev);
  });
  window.setInterval(sync, RESYNC_EVERY);
  socket.on("presence", function (ev) {
    if (ev && ev.room_id === roomId) { setCount(ev.count); }
  });

  function send(p) {
    pending = p;
    sendButton.disabled = true;
    emit("send", { room_id: roomId, body: p.body, client_id: p.clientId, confirmed: !!p.confirmed }, function (ack) {
      sendButton.disabled = false;
      if (!ack) {
        if (!joined) { return; }  // resent after the rejoin, with the same id
        pending = null;
        showError("Your message wasn't confirmed. Check your connection and press Send to try again.");
        return;
      }
      pending = null;
      if (ack.ok || ack.code === "held") {
        if (ack.message) {
          var m = ack.message;
          if (m.seq > 0 && !(shownSeq[m.id] >= m.seq)) { shownSeq[m.id] = m.seq; }
          add(m, false);
        }
        input.value = "";
        nudge.hidden = true;
        showError(ack.ok ? (ack.notice || "") : ack.error);
        if (ack.crisis) {
          showError("");
          document.getElementById("chat-crisis").hidden = false;  // the help lines, in the panel
        }
        input.focus();
        return;
      }
      if (ack.code === "confirm") {
        nudgeText.textContent = ack.error;
        nudge.hidden = false;
        nudge.setAttribute("data-client-id", p.clientId);
        showError("");
        document.getElementById("chat-confirm").focus();
        return;
      }
      showError(ack.error);
      input.focus();
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var body = input.value;
    if (!body.trim()) { showError("Your message can't be empty."); input.focus(); return; }
    if (body.length > maxLength) { showError("Messages can be at most 1,000 characters."); return; }
    showError("");
    nudge.hidden = true;
    send({ body: body, clientId: newClientId(), confirmed: false });
  });

  document.getElementById("chat-confirm").addEventListener("click", function () {
    nudge.hidden = true;
    send({ body: input.value, clientId: newClientId(), confirmed: true });
  });
  document.getElementById("chat-rephrase").addEventListener("click", function () {
    nudge.hidden = true;
    input.focus();
  });

  older.addEventListener("click", function () {
    if (oldestId === null) { return; }
    older.disabled = true;
    emit("history", { room_id: roomId, before_id: oldestId }, function (ack) {
      older.disabled = false;
      if (!ack || !ack.ok) { return; }
      ack.messages.forEach(function (m) { add(m, false); });
      older.hidden = !ack.has_more;
      if (older.hidden) { input.focus(); } else { older.focus(); }
    });
  });
})();
