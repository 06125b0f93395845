/* Progressive enhancements. Every page works without this file. */
(function () {
  "use strict";

  /* Sign-up: "Suggest a pseudonym" fills the field in place (the link reloads the page without JS). */
  var suggest = document.getElementById("suggest-pseudonym");
  if (suggest) {
    suggest.addEventListener("click", function (event) {
      event.preventDefault();
      fetch(suggest.getAttribute("data-suggest-url"), { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (data) {
          var input = document.getElementById("pseudonym");
          input.value = data.pseudonym;
          input.focus();
        });
    });
  }

  /* Thread pages: "Reply" opens a form right under the post instead of a separate page.
     The form is an ordinary POST form copied from <template id="inline-reply-template">;
     without JavaScript the same link opens /posts/<id>/reply. */
  var template = document.getElementById("inline-reply-template");
  if (!template || !("content" in template)) { return; }

  function submitKey() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function renameIds(root, prefix) {
    /* The template's ids start with "inline-"; each open form gets ids of its own. */
    root.querySelectorAll("[id]").forEach(function (el) { el.id = el.id.replace(/^inline-/, prefix); });
    root.querySelectorAll("label[for]").forEach(function (el) {
      el.htmlFor = el.htmlFor.replace(/^inline-/, prefix);
    });
    root.querySelectorAll("[aria-describedby]").forEach(function (el) {
      el.setAttribute("aria-describedby", el.getAttribute("aria-describedby").replace(/(^|\s)inline-/g, "$1" + prefix));
    });
  }

  function openReply(link) {
    var postId = link.getAttribute("data-post-id");
    var existing = document.getElementById("reply-form-" + postId);
    if (existing) {
      existing.querySelector("textarea").focus();
      return;
    }
    var fragment = template.content.cloneNode(true);
    var form = fragment.querySelector("form");
    form.id = "reply-form-" + postId;
    form.action = link.getAttribute("data-reply-url");
    form.querySelector("input[name=submit_key]").value = submitKey();
    renameIds(form, "reply-" + postId + "-");
    form.setAttribute("aria-label", link.textContent.trim());

    var cancel = form.querySelector("[data-cancel-reply]");
    cancel.addEventListener("click", function () {
      form.remove();
      link.setAttribute("aria-expanded", "false");
      link.focus();
    });
    /* No Escape-to-close here: Escape belongs to the quick exit (quick-exit.js). */
    form.addEventListener("submit", function () {
      /* A second click while the first submit is on its way does nothing (the key also guards it). */
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
    });

    /* Under the post it answers, above that post's existing replies. */
    var article = document.getElementById("post-" + postId);
    article.parentNode.insertBefore(form, article.nextSibling);
    link.setAttribute("aria-expanded", "true");
    link.setAttribute("aria-controls", form.id);
    form.querySelector("textarea").focus();
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a.reply-link[data-reply-url]");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) { return; }
    event.preventDefault();
    openReply(link);
  });
})();
