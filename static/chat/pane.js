// One conversation's socket and its pane on the page: the client rules of docs/chat-protocol.md in one place, used
// by the chat page (chat.js) and by each pane of a three-party game (game.js).
// - Reconnects with ?last_seq= (backoff 0.5 s, 1 s, 2 s … 10 s, with jitter) so nothing is lost or shown twice.
// - Resends unacknowledged messages with their client_msg_id after each hello, so nothing is saved twice.
// - Retries a message after `busy` / `rate_limited` with the same id; marks it failed on any other error.
// - Sends `typing` at most every 2 s, shows the partner's for 3.5 s, pings with the last seq shown every 20 s.
(function () {
  "use strict";
  var TYPING_THROTTLE_MS = 2000;
  var TYPING_SHOWN_MS = 3500;
  var PING_INTERVAL_MS = 20000;
  var RETRY_DEFAULT_MS = { busy: 1000, rate_limited: 3000 };

  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }

  // options: wsPath; the pane's nodes list, input, send, form, statusLine, typingLine, and optionally turns and
  // counter (with maxChars); partner (the alias); i18n (the page's data-i18n-* dataset); and hooks, all optional:
  // onHello(frame), onMessage(frame, isFirstShown), onEnded(frame), onError(frame), statusText(code).
  function ChatPane(options) {
    var self = this;
    var o = options;
    var i18n = o.i18n;
    var socket = null;
    var pending = {}; // client_msg_id -> {text, li}
    var retry = 0;
    var reconnectTimer = null;
    var statusClearTimer = null;
    var typingHideTimer = null;
    var lastTypingSent = 0;
    var turnsLeft = null;
    self.lastSeq = 0;
    self.ended = false;
    self.socket = null; // the current socket, for tests that drop it

    function setEnabled(on) {
      o.input.disabled = !on;
      o.send.disabled = !on;
    }

    // Errors and prompts are momentary: they clear themselves so a stale line never misleads.
    function setStatus(text, clearAfterMs) {
      o.statusLine.textContent = text;
      clearTimeout(statusClearTimer);
      if (clearAfterMs) statusClearTimer = setTimeout(function () { o.statusLine.textContent = ""; }, clearAfterMs);
    }
    self.setStatus = setStatus;

    function bubble(from, text, extraClass) {
      var li = document.createElement("li");
      li.className = "bubble " + (from === "me" ? "me" : "partner") + (extraClass ? " " + extraClass : "");
      var who = document.createElement("span");
      who.className = "visually-hidden";
      who.textContent = from === "me" ? "" : o.partner + ": ";
      var body = document.createElement("span");
      body.className = "bubble-text";
      body.textContent = text;
      li.appendChild(who);
      li.appendChild(body);
      if (extraClass === "pending") o.list.appendChild(li); else placeInOrder(li);
      o.list.scrollTop = o.list.scrollHeight;
      return li;
    }

    // Saved messages are shown in seq order, above the user's messages that are still on their way.
    function placeInOrder(li) {
      var firstPending = o.list.querySelector("li.pending");
      if (firstPending && firstPending !== li) o.list.insertBefore(li, firstPending);
      else if (!firstPending) o.list.appendChild(li);
    }

    function hideTyping() { o.typingLine.hidden = true; }

    function showTyping() {
      o.typingLine.textContent = o.partner + " " + i18n.i18nTyping;
      o.typingLine.hidden = false;
      clearTimeout(typingHideTimer);
      typingHideTimer = setTimeout(hideTyping, TYPING_SHOWN_MS);
    }

    function showTurns() { if (o.turns && turnsLeft !== null) o.turns.textContent = turnsLeft; }

    function showMessage(frame) {
      if (frame.seq <= self.lastSeq) return;
      var first = self.lastSeq === 0;
      self.lastSeq = frame.seq;
      if (turnsLeft !== null) { turnsLeft = Math.max(0, turnsLeft - 1); showTurns(); }
      if (o.onMessage) o.onMessage(frame, first);
      if (frame.from === "me" && frame.client_msg_id && pending[frame.client_msg_id]) {
        var li = pending[frame.client_msg_id].li;
        li.classList.remove("pending");
        li.dataset.seq = frame.seq;
        placeInOrder(li);
        delete pending[frame.client_msg_id];
        return;
      }
      bubble(frame.from, frame.text, frame.masked ? "masked" : "").dataset.seq = frame.seq;
      if (frame.from === "partner") hideTyping();
    }

    function transmit(id) {
      if (pending[id] && socket && socket.readyState === WebSocket.OPEN) {
        socket.send(JSON.stringify({ type: "message", client_msg_id: id, text: pending[id].text }));
      }
    }

    function sendFrame(frame) {
      if (!self.ended && socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(frame));
    }
    self.sendFrame = sendFrame;

    function statusText(code) {
      return (o.statusText && o.statusText(code)) || i18n.i18nError;
    }

    function onFrame(frame) {
      switch (frame.type) {
        case "hello":
          retry = 0;
          turnsLeft = frame.turns_left;
          showTurns();
          if (o.onHello) o.onHello(frame); else setStatus(self.lastSeq ? i18n.i18nConnected : "", 3000);
          if (frame.status === "active") setEnabled(true);
          Object.keys(pending).forEach(transmit);
          break;
        case "message": showMessage(frame); break;
        case "typing": showTyping(); break;
        case "ended":
          self.ended = true;
          setEnabled(false);
          hideTyping();
          clearTimeout(reconnectTimer);
          if (socket) socket.close();
          if (o.onEnded) o.onEnded(frame);
          break;
        case "error":
          setStatus(statusText(frame.code), 6000);
          if (o.onError) o.onError(frame);
          if (frame.client_msg_id && pending[frame.client_msg_id]) {
            if (RETRY_DEFAULT_MS[frame.code]) {
              // The same id again: it still counts once.
              setTimeout(transmit, frame.retry_after_ms || RETRY_DEFAULT_MS[frame.code], frame.client_msg_id);
            } else {
              pending[frame.client_msg_id].li.classList.replace("pending", "failed");
              delete pending[frame.client_msg_id];
            }
          }
          break;
        default: break; // ack (the message frame that follows confirms the bubble), pong
      }
    }

    self.connect = function () {
      var scheme = location.protocol === "https:" ? "wss://" : "ws://";
      socket = new WebSocket(scheme + location.host + o.wsPath + "?last_seq=" + self.lastSeq);
      self.socket = socket;
      socket.onmessage = function (event) { onFrame(JSON.parse(event.data)); };
      socket.onclose = function () {
        if (self.ended) return;
        setEnabled(false);
        setStatus(i18n.i18nReconnecting);
        retry += 1;
        clearTimeout(reconnectTimer);
        reconnectTimer = setTimeout(self.connect, Math.min(10000, 500 * Math.pow(2, retry)) * (0.5 + Math.random() / 2));
      };
    };

    // The last seq shown: the server answers with anything newer the socket did not get (events lost while Redis
    // restarted), then pong.
    setInterval(function () { sendFrame({ type: "ping", last_seq: self.lastSeq }); }, PING_INTERVAL_MS);

    // A dropped network can leave the socket looking open for minutes: say so at once, and retry when it is back.
    window.addEventListener("offline", function () {
      if (self.ended) return;
      setEnabled(false);
      setStatus(i18n.i18nReconnecting);
      if (socket) socket.close();
    });
    window.addEventListener("online", function () {
      if (self.ended || (socket && socket.readyState <= WebSocket.OPEN)) return;
      clearTimeout(reconnectTimer);
      retry = 0;
      self.connect();
    });

    function updateCounter() { if (o.counter) o.counter.textContent = o.input.value.length + " / " + o.maxChars; }

    o.form.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = o.input.value.trim();
      if (!text || self.ended) return;
      var id = newId();
      pending[id] = { text: text, li: bubble("me", text, "pending") };
      o.input.value = "";
      updateCounter();
      transmit(id);
    });
    o.input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        o.form.requestSubmit ? o.form.requestSubmit() : o.form.dispatchEvent(new Event("submit", { cancelable: true }));
      }
    });
    o.input.addEventListener("input", function () {
      updateCounter();
      var now = Date.now();
      if (socket && socket.readyState === WebSocket.OPEN && now - lastTypingSent > TYPING_THROTTLE_MS) {
        lastTypingSent = now;
        socket.send(JSON.stringify({ type: "typing" }));
      }
    });
    updateCounter();
  }

  // mm:ss left until a deadline (ms since the epoch), for the page's clock.
  ChatPane.clock = function (deadline) {
    var left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
    var m = Math.floor(left / 60), s = left % 60;
    return m + ":" + (s < 10 ? "0" : "") + s;
  };

  window.HulicChatPane = ChatPane;
})();
