// Keyboard shortcuts on the review page, outside the reason box: H / B pick human or bot, 1–5 the confidence,
// ← / → (or A / L) the left or right witness, Ctrl+Enter (also inside the box) saves.
(function () {
  "use strict";
  var form = document.getElementById("review-form");
  if (!form) return;
  function pick(name, value) {
    var input = form.querySelector('input[name="' + name + '"][value="' + value + '"]');
    if (input) { input.checked = true; input.focus(); }
  }
  document.addEventListener("keydown", function (event) {
    if ((event.ctrlKey || event.metaKey) && event.key === "Enter") {
      event.preventDefault();
      form.requestSubmit();
      return;
    }
    var target = event.target;
    if (target.tagName === "TEXTAREA" || event.altKey || event.ctrlKey || event.metaKey) return;
    var key = event.key.toLowerCase();
    if (key === "h") pick("verdict", "human");
    else if (key === "b") pick("verdict", "bot");
    else if (/^[1-5]$/.test(key)) pick("confidence", key);
    else if (key === "arrowleft" || key === "a") pick("chosen_side", "left");
    else if (key === "arrowright" || key === "l") pick("chosen_side", "right");
    else if (key === "r") { event.preventDefault(); form.querySelector("textarea").focus(); }
    else return;
    if (key !== "r" && target.type === "radio") event.preventDefault();
  });
})();
