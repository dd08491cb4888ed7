/*
 * Web chat page. No dependencies, no analytics, no cookies.
 *
 * Safety rules kept here:
 *  - the transcript lives only in the DOM, never in storage;
 *  - only the session id is stored, in sessionStorage (this tab only);
 *  - quick exit (button or Esc) wipes the page, asks the server to forget the
 *    conversation, and replaces this history entry with a neutral page;
 *  - server text is always inserted with textContent / text nodes.
 */
(function () {
  "use strict";

  var STORAGE_PREFIX = "ntc.";
  var SESSION_KEY = STORAGE_PREFIX + "sid";
  var MAX_CHARS = 16000;  // bot/conversation/core.py MAX_TEXT_IN
  var COUNTER_FROM = 3500;
  var REQUEST_TIMEOUT_MS = 45000;
  var EXIT_URL = "/exit";
  var SESSION_RE = /^[A-Za-z0-9_-]{1,64}$/;

  var TEXT = {
    welcome:
      "Xin chào! Mình là trợ lý trả lời tự động.\n\n" +
      "Mình có thể cho bạn biết về quyền của bạn, cách tìm nơi an toàn gần bạn và " +
      "các số điện thoại gọi được 24/7 trên cả nước.\n" +
      "Bạn có thể gõ câu hỏi hoặc chọn một mục bên dưới.",
    resumed:
      "Bạn đang tiếp tục cuộc trò chuyện trước. Để giữ an toàn, các tin nhắn cũ không được hiển thị lại.",
    restarted: "Đã bắt đầu cuộc trò chuyện mới. Cuộc trò chuyện cũ đã được xóa.",
    network:
      "Không gửi được tin nhắn vì mất kết nối. Tin nhắn của bạn vẫn còn trong ô nhập, hãy thử gửi lại.\n" +
      "Nếu bạn đang gặp nguy hiểm, hãy gọi ngay 113.",
    server:
      "Hệ thống đang bận, chưa trả lời được. Vui lòng thử lại sau ít phút.\n" +
      "Nếu bạn đang gặp nguy hiểm, hãy gọi ngay 113.",
    empty: "Mình chưa có câu trả lời cho tin nhắn này. Bạn có thể hỏi theo cách khác hoặc gõ \u201cmenu\u201d.",
    typing: "Trợ lý đang trả lời\u2026",
    you: "Bạn: ",
    bot: "Trợ lý: ",
    note: "Thông báo: ",
    notSent: "Chưa gửi được",
    choices: "Các lựa chọn",
    locationSent: "Đã gửi vị trí của tôi",
    locationUnsupported:
      "Trình duyệt này không hỗ trợ gửi vị trí. Bạn có thể gõ tên phường, xã nơi bạn ở, ví dụ \u201cKim Trà\u201d.",
    locationDenied:
      "Bạn chưa cho phép truy cập vị trí, không sao cả. Bạn có thể gõ tên phường, xã nơi bạn ở, ví dụ \u201cKim Trà\u201d.",
    locationFailed:
      "Chưa lấy được vị trí. Bạn có thể thử lại, hoặc gõ tên phường, xã nơi bạn ở, ví dụ \u201cKim Trà\u201d.",
    locationWaiting: "Đang lấy vị trí\u2026",
    counter: function (n) {
      return n + "/" + MAX_CHARS + " ký tự";
    },
  };

  var STARTERS = [
    { title: "Tôi đang gặp nguy hiểm", payload: "/urgent_danger", kind: "urgent" },
    { title: "Tìm nơi an toàn", payload: "/find_shelter" },
    { title: "Quyền của tôi", payload: "/ask_rights" },
    { title: "Chào bạn", payload: "/greet" },
  ];

  var els = {};
  var sessionId = null;
  var busy = false;
  var exiting = false;
  var inflight = null; // AbortController of the pending request
  var lastEscalationStatus = null;

  /* ---------- storage (sessionStorage only, never the transcript) ---------- */

  function storageGet(key) {
    try {
      return window.sessionStorage.getItem(key);
    } catch (e) {
      return null;
    }
  }

  function storageSet(key, value) {
    try {
      window.sessionStorage.setItem(key, value);
    } catch (e) {
      /* private mode or storage disabled: keep the id in memory only */
    }
  }

  function clearOwnStorage() {
    [window.sessionStorage, window.localStorage].forEach(function (store) {
      try {
        var keys = [];
        for (var i = 0; i < store.length; i++) {
          var k = store.key(i);
          if (k && k.indexOf(STORAGE_PREFIX) === 0) keys.push(k);
        }
        keys.forEach(function (k) {
          store.removeItem(k);
        });
      } catch (e) {
        /* storage unavailable: nothing stored */
      }
    });
  }

  // Session ids are issued and signed by the server: the page carries one, and a spare one
  // is fetched for "start again". Only if the server cannot be reached is one made here.
  var spareSession = null;

  function pageSession() {
    var meta = document.querySelector('meta[name="gbvbot-session"]');
    var id = meta ? meta.getAttribute("content") : "";
    return SESSION_RE.test(id || "") ? id : null;
  }

  function fetchSpareSession() {
    fetch("/api/session", { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}", credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (data) {
        if (data && typeof data.session_id === "string" && SESSION_RE.test(data.session_id)) spareSession = data.session_id;
      })
      .catch(function () {});
  }

  function newSessionId() {
    if (spareSession) {
      var id = spareSession;
      spareSession = null;
      fetchSpareSession();
      return id;
    }
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    var out = "";
    for (var i = 0; i < bytes.length; i++) out += (bytes[i] + 256).toString(16).slice(1);
    return out;
  }

  /* ---------- safe rendering ---------- */

  // Phone numbers (113, 114, 115, 111; 1800/1900 lines; Vietnamese landlines and mobiles
  // written with spaces, dots or dashes) and OpenStreetMap links.
  var LINK_RE = new RegExp(
    [
      "(https://(?:www\\.)?openstreetmap\\.org/[^\\s<>\"]*)",
      "(\\+84[ .-]?\\d(?:[ .-]?\\d){7,9}|0\\d(?:[ .-]?\\d){7,9})",
      "(1[89]00(?:[ .-]?\\d){4,6})",
      "(11[1345])",
    ].join("|"),
    "g"
  );
  var WORDCHAR_RE = /[0-9A-Za-z\u00C0-\u1EF9]/;
  // "Điều 113", "khoản 111", "năm 115"... are not phone numbers.
  var NOT_PHONE_BEFORE_RE = /(?:điều|khoản|chương|mục|năm|số hiệu|nghị định|thông tư)\s*$/i;

  function appendLinkified(parent, text) {
    var last = 0;
    var match;
    LINK_RE.lastIndex = 0;
    while ((match = LINK_RE.exec(text)) !== null) {
      var raw = match[0];
      var start = match.index;
      var end = start + raw.length;
      var link = null;
      if (match[1]) {
        // Leave trailing punctuation outside the link.
        var url = raw.replace(/[.,;:!?)\]}'"\u201d]+$/, "");
        end = start + url.length;
        LINK_RE.lastIndex = end;
        link = document.createElement("a");
        link.href = url;
        link.target = "_blank";
        link.rel = "noopener noreferrer";
        link.referrerPolicy = "no-referrer";
        link.textContent = url.length > 60 ? "Xem bản đồ" : url;
        if (url.length > 60) link.title = url;
      } else {
        var before = start > 0 ? text.charAt(start - 1) : "";
        var after = end < text.length ? text.charAt(end) : "";
        // Not part of a longer number or word ("2113", "113a", "3.113", "113,5").
        var boundaryOk =
          !WORDCHAR_RE.test(before) && before !== "+" && !WORDCHAR_RE.test(after) &&
          !((before === "." || before === ",") && /\d/.test(text.charAt(start - 2))) &&
          !((after === "." || after === ",") && /\d/.test(text.charAt(end + 1)));
        var shortCode = !!match[4];
        if (boundaryOk && shortCode && NOT_PHONE_BEFORE_RE.test(text.slice(Math.max(0, start - 20), start))) {
          boundaryOk = false;
        }
        if (boundaryOk) {
          link = document.createElement("a");
          link.href = "tel:" + raw.replace(/[^\d+]/g, "");
          link.className = "tel";
          link.textContent = raw;
        }
      }
      if (!link) continue;
      if (start > last) parent.appendChild(document.createTextNode(text.slice(last, start)));
      parent.appendChild(link);
      last = end;
    }
    if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text != null) node.textContent = text;
    return node;
  }

  function srOnly(text) {
    return el("span", "sr-only", text);
  }

  function scrollToShow(node, alignTop) {
    if (!node || !node.isConnected) return;
    var doc = document.scrollingElement || document.documentElement;
    var tall = node.getBoundingClientRect().height > window.innerHeight * 0.6;
    if (alignTop && tall && node.scrollIntoView) {
      node.scrollIntoView({ block: "start" });
    } else {
      window.scrollTo(0, doc.scrollHeight);
    }
  }

  function addUser(text) {
    var msg = el("div", "msg msg-user");
    msg.appendChild(srOnly(TEXT.you));
    msg.appendChild(el("div", "msg-text", text));
    els.log.appendChild(msg);
    scrollToShow(msg);
    return msg;
  }

  function addBot(message, origin) {
    var msg = el("div", "msg msg-bot");
    msg.setAttribute("data-origin", origin);
    msg.appendChild(srOnly(TEXT.bot));
    var text = message && typeof message.text === "string" ? message.text : "";
    if (text) {
      var body = el("div", "msg-text");
      appendLinkified(body, text);
      msg.appendChild(body);
    }
    var buttons = message && Array.isArray(message.buttons) ? message.buttons : [];
    var valid = buttons.filter(function (b) {
      return b && typeof b.title === "string" && b.title && typeof b.payload === "string" && b.payload;
    });
    if (valid.length) {
      var group = el("div", "msg-buttons");
      group.setAttribute("role", "group");
      group.setAttribute("aria-label", TEXT.choices);
      valid.forEach(function (b) {
        var btn = el("button", "choice-btn" + (b.kind === "urgent" ? " choice-urgent" : ""), b.title);
        btn.type = "button";
        btn.setAttribute("data-payload", b.payload);
        btn.disabled = busy;
        btn.addEventListener("click", function () {
          sendPayload(b.title, b.payload);
        });
        group.appendChild(btn);
      });
      msg.appendChild(group);
    }
    if (!text && !valid.length) return null;
    els.log.appendChild(msg);
    return msg;
  }

  function addNote(text, kind) {
    var note = el("div", "msg msg-note" + (kind ? " note-" + kind : ""));
    note.appendChild(srOnly(TEXT.note));
    var body = el("div", "msg-text");
    appendLinkified(body, text);
    note.appendChild(body);
    els.log.appendChild(note);
    scrollToShow(note);
    return note;
  }

  function showTyping() {
    hideTyping();
    var t = el("div", "msg msg-bot typing");
    t.id = "typing";
    t.appendChild(srOnly(TEXT.typing));
    var dots = el("span", "dots");
    dots.setAttribute("aria-hidden", "true");
    for (var i = 0; i < 3; i++) dots.appendChild(el("span", "dot"));
    t.appendChild(dots);
    els.log.appendChild(t);
    scrollToShow(t);
  }

  function hideTyping() {
    var t = document.getElementById("typing");
    if (t && t.parentNode) t.parentNode.removeChild(t);
  }

  function showWelcome() {
    addBot({ text: TEXT.welcome, buttons: STARTERS }, "local");
  }

  /* ---------- busy state ---------- */

  function setBusy(value) {
    busy = value;
    els.send.disabled = value;
    els.location.disabled = value;
    els.log.setAttribute("aria-busy", value ? "true" : "false");
    var choices = els.log.querySelectorAll(".choice-btn");
    for (var i = 0; i < choices.length; i++) choices[i].disabled = value;
  }

  /* ---------- network ---------- */

  function post(body) {
    var controller = typeof AbortController === "function" ? new AbortController() : null;
    inflight = controller;
    var timer = controller
      ? setTimeout(function () {
          controller.abort();
        }, REQUEST_TIMEOUT_MS)
      : null;
    return fetch("/api/chat", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      credentials: "omit",
      cache: "no-store",
      referrerPolicy: "no-referrer",
      signal: controller ? controller.signal : undefined,
    }).then(
      function (res) {
        if (timer) clearTimeout(timer);
        return res
          .json()
          .catch(function () {
            return null;
          })
          .then(function (data) {
            return { ok: res.ok, status: res.status, data: data };
          });
      },
      function (err) {
        if (timer) clearTimeout(timer);
        throw err;
      }
    );
  }

  // Sends one request. onFailure(kind) is called with "network" or "server" so the caller
  // can give back what the resident typed.
  function exchange(body, userBubble, onFailure) {
    setBusy(true);
    showTyping();
    body.session_id = sessionId;
    return post(body)
      .then(function (result) {
        if (exiting) return;
        hideTyping();
        if (result.ok && result.data && Array.isArray(result.data.messages)) {
          renderReply(result.data);
          return;
        }
        if (userBubble) markNotSent(userBubble);
        var message =
          result.data && typeof result.data.error === "string" && result.data.error.trim()
            ? result.data.error
            : TEXT.server;
        addNote(message, "error");
        if (onFailure) onFailure("server");
      })
      .catch(function () {
        if (exiting) return;
        hideTyping();
        if (userBubble) markNotSent(userBubble);
        addNote(TEXT.network, "error");
        if (onFailure) onFailure("network");
      })
      .then(function () {
        inflight = null;
        if (!exiting) setBusy(false);
      });
  }

  function markNotSent(bubble) {
    bubble.classList.add("not-sent");
    bubble.appendChild(el("div", "msg-status", TEXT.notSent));
  }

  function renderReply(data) {
    if (typeof data.session_id === "string" && SESSION_RE.test(data.session_id) && data.session_id !== sessionId) {
      sessionId = data.session_id;
      storageSet(SESSION_KEY, sessionId);
    }
    var first = null;
    data.messages.forEach(function (m) {
      var node = addBot(m, "server");
      if (node && !first) first = node;
    });
    if (!first) addNote(TEXT.empty);
    else scrollToShow(first, true);
    showEscalation(data.escalation);
  }

  // The state of an escalation case, in Vietnamese; while a case is open the page asks the
  // server every few seconds for an officer's messages.
  var ESCALATION_TEXT = {
    alerting: "Đang báo cho cán bộ trực. Nếu nguy hiểm, hãy gọi ngay 113.",
    acknowledged: "Cán bộ trực đã nhận thông tin của bạn.",
    unreached: "Chưa liên lạc được cán bộ trực. Hãy gọi ngay 113.",
    closed: "Cán bộ trực đã kết thúc hỗ trợ.",
  };
  var POLL_MS = 5000;
  var pollTimer = null;

  function showEscalation(esc) {
    var status = esc && typeof esc === "object" && typeof esc.status === "string" ? esc.status : null;
    if (status && status !== lastEscalationStatus) {
      lastEscalationStatus = status;
      addNote(ESCALATION_TEXT[status] || status, "status");
    }
    if (status && status !== "closed") startPolling();
    else stopPolling();
  }

  function startPolling() {
    if (pollTimer || exiting) return;
    pollTimer = setInterval(pollUpdates, POLL_MS);
  }

  function stopPolling() {
    if (pollTimer) clearInterval(pollTimer);
    pollTimer = null;
  }

  function pollUpdates() {
    if (busy || exiting || !sessionId) return;
    fetch("/api/updates", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ session_id: sessionId }),
      credentials: "omit",
      cache: "no-store",
      referrerPolicy: "no-referrer",
    })
      .then(function (res) {
        return res.ok ? res.json() : null;
      })
      .then(function (data) {
        if (!data || exiting || !Array.isArray(data.messages)) return;
        data.messages.forEach(function (m) {
          addBot(m, "server");
        });
        showEscalation(data.escalation);
      })
      .catch(function () {});
  }

  /* ---------- actions ---------- */

  function sendText() {
    if (busy || exiting) return;
    var text = els.input.value.trim();
    if (!text) {
      els.input.value = "";
      updateComposer();
      return;
    }
    if (text.length > MAX_CHARS) text = text.slice(0, MAX_CHARS);
    var bubble = addUser(text);
    els.input.value = "";
    updateComposer();
    exchange({ text: text }, bubble, function () {
      // Give the typed text back (unless something new was typed meanwhile).
      if (!els.input.value.trim()) {
        els.input.value = text;
        updateComposer();
      }
    });
  }

  function sendPayload(title, payload) {
    if (busy || exiting) return;
    var bubble = addUser(title);
    exchange({ payload: payload }, bubble);
  }

  function shareLocation() {
    if (busy || exiting) return;
    if (!navigator.geolocation) {
      addNote(TEXT.locationUnsupported);
      return;
    }
    els.location.disabled = true;
    var original = els.location.textContent;
    els.location.textContent = TEXT.locationWaiting;
    navigator.geolocation.getCurrentPosition(
      function (pos) {
        els.location.textContent = original;
        els.location.disabled = busy;
        if (exiting || busy) return;
        // About 100 m of precision is enough to find the nearest services.
        var lat = Math.round(pos.coords.latitude * 1000) / 1000;
        var lon = Math.round(pos.coords.longitude * 1000) / 1000;
        var bubble = addUser(TEXT.locationSent);
        exchange({ location: { lat: lat, lon: lon } }, bubble);
      },
      function (err) {
        els.location.textContent = original;
        els.location.disabled = busy;
        if (exiting) return;
        addNote(err && err.code === 1 ? TEXT.locationDenied : TEXT.locationFailed);
      },
      { enableHighAccuracy: false, timeout: 20000, maximumAge: 300000 }
    );
  }

  function forgetOnServer(id) {
    if (!id) return;
    var body = JSON.stringify({ session_id: id });
    var sent = false;
    try {
      if (navigator.sendBeacon) {
        sent = navigator.sendBeacon("/api/forget", new Blob([body], { type: "application/json" }));
      }
    } catch (e) {
      sent = false;
    }
    if (!sent) {
      try {
        fetch("/api/forget", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: body,
          keepalive: true,
          credentials: "omit",
          cache: "no-store",
          referrerPolicy: "no-referrer",
        }).catch(function () {});
      } catch (e) {
        /* nothing more we can do */
      }
    }
  }

  function wipeScreen() {
    if (els.log) {
      while (els.log.firstChild) els.log.removeChild(els.log.firstChild);
    }
    if (els.input) els.input.value = "";
  }

  function quickExit() {
    if (exiting) {
      window.location.replace(EXIT_URL);
      return;
    }
    exiting = true;
    stopPolling();
    if (inflight) {
      try {
        inflight.abort();
      } catch (e) {}
    }
    document.documentElement.classList.add("exiting");
    wipeScreen();
    var id = sessionId || storageGet(SESSION_KEY);
    sessionId = null;
    clearOwnStorage();
    forgetOnServer(id);
    window.location.replace(EXIT_URL);
  }

  function restart() {
    if (exiting) return;
    if (inflight) {
      try {
        inflight.abort();
      } catch (e) {}
    }
    forgetOnServer(sessionId);
    clearOwnStorage();
    wipeScreen();
    stopPolling();
    lastEscalationStatus = null;
    sessionId = newSessionId();
    storageSet(SESSION_KEY, sessionId);
    setBusy(false);
    addNote(TEXT.restarted);
    showWelcome();
    updateComposer();
    els.input.focus();
  }

  /* ---------- composer ---------- */

  function updateComposer() {
    var n = els.input.value.length;
    if (n >= COUNTER_FROM) {
      els.counter.hidden = false;
      els.counter.textContent = TEXT.counter(n);
      els.counter.classList.toggle("at-limit", n >= MAX_CHARS);
    } else {
      els.counter.hidden = true;
    }
    // Grow the box with its content, up to the CSS max-height.
    els.input.style.height = "auto";
    els.input.style.height = els.input.scrollHeight + 2 + "px";
  }

  /* ---------- start ---------- */

  function onKeyDown(event) {
    if (event.key === "Escape" || event.key === "Esc") {
      if (event.isComposing) return;
      event.preventDefault();
      quickExit();
    }
  }

  function init() {
    els.log = document.getElementById("log");
    els.form = document.getElementById("composer");
    els.input = document.getElementById("message");
    els.send = document.getElementById("send");
    els.counter = document.getElementById("counter");
    els.location = document.getElementById("share-location");
    els.restart = document.getElementById("restart");
    els.exit = document.getElementById("quick-exit");

    els.exit.addEventListener("click", function (event) {
      event.preventDefault();
      quickExit();
    });

    els.form.addEventListener("submit", function (event) {
      event.preventDefault();
      sendText();
    });

    els.input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
        event.preventDefault();
        sendText();
      }
    });
    els.input.addEventListener("input", updateComposer);
    els.location.addEventListener("click", shareLocation);
    els.restart.addEventListener("click", restart);

    // Never show text restored by the browser's form memory.
    els.input.value = "";

    var stored = storageGet(SESSION_KEY);
    if (stored && SESSION_RE.test(stored)) {
      sessionId = stored;
      addNote(TEXT.resumed);
    } else {
      sessionId = pageSession() || newSessionId();
      storageSet(SESSION_KEY, sessionId);
      showWelcome();
    }
    fetchSpareSession();
    updateComposer();
    document.documentElement.classList.add("ready");
  }

  // Registered at once so Esc works even before the page has finished loading.
  document.addEventListener("keydown", onKeyDown, true);

  // Back/forward cache: a page restored from memory must not show an old conversation.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      exiting = true;
      wipeScreen();
      window.location.reload();
    }
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
