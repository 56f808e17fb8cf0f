// Keyboard entry for case report forms: on a scored item, typing its score (0–9)
// chooses that answer and moves to the next item, so a whole scale is typed, not clicked.
(function () {
  "use strict";
  function items(form) { return Array.from(form.querySelectorAll(".crf-item")); }
  function focusItem(item) {
    if (!item) return;
    const target = item.querySelector("input[type=radio]:checked") || item.querySelector("input, select, textarea");
    if (target) { target.focus(); item.scrollIntoView({ block: "nearest" }); }
  }
  document.addEventListener("keydown", function (event) {
    const radio = event.target;
    if (!(radio instanceof HTMLInputElement) || radio.type !== "radio") return;
    const item = radio.closest(".crf-item");
    const form = radio.closest("form.crf-form");
    if (!item || !form || event.ctrlKey || event.altKey || event.metaKey) return;
    if (!/^[0-9]$/.test(event.key)) return;
    const choice = item.querySelector('input[type=radio][value="' + event.key + '"]');
    if (!choice) return;
    event.preventDefault();
    choice.checked = true;
    choice.dispatchEvent(new Event("change", { bubbles: true }));
    const all = items(form);
    focusItem(all[all.indexOf(item) + 1] || form.querySelector("[type=submit]"));
  });
})();
