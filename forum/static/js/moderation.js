/* Moderation queue: refresh the list live when a `queue` event arrives.
   The page works without this file (every action is a plain form). */
(function () {
  "use strict";
  var queue = document.getElementById("queue");
  if (!queue || typeof window.io !== "function") { return; }
  var url = queue.getAttribute("data-fragment-url");
  var pending = false;
  var banner = null;

  function busy() {
    // Never replace the list under a moderator who is typing or has a form open.
    var active = document.activeElement;
    if (active && queue.contains(active) && /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName)) { return true; }
    return queue.querySelector("details[open]") !== null;
  }

  function showBanner() {
    if (banner) { return; }
    banner = document.createElement("p");
    banner.className = "notice";
    banner.setAttribute("role", "status");
    var button = document.createElement("button");
    button.type = "button";
    button.className = "link-button";
    button.textContent = "The queue has changed: show the changes";
    button.addEventListener("click", function () { load(true); });
    banner.appendChild(button);
    queue.parentNode.insertBefore(banner, queue);
  }

  function load(force) {
    if (!force && busy()) { showBanner(); return; }
    if (pending) { return; }
    pending = true;
    fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.text(); })
      .then(function (html) {
        queue.innerHTML = html;
        if (banner) { banner.remove(); banner = null; }
      })
      .catch(function () { showBanner(); })
      .finally(function () { pending = false; });
  }

  var socket = window.io({ reconnectionDelayMax: 5000 });
  socket.on("queue", function () { load(false); });
  socket.on("connect", function () { load(false); });  // catch up after a reconnect
})();
