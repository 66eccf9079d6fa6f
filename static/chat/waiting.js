// The waiting page: polls the match status (each poll is also a pairing attempt) and opens the chat when paired.
(function () {
  "use strict";
  var box = document.getElementById("waiting");
  if (!box) return;
  function poll() {
    fetch(box.dataset.statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        if (data.status === "matched" && data.chat_url) { window.location.assign(data.chat_url); return; }
        if (data.status === "idle" || data.status === "unavailable") { window.location.reload(); return; }
        setTimeout(poll, 2000);
      })
      .catch(function () { setTimeout(poll, 4000); });
  }
  setTimeout(poll, 1000);
})();
