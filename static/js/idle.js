// The idle timeout's warning (accounts.middleware.IdleTimeoutMiddleware): a minute before the
// server signs the user out, an alert offers to stay signed in; at the end the page reloads,
// and the server answers with the login page.
(function () {
  "use strict";
  const body = document.body;
  // Only pages of a signed-in user with a timeout carry the attributes (not the login page).
  if (!body || !(Number(body.dataset.idleTimeout) > 0) || body.dataset.idleSeconds === "") return;
  const WARN_BEFORE = 60;
  let warnTimer = null;
  let endTimer = null;
  let alertBox = null;

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function hideWarning() {
    if (alertBox) {
      alertBox.remove();
      alertBox = null;
    }
  }

  function stay() {
    fetch(body.dataset.idleKeepAlive, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken() },
    })
      .then(function (response) {
        if (!response.ok) throw new Error("signed out");
        return response.json();
      })
      .then(function (data) {
        hideWarning();
        schedule(Number(data.seconds_left));
      })
      .catch(function () {
        window.location.reload();
      });
  }

  function showWarning() {
    if (alertBox) return;
    alertBox = document.createElement("div");
    alertBox.className = "alert alert-warning d-flex align-items-center gap-3 position-fixed top-0 start-50 translate-middle-x mt-2 shadow";
    alertBox.setAttribute("role", "alert");
    alertBox.dataset.testid = "idle-warning";
    const text = document.createElement("span");
    text.textContent = body.dataset.idleWarning;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "btn btn-primary btn-sm";
    button.textContent = body.dataset.idleStay;
    button.addEventListener("click", stay);
    alertBox.append(text, button);
    body.append(alertBox);
    button.focus();
  }

  function schedule(secondsLeft) {
    if (!Number.isFinite(secondsLeft)) return;
    clearTimeout(warnTimer);
    clearTimeout(endTimer);
    warnTimer = setTimeout(showWarning, Math.max(0, secondsLeft - WARN_BEFORE) * 1000);
    // A second late, so the server is sure the time is up when the page asks again.
    endTimer = setTimeout(function () {
      window.location.reload();
    }, (secondsLeft + 1) * 1000);
  }

  // An htmx request restarts the server's idle clock too (which it notes every 15 seconds).
  const timeout = Number(body.dataset.idleTimeout);
  document.addEventListener("htmx:afterRequest", function () {
    hideWarning();
    schedule(timeout - 15);
  });
  schedule(Number(body.dataset.idleSeconds));
})();
