// Herdwatch Field: sign-in, the sighting form, today's list, the status line, export.
// Every record is written to IndexedDB (db.js) before the form clears; sync.js sends it.
import { openDb } from "./db.js";
import { Outbox, needsSending, photoWaiting } from "./sync.js";

const config = JSON.parse(document.getElementById("field-config").textContent);
const CLASSES = ["adult_males", "adult_females", "yearlings", "calves", "unclassified"];
const $ = (id) => document.getElementById(id);
const catalogues = {};
let lang = "en";
let store, outbox, current = null, editing = null, modeBeforeEdit = "gps";
let note = null; // the form's last message as [key, values, is it an error], re-rendered on a language switch

function say(key, values = {}, error = true) {
  note = key ? [key, values, error] : null;
  const el = $("form-error");
  el.textContent = key ? t(key, values) : "";
  el.className = error ? "error" : "note";
}

// ---- language -----------------------------------------------------------------------
async function loadCatalogues() {
  for (const code of config.languages) { // the server's catalogue languages (field.html)
    const response = await fetch(`/field/app/messages-${code}.json?v=${config.version}`);
    catalogues[code] = await response.json();
  }
}

function t(key, values = {}) {
  const text = (catalogues[lang] && catalogues[lang][key]) || catalogues.en[key] || key;
  return text.replace(/\{(\w+)\}/g, (_, k) => (k in values ? values[k] : `{${k}}`));
}

const number = (n, digits) => new Intl.NumberFormat(lang, { maximumFractionDigits: digits }).format(n);
const timeOf = (ms) => new Intl.DateTimeFormat(lang, { timeStyle: "short" }).format(new Date(ms));

function translatePage() {
  document.documentElement.lang = lang;
  document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
  document.querySelectorAll(".tally button").forEach((b) => {
    b.setAttribute("aria-label", `${t("c." + b.dataset.class)} ${b.textContent}`);
  });
  coordLabels();
  $("lang").value = lang;
  if (note) say(...note);
}

async function chooseLanguage(code) {
  lang = code;
  await store.setMeta("lang", code);
  translatePage();
  await refresh();
}

// ---- sign-in ------------------------------------------------------------------------
async function signIn(event) {
  event.preventDefault();
  const token = $("token").value.trim();
  $("signin-error").textContent = "";
  let response;
  try {
    response = await fetch("/api/v1/me", { headers: { Authorization: `Bearer ${token}` }, cache: "no-store" });
  } catch (_) {
    $("signin-error").textContent = t("signin.offline");
    return;
  }
  if (!response.ok) { $("signin-error").textContent = t("signin.bad"); return; }
  const me = await response.json();
  if (!["observer", "admin"].includes(me.role)) {
    $("signin-error").textContent = t("signin.role", { role: me.role });
    return;
  }
  await store.put([["observers", { name: me.name, role: me.role, token }], ["meta", { key: "current", value: me.name }]]);
  $("token").value = "";
  await showSession();
  outbox.kick();
}

async function signOut() {
  const unsent = (await store.all("records", "observer", current.name)).filter((r) => r.state !== "sent").length;
  if (unsent && !window.confirm(t("signout.confirm", { n: unsent }))) return;
  await store.put([["observers", { ...current, token: null }], ["meta", { key: "current", value: null }]]);
  await showSession();
}

async function showSession() {
  const name = await store.meta("current", null);
  const observer = name ? await store.get("observers", name) : null;
  current = observer && observer.token ? observer : null;
  $("signin").hidden = !!current;
  $("recorder").hidden = !current;
  $("sign-out").hidden = $("export").hidden = !current;
  $("who").textContent = current ? current.name : "";
  await refresh();
}

// ---- the form -----------------------------------------------------------------------
function intValue(id) {
  const raw = $(id).value.trim();
  if (raw === "") return null;
  const n = Number(raw);
  return Number.isInteger(n) ? n : NaN;
}

function coordLabels() {
  const mode = $("coords").value;
  const projected = mode !== "gps" && mode !== "EPSG:4326";
  document.querySelectorAll(".manual").forEach((el) => { el.hidden = mode === "gps"; });
  $("x-label").textContent = t(projected ? "f.easting" : "f.lon");
  $("y-label").textContent = t(projected ? "f.northing" : "f.lat");
}

