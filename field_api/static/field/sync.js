// The outbox: sends every waiting record and photo of every signed-in observer, one at a
// time, by idempotent requests. A lost answer is simply sent again (the server answers
// 200 for the same content); a 409/410/422/403/413 puts that one record aside with the
// server's reason and the others go on; a network failure or a 5xx stops the round and
// the next one waits longer (capped exponential backoff with jitter).

const ASIDE = new Set([400, 403, 404, 409, 410, 413, 415, 422]);
const BASE_MS = 1000;

// A failure worth retrying; `key` and `values` name its message in the catalogues.
export class Transient extends Error {
  constructor(key, values = {}) {
    super(`${key} ${JSON.stringify(values)}`);
    this.key = key;
    this.values = values;
  }
}

export function needsSending(rec) {
  return rec.state === "waiting";
}

export function photoWaiting(photo) {
  return photo.state === "waiting";
}

async function reasonOf(response) {
  try {
    const body = await response.json();
    const errors = (body.errors || []).map((e) => e.message).filter(Boolean);
    return errors.length ? errors.join("; ") : body.detail || `HTTP ${response.status}`;
  } catch (_) {
    return `HTTP ${response.status}`;
  }
}

export class Outbox {
  constructor(store, config, { onChange, lang }) {
    this.store = store;
    this.retryMaxMs = config.retryMaxMs;
    this.chunkBytes = config.chunkBytes;
    this.onChange = onChange;
    this.lang = lang;
    this.failures = 0;
    this.lastError = null;
    this.timer = null;
    this.running = null;
    this.again = false;
  }

  // Start a round now (or right after the one in progress).
  kick() {
    if (this.running) { this.again = true; return this.running; }
    clearTimeout(this.timer);
    this.running = this.round().finally(() => {
      this.running = null;
      if (this.again) { this.again = false; this.kick(); }
    });
    return this.running;
  }

