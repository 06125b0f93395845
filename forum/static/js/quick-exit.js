/* Quick exit. Loaded (not deferred) at the top of <head>, so it works before the page has
   finished loading. The button, or Escape pressed three times within two seconds:
   1. logs out in the background (a beacon POST to /quick-exit carrying the CSRF token, which
      the browser sends even while this page is being replaced; unlike /logout its answer
      leaves sessionStorage alone, see 2) and empties this site's localStorage;
   2. remembers, for this tab only (sessionStorage), that the visitor left in a hurry;
   3. replaces this page with the neutral site using location.replace, so this page leaves
      the tab's history.
   Earlier Haven pages are still in the tab's history, so Back would reach them: when a Haven
   page is reached through Back or Forward after a quick exit, it replaces itself with the
   neutral site straight away, before anything is shown. Opening Haven afresh clears the mark.
   Without JavaScript the button is an ordinary link to the neutral site. */
(function () {
  "use strict";
  var KEY = "haven-left";
  var presses = [];
  var fallback = "https://www.bbc.co.uk/weather";

  function meta(name) {
    var el = document.querySelector('meta[name="' + name + '"]');
    return el ? el.getAttribute("content") : null;
  }
  function target() { return meta("quick-exit") || fallback; }
  function hide() {
    // CSSOM, not a style attribute: allowed by the Content-Security-Policy.
    try { document.documentElement.style.display = "none"; } catch (e) { /* nothing to hide yet */ }
  }
  function remember() {
    try { window.sessionStorage.setItem(KEY, "1"); } catch (e) { /* storage may be disabled */ }
  }
  function left() {
    try { return window.sessionStorage.getItem(KEY) === "1"; } catch (e) { return false; }
  }
  function forget() {
    try { window.sessionStorage.removeItem(KEY); } catch (e) { /* nothing stored */ }
  }
  function logOut() {
    var token = meta("csrf-token");
    if (!token) { return; }
    var body = new FormData();
    body.append("csrf_token", token);
    var sent = false;
    try { sent = !!(navigator.sendBeacon && navigator.sendBeacon("/quick-exit", body)); } catch (e) { sent = false; }
    if (!sent && window.fetch) {
      try {
        window.fetch("/quick-exit", { method: "POST", body: body, credentials: "same-origin", keepalive: true });
      } catch (e) { /* the session still ends by itself after 30 minutes idle */ }
    }
  }
  function leave(event) {
    if (event) { event.preventDefault(); event.stopPropagation(); }
    try { window.localStorage.clear(); } catch (e) { /* storage may be disabled */ }
    remember();
    logOut();
    hide();
    window.location.replace(target());
  }
  function cameBack() {
    var nav = window.performance && performance.getEntriesByType ? performance.getEntriesByType("navigation")[0] : null;
    if (nav) { return nav.type === "back_forward"; }
    return !!(window.performance && performance.navigation && performance.navigation.type === 2);
  }

  // Reached through Back/Forward after a quick exit: leave again at once.
  if (left()) {
    if (cameBack()) { hide(); window.location.replace(target()); return; }
    forget(); // a fresh visit: the visitor chose to come back
  }
  // A page restored from the back/forward cache runs no script again; catch it here.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted && left()) { hide(); window.location.replace(target()); }
  });

  window.havenQuickExit = leave;
  document.addEventListener("click", function (event) {
    var el = event.target;
    while (el && el !== document) {
      if (el.id === "quick-exit") { leave(event); return; }
      el = el.parentNode;
    }
  }, true);
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" && event.key !== "Esc") { return; }
    var now = Date.now();
    presses = presses.filter(function (t) { return now - t < 2000; });
    presses.push(now);
    if (presses.length >= 3) { presses = []; leave(event); }
  }, true);
})();
