// The error summary (templates/_error_summary.html): after a refused save the page reloads at
// its top while the first error may sit far below, so the focus goes to the summary, which a
// screen reader then reads; each of its links moves the focus to the field it names.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const summary = document.querySelector("[data-error-summary]");
  if (!summary) {
    return;
  }
  summary.focus();
  summary.addEventListener("click", (event) => {
    const link = event.target.closest("a[href^='#']");
    const field = link && document.getElementById(link.getAttribute("href").slice(1));
    if (!field) {
      return;
    }
    event.preventDefault();
    // A field inside a closed disclosure (the missing-data reasons) can take no focus.
    const closed = field.closest("details:not([open])");
    if (closed) {
      closed.open = true;
    }
    field.scrollIntoView({ block: "center" });
    field.focus({ preventScroll: true });
  });
});