// The server's rules, checked before saving: a saved record is accepted later.
function formProblems() {
  const problems = [];
  if (!$("population").value) problems.push(t("err.population"));
  const count = intValue("count");
  if (count === null || Number.isNaN(count) || count < 0 || count > 1000000) problems.push(t("err.count"));
  let sum = 0;
  for (const c of CLASSES) {
    const v = intValue(c);
    if (v !== null && (Number.isNaN(v) || v < 0)) problems.push(t("err.class", { name: t("c." + c) }));
    else sum += v || 0;
  }
  if (count !== null && !Number.isNaN(count) && sum > count) problems.push(t("err.composition", { sum, count }));
  const mode = $("coords").value;
  if (mode !== "gps") {
    const x = parseFloat($("x").value), y = parseFloat($("y").value);
    if (!Number.isFinite(x) || !Number.isFinite(y)) problems.push(t("err.position"));
    else if (mode === "EPSG:4326" && (Math.abs(x) > 180 || Math.abs(y) > 90)) problems.push(t("err.lonlat"));
  }
  for (const f of $("photos").files) {
    if (!["image/jpeg", "image/png"].includes(f.type)) problems.push(t("err.photo", { name: f.name }));
  }
  return problems;
}

function gpsFix() {
  return new Promise((resolve) => {
    if (!navigator.geolocation) { resolve(null); return; }
    navigator.geolocation.getCurrentPosition(
      (p) => resolve(p.coords),
      () => resolve(null),
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 0 },
    );
  });
}

