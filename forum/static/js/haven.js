/* Progressive enhancements. Every page works without this file. */
(function () {
  "use strict";
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
  document.querySelectorAll("form.confirm-delete").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm("Delete this post? Replies to it will stay.")) { event.preventDefault(); }
    });
  });
})();
