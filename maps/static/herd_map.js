// The herd-count map's time slider, legend and popups (maps/herd_map.py inlines this file).
// Runs with `map`, `groups` (one feature group per population), `cluster` (or null) and
// `opts` defined; reads the data table from the page. Popups are built on click, so a
// period with thousands of cells costs no strings until someone looks.
var data = JSON.parse(document.getElementById("hw-map-data").textContent);
// The page's language: the server puts in the page the translations of every _("…") below
// (extracted by `make messages`), the period labels, count method names and number symbols.
var words = JSON.parse(document.getElementById("hw-map-i18n").textContent);
document.documentElement.lang = words.lang;  // folium's page names no language itself
function _(msgid) {
  return Object.prototype.hasOwnProperty.call(words.messages, msgid) ? words.messages[msgid] : msgid;
}
// A translated message's {name} fields filled with HTML (the message is escaped first).
function fill(text, values) {
  return esc(text).replace(/\{(\w+)\}/g, function (m, k) { return k in values ? values[k] : m; });
}
var CLASSES = [_("adult males"), _("adult females"), _("yearlings"), _("calves"), _("unclassified")];
function esc(s) { return String(s).replace(/[&<>"']/g, function (c) {
  return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]; }); }
// Grouped as Babel groups the server's numbers: "1,234" in English, "1 234" in Russian.
function fmt(n) {
  var parts = String(Math.abs(Number(n))).split(".");
  var whole = parts[0].replace(/\B(?=(\d{3})+(?!\d))/g, words.group);
  return (Number(n) < 0 ? "-" : "") + whole + (parts[1] ? words.decimal + parts[1] : "");
}
function slug(s) { return String(s).toLowerCase().replace(/[^a-z0-9-]/g, "-"); }
function radius(a) {
  return data.max_animals ? Math.max(3, opts.max_radius * Math.sqrt(a / data.max_animals)) : 3; }
function composition(values) {
  var parts = [];
  values.forEach(function (v, k) { if (v) { parts.push(esc(CLASSES[k]) + " " + fmt(v)); } });
  return parts.length ? parts.join(" · ") : esc(_("sex/age not classified"));
}
function calfRatio(calves, females) {
  if (!females) { return ""; }
  return "<br>" + fill(_("calves per 100 adult females: {ratio}"), {ratio: fmt(Math.round(100 * calves / females))}); }
