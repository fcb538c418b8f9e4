// bakery web catalog: progressive enhancement only; every page works
// without it. Adds a copy button to each download command.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  if (navigator.clipboard) {
    document.querySelectorAll(".cmd").forEach(function (box) {
      var code = box.querySelector("code");
      var btn = document.createElement("button");
      btn.type = "button";
      btn.textContent = "Copy";
      btn.setAttribute("aria-label", "Copy the command");
      btn.addEventListener("click", function () {
        navigator.clipboard.writeText(code.textContent).then(function () {
          btn.textContent = "Copied";
          setTimeout(function () { btn.textContent = "Copy"; }, 1500);
        });
      });
      box.appendChild(btn);
    });
  }
});
