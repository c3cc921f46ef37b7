// Link: hands the one-time public token to the embedding page, reports a cancel, and shows that
// the credentials are being checked. Everything works without this script (forms post and
// re-render on the server); it only adds what a page cannot do by itself.
(function () {
  "use strict";
  var body = document.body;
  var origins = (body.getAttribute("data-origins") || "").split(" ").filter(Boolean);
  var sessionId = body.getAttribute("data-session") || "";
  var framed = window.parent && window.parent !== window;

  // Messages go only to the session's allowed origins, never to a wildcard: the browser delivers a
  // message only when the parent's origin is exactly the target origin.
  function post(message) {
    if (!framed || origins.length === 0) return false;
    origins.forEach(function (origin) {
      window.parent.postMessage(message, origin);
    });
    return true;
  }

  var success = document.getElementById("link-success");
  if (success) {
    post({
      type: "millwright.link.success",
      public_token: success.getAttribute("data-public-token"),
      link_session_id: sessionId
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-link-exit]"), function (el) {
    el.addEventListener("click", function (event) {
      if (post({ type: "millwright.link.exit", link_session_id: sessionId })) {
        event.preventDefault();
      } else if (el.getAttribute("href") === "#") {
        event.preventDefault();
      }
    });
  });

  var form = document.querySelector("form[data-link-form]");
  if (form) {
    var button = form.querySelector("button[type=submit]");
    var label = button ? button.textContent : "";
    form.addEventListener("submit", function () {
      // One submission at a time: the check with the system takes a moment.
      if (button) {
        button.disabled = true;
        button.textContent = button.getAttribute("data-busy") || "Checking…";
      }
      form.setAttribute("aria-busy", "true");
    });
    // Coming back through the history restores the page as it was left: make it usable again.
    window.addEventListener("pageshow", function () {
      if (button) {
        button.disabled = false;
        button.textContent = label;
      }
      form.removeAttribute("aria-busy");
    });
  }

  var error = document.getElementById("form-error");
  if (error) error.focus();
})();
