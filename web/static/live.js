// live.js: the live view's updates (web/live.go says why this way). On
// a page with a board, it opens the stream; on each message, it has htmx
// fetch the board again (a burst of messages is one fetch); each second,
// the board's counters count on from their value when it was drawn.
(function () {
  "use strict";
  var stream = null, timer = null, pending = null, drawn = 0;
  function board() { return document.querySelector("[data-live-board]"); }
  function words(secs) {
    var h = Math.floor(secs / 3600), m = Math.floor(secs / 60) % 60, s = secs % 60;
    var two = function (n) { return (n < 10 ? "0" : "") + n; };
    if (h > 0) return h + " h " + two(m) + " min";
    if (m > 0) return m + " min " + two(s) + " s";
    return s + " s";
  }
  function tick() {
    var gone = Math.floor((performance.now() - drawn) / 1000);
    document.querySelectorAll("[data-secs]").forEach(function (el) {
      el.textContent = words(parseInt(el.dataset.secs, 10) + gone);
    });
  }
  // While a new board is due, the board says so (data-live-pending), for
  // whoever waits for it to be still.
  function refresh() {
    clearTimeout(pending);
    var b = board();
    if (b) b.dataset.livePending = "1";
    pending = setTimeout(function () {
      var b = board();
      if (b && window.htmx) htmx.trigger(b, "sb-live");
    }, 200);
  }
  function sync() {
    var b = board();
    if (b) drawn = performance.now();
    if (b && !stream) {
      stream = new EventSource(b.dataset.liveBoard);
      ["snapshot", "call", "agent", "summary"].forEach(function (kind) {
        stream.addEventListener(kind, refresh);
      });
      // EventSource reconnects by itself after a cut, but not after a
      // refusal (the live view starting, a server restarting): try again
      // a little later, from where the board is.
      stream.onerror = function () {
        if (stream && stream.readyState === EventSource.CLOSED) {
          stream = null;
          clearInterval(timer);
          setTimeout(sync, 5000);
        }
      };
      timer = setInterval(tick, 1000);
    } else if (!b && stream) {
      stream.close();
      clearInterval(timer);
      stream = null;
    }
  }
  document.addEventListener("DOMContentLoaded", sync);
  document.addEventListener("htmx:afterSettle", sync);
})();
