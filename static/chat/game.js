// A three-party game page: one ordinary chat socket per pane (pane.js: each with its own last_seq, resume and resend
// of unacknowledged messages) and one shared clock. The game is over when every pane has ended.
(function () {
  "use strict";
  var root = document.getElementById("game-root");
  if (!root) return;
  var t = root.dataset;
  var timer = document.getElementById("game-timer");
  var deadline = null;
  var panes = [];

  function tick() {
    if (deadline !== null) timer.textContent = window.HulicChatPane.clock(deadline);
  }
  setInterval(tick, 1000);

  function allEnded() {
    if (!panes.every(function (pane) { return pane.ended; })) return;
    deadline = null;
    document.getElementById("game-ended").hidden = false;
    window.location.assign(t.verdictUrl);
  }

  function statusText(code) {
    return { rate_limited: t.i18nErrorRateLimited, busy: t.i18nErrorBusy, too_long: t.i18nErrorTooLong }[code];
  }

  Array.prototype.forEach.call(root.querySelectorAll(".game-pane"), function (node) {
    var pane = new window.HulicChatPane({
      wsPath: node.dataset.wsPath,
      list: node.querySelector(".pane-messages"),
      input: node.querySelector(".pane-input"),
      send: node.querySelector(".pane-send"),
      form: node.querySelector(".pane-form"),
      statusLine: node.querySelector(".pane-status"),
      typingLine: node.querySelector(".pane-typing"),
      turns: node.querySelector(".pane-turns"),
      partner: node.dataset.alias,
      i18n: t,
      onHello: function (frame) {
        if (frame.status === "active") deadline = Date.now() + frame.seconds_left * 1000;
        tick();
        pane.setStatus(pane.lastSeq ? t.i18nConnected : "", 3000);
      },
      onEnded: function () {
        pane.setStatus(t.i18nEnded);
        allEnded();
      },
      statusText: statusText,
    });
    panes.push(pane);
    pane.connect();
  });
  window.hulicGamePanes = panes; // for tests: each pane's socket can be dropped to exercise its own reconnect
})();
