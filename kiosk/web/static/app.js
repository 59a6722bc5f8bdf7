/* kiosk web: live updates (server-sent events), panel shortcuts, the counter tablet.
   Plain JavaScript that old Android browsers run; every page also works without it. */
(function () {
  "use strict";

  function listen(url, event, handle) {
    if (!window.EventSource) { return; }
    var es = new EventSource(url);
    es.addEventListener(event, function (e) { handle(JSON.parse(e.data)); });
    return es;
  }
  function $(id) { return document.getElementById(id); }
  function text(id, value) { var el = $(id); if (el) { el.textContent = value; } }

  /* ---- staff panel: forms post in the background, the stream redraws */
  var live = $("live");
  if (live) {
    listen(live.getAttribute("data-events"), "panel", function (d) {
      var focused = document.activeElement && document.activeElement.name;
      var value = focused && document.activeElement.value;
      live.innerHTML = d.html;
      document.body.setAttribute("data-seq", d.seq);
      if (focused) {
        var el = live.querySelector("[name=" + focused + "]");
        if (el) { el.value = value; el.focus(); }
      }
    });
    document.addEventListener("submit", function (e) {
      var form = e.target;
      if (!form.classList || !form.classList.contains("act") || !window.fetch) { return; }
      e.preventDefault();
      fetch(form.action, {method: "POST", body: new FormData(form), credentials: "same-origin",
                          headers: {"Accept": "application/json"}})
        .then(function (r) { return r.json().then(function (b) { return [r.status, b]; }); })
        .then(function (rb) {
          var msg = $("msg"), b = rb[1];
          msg.className = rb[0] === 200 ? "msg" : "msg error";
          if (rb[0] !== 200) { msg.textContent = b.error || "Lỗi"; return; }
          var t = b.ticket, s = b.skipped;
          var words = {next: "Đang gọi", call: "Đang gọi", recall: "Gọi lại", finish: "Đã xong",
                       hold: "Tạm giữ", "return": "Trả lại hàng chờ", transfer: "Đã chuyển",
                       restore: "Khôi phục", open: "Quầy mở", close: "Quầy đóng", skip: "Vắng mặt"};
          msg.textContent = (words[b.action] || "Xong") + (s ? " " + s.code + (t ? "; đang gọi " + t.code : "") : (t ? " " + t.code : (b.action === "next" ? ": không còn ai chờ" : "")));
          if (t && (b.action === "next" || b.action === "call" || b.action === "skip")) { text("current-code", t.code); }
        })
        .catch(function () { form.submit(); });
    });
    document.addEventListener("keydown", function (e) {
      var tag = (e.target.tagName || "").toLowerCase();
      if (tag === "input" || tag === "select" || tag === "textarea" || e.ctrlKey || e.altKey || e.metaKey) { return; }
      var k = e.key && e.key.toLowerCase();
      var btn = live.querySelector("button[data-key='" + k + "']");
      if (btn) { e.preventDefault(); btn.click(); return; }
      var field = live.querySelector("[data-focus='" + k + "']");
      if (field) { e.preventDefault(); field.focus(); }
    });
  }

  /* ---- phone ticket page */
  var ticket = $("ticket");
  if (ticket) {
    listen(ticket.getAttribute("data-events"), "ticket", function (t) {
      ticket.setAttribute("data-status", t.status);
      $("p-state").innerHTML = "";
      $("p-state").appendChild(document.createTextNode(t.text[0] + " "));
      var sm = document.createElement("small"); sm.textContent = t.text[1]; $("p-state").appendChild(sm);
      $("p-wait").hidden = t.status !== "waiting";
      text("p-ahead", t.ahead === null || t.ahead === undefined ? "" : t.ahead);
      text("p-minutes", t.wait_minutes === null || t.wait_minutes === undefined ? "—" : t.wait_minutes);
      var called = t.status === "called" && t.counter;
      $("p-counter").hidden = !called;
      if (called) {
        text("p-counter-name", t.counter.name);
        if (navigator.vibrate) { navigator.vibrate([300, 200, 300]); }
      }
    });
  }

  /* ---- public board */
  var board = $("board");
  if (board) {
    listen(board.getAttribute("data-events"), "board", function (s) {
      var html = "";
      s.counters.forEach(function (c) {
        html += '<div class="counter' + (c.open ? "" : " closed") + '"><div class="cname"></div><div class="num"></div></div>';
      });
      var box = $("b-counters"); box.innerHTML = html;
      s.counters.forEach(function (c, i) {
        box.children[i].children[0].textContent = c.name;
        box.children[i].children[1].textContent = c.current || "—";
      });
      var ol = $("b-recent"); ol.innerHTML = "";
      s.recent.forEach(function (r) {
        var li = document.createElement("li"), b = document.createElement("b");
        b.textContent = r.code; li.appendChild(b);
        li.appendChild(document.createTextNode(" → Quầy " + r.counter)); ol.appendChild(li);
      });
      document.body.setAttribute("data-seq", s.seq);
    });
  }

  /* ---- counter tablet: number, then the rating after each finished citizen */
  var tablet = $("tablet");
  if (tablet) {
    var IDLE_AFTER = 30000, rated = {}, timer = null, pending = null, score = null;
    var lowScores = (tablet.getAttribute("data-reason-scores") || "").split(",").filter(Boolean);
    function show(which) {
      ["serving", "rating", "reasons", "thanks"].forEach(function (id) { $(id).hidden = id !== which; });
      tablet.setAttribute("data-screen", which);
    }
    function idle() { pending = null; score = null; show("serving"); }
    function send(reason) {
      var body = JSON.stringify({code: pending, score: score, reason: reason || ""});
      rated[pending] = true;
      fetch(tablet.getAttribute("data-rate"), {method: "POST", body: body,
            headers: {"Content-Type": "application/json"}})
        .then(function () { show("thanks"); clearTimeout(timer); timer = setTimeout(idle, 4000); })
        .catch(function () { idle(); });
    }
    tablet.addEventListener("click", function (e) {
      var b = e.target.closest ? e.target.closest("button") : e.target;
      if (!b || !pending) { return; }
      if (b.hasAttribute("data-score")) {
        score = parseInt(b.getAttribute("data-score"), 10);
        if (lowScores.indexOf(String(score)) >= 0) { show("reasons"); } else { send(""); }
      } else if (b.hasAttribute("data-reason")) {
        send(b.getAttribute("data-reason"));
      }
    });
    listen(tablet.getAttribute("data-events"), "tablet", function (s) {
      text("t-code", s.current ? s.current.code : "—");
      text("t-service", s.current ? s.current.service_name : "");
      if (s.rate && !rated[s.rate.code] && s.rate.code !== pending) {
        pending = s.rate.code; text("r-code", pending); show("rating");
        clearTimeout(timer); timer = setTimeout(idle, IDLE_AFTER);
      } else if (!pending) { show("serving"); }
    });
  }
})();
