// The tablet's own storage: IndexedDB, never the cache, so an app update or a cleared
// cache keeps every record. Stores: observers (name → token, role), meta (current
// observer, device id), records (one per sighting, by its UUID), photos (by record/name).
const NAME = "herdwatch-field";
const VERSION = 1;

function promised(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

export function openDb() {
  const request = indexedDB.open(NAME, VERSION);
  request.onupgradeneeded = () => {
    const db = request.result;
    db.createObjectStore("observers", { keyPath: "name" });
    db.createObjectStore("meta", { keyPath: "key" });
    const records = db.createObjectStore("records", { keyPath: "id" });
    records.createIndex("observer", "observer");
    const photos = db.createObjectStore("photos", { keyPath: "key" });
    photos.createIndex("record", "recordId");
    photos.createIndex("observer", "observer");
  };
  return promised(request).then((db) => new Store(db));
}

class Store {
  constructor(db) { this.db = db; }

  async get(store, key) {
    return promised(this.db.transaction(store).objectStore(store).get(key));
  }

  async all(store, index, value) {
    const os = this.db.transaction(store).objectStore(store);
    return promised(index ? os.index(index).getAll(value) : os.getAll());
  }

  // Writes every value in one transaction and resolves when it is committed, so the
  // form clears only after the record is on the tablet's disk.
  async put(writes) {
    const names = [...new Set(writes.map(([store]) => store))];
    const tx = this.db.transaction(names, "readwrite", { durability: "strict" });
    for (const [store, value] of writes) tx.objectStore(store).put(value);
    return new Promise((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error || new Error("write aborted"));
    });
  }

  // Read, change and write one value in one transaction: the form and the outbox both
  // change records, and neither may write back a stale copy over the other's change.
  // `mutate` is synchronous (a transaction ends at the first await); it returns false to
  // leave the value as it is. Resolves with the value as written (undefined if none).
  async update(store, key, mutate) {
    const tx = this.db.transaction(store, "readwrite", { durability: "strict" });
    const os = tx.objectStore(store);
    let value;
    const request = os.get(key);
    request.onsuccess = () => {
      value = request.result;
      if (value !== undefined && mutate(value) !== false) os.put(value);
    };
    return new Promise((resolve, reject) => {
      tx.oncomplete = () => resolve(value);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error || new Error("write aborted"));
    });
  }

  async remove(store, key) {
    const tx = this.db.transaction(store, "readwrite", { durability: "strict" });
    tx.objectStore(store).delete(key);
    return new Promise((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
    });
  }

  async meta(key, fallback) {
    const row = await this.get("meta", key);
    return row === undefined ? fallback : row.value;
  }

  async setMeta(key, value) { return this.put([["meta", { key, value }]]); }
}
