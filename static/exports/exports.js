// Shows an export's progress while it runs and reloads the page when it has finished.
(function () {
  "use strict";
  var pending = Array.prototype.filter.call(document.querySelectorAll("tr[data-job]"), function (row) {
    return row.dataset.finished === "0";
  });
  if (!pending.length) { return; }
  function poll() {
    Promise.all(pending.map(function (row) {
      return fetch("/api/v1/exports/" + row.dataset.job + "/", { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (job) {
          if (!job) { return false; }
          var bar = row.querySelector("progress");
          var rows = row.querySelector(".rows");
          if (bar) { bar.value = job.progress_percent; }
          if (rows) { rows.textContent = job.rows_written.toLocaleString(); }
          return ["done", "failed", "expired"].indexOf(job.status) !== -1;
        });
    })).then(function (finished) {
      if (finished.some(Boolean)) { window.location.reload(); } else { window.setTimeout(poll, 2000); }
    });
  }
  window.setTimeout(poll, 2000);
})();
