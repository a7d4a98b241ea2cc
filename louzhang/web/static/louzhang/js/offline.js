// Offline work on the phone: the offline pack, the queue of records and the top bar's state.
//
// IndexedDB "louzhang":
//   pack  — GET /api/v1/offline as last read, per username {username, data, etag, fetched};
//           wiped with the kept pages at log-out and whenever the server says the session ended
//           (401/403): the queue stays, to be sent after logging in again
//   queue — records {client_id, username, kind, endpoint, body, label, created, state, answer}
//           state: waiting → sent (created / duplicate) | rejected (with the server's errors)
//   meta  — small facts: owner (whose pages the phone keeps), lastSync:<user>, session:<user>,
//           pages:<user>
// A record is put in the queue before anything is sent; it is sent only under the session of
// the username that made it, in batches per endpoint, one tab at a time (Web Lock "lz-sync":
// the second tab finds nothing left waiting). The server's client_id rule stores a resend once.
(function () {
  "use strict";
  const meta = document.querySelector('meta[name="lz-user"]');
  const user = meta ? meta.content : "";
  const wordsNode = document.getElementById("lz-words");
  // a page's words for its script: data-w-* attributes (data-w-last-sync → lastSync), named
  // apart from every selector of the other scripts
  function wordsOf(node) {
    const out = {};
    for (const [key, value] of Object.entries(node.dataset)) {
      if (/^w[A-Z]/.test(key)) out[key[1].toLowerCase() + key.slice(2)] = value;
    }
    return out;
  }
  const W = wordsNode ? wordsOf(wordsNode) : {};
  const STALE_MINUTES = 30;
  const BATCH = 100;
  const PAGES = "lz-pages";
  const LZ = (window.LZ = { user: user, words: W, wordsOf: wordsOf, STALE_MINUTES: STALE_MINUTES });

  LZ.format = function (text, values) {
    return String(text || "").replace(/%\((\w+)\)s/g, (all, key) => (key in values ? values[key] : all));
  };

  // --- IndexedDB ------------------------------------------------------------------------------
  let opening = null;
  function db() {
    if (!opening) {
      opening = new Promise((resolve, reject) => {
        const request = indexedDB.open("louzhang", 1);
        request.onupgradeneeded = () => {
          const d = request.result;
          d.createObjectStore("pack", { keyPath: "username" });
          const queue = d.createObjectStore("queue", { keyPath: "client_id" });
          queue.createIndex("username", "username");
          d.createObjectStore("meta");
        };
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
    }
    return opening;
  }
  async function run(store, mode, act) {
    const d = await db();
    return new Promise((resolve, reject) => {
      const t = d.transaction(store, mode);
      const request = act(t.objectStore(store));
      t.oncomplete = () => resolve(request ? request.result : undefined);
      t.onerror = () => reject(t.error);
      t.onabort = () => reject(t.error);
    });
  }
  LZ.get = (store, key) => run(store, "readonly", (s) => s.get(key));
  LZ.put = (store, value, key) => run(store, "readwrite", (s) => (key === undefined ? s.put(value) : s.put(value, key)));
  LZ.del = (store, key) => run(store, "readwrite", (s) => s.delete(key));
  LZ.all = (store) => run(store, "readonly", (s) => s.getAll());

  // --- the queue --------------------------------------------------------------------------------
  LZ.newClientId = function (kind) {
    if (window.crypto && crypto.randomUUID) return kind + "-" + crypto.randomUUID();
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return kind + "-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  };

  const channel = "BroadcastChannel" in window ? new BroadcastChannel("lz") : null;
  function tellOtherTabs() {
    if (channel) channel.postMessage("changed");
  }

  // Put a record in the queue (or a corrected one back, same client_id), then send at once.
  LZ.enqueue = async function (kind, endpoint, body, label) {
    const kept = await LZ.get("queue", body.client_id);
    const record = {
      client_id: body.client_id, username: user, kind: kind, endpoint: endpoint, body: body,
      label: label, created: kept ? kept.created : Date.now(), state: "waiting", answer: null,
    };
    await LZ.put("queue", record);
    tellOtherTabs();
    await LZ.refresh();
    if (navigator.onLine) LZ.sync();
    return record;
  };

  LZ.mine = async function () {
    return (await LZ.all("queue")).filter((r) => r.username === user);
  };

  function csrf() {
    const m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (m) return decodeURIComponent(m[1]);
    const field = document.querySelector('input[name="csrfmiddlewaretoken"]');
    return field ? field.value : "";
  }

  class SessionEnded extends Error {}

  async function sendWaiting() {
    // re-read inside the lock: another tab may have sent them meanwhile
    const waiting = (await LZ.mine()).filter((r) => r.state === "waiting");
    const answered = [];
    const byEndpoint = new Map();
    for (const r of waiting) {
      if (!byEndpoint.has(r.endpoint)) byEndpoint.set(r.endpoint, []);
      byEndpoint.get(r.endpoint).push(r);
    }
    for (const [endpoint, records] of byEndpoint) {
      for (let i = 0; i < records.length; i += BATCH) {
        const chunk = records.slice(i, i + BATCH);
        const response = await fetch(endpoint, {
          method: "POST", credentials: "same-origin", cache: "no-store",
          headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf() },
          body: JSON.stringify({ records: chunk.map((r) => r.body) }),
        });
        if (response.status === 401 || response.status === 403) throw new SessionEnded();
        if (!response.ok) throw new Error("HTTP " + response.status);
        const data = await response.json();
        for (const result of data.results || []) {
          const record = chunk[result.index];
          if (!record) continue;
          record.state = result.status === "rejected" ? "rejected" : "sent";
          record.answer = result;
          record.answered = Date.now();
          await LZ.put("queue", record);
          answered.push(record);
        }
      }
    }
    return answered;
  }

  let backoff = 0;
  let retry = null;
  let syncing = null;
  LZ.sync = function () {
    if (!user || !navigator.onLine) return Promise.resolve([]);
    if (syncing) return syncing.then(() => LZ.sync()); // records queued meanwhile: one more round
    syncing = (async () => {
      setBar("syncing", true);
      try {
        const answered = navigator.locks
          ? await navigator.locks.request("lz-sync", sendWaiting)
          : await sendWaiting();
        backoff = 0;
        if (answered.length) {
          await LZ.put("meta", Date.now(), "lastSync:" + user);
          await LZ.del("meta", "session:" + user);
          document.dispatchEvent(new CustomEvent("lz:answered", { detail: answered }));
          tellOtherTabs();
        }
        return answered;
      } catch (error) {
        if (error instanceof SessionEnded) {
          await sessionEnded();
        } else {
          backoff = Math.min(backoff + 1, 6);
          clearTimeout(retry);
          retry = setTimeout(LZ.sync, 5000 * 2 ** (backoff - 1)); // 5 s … 160 s
        }
        return [];
      } finally {
        syncing = null;
        setBar("syncing", false);
        await LZ.refresh();
      }
    })();
    return syncing;
  };

  // --- the offline pack and the pages kept ----------------------------------------------------
  async function claimPhone() {
    // another officer's pages and pack never stay for the next one
    const owner = await LZ.get("meta", "owner");
    if (owner === user) return;
    if (window.caches) await caches.delete(PAGES);
    for (const pack of await LZ.all("pack")) {
      if (pack.username !== user) await LZ.del("pack", pack.username);
    }
    await LZ.put("meta", user, "owner");
  }

  function pagesOf(data) {
    const pages = [];
    for (const g of data.gates || []) {
      pages.push({ url: "/gates/" + encodeURIComponent(g.code) + "/", label: (g.compound || "") + " " + g.name });
    }
    for (const c of data.checkpoints || []) {
      pages.push({ url: "/checkpoints/" + encodeURIComponent(c.code) + "/", label: c.name });
    }
    if ((data.households || []).length) pages.push({ url: "/field/visit/", label: W.visitForm });
    if ((data.observations || []).length) pages.push({ url: "/field/check-in/", label: W.checkInForm });
    pages.push({ url: "/followups/", label: W.myFollowups });
    pages.push({ url: "/field/queue/", label: W.queuePage });
    return pages;
  }

  async function keepPages(data) {
    if (!window.caches) return;
    const cache = await caches.open(PAGES);
    const kept = [];
    for (const p of pagesOf(data)) {
      try {
        const response = await fetch(p.url, { credentials: "same-origin", cache: "no-store" });
        if (response.ok && !response.redirected) {
          await cache.put(p.url, response);
          kept.push(p);
        }
      } catch (error) { /* offline meanwhile: kept next time */ }
    }
    await LZ.put("meta", { pages: kept, at: Date.now() }, "pages:" + user);
  }

  // A pass code as the pack holds it: HMAC-SHA256 keyed with the pack's pass_salt (hex) of the
  // code as printed (no spaces, upper case), hex, first 32 digits — api/offline.py pass_hash.
  // WebCrypto's subtle API exists only in secure contexts (HTTPS, localhost), as service workers.
  LZ.passHash = async function (salt, code) {
    if (!(window.crypto && crypto.subtle) || !salt) return null;
    const bytes = new Uint8Array((salt.match(/[0-9a-f]{2}/gi) || []).map((h) => parseInt(h, 16)));
    const key = await crypto.subtle.importKey("raw", bytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    const normal = String(code).replace(/\s+/g, "").toUpperCase();
    const signed = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(normal));
    return Array.from(new Uint8Array(signed), (b) => b.toString(16).padStart(2, "0")).join("").slice(0, 32);
  };

  LZ.pack = async function () {
    const pack = user ? await LZ.get("pack", user) : null;
    return pack ? pack.data : null;
  };

  LZ.refreshPack = async function () {
    if (!user || !navigator.onLine) return;
    await claimPhone();
    const current = await LZ.get("pack", user);
    const headers = { Accept: "application/json" };
    if (current && current.etag) headers["If-None-Match"] = current.etag;
    const response = await fetch("/api/v1/offline", { credentials: "same-origin", cache: "no-store", headers: headers });
    if (response.status === 401 || response.status === 403) {
      await sessionEnded();
      return;
    }
    await LZ.del("meta", "session:" + user);
    let data = current ? current.data : null;
    let changed = false;
    if (response.status === 200) {
      data = await response.json();
      changed = true;
      await LZ.put("pack", { username: user, data: data, etag: response.headers.get("ETag"), fetched: Date.now() });
    } else if (response.status !== 304 || !current) {
      return;
    }
    await LZ.put("meta", Date.now(), "lastSync:" + user);
    const pages = await LZ.get("meta", "pages:" + user);
    if (changed || !pages || Date.now() - pages.at > 30 * 60 * 1000) await keepPages(data);
    document.dispatchEvent(new CustomEvent("lz:pack", { detail: data }));
  };

  // Log-out: the pack and the pages of this officer go; the queue stays (warned first).
  async function wipe() {
    await LZ.del("pack", user);
    await LZ.del("meta", "pages:" + user);
    await LZ.del("meta", "owner");
    if (window.caches) await caches.delete(PAGES);
  }

  // The session ended (401/403): what the phone keeps for this officer goes as at log-out — the
  // pack (pass hashes, a warden's households with members in full) and the pages; the queue stays
  // and is sent after they log in again.
  async function sessionEnded() {
    await LZ.put("meta", true, "session:" + user);
    await wipe();
    document.dispatchEvent(new CustomEvent("lz:pack", { detail: null }));
  }

  function watchLogOut() {
    for (const form of document.querySelectorAll("form[data-logout]")) {
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        const waiting = (await LZ.mine()).filter((r) => r.state !== "sent").length;
        if (waiting && !window.confirm(LZ.format(W.logoutWarn, { n: waiting }))) return;
        try {
          await wipe();
        } finally {
          form.submit();
        }
      });
    }
  }

  // --- the top bar -----------------------------------------------------------------------------
  const bar = document.querySelector("[data-netbar]");
  function setBar(flag, on) {
    if (bar) bar.classList.toggle(flag, on);
  }
  function show(selector, text) {
    const node = bar && bar.querySelector(selector);
    if (!node) return;
    node.hidden = !text;
    if (node.matches("a, span, strong")) node.textContent = text || "";
  }
  function clock(ms) {
    const d = new Date(ms);
    return String(d.getHours()).padStart(2, "0") + ":" + String(d.getMinutes()).padStart(2, "0");
  }

  LZ.refresh = async function () {
    if (!bar) return;
    const online = navigator.onLine;
    bar.dataset.state = online ? "online" : "offline";
    show("[data-net]", online ? W.online : W.offline);
    const everything = await LZ.all("queue");
    const mine = everything.filter((r) => r.username === user);
    const waiting = mine.filter((r) => r.state === "waiting");
    const rejected = mine.filter((r) => r.state === "rejected");
    const others = everything.filter((r) => r.username !== user && r.state !== "sent").length;
    const stale = waiting.filter((r) => Date.now() - r.created > STALE_MINUTES * 60000).length;
    const pending = bar.querySelector("[data-pending]");
    pending.dataset.count = String(waiting.length);
    show("[data-pending]", LZ.format(W.pending, { n: waiting.length }));
    show("[data-rejected]", rejected.length ? LZ.format(W.rejected, { n: rejected.length }) : "");
    show("[data-stale]", stale ? LZ.format(W.stale, { n: stale, m: STALE_MINUTES }) : "");
    show("[data-others]", others ? LZ.format(W.others, { n: others }) : "");
    const last = user ? await LZ.get("meta", "lastSync:" + user) : null;
    show("[data-last-sync]", last ? LZ.format(W.lastSync, { t: clock(last) }) : W.neverSynced);
    const ended = user ? await LZ.get("meta", "session:" + user) : false;
    const login = bar.querySelector("[data-session-ended]");
    login.hidden = !ended;
    bar.querySelector("[data-sync-now]").hidden = !user || !waiting.length || !online || !!ended;
    document.dispatchEvent(new CustomEvent("lz:refreshed", { detail: { waiting: waiting.length } }));
  };

  function start() {
    if ("serviceWorker" in navigator && window.isSecureContext) {
      navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {});
    }
    if (channel) channel.onmessage = () => LZ.refresh();
    watchLogOut();
    const now = bar && bar.querySelector("[data-sync-now]");
    if (now) now.addEventListener("click", () => LZ.sync());
    window.addEventListener("online", async () => {
      await LZ.refresh();
      try { await LZ.refreshPack(); } catch (error) { /* tried again next time */ }
      LZ.sync();
    });
    window.addEventListener("offline", () => LZ.refresh());
    setInterval(() => { if (navigator.onLine) LZ.sync(); }, 60000);
    setInterval(() => LZ.refresh(), 30000); // the stale flag, the clock
    LZ.ready = (async () => {
      await LZ.refresh();
      if (!user || !navigator.onLine) return;
      try {
        await LZ.refreshPack();
        await LZ.sync();
        if ("serviceWorker" in navigator && window.isSecureContext) await navigator.serviceWorker.ready;
      } catch (error) { /* offline meanwhile */ }
      document.documentElement.dataset.lzReady = "1";
    })();
  }
  start();
})();
