// Draws the timeline from the JSON data above: one lane per thread, one
// box per run of events, one arrow per event that waited for another
// thread. Text from the recording is only ever set as text (textContent,
// attributes), never parsed as markup.
"use strict";
(function () {
  var data = JSON.parse(document.getElementById("data").textContent);
  var NS = "http://www.w3.org/2000/svg";
  var svg = document.getElementById("timeline");
  var view = document.getElementById("view");
  var detail = document.getElementById("detail-text");
  var LANE_H = 46, BOX_H = 28, LEFT = 96, TOP = 6, RIGHT = 40;
  var lanes = data.lanes, boxes = data.boxes, arrows = data.arrows;
  var unit = 96;

  function el(name, attrs, parent) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }
  function titled(e, text) {
    var t = el("title", {}, e);
    t.textContent = text;
    return e;
  }

  var defs = el("defs", {}, svg);
  ["spawn", "lock", "message"].forEach(function (k) {
    var m = el("marker", { id: "head-" + k, viewBox: "0 0 10 10", refX: "9", refY: "5",
      markerWidth: "7", markerHeight: "7", orient: "auto-start-reverse" }, defs);
    el("path", { d: "M0,0 L10,5 L0,10 z", "class": "head-" + k,
      fill: k === "spawn" ? "#2a8a2a" : k === "lock" ? "#c0392b" : "#1f5fbf" }, m);
  });

  var laneGroups = lanes.map(function (lane, i) {
    var g = el("g", { "class": "lane", "data-thread": String(lane.thread) }, svg);
    g.bg = el("rect", { "class": "lane-bg", x: 0, y: TOP + i * LANE_H, height: LANE_H }, g);
    var name = el("text", { "class": "lane-name", x: 6, y: TOP + i * LANE_H + LANE_H / 2 + 4 }, g);
    name.textContent = "thread " + lane.thread;
    return g;
  });

  function show(text, keep) {
    if (keep || !detail.kept) detail.textContent = text;
    if (keep) detail.kept = true;
  }

  var chosen = null;
  var shapes = boxes.map(function (b, i) {
    var cls = "box " + b.k + (b.v ? " diverged" : "");
    var r = el("rect", { "class": cls, rx: 3, "data-box": String(i), "data-name": b.a,
      "data-calls": String(b.n), "data-kind": b.k }, laneGroups[b.l]);
    var span = b.a === b.z ? b.a : b.a + " … " + b.z;
    var text = span + "  " + b.t + (b.d ? "\n" + b.d : "");
    titled(r, span + "  " + b.t);
    r.addEventListener("mouseenter", function () { show(text, false); });
    r.addEventListener("click", function () {
      if (chosen) chosen.classList.remove("chosen");
      chosen = r; r.classList.add("chosen");
      show(text, true);
    });
    var label = el("text", { "class": "label" }, laneGroups[b.l]);
    label.textContent = b.t;
    return { rect: r, label: label, box: b };
  });

  var paths = arrows.map(function (a) {
    var p = el("path", { "class": "arrow " + a.k, "data-kind": a.k, "data-from": a.a,
      "data-to": a.b, "marker-end": "url(#head-" + a.k + ")" }, svg);
    var text = a.a + " → " + a.b + ": " + a.d;
    titled(p, text);
    p.addEventListener("mouseenter", function () { show(text, false); });
    p.addEventListener("click", function () { show(text, true); });
    return { path: p, arrow: a };
  });

  var marked = boxes.findIndex(function (b) { return b.v; });
  var line = marked >= 0 ? el("line", { "class": "divergence-line" }, svg) : null;

  function boxX(b) { return LEFT + b.x * unit; }
  function boxW() { return Math.max(2, unit * 0.82); }
  function boxY(b) { return TOP + b.l * LANE_H + (LANE_H - BOX_H) / 2; }

  function layout() {
    var width = LEFT + data.width * unit + RIGHT;
    var height = TOP * 2 + lanes.length * LANE_H;
    svg.setAttribute("width", width);
    svg.setAttribute("height", height);
    laneGroups.forEach(function (g) { g.bg.setAttribute("width", width); });
    var w = boxW(), labels = unit >= 34, chars = Math.floor((w - 6) / 6.2);
    shapes.forEach(function (s) {
      var b = s.box, x = boxX(b), y = boxY(b);
      s.rect.setAttribute("x", x); s.rect.setAttribute("y", y);
      s.rect.setAttribute("width", w); s.rect.setAttribute("height", BOX_H);
      s.label.setAttribute("x", x + 3); s.label.setAttribute("y", y + BOX_H / 2 + 4);
      s.label.style.display = labels ? "" : "none";
      s.label.textContent = b.t.length > chars ? b.t.slice(0, Math.max(1, chars - 1)) + "…" : b.t;
    });
    paths.forEach(function (p) {
      var f = boxes[p.arrow.f], t = boxes[p.arrow.t];
      var x1 = boxX(f) + w, y1 = boxY(f) + BOX_H / 2;
      var x2 = boxX(t), y2 = boxY(t) + BOX_H / 2;
      var bend = Math.max(12, (x2 - x1) / 2);
      p.path.setAttribute("d", "M" + x1 + "," + y1 + " C" + (x1 + bend) + "," + y1 + " " +
        (x2 - bend) + "," + y2 + " " + x2 + "," + y2);
    });
    if (line) {
      var x = boxX(boxes[marked]) + w / 2;
      line.setAttribute("x1", x); line.setAttribute("x2", x);
      line.setAttribute("y1", 0); line.setAttribute("y2", height);
    }
  }

  function zoom(factor, anchor) {
    var before = (view.scrollLeft + anchor - LEFT) / unit;
    unit = Math.min(400, Math.max(0.5, unit * factor));
    layout();
    view.scrollLeft = before * unit + LEFT - anchor;
  }
  document.getElementById("zoom-in").addEventListener("click", function () { zoom(1.5, view.clientWidth / 2); });
  document.getElementById("zoom-out").addEventListener("click", function () { zoom(1 / 1.5, view.clientWidth / 2); });
  document.getElementById("zoom-fit").addEventListener("click", function () {
    unit = Math.max(0.5, (view.clientWidth - LEFT - RIGHT) / data.width);
    layout();
  });
  view.addEventListener("wheel", function (e) {
    if (!e.ctrlKey) return;
    e.preventDefault();
    zoom(e.deltaY < 0 ? 1.25 : 0.8, e.clientX - view.getBoundingClientRect().left);
  }, { passive: false });

  // Fit the whole recording when its labels stay readable.
  unit = Math.min(96, Math.max(40, (view.clientWidth - LEFT - RIGHT) / data.width));
  layout();
  var calls = boxes.reduce(function (n, b) { return n + b.n; }, 0);
  var status = document.getElementById("status");
  status.textContent = "Drawn: " + lanes.length + " lane(s), " + boxes.length + " box(es) holding " +
    calls + " call(s), " + arrows.length + " arrow(s). Zoom: ctrl+wheel or the buttons.";
  status.setAttribute("data-drawn", "yes");
  if (marked >= 0) {
    show(boxes[marked].a + "  " + boxes[marked].t + "\n" + boxes[marked].d, true);
    view.scrollLeft = Math.max(0, boxX(boxes[marked]) - view.clientWidth / 2);
  }
})();
