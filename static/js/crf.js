// Keyboard entry for case report forms: on a scored item, typing its score (0–9, or ۰–۹)
// chooses that answer and moves to the next item, so a whole scale is typed, not clicked.
(function () {
  "use strict";
  function items(form) { return Array.from(form.querySelectorAll(".crf-item")); }
  function focusItem(item) {
    if (!item) return;
    const target = item.querySelector("input[type=radio]:checked") || item.querySelector("input, select, textarea");
    if (target) { target.focus(); item.scrollIntoView({ block: "nearest" }); }
  }
  // A Persian keyboard types Extended Arabic-Indic digits (۰–۹), an Arabic one Arabic-Indic
  // (٠–٩): the same scores as 0–9.
  function asciiDigit(key) {
    if (/^[0-9]$/.test(key)) return key;
    const code = key.length === 1 ? key.charCodeAt(0) : 0;
    if (code >= 0x06f0 && code <= 0x06f9) return String(code - 0x06f0);
    if (code >= 0x0660 && code <= 0x0669) return String(code - 0x0660);
    return null;
  }
  document.addEventListener("keydown", function (event) {
    const radio = event.target;
    if (!(radio instanceof HTMLInputElement) || radio.type !== "radio") return;
    const item = radio.closest(".crf-item");
    const form = radio.closest("form.crf-form");
    if (!item || !form || event.ctrlKey || event.altKey || event.metaKey) return;
    const digit = asciiDigit(event.key);
    if (digit === null) return;
    const choice = item.querySelector('input[type=radio][value="' + digit + '"]');
    if (!choice) return;
    event.preventDefault();
    choice.checked = true;
    choice.dispatchEvent(new Event("change", { bubbles: true }));
    const all = items(form);
    focusItem(all[all.indexOf(item) + 1] || form.querySelector("[type=submit]"));
  });
})();
