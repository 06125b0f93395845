/* Quick exit: loaded (not deferred) in <head> so it works before the page has finished loading.
   The button, or Escape pressed three times within two seconds, replaces this page with a neutral
   one using location.replace (so Back does not return here) and logs out in the background. */
(function () {
  "use strict";
  var presses = [];
  function meta(name) {
    var el = document.querySelector('meta[name="' + name + '"]');
    return el ? el.getAttribute("content") : null;
  }
  function leave(event) {
    if (event) { event.preventDefault(); }
    var target = meta("quick-exit") || "https://www.bbc.co.uk/weather";
    var token = meta("csrf-token");
    if (token && navigator.sendBeacon) {
      var body = new FormData();
      body.append("csrf_token", token);
      navigator.sendBeacon("/logout", body);
    }
    try { document.body && (document.body.style.display = "none"); } catch (e) { /* nothing to hide yet */ }
    window.location.replace(target);
  }
  window.havenQuickExit = leave;
  document.addEventListener("click", function (event) {
    var el = event.target;
    while (el && el !== document) {
      if (el.id === "quick-exit") { leave(event); return; }
      el = el.parentNode;
    }
  }, true);
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    var now = Date.now();
    presses = presses.filter(function (t) { return now - t < 2000; });
    presses.push(now);
    if (presses.length >= 3) { leave(event); }
  }, true);
})();