// Local time with the tablet's offset, e.g. 2026-03-01T10:15:00.000+09:00.
function localIso(date) {
  const pad = (n, w = 2) => String(Math.abs(n)).padStart(w, "0");
  const off = -date.getTimezoneOffset();
  const sign = off >= 0 ? "+" : "-";
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}` +
    `${sign}${pad(Math.floor(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`;
}

function formProperties() {
  const composition = {};
  for (const c of CLASSES) { const v = intValue(c); if (v !== null) composition[c] = v; }
  const text = (id) => $(id).value.trim() || null;
  return {
    count: intValue("count"),
    composition,
    count_method: $("count_method").value,
    survey_id: text("survey_id"),
    population: $("population").value,
    behaviour: text("behaviour"),
    notes: text("notes"),
  };
}

async function position() {
  const mode = $("coords").value;
  if (mode !== "gps") {
    const point = [parseFloat($("x").value), parseFloat($("y").value)];
    return { point, crs: mode === "EPSG:4326" ? null : mode, accuracy: null };
  }
  $("gps").textContent = t("gps.waiting");
  const fix = await gpsFix();
  if (!fix) { $("gps").textContent = t("gps.none"); return null; }
  $("gps").textContent = t("gps.fix", { lon: number(fix.longitude, 5), lat: number(fix.latitude, 5), acc: number(fix.accuracy, 0) });
  return { point: [fix.longitude, fix.latitude], crs: null, accuracy: fix.accuracy };
}

async function hex(buffer) {
  const digest = await crypto.subtle.digest("SHA-256", buffer);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function photoName(file, taken) {
  const base = (file.name || "photo.jpg").replace(/[^A-Za-z0-9._-]/g, "_").replace(/^[._-]+/, "").slice(0, 90) || "photo.jpg";
  let name = base, k = 2;
  while (taken.has(name)) name = `${k++}-${base}`;
  taken.add(name);
  return name;
}

async function photoRows(rec) {
  const rows = [], taken = new Set(rec.photos);
  for (const file of $("photos").files) {
    const buffer = await file.arrayBuffer();
    const name = photoName(file, taken);
    rows.push(["photos", {
      key: `${rec.id}/${name}`, recordId: rec.id, observer: rec.observer, name,
      type: file.type, size: file.size, sha256: await hex(buffer),
      blob: new Blob([buffer], { type: file.type }), state: "waiting", sentBytes: 0,
    }]);
    rec.photos.push(name);
  }
  return rows;
}

async function save(event) {
  event.preventDefault();
  const problems = formProblems();
  $("form-error").className = "error";
  $("form-error").textContent = problems.join(" ");
  note = null;
  if (problems.length) return;
  const where = await position();
  if (!where) { say("gps.none"); return; }
  if (editing) {
    if (!(await saveEdit(where))) return;
  } else {
    const rec = newRecord(where);
    await store.put([["records", rec], ...(await photoRows(rec))]); // on disk before the form clears
  }
  clearForm();
  say("saved", {}, false);
  await refresh();
  outbox.kick();
}

function newRecord(where) {
  const now = new Date();
  const id = crypto.randomUUID();
  const properties = {
    observed_at: localIso(now),
    timezone: Intl.DateTimeFormat().resolvedOptions().timeZone,
    ...formProperties(),
    accuracy_m: where.accuracy,
    device_id: deviceId,
  };
  return {
    id, observer: current.name, savedAt: now.getTime(), localDate: localIso(now).slice(0, 10),
    feature: { type: "Feature", id, geometry: { type: "Point", coordinates: where.point }, properties },
    crs: where.crs, state: "waiting", attempted: false, revision: null, edit: null, reason: null, photos: [],
  };
}

// An edit keeps the id. Content never sent (or refused) is simply replaced; content the
// server may hold is changed by a PATCH on the revision it has, so it is never a conflict.
// The record is changed in one transaction with what the outbox may have written meanwhile.
async function saveEdit(where) {
  const properties = formProperties();
  const fresh = await store.get("records", editing.id);
  const photos = await photoRows(fresh);
  const names = fresh.photos;
  let refused = false;
  await store.update("records", editing.id, (rec) => {
    const held = !!rec.revision || (rec.attempted && rec.state !== "aside");
    if (held && where.crs && where.crs !== rec.crs) { refused = true; return false; }
    applyEdit(rec, where, properties, held);
    rec.photos = names;
  });
  if (refused) { say("err.projected_edit"); return false; }
  if (photos.length) await store.put(photos);
  return true;
}

function applyEdit(rec, where, properties, held) {
  if (!held) {
    Object.assign(rec.feature.properties, properties, where.accuracy !== null ? { accuracy_m: where.accuracy } : {});
    rec.feature.geometry.coordinates = where.point;
    rec.crs = where.crs;
    rec.attempted = false;
  } else {
    const edit = rec.edit || { base: rec.revision, properties: {}, seq: 0 };
    Object.assign(edit.properties, properties);
    if (!where.crs) edit.geometry = { type: "Point", coordinates: where.point };
    edit.seq += 1;
    rec.edit = edit;
  }
  rec.state = "waiting";
  rec.reason = null;
}

function clearForm() {
  // After an edit, back to the way of positioning used before it (usually GPS at Save).
  const coords = editing ? modeBeforeEdit : $("coords").value;
  const keep = { population: $("population").value, count_method: $("count_method").value, survey_id: $("survey_id").value, coords };
  $("sighting").reset();
  Object.entries(keep).forEach(([id, v]) => { $(id).value = v; });
  coordLabels();
  editing = null;
  $("cancel-edit").hidden = true;
}

function shown(rec) {
  const p = { ...rec.feature.properties, ...(rec.edit ? rec.edit.properties : {}) };
  const geometry = rec.edit && rec.edit.geometry ? rec.edit.geometry : rec.feature.geometry;
  return { p, point: geometry.coordinates };
}

async function editLast() {
  const records = (await store.all("records", "observer", current.name)).sort((a, b) => b.savedAt - a.savedAt);
  if (!records.length) { say("nothing.to.edit"); return; }
  if (!editing) modeBeforeEdit = $("coords").value;
  editing = records[0];
  const { p, point } = shown(editing);
  for (const id of ["population", "count_method", "survey_id", "behaviour", "notes", "count"]) $(id).value = p[id] ?? "";
  for (const c of CLASSES) $(c).value = p.composition && p.composition[c] !== undefined ? p.composition[c] : "";
  $("coords").value = editing.crs || "EPSG:4326";
  $("x").value = point[0];
  $("y").value = point[1];
  coordLabels();
  $("cancel-edit").hidden = false;
  say("editing", { time: timeOf(editing.savedAt) }, false);
}

function tally(event) {
  const button = event.target.closest("button[data-step]");
  if (!button) return;
  const input = $(button.dataset.class);
  input.value = Math.max(0, (intValue(button.dataset.class) || 0) + Number(button.dataset.step));
}

// ---- list and status ----------------------------------------------------------------
async function refresh() {
  if (!store) return;
  const mine = current ? await store.all("records", "observer", current.name) : [];
  const photos = current ? await store.all("photos", "observer", current.name) : [];
  const waiting = mine.filter(needsSending).length;
  const aside = mine.filter((r) => r.state === "aside").length;
  const photosWaiting = photos.filter(photoWaiting).length;
  const parts = [t("status.waiting", { n: number(waiting) })];
  if (aside) parts.push(t("status.aside", { n: number(aside) }));
  if (photosWaiting) parts.push(t("status.photos", { n: number(photosWaiting) }));
  const status = $("status");
  status.dataset.waiting = waiting;
  status.dataset.aside = aside;
  status.dataset.photosWaiting = photosWaiting;
  status.textContent = parts.join(" · ");
  if (outbox && outbox.lastError) {
    const err = document.createElement("span");
    err.className = "err";
    const error = t(outbox.lastError.key, outbox.lastError.values);
    err.textContent = ` · ${t("status.error", { error })}`;
    status.append(err);
  }
  renderToday(mine);
}

function renderToday(records) {
  const today = localIso(new Date()).slice(0, 10);
  const list = $("today");
  list.replaceChildren();
  const todays = records.filter((r) => r.localDate === today).sort((a, b) => b.savedAt - a.savedAt);
  if (!todays.length) {
    const li = document.createElement("li");
    li.textContent = t("today.none");
    list.append(li);
  }
  for (const rec of todays) {
    const { p } = shown(rec);
    const li = document.createElement("li");
    li.dataset.id = rec.id;
    li.dataset.state = rec.state;
    const cell = (text, cls) => { const s = document.createElement("span"); s.textContent = text; if (cls) s.className = cls; li.append(s); };
    cell(timeOf(rec.savedAt));
    cell(p.population);
    cell(`${t("f.count")}: ${number(p.count)}`);
    if (rec.photos.length) cell(`${t("f.photos")}: ${number(rec.photos.length)}`);
    cell(t(`state.${rec.state}`), `state ${rec.state}`);
    if (rec.reason) cell(rec.reason, "reason");
    list.append(li);
  }
}

// ---- export -------------------------------------------------------------------------
function base64(buffer) {
  let s = "";
  const bytes = new Uint8Array(buffer);
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

async function exportFile() {
  const records = await store.all("records", "observer", current.name);
  const photos = await store.all("photos", "observer", current.name);
  const body = {
    format: "herdwatch-field", version: 1, exported_at: new Date().toISOString(),
    device_id: deviceId, observer: current.name,
    records: records.map((r) => ({ feature: r.feature, crs: r.crs, state: r.state, revision: r.revision, edit: r.edit, reason: r.reason })),
    photos: await Promise.all(photos.map(async (p) => ({
      observation_id: p.recordId, name: p.name, media_type: p.type, sha256: p.sha256,
      data: base64(await p.blob.arrayBuffer()),
    }))),
  };
  const link = document.createElement("a");
  link.href = URL.createObjectURL(new Blob([JSON.stringify(body)], { type: "application/json" }));
  link.download = `herdwatch-field-${current.name}-${localIso(new Date()).slice(0, 16).replace(/[:T]/g, "")}.json`;
  document.body.append(link);
  link.click();
  link.remove();
}

// ---- start --------------------------------------------------------------------------
let deviceId;

async function start() {
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/field/sw.js", { scope: "/field" }).catch((e) => console.warn(e));
  }
  if (navigator.storage && navigator.storage.persist) navigator.storage.persist().catch(() => {});
  store = await openDb();
  await loadCatalogues();
  deviceId = await store.meta("device", null);
  if (!deviceId) { deviceId = `tablet-${crypto.randomUUID()}`; await store.setMeta("device", deviceId); }
  const saved = await store.meta("lang", null);
  const asked = (navigator.language || "en").toLowerCase().split("-")[0];
  lang = [saved, asked].find((code) => config.languages.includes(code)) || "en";
  translatePage();
  outbox = new Outbox(store, config, { onChange: refresh, lang: () => lang });
  $("signin-form").addEventListener("submit", signIn);
  $("sign-out").addEventListener("click", signOut);
  $("export").addEventListener("click", exportFile);
  $("sighting").addEventListener("submit", save);
  $("sighting").addEventListener("click", tally);
  $("edit-last").addEventListener("click", editLast);
  $("cancel-edit").addEventListener("click", () => { clearForm(); say(null); });
  $("coords").addEventListener("change", coordLabels);
  $("lang").addEventListener("change", (e) => chooseLanguage(e.target.value));
  window.addEventListener("online", () => outbox.kick());
  document.addEventListener("visibilitychange", () => { if (!document.hidden) outbox.kick(); });
  await showSession();
  document.body.dataset.ready = "1";
  outbox.kick();
}

start();
