// Progressive enhancement only: every page works without this file.
// - A "Copy" button beside the share link.
// - Dropping an image anywhere on the verifier's drop zone puts it in the file input.
(function () {
  "use strict";
  document.querySelectorAll("[data-copy]").forEach(function (input) {
    if (!navigator.clipboard) { return; }
    var button = document.createElement("button");
    button.type = "button";
    button.className = "button copy";
    button.textContent = input.dataset.copyLabel;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(input.value).then(function () {
        button.textContent = input.dataset.copiedLabel;
      });
    });
    input.insertAdjacentElement("afterend", button);
  });
  document.querySelectorAll("[data-drop]").forEach(function (zone) {
    var input = zone.querySelector("input[type=file]");
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (event) {
        event.preventDefault();
        zone.classList.add("dragging");
      });
    });
    ["dragleave", "drop"].forEach(function (name) {
      zone.addEventListener(name, function () { zone.classList.remove("dragging"); });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      if (event.dataTransfer && event.dataTransfer.files.length) {
        input.files = event.dataTransfer.files;
        input.form.requestSubmit();
      }
    });
  });
})();