  schedule(ms) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.kick(), ms);
  }

  delay() {
    const ms = Math.min(this.retryMaxMs, BASE_MS * 2 ** Math.max(0, this.failures - 1));
    return ms * (0.75 + Math.random() * 0.25);
  }

  async round() {
    try {
      for (const observer of await this.store.all("observers")) {
        if (observer.token) await this.sendFor(observer);
      }
      this.failures = 0;
      this.lastError = null;
      this.schedule(Math.min(this.retryMaxMs, 30000)); // the timer: look again soon
    } catch (err) {
      if (!(err instanceof Transient) && !(err instanceof TypeError)) console.error(err);
      this.failures += 1;
      this.lastError = err instanceof Transient ? { key: err.key, values: err.values } : { key: "err.unexpected", values: { error: String(err) } };
      this.schedule(this.delay());
    }
    await this.onChange();
  }

  headers(observer, extra = {}) {
    return {
      Authorization: `Bearer ${observer.token}`,
      "Accept-Language": this.lang(),
      ...extra,
    };
  }

  async request(url, init) {
    let response;
    try {
      response = await fetch(url, { cache: "no-store", ...init });
    } catch (err) {
      throw new Transient("err.offline");
    }
    if (response.status >= 500 || response.status === 429 || response.status === 408) {
      throw new Transient("err.server", { status: response.status, reason: await reasonOf(response) });
    }
    if (response.status === 401) {
      throw new Transient("err.token", { name: init.observer });
    }
    return response;
  }

  async sendFor(observer) {
    const records = await this.store.all("records", "observer", observer.name);
    records.sort((a, b) => a.savedAt - b.savedAt);
    for (const rec of records.filter(needsSending)) {
      await this.sendRecord(observer, rec);
      await this.onChange();
    }
    const photos = await this.store.all("photos", "observer", observer.name);
    const byId = new Map(records.map((r) => [r.id, r]));
    for (const photo of photos.filter(photoWaiting)) {
      const rec = byId.get(photo.recordId);
      if (rec && rec.revision) await this.sendPhoto(observer, photo);
    }
  }

  // Every write goes through store.update: the observer may edit this record while its
  // request is on the way, and that edit must survive what the answer changes.
  async sendRecord(observer, rec) {
    const update = (mutate) => this.store.update("records", rec.id, mutate);
    if (!rec.revision) {
      await update((r) => { r.attempted = true; }); // its content is fixed: edits now PATCH
      const query = rec.crs ? `?crs=${encodeURIComponent(rec.crs)}` : "";
      const response = await this.request(`/api/v1/observations/${rec.id}${query}`, {
        method: "PUT",
        observer: observer.name,
        headers: this.headers(observer, { "Content-Type": "application/geo+json" }),
        body: JSON.stringify(rec.feature),
      });
      if (!response.ok) return this.setAside(rec, response);
      const revision = (await response.json()).revision || 1;
      rec = await update((r) => {
        r.revision = revision;
        if (r.edit) r.edit.base = r.edit.base || revision;
        else Object.assign(r, { state: "sent", reason: null });
      });
    }
    if (rec && rec.edit) {
      const sent = rec.edit;
      const body = { revision: sent.base, properties: sent.properties };
      if (sent.geometry) body.geometry = sent.geometry;
      const response = await this.request(`/api/v1/observations/${rec.id}`, {
        method: "PATCH",
        observer: observer.name,
        headers: this.headers(observer, { "Content-Type": "application/json" }),
        body: JSON.stringify(body),
      });
      if (!response.ok) return this.setAside(rec, response);
      const revision = (await response.json()).properties.revision;
      await update((r) => {
        r.revision = revision;
        if (r.edit && r.edit.seq !== sent.seq) { r.edit.base = revision; return; } // edited again
        Object.assign(r, { edit: null, state: "sent", reason: null });
      });
    }
  }

  async setAside(rec, response) {
    if (!ASIDE.has(response.status)) throw new Transient("err.server", { status: response.status, reason: "" });
    const reason = await reasonOf(response);
    await this.store.update("records", rec.id, (r) => { r.state = "aside"; r.reason = reason; });
  }

  // Resumable: ask how much the server holds, then send the rest in chunks.
  async sendPhoto(observer, photo) {
    const url = `/api/v1/observations/${photo.recordId}/photos/${encodeURIComponent(photo.name)}`;
    const held = await this.request(`${url}/upload`, {
      observer: observer.name, headers: this.headers(observer),
    });
    if (!held.ok) return this.photoAside(photo, await reasonOf(held));
    const state = await held.json();
    if (state.complete) {
      return state.sha256 === photo.sha256
        ? this.photoDone(photo)
        : this.photoAside(photo, "another photo is stored under this name");
    }
    let offset = state.size === photo.size ? state.received : 0;
    while (offset < photo.size) {
      const end = Math.min(photo.size, offset + this.chunkBytes);
      const response = await this.request(url, {
        method: "PUT",
        observer: observer.name,
        headers: this.headers(observer, {
          "Content-Type": photo.type,
          "Content-Range": `bytes ${offset}-${end - 1}/${photo.size}`,
        }),
        body: photo.blob.slice(offset, end),
      });
      if (response.status === 416) { offset = (await response.json()).received; continue; }
      if (!response.ok) return this.photoAside(photo, await reasonOf(response));
      const answer = await response.json();
      if (answer.status !== "partial") return this.photoDone(photo);
      offset = answer.received;
      photo.sentBytes = offset;
      await this.store.put([["photos", photo]]);
      await this.onChange();
    }
    return this.photoDone(photo);
  }

  async photoDone(photo) {
    photo.state = "sent";
    photo.sentBytes = photo.size;
    await this.store.put([["photos", photo]]);
  }

  async photoAside(photo, reason) {
    photo.state = "aside";
    photo.reason = reason;
    await this.store.put([["photos", photo]]);
  }
}
