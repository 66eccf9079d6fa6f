// The chat page: one conversation's socket and pane (pane.js holds the protocol's client rules), the clock, the
// end-of-chat box, leaving and reporting.
(function () {
  "use strict";
  var root = document.getElementById("chat-root");
  if (!root) return;
  var t = root.dataset;
  var timer = document.getElementById("chat-timer");
  var endedBox = document.getElementById("chat-ended");
  var deadline = null;

  function tick() {
    if (deadline !== null) timer.textContent = window.HulicChatPane.clock(deadline);
  }
  setInterval(tick, 1000);

  var pane = new window.HulicChatPane({
    wsPath: t.wsPath,
    list: document.getElementById("chat-messages"),
    input: document.getElementById("chat-input"),
    send: document.getElementById("chat-send"),
    form: document.getElementById("chat-form"),
    statusLine: document.getElementById("chat-status"),
    typingLine: document.getElementById("chat-typing"),
    turns: document.getElementById("chat-turns"),
    counter: document.getElementById("chat-char-count"),
    maxChars: parseInt(t.maxChars, 10) || 300,
    partner: document.getElementById("chat-partner").textContent,
    i18n: t,
    onHello: function (frame) {
      deadline = Date.now() + frame.seconds_left * 1000;
      tick();
      if (pane.lastSeq === 0 && frame.last_seq === 0) pane.setStatus(frame.your_turn_first ? t.i18nYourTurn : t.i18nPartnerTurn);
      else pane.setStatus(t.i18nConnected, 3000);
    },
    onMessage: function (frame, isFirstShown) {
      if (isFirstShown) pane.setStatus("");
    },
    onEnded: function (frame) {
      deadline = null;
      var key = { time: "i18nEndedTime", turns: "i18nEndedTurns", left: "i18nEndedLeft" }[frame.reason] || "i18nEndedPartnerLeft";
      document.getElementById("chat-ended-reason").textContent = t[key];
      endedBox.hidden = false;
      document.getElementById("chat-judge-link").focus();
    },
    statusText: function (code) {
      return {
        rate_limited: t.i18nErrorRateLimited, busy: t.i18nErrorBusy, too_long: t.i18nErrorTooLong, chat_ended: t.i18nErrorChatEnded
      }[code];
    },
  });

  // Reporting posts in the background, so the chat and an unsent message stay as they are.
  var reportForm = document.getElementById("report-form");
  var reportStatus = document.getElementById("report-status");
  reportForm.addEventListener("submit", function (event) {
    event.preventDefault();
    fetch(reportForm.action, {
      method: "POST", body: new FormData(reportForm), credentials: "same-origin", headers: { Accept: "application/json" },
    }).then(function (response) { return response.json(); }).then(function (data) {
      reportStatus.textContent = data.detail;
      if (data.ok) { reportForm.reset(); reportForm.closest("details").open = false; }
    }).catch(function () { reportStatus.textContent = t.i18nError; });
  });

  document.getElementById("chat-leave").addEventListener("click", function () {
    if (!pane.ended && window.confirm(t.i18nConfirmLeave)) pane.sendFrame({ type: "leave" });
  });

  pane.setStatus(t.i18nConnecting);
  pane.connect();
})();
