// The chat page: one websocket (docs/chat-protocol.md), reconnects with last_seq so nothing is lost or doubled,
// and resends unacknowledged messages with their client_msg_id so nothing is sent twice.
(function () {
  "use strict";
  var root = document.getElementById("chat-root");
  if (!root) return;
  var t = root.dataset;
  var list = document.getElementById("chat-messages");
  var input = document.getElementById("chat-input");
  var send = document.getElementById("chat-send");
  var form = document.getElementById("chat-form");
  var statusLine = document.getElementById("chat-status");
  var typingLine = document.getElementById("chat-typing");
  var timer = document.getElementById("chat-timer");
  var turns = document.getElementById("chat-turns");
  var counter = document.getElementById("chat-char-count");
  var endedBox = document.getElementById("chat-ended");
  var maxChars = parseInt(t.maxChars, 10) || 300;
  var partner = document.getElementById("chat-partner").textContent;

  var socket = null;
  var lastSeq = 0;
  var pending = {}; // client_msg_id -> {text, li}
  var ended = false;
  var retry = 0;
  var deadline = null;
  var turnsLeft = null;
  var typingHideTimer = null;
  var lastTypingSent = 0;

  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }

  var statusClearTimer = null;

  // Errors and the opening prompt are momentary: they clear themselves so a stale line never misleads.
  function setStatus(text, clearAfterMs) {
    statusLine.textContent = text;
    clearTimeout(statusClearTimer);
    if (clearAfterMs) statusClearTimer = setTimeout(function () { statusLine.textContent = ""; }, clearAfterMs);
  }

  function setEnabled(on) {
    input.disabled = !on;
    send.disabled = !on;
  }

  function bubble(from, text, extraClass) {
    var li = document.createElement("li");
    li.className = "bubble " + (from === "me" ? "me" : "partner") + (extraClass ? " " + extraClass : "");
    var who = document.createElement("span");
    who.className = "visually-hidden";
    who.textContent = (from === "me" ? "" : partner + ": ");
    var body = document.createElement("span");
    body.className = "bubble-text";
    body.textContent = text;
    li.appendChild(who);
    li.appendChild(body);
    if (extraClass === "pending") list.appendChild(li); else placeInOrder(li);
    list.scrollTop = list.scrollHeight;
    return li;
  }

  // Saved messages are shown in seq order, above the user's messages that are still on their way.
  function placeInOrder(li) {
    var firstPending = list.querySelector("li.pending");
    if (firstPending && firstPending !== li) list.insertBefore(li, firstPending); else if (!firstPending) list.appendChild(li);
  }

  function showMessage(frame) {
    if (frame.seq <= lastSeq) return;
    if (lastSeq === 0) setStatus("");
    lastSeq = frame.seq;
    if (turnsLeft !== null) { turnsLeft = Math.max(0, turnsLeft - 1); turns.textContent = turnsLeft; }
    if (frame.from === "me" && frame.client_msg_id && pending[frame.client_msg_id]) {
      var li = pending[frame.client_msg_id].li;
      li.classList.remove("pending");
      li.dataset.seq = frame.seq;
      placeInOrder(li);
      delete pending[frame.client_msg_id];
      return;
    }
    var node = bubble(frame.from, frame.text, frame.masked ? "masked" : "");
    node.dataset.seq = frame.seq;
    if (frame.from === "partner") hideTyping();
  }

  function hideTyping() { typingLine.hidden = true; }

  function showTyping() {
    typingLine.textContent = partner + " " + t.i18nTyping;
    typingLine.hidden = false;
    clearTimeout(typingHideTimer);
    typingHideTimer = setTimeout(hideTyping, 3500);
  }

  function tick() {
    if (deadline === null) return;
    var left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
    var m = Math.floor(left / 60), s = left % 60;
    timer.textContent = m + ":" + (s < 10 ? "0" : "") + s;
  }
  setInterval(tick, 1000);

  function endChat(reason) {
    ended = true;
    setEnabled(false);
    hideTyping();
    deadline = null;
    var key = { time: "i18nEndedTime", turns: "i18nEndedTurns", left: "i18nEndedLeft" }[reason] || "i18nEndedPartnerLeft";
    document.getElementById("chat-ended-reason").textContent = t[key];
    endedBox.hidden = false;
    document.getElementById("chat-judge-link").focus();
    if (socket) socket.close();
  }

  function errorText(code) {
    return {
      rate_limited: t.i18nErrorRateLimited, busy: t.i18nErrorBusy, too_long: t.i18nErrorTooLong, chat_ended: t.i18nErrorChatEnded
    }[code] || t.i18nError;
  }

  function transmit(id) {
    if (pending[id] && socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({ type: "message", client_msg_id: id, text: pending[id].text }));
    }
  }

  function onFrame(frame) {
    switch (frame.type) {
      case "hello":
        retry = 0;
        deadline = Date.now() + frame.seconds_left * 1000;
        turnsLeft = frame.turns_left;
        turns.textContent = turnsLeft;
        tick();
        if (lastSeq === 0 && frame.last_seq === 0) setStatus(frame.your_turn_first ? t.i18nYourTurn : t.i18nPartnerTurn);
        else setStatus(t.i18nConnected, 3000);
        if (frame.status === "active") setEnabled(true);
        Object.keys(pending).forEach(transmit);
        break;
      case "message": showMessage(frame); break;
      case "ack": break;
      case "typing": showTyping(); break;
      case "ended": endChat(frame.reason); break;
      case "error":
        setStatus(errorText(frame.code), 6000);
        if (frame.client_msg_id && pending[frame.client_msg_id]) {
          if (frame.code === "rate_limited") {
            setTimeout(transmit, 3000, frame.client_msg_id); // same id: it still counts once
          } else if (frame.code === "busy") {
            setTimeout(transmit, frame.retry_after_ms || 1000, frame.client_msg_id);
          } else {
            pending[frame.client_msg_id].li.classList.remove("pending");
            pending[frame.client_msg_id].li.classList.add("failed");
            delete pending[frame.client_msg_id];
          }
        }
        break;
      default: break;
    }
  }

  // The last seq shown, every 20 s: the server answers with anything newer the socket did not get (events lost
  // while Redis restarted), then pong (docs/chat-protocol.md).
  setInterval(function () {
    if (!ended && socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({ type: "ping", last_seq: lastSeq }));
    }
  }, 20000);

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + t.wsPath + "?last_seq=" + lastSeq);
    socket.onmessage = function (event) { onFrame(JSON.parse(event.data)); };
    socket.onclose = function () {
      if (ended) return;
      setEnabled(false);
      setStatus(t.i18nReconnecting);
      retry += 1;
      clearTimeout(reconnectTimer);
      reconnectTimer = setTimeout(connect, Math.min(10000, 500 * Math.pow(2, retry)) * (0.5 + Math.random() / 2));
    };
  }

  // A dropped network can leave the socket looking open for minutes: say so at once, and retry when it is back.
  var reconnectTimer = null;
  window.addEventListener("offline", function () {
    if (ended) return;
    setEnabled(false);
    setStatus(t.i18nReconnecting);
    if (socket) socket.close();
  });
  window.addEventListener("online", function () {
    if (ended || (socket && socket.readyState <= WebSocket.OPEN)) return;
    clearTimeout(reconnectTimer);
    retry = 0;
    connect();
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

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text || ended) return;
    var id = newId();
    pending[id] = { text: text, li: bubble("me", text, "pending") };
    input.value = "";
    updateCounter();
    transmit(id);
  });

  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit", { cancelable: true }));
    }
  });

  function updateCounter() { counter.textContent = input.value.length + " / " + maxChars; }

  input.addEventListener("input", function () {
    updateCounter();
    var now = Date.now();
    if (socket && socket.readyState === WebSocket.OPEN && now - lastTypingSent > 2000) {
      lastTypingSent = now;
      socket.send(JSON.stringify({ type: "typing" }));
    }
  });

  document.getElementById("chat-leave").addEventListener("click", function () {
    if (!ended && window.confirm(t.i18nConfirmLeave) && socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({ type: "leave" }));
    }
  });

  updateCounter();
  setStatus(t.i18nConnecting);
  connect();
})();
