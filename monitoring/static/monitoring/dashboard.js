// Governor dashboard: one socket to /ws/admin/feed/, resumed by cursor after any drop, applying each event
// to the seat cards, account gauges and the feed without a reload. Loaded as an external file (the
// Content-Security-Policy allows no inline script); everything else on the page works without it.
(function () {
  "use strict";
  var root = document.getElementById("governor-live");
  if (!root) { return; }
  var zone = root.dataset.tz || "UTC";
  var cursor = parseCursor(root.dataset.cursor || "");
  var seen = new Set();
  var status = document.getElementById("live-status");
  var feed = document.getElementById("feed");
  var filters = document.getElementById("feed-filters");
  var delay = 500;
  var MAX_ROWS = 300;
  var SETTING_SCOPES = {accounts: "Account polling settings", alerts: "Alert settings"};  // feed.py
  var clock = new Intl.DateTimeFormat([], {timeZone: zone, hour: "2-digit", minute: "2-digit", second: "2-digit",
    hour12: false});
  var hourOfDay = new Intl.DateTimeFormat("en-GB", {timeZone: zone, hour: "2-digit", hourCycle: "h23"});

  function parseCursor(text) {
    var ids = {e: 0, s: 0, u: 0};
    text.split(".").forEach(function (part) {
      if (part && ids.hasOwnProperty(part[0])) { ids[part[0]] = parseInt(part.slice(1), 10) || 0; }
    });
    return ids;
  }
  function cursorText() { return "e" + cursor.e + ".s" + cursor.s + ".u" + cursor.u; }
  function setStatus(text, offline) {
    if (!status) { return; }
    status.textContent = text;
    status.classList.toggle("offline", !!offline);
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var url = scheme + location.host + root.dataset.socket + "?since=" + cursorText();
    var socket = new WebSocket(url);
    socket.addEventListener("open", function () { delay = 500; setStatus("Live"); });
    socket.addEventListener("message", function (event) { receive(JSON.parse(event.data)); });
    socket.addEventListener("close", function (event) {
      if (event.code === 4403) { setStatus("The live feed needs a fresh sign-in: reload the page.", true); return; }
      setStatus("Reconnecting…", true);
      var wait = Math.min(delay, 30000) * (0.8 + Math.random() * 0.4);
      delay = Math.min(delay * 2, 30000);
      window.setTimeout(connect, wait);
    });
  }

  function receive(message) {
    if (message.type === "connected" || message.type === "backfill_done") { return; }
    if (message.type === "backfill_truncated") { location.reload(); return; }
    var key = message.stream + message.id;
    if (!message.stream || seen.has(key)) { return; }
    seen.add(key);
    if (message.id > cursor[message.stream]) { cursor[message.stream] = message.id; }
    apply(message);
    addRow(message);
  }

  function seatCard(id) { return id ? document.querySelector('.card.seat[data-seat="' + id + '"]') : null; }
  function accountCard(id) { return id ? document.querySelector('.card.account[data-account="' + id + '"]') : null; }

  function setMeter(bar, used, limit) {
    var fill = bar.querySelector("svg .fill");
    if (!fill) { return; }
    var share = limit > 0 ? Math.min(used / limit, 1) : 0;
    fill.setAttribute("width", (share * 100).toFixed(1));
    fill.setAttribute("class", "fill " + (share >= 1 ? "over" : share >= 0.8 ? "high" : "ok"));
  }

  function apply(m) {
    var card;
    if (m.type === "user_counted" && (card = seatCard(m.userId))) {
      card.querySelectorAll(".bar").forEach(function (bar) {
        var family = bar.dataset.family;
        var step = family === "credits" ? (m.creditCost || 0) : (family === "" || family === m.model ? 1 : 0);
        if (!step) { return; }
        var used = bar.querySelector('[data-role="used"]');
        var value = parseInt(used.textContent, 10) + step;
        used.textContent = value;
        setMeter(bar, value, parseInt(bar.dataset.limit, 10));
      });
      var last = card.querySelector('[data-role="last-seen"]');
      if (last) { last.textContent = "just now"; }
      addToToday(card, m);
      refreshCredits(m.userId);
    } else if ((m.type === "user_status_change" || m.type === "user_killed") && (card = seatCard(m.userId))) {
      var badge = card.querySelector('[data-role="status"]');
      badge.textContent = m.newStatus;
      badge.className = "badge status-" + m.newStatus;
    } else if (m.type === "poll.result" && (card = accountCard(m.accountId))) {
      var levels = (m.data && m.data.utilization) || {};
      card.querySelectorAll(".gauge").forEach(function (gauge) {
        var value = levels[gauge.dataset.limitType];
        if (value === undefined) { return; }
        gauge.querySelector('[data-role="pct"]').textContent = value === null ? "?" : value;
        setMeter(gauge, value || 0, 100);
      });
      if (m.data && m.data.outcome === "ok") {
        var updated = card.querySelector('[data-role="updated"]');
        if (updated) { updated.dataset.at = m.timestamp; updated.textContent = "just now"; }
      }
    } else if (m.type === "credential.state" && (card = accountCard(m.accountId))) {
      card.querySelector('[data-role="dot"]').className = "dot state-" + m.data.after;
      card.querySelector('[data-role="state"]').textContent = m.data.after;
      if (m.data.after !== "ok" && m.data.after !== "new") {
        // A failed poll makes the numbers on the card stale: they stay, their forecast does not.
        card.querySelectorAll('[data-role="forecast"]').forEach(function (forecast) {
          forecast.textContent = "not forecast: numbers are stale";
        });
      }
    }
  }

  // Credits left are the budget minus what was counted minus the seat's open holds, which no live message
  // carries: after a counted turn the page re-reads the card the server renders and takes its figure. One
  // request per seat at a time; turns counted meanwhile ask for one more read once it is back.
  var refreshing = {};
  function refreshCredits(seatId) {
    var card = seatCard(seatId);
    if (!card || !card.dataset.card) { return; }
    if (refreshing[seatId]) { refreshing[seatId] = "again"; return; }
    refreshing[seatId] = "busy";
    function done() {
      var again = refreshing[seatId] === "again";
      delete refreshing[seatId];
      if (again) { refreshCredits(seatId); }
    }
    fetch(card.dataset.card, {credentials: "same-origin", headers: {Accept: "text/html"}}).then(function (response) {
      if (!response.ok) { throw new Error("card " + response.status); }
      return response.text();
    }).then(function (html) {
      var fragment = document.createElement("template");
      fragment.innerHTML = html;
      var fresh = fragment.content.querySelector('[data-role="credits"]');
      var shown = seatCard(seatId) && seatCard(seatId).querySelector('[data-role="credits"]');
      if (fresh && shown && shown.textContent !== fresh.textContent) { shown.textContent = fresh.textContent; }
    }).then(done, done);  // a failed read leaves the figure as it was; the next turn tries again
  }

  // Today's turns per family and the hourly sparkline, as monitoring/charts.py:sparkline draws it.
  function addToToday(card, m) {
    var today = card.querySelector('[data-role="today"]');
    if (today) {
      var counts = {}, order = [];
      (today.dataset.counts || "").split(";").forEach(function (pair) {
        var parts = pair.split("=");
        if (parts.length === 2) { counts[parts[0]] = parseInt(parts[1], 10) || 0; order.push(parts[0]); }
      });
      if (!counts.hasOwnProperty(m.model)) { counts[m.model] = 0; order.push(m.model); }
      counts[m.model] += 1;
      today.dataset.counts = order.map(function (f) { return f + "=" + counts[f]; }).join(";");
      today.textContent = order.map(function (f) { return f + " " + counts[f]; }).join(", ");
    }
    var spark = card.querySelector('[data-role="spark"]');
    var line = spark && spark.querySelector("polyline");
    if (!line) { return; }
    var hourly = spark.dataset.hourly.split(",").map(Number);
    hourly[parseInt(hourOfDay.format(new Date(m.timestamp)), 10) % 24] += 1;
    spark.dataset.hourly = hourly.join(",");
    var top = Math.max.apply(null, hourly) || 1, step = 120 / (hourly.length - 1);
    line.setAttribute("points", hourly.map(function (v, i) {
      return (i * step).toFixed(1) + "," + (24 - 1 - (v / top) * (24 - 2)).toFixed(1);
    }).join(" "));
  }

  function describe(m) {
    var d = m.data || {}, who = m.userName || "", by = m.actor ? " by " + m.actor : "";
    switch (m.type) {
      case "user_check": return who + ": prompt (" + m.model + ") in " + (m.projectDir || "?");
      case "user_blocked": return who + ": blocked (" + m.model + "): " + (m.reason || "");
      case "user_counted": return who + ": turn counted (" + m.model + ", " + m.creditCost + " credits)";
      case "user_status": return who + ": session started (" + m.model + ")" + (m.hostname ? " on " + m.hostname : "");
      case "user_status_change": case "user_killed": return who + ": " + m.oldStatus + " → " + m.newStatus + by;
      case "rule.changed": return "Rule of " + (d.owner || "?") + ": " + (d.before || "(none)") + " → " +
        (d.after || "(deleted)") + by;
      case "setting.changed": return (SETTING_SCOPES[d.scope] || "Team settings") + ": " +
        Object.keys(d.changes || {}).map(function (k) {
        return k + ": " + d.changes[k][0] + " → " + d.changes[k][1]; }).join(", ") + by;
      case "install_code.issued": return "Install code issued for " + (d.seat || "?") + by;
      case "token.revoked": return "Hook token #" + d.token + (d.rotated ? " rotated" : " revoked") + by;
      case "poll.result":
        var levels = Object.keys(d.utilization || {}).map(function (k) {
          var v = d.utilization[k]; return k + " " + (v === null ? "?" : v + "%"); }).join(", ");
        return (d.label || "?") + ": poll " + d.outcome + (levels ? ": " + levels : d.error ? ": " + d.error : "");
      case "credential.state": return (d.label || "?") + ": credential " + d.before + " → " + d.after;
      case "window.reset": return (d.label || "?") + ": " + d.limit_type + " window " + d.kind;
      case "seat.blocked": return blockedLine(d, m.timestamp);
      case "seat.credits": return creditsLine(d);
      case "alert.fired": return firedLine(d, m.timestamp);
      case "alert.delivered": var sent = titlesText(d.titles || []);
        return "Alert sent to #" + (d.channel || "?") + (sent ? ": " + sent : "");
      case "alert.failed": return "Alert to #" + (d.channel || "?") + " failed: " + (d.error || "unknown error");
      default: return m.type + by + (d.summary || d.title ? ": " + (d.summary || d.title) : "");
    }
  }

  // The limiter's and the alerts app's events, as monitoring/feed.py words them.
  var UNITS = {daily: "day", day: "day", weekly: "week", monthly: "month", sliding_24h: "24 h"};
  var BUDGETS = {daily: "daily", weekly: "weekly", monthly: "monthly", sliding_24h: "24-hour"};
  var hhmm = new Intl.DateTimeFormat("en-GB", {timeZone: zone, hour: "2-digit", minute: "2-digit", hourCycle: "h23"});
  var ymd = new Intl.DateTimeFormat("en-CA", {timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit"});
  function local(iso, since) {
    var moment = new Date(iso);
    var near = moment - new Date(since) < 86400000;
    return (near ? "" : ymd.format(moment) + " ") + hhmm.format(moment) + " " + zone;
  }
  function blockedLine(d, at) {
    var unit = UNITS[d.window] || d.window || "", what;
    if (d.cause === "per_model" && d.limit != null) { what = (d.family || "all models") + " " + d.limit + "/" + unit + " reached"; }
    else if (d.cause === "credits" && d.limit != null) { what = d.limit + " credits/" + unit + " reached"; }
    else { what = (String(d.reason || "").trim().split("\n")[0] || "").replace(/\.+$/, "") || d.cause || "blocked"; }
    return (d.seat || "?") + " blocked: " + what + (d.resets_at ? " (resets " + local(d.resets_at, at) + ")" : "");
  }
  function creditsLine(d) {
    var used = parseInt(d.used, 10) || 0, budget = parseInt(d.budget, 10) || 0;
    var step = budget > 0 ? Math.floor(Math.floor(used * 100 / budget) / 5) * 5 : 0;
    return (d.seat || "?") + " used " + step + "% of the " + (BUDGETS[d.window] || d.window || "") +
      " credit budget (" + used + "/" + budget + ")";
  }
  function titlesText(titles) {
    return titles.length ? titles[0] + (titles.length > 1 ? " (+" + (titles.length - 1) + " more)" : "") : "";
  }
  function firedLine(d, at) {
    var alerts = d.alerts || [], silenced = d.silenced || [], channels = new Set(), quiet = new Set();
    var titles = alerts.length ? alerts.map(function (a) { return a.title || ""; })
      : silenced.map(function (s) { return s.title || ""; });
    alerts.forEach(function (a) { (a.channels || []).forEach(function (c) { channels.add(c); }); });
    silenced.forEach(function (s) { quiet.add(s.channel); });
    var line = titles.length ? "Alert fired: " + titlesText(titles) : "Alert fired";
    if (channels.size) { line += ", to " + channels.size + " channel" + (channels.size > 1 ? "s" : ""); }
    if (d.deferred_until) { line += ", held for quiet hours until " + local(d.deferred_until, at); }
    if (quiet.size) { line += ", silenced on " + quiet.size; }
    return line;
  }

  function addRow(m) {
    if (!feed) { return; }
    var empty = feed.querySelector(".feed-empty");
    if (empty) { empty.remove(); }
    var row = document.createElement("li");
    row.dataset.kind = m.type;
    row.dataset.seat = m.seatId || "";
    row.dataset.account = m.accountId == null ? "" : String(m.accountId);
    row.dataset.key = m.stream + m.id;
    row.className = "fresh";
    var time = document.createElement("time");
    time.dateTime = m.timestamp;
    time.textContent = clock.format(new Date(m.timestamp));
    var kind = document.createElement("span");
    kind.className = "kind kind-" + m.type.replace(/[^a-z_-]/gi, "");
    kind.textContent = m.type;
    row.append(time, " ", kind, " ", describe(m));
    feed.prepend(row);
    filterRow(row);
    while (feed.children.length > MAX_ROWS) { feed.lastElementChild.remove(); }
    window.setTimeout(function () { row.classList.remove("fresh"); }, 4000);
  }

  function filterRow(row) {
    if (!filters) { return; }
    var seat = filters.elements.seat.value, account = filters.elements.account.value, kind = filters.elements.kind.value;
    row.hidden = (seat && row.dataset.seat !== seat) || (account && row.dataset.account !== account) ||
      (kind && row.dataset.kind !== kind);
  }
  if (filters) {
    filters.addEventListener("change", function () { feed.querySelectorAll("li[data-key]").forEach(filterRow); });
  }
  if (feed) { feed.querySelectorAll("li[data-key]").forEach(function (row) { seen.add(row.dataset.key); }); }

  // "updated 3 min ago" and reset countdowns move on their own.
  function tick() {
    var now = Date.now();
    document.querySelectorAll('[data-role="updated"][data-at]').forEach(function (el) {
      if (!el.dataset.at) { return; }
      var minutes = Math.floor((now - Date.parse(el.dataset.at)) / 60000);
      el.textContent = minutes < 1 ? "just now" : minutes < 120 ? minutes + " min ago" :
        Math.floor(minutes / 60) + " h ago";
    });
    document.querySelectorAll("[data-resets]").forEach(function (el) {
      var left = Math.floor((Date.parse(el.dataset.resets) - now) / 60000);
      if (isNaN(left)) { return; }
      el.textContent = left <= 0 ? "now" : left >= 1440 ? Math.floor(left / 1440) + " d " +
        Math.floor(left % 1440 / 60) + " h" : left >= 60 ? Math.floor(left / 60) + " h " + left % 60 + " min" :
        left + " min";
    });
  }
  window.setInterval(tick, 30000);
  if (root.dataset.cursor) { connect(); }
}());