function counted(r) {
  if (data.view === "herds") {
    return "<br>" + fill(_("minimum count {animals} in {herds} herds ({sightings} sightings merged)"), {
      animals: '<span class="hw-popup-animals">' + fmt(r[2]) + "</span>",
      herds: '<span class="hw-popup-herds">' + fmt(r[9]) + "</span>",
      sightings: '<span class="hw-popup-sightings">' + fmt(r[3]) + "</span>"});
  }
  return "<br>" + fill(_("{animals} animals in {sightings} sightings"), {
    animals: '<span class="hw-popup-animals">' + fmt(r[2]) + "</span>",
    sightings: '<span class="hw-popup-sightings">' + fmt(r[3]) + "</span>"});
}
function cellPopup(r, period) {
  var pop = data.populations[r[0]], cell = data.cells[r[1]];
  return '<div class="hw-popup"><b>' + esc(pop.name) + "</b> · " + esc(period) + counted(r) +
    "<br><small>" + fill(_("cell {key}, {km} km × {km} km, EPSG:3576"), {key: esc(cell[2]), km: esc(words.cell_km)}) +
    "</small><br>" + composition(r.slice(4, 9)) + calfRatio(r[7], r[5]) + "</div>";
}
function sightingPopup(s) {
  var pop = data.populations[s[4]];
  var method = words.count_methods[s[10]] || s[10];
  return '<div class="hw-popup"><b>' + esc(pop.name) + "</b> · " + fill(_("{time} local"), {time: esc(s[3])}) +
    "<br>" + fill(_("{count} animals ({method})"), {count: fmt(s[2]), method: esc(method)}) + "<br>" +
    composition(s.slice(5, 10)) + calfRatio(s[8], s[6]) +
    (s[11] ? "<br><small>" + fill(_("survey {id}"), {id: esc(s[11])}) + "</small>" : "") +
    '<div class="hw-photos" data-id="' + esc(s[12]) + '"></div></div>';
}
// Photos are asked for when a popup opens (a served map only: a saved file has no server).
function showPhotos(e) {
  var box = e.popup.getElement() && e.popup.getElement().querySelector(".hw-photos");
  if (!box || box.dataset.loaded || !/^https?:/.test(location.protocol)) { return; }
  box.dataset.loaded = "1";
  fetch("/api/v1/observations/" + box.dataset.id + "/photos", {credentials: "same-origin"})
    .then(function (r) { return r.ok ? r.json() : {photos: []}; })
    .then(function (body) {
      box.innerHTML = body.photos.map(function (p) {
        return '<a href="' + esc(p.href) + '" target="_blank"><img alt="' + esc(p.name) +
          '" src="' + esc(p.thumbnail) + '" width="96"></a>'; }).join(" ");
    }).catch(function () {});
}
map.on("popupopen", showPhotos);
function sightingMarker(s) {
  var pop = data.populations[s[4]];
  var icon = L.divIcon({className: "hw-sighting hw-pop-" + slug(pop.id), iconSize: [12, 12],
    html: '<span style="background:' + pop.colour + '"></span>'});
  return L.marker([s[0], s[1]], {icon: icon}).bindPopup(function () { return sightingPopup(s); });
}
function draw(i) {
  groups.forEach(function (g) { g.clearLayers(); });
  (data.counts[i] || []).forEach(function (r) {
    var pop = data.populations[r[0]], cell = data.cells[r[1]];
    L.circleMarker([cell[0], cell[1]], {radius: radius(r[2]), color: pop.colour, weight: 1,
      fillColor: pop.colour, fillOpacity: 0.55, className: "hw-cell hw-pop-" + slug(pop.id)})
      .bindPopup(function () { return cellPopup(r, words.periods[i]); }).addTo(groups[r[0]]);
  });
  if (cluster) {
    cluster.clearLayers();
    cluster.addLayers((data.sightings[i] || []).map(sightingMarker));
  }
  var text = words.periods[i] || _("no data");
  ["hw-period-label", "hw-legend-period"].forEach(function (id) {
    var el = document.getElementById(id); if (el) { el.textContent = text; } });
  var slider = document.getElementById("hw-period-slider");
  if (slider) { slider.value = i; }
  document.querySelectorAll("#hw-totals tbody tr").forEach(function (tr) {
    var current = Number(tr.dataset.periodIndex) === i;
    tr.classList.toggle("hw-current", current);
    if (current && tr.scrollIntoView) { tr.scrollIntoView({block: "nearest"}); } });
  document.body.dataset.period = data.periods[i] || "";
}
function sizeKey() {
  if (!opts.size_key.length) { return ""; }
  var big = radius(opts.size_key[0]), w = 2 * big + 70, y = 2 * big + 4, svg = "";
  opts.size_key.forEach(function (v, k) {
    var r = radius(v);
    svg += '<circle cx="' + (big + 2) + '" cy="' + (y - r) + '" r="' + r +
      '" fill="none" stroke="#444"/><text x="' + (2 * big + 8) + '" y="' + (y - 2 * r + 4 + k * 2) +
      '" font-size="10">' + fmt(v) + "</text>";
  });
  return '<svg width="' + w + '" height="' + (y + 2) + '">' + svg + "</svg>";
}
var n = data.periods.length;
// Leaflet's zoom buttons carry English titles of their own.
if (map.zoomControl) {
  [[".leaflet-control-zoom-in", _("Zoom in")], [".leaflet-control-zoom-out", _("Zoom out")]]
    .forEach(function (b) {
      var el = map.zoomControl.getContainer().querySelector(b[0]);
      if (el) { el.title = b[1]; el.setAttribute("aria-label", b[1]); } });
}
// No animation: the page opens on the data's extent, and nothing moves under a first click.
map.fitBounds(opts.bounds, {animate: false});
var Legend = L.Control.extend({options: {position: "bottomright"}, onAdd: function () {
  var div = L.DomUtil.create("div", "hw-legend");
  var title = data.view === "herds" ? _("Minimum count per cell (de-duplicated herds)")
    : _("Animals counted per cell");
  var cells = data.view === "herds"
    ? _("{km} km × {km} km equal-area cells (EPSG:3576); circle area ∝ animals, summed over herds of each population's counting survey")
    : _("{km} km × {km} km equal-area cells (EPSG:3576); circle area ∝ animals, summed over raw sightings");
  div.innerHTML = '<div class="hw-legend-title">' + esc(title) + "</div>" +
    "<div>" + esc(words.period_heading) + ': <b id="hw-legend-period"></b></div>' +
    "<div>" + fill(cells, {km: esc(words.cell_km)}) + "</div>" + sizeKey();
  return div;
}});
new Legend().addTo(map);
if (n === 0) {
  var Empty = L.Control.extend({options: {position: "bottomleft"}, onAdd: function () {
    var div = L.DomUtil.create("div", "hw-empty");
    div.textContent = _("No sightings match these filters.");
    return div; }});
  new Empty().addTo(map);
} else {
  var Timeline = L.Control.extend({options: {position: "bottomleft"}, onAdd: function () {
    var div = L.DomUtil.create("div", "hw-timeline");
    div.innerHTML = '<button type="button" id="hw-prev" aria-label="' + esc(_("previous period")) + '">‹</button>' +
      '<input type="range" id="hw-period-slider" aria-label="' + esc(_("period")) + '" min="0" max="' +
      (n - 1) + '" step="1" value="' + opts.start + '">' +
      '<button type="button" id="hw-next" aria-label="' + esc(_("next period")) + '">›</button>' +
      '<output id="hw-period-label"></output>';
    L.DomEvent.disableClickPropagation(div);
    L.DomEvent.disableScrollPropagation(div);
    return div;
  }});
  new Timeline().addTo(map);
  var slider = document.getElementById("hw-period-slider");
  slider.addEventListener("input", function () { draw(Number(slider.value)); });
  document.getElementById("hw-prev").addEventListener("click", function () {
    draw(Math.max(0, Number(slider.value) - 1)); });
  document.getElementById("hw-next").addEventListener("click", function () {
    draw(Math.min(n - 1, Number(slider.value) + 1)); });
  document.querySelectorAll("#hw-totals tbody tr").forEach(function (tr) {
    tr.addEventListener("click", function () { draw(Number(tr.dataset.periodIndex)); }); });
  draw(opts.start);
}
