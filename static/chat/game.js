// A three-party game page: one ordinary chat socket per pane (docs/chat-protocol.md), each with its own last_seq,
// resume and resend of unacknowledged messages, and one shared clock. The game is over when every pane has ended.
(function () {
  "use strict";
  var root = document.getElementById("game-root");
  if (!root) return;
  var t = root.dataset;
  var timer = document.getElementById("game-timer");
  var deadline = null;
  var panes = [];

  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }

  function tick() {
    if (deadline === null) return;
    var left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
    var m = Math.floor(left / 60), s = left % 60;
    timer.textContent = m + ":" + (s < 10 ? "0" : "") + s;
  }
  setInterval(tick, 1000);

  function allEnded() {
    if (!panes.every(function (pane) { return pane.ended; })) return;
    deadline = null;
    document.getElementById("game-ended").hidden = false;
    window.location.assign(t.verdictUrl);
  }

  function Pane(node) {
    var self = this;
    var list = node.querySelector(".pane-messages");
    var input = node.querySelector(".pane-input");
    var send = node.querySelector(".pane-send");
    var form = node.querySelector(".pane-form");
    var statusLine = node.querySelector(".pane-status");
    var typingLine = node.querySelector(".pane-typing");
    var turns = node.querySelector(".pane-turns");
    var alias = node.dataset.alias;
    var socket = null, lastSeq = 0, pending = {}, retry = 0, typingTimer = null, lastTypingSent = 0;
    self.ended = false;

    function setEnabled(on) { input.disabled = !on; send.disabled = !on; }

    function bubble(from, text, cls) {
      var li = document.createElement("li");
      li.className = "bubble " + (from === "me" ? "me" : "partner") + (cls ? " " + cls : "");
      var body = document.createElement("span");
      body.className = "bubble-text";
      body.textContent = text;
      li.appendChild(body);
      var firstPending = list.querySelector("li.pending");
      if (cls !== "pending" && firstPending) list.insertBefore(li, firstPending); else list.appendChild(li);
      list.scrollTop = list.scrollHeight;
      return li;
    }

    function showMessage(frame) {
      if (frame.seq <= lastSeq) return;
      lastSeq = frame.seq;
      if (frame.from === "me" && frame.client_msg_id && pending[frame.client_msg_id]) {
        var li = pending[frame.client_msg_id].li;
        li.classList.remove("pending");
        li.dataset.seq = frame.seq;
        delete pending[frame.client_msg_id];
        return;
      }
      bubble(frame.from, frame.text, frame.masked ? "masked" : "").dataset.seq = frame.seq;
      if (frame.from === "partner") typingLine.hidden = true;
    }

    function transmit(id) {
      if (pending[id] && socket && socket.readyState === WebSocket.OPEN) {
        socket.send(JSON.stringify({ type: "message", client_msg_id: id, text: pending[id].text }));
      }
    }

    function onFrame(frame) {
      if (frame.type === "hello") {
        retry = 0;
        if (frame.status === "active") deadline = Date.now() + frame.seconds_left * 1000;
        turns.textContent = frame.turns_left;
        tick();
        statusLine.textContent = lastSeq ? t.i18nConnected : "";
        if (frame.status === "active") setEnabled(true);
        Object.keys(pending).forEach(transmit);
      } else if (frame.type === "message") {
        showMessage(frame);
      } else if (frame.type === "typing") {
        typingLine.textContent = alias + " " + t.i18nTyping;
        typingLine.hidden = false;
        clearTimeout(typingTimer);
        typingTimer = setTimeout(function () { typingLine.hidden = true; }, 3500);
      } else if (frame.type === "ended") {
        self.ended = true;
        setEnabled(false);
        typingLine.hidden = true;
        statusLine.textContent = t.i18nEnded;
        if (socket) socket.close();
        allEnded();
      } else if (frame.type === "error") {
        statusLine.textContent = t.i18nError;
        if (frame.client_msg_id && pending[frame.client_msg_id]) {
          if (frame.code === "rate_limited" || frame.code === "busy") {
            setTimeout(transmit, frame.retry_after_ms || 3000, frame.client_msg_id);
          } else {
            pending[frame.client_msg_id].li.classList.replace("pending", "failed");
            delete pending[frame.client_msg_id];
          }
        }
      }
    }

    self.connect = function () {
      var scheme = location.protocol === "https:" ? "wss://" : "ws://";
      socket = new WebSocket(scheme + location.host + node.dataset.wsPath + "?last_seq=" + lastSeq);
      self.socket = socket;
      socket.onmessage = function (event) { onFrame(JSON.parse(event.data)); };
      socket.onclose = function () {
        if (self.ended) return;
        setEnabled(false);
        statusLine.textContent = t.i18nReconnecting;
        retry += 1;
        setTimeout(self.connect, Math.min(10000, 500 * Math.pow(2, retry)) * (0.5 + Math.random() / 2));
      };
    };

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = input.value.trim();
      if (!text || self.ended) return;
      var id = newId();
      pending[id] = { text: text, li: bubble("me", text, "pending") };
      input.value = "";
      transmit(id);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit", { cancelable: true }));
      }
    });
    input.addEventListener("input", function () {
      var now = Date.now();
      if (socket && socket.readyState === WebSocket.OPEN && now - lastTypingSent > 2000) {
        lastTypingSent = now;
        socket.send(JSON.stringify({ type: "typing" }));
      }
    });
  }

  Array.prototype.forEach.call(root.querySelectorAll(".game-pane"), function (node) {
    var pane = new Pane(node);
    panes.push(pane);
    pane.connect();
  });
  window.hulicGamePanes = panes; // for tests: each pane's socket can be dropped to exercise its own reconnect
})();
