// The field forms on top of the queue (offline.js): the gate and checkpoint pages (offline),
// the visit and check-in forms driven by the offline pack, the list of records on this phone and
// the offline page. Every record goes into the queue first; what the page then says is what
// happened: "kept on this phone" until the server answered, the server's answer after.
(function () {
  "use strict";
  const LZ = window.LZ;
  if (!LZ) return;
  const fmt = LZ.format;
  const DAY = 24 * 3600 * 1000;

  function messages() {
    let list = document.querySelector("[data-field-messages]") || document.querySelector("main ul.messages");
    if (!list) {
      list = document.createElement("ul");
      list.className = "messages";
      list.dataset.fieldMessages = "";
      const main = document.querySelector("main") || document.body;
      main.insertBefore(list, main.firstChild);
    }
    return list;
  }
  function clearMessages() {
    for (const old of document.querySelectorAll("main .messages")) old.replaceChildren();
  }
  function say(kind, text) {
    const item = document.createElement("li");
    item.className = kind;
    item.textContent = text;
    messages().appendChild(item);
  }
  function errorsOf(answer) {
    return ((answer && answer.errors) || []).map((e) => e.msg).join("；");
  }
  function temperatureOf(value) {
    return String(value || "").trim().replace(/[,，]/, ".");
  }
  function edited() {
    const id = new URLSearchParams(location.search).get("edit");
    return id ? LZ.get("queue", id).then((r) => (r && r.username === LZ.user && r.state !== "sent" ? r : null)) : Promise.resolve(null);
  }

  // A record the server answered here that no form of this page speaks for.
  function sayAnswered(records) {
    const rejected = records.filter((r) => r.state === "rejected");
    for (const r of rejected) say("error", r.label + " — " + errorsOf(r.answer));
  }

  // --- the gate page -------------------------------------------------------------------------------
  function gatePage(form) {
    const W = LZ.wordsOf(form);
    const code = form.dataset.gateCode;
    const passField = form.querySelector("#pass_code");
    const temperature = form.querySelector("#temperature");
    const threshold = parseFloat(W.threshold || "37.3");
    let editing = null;

    // The pack holds the compound's passes as keyed hashes only (no code, no household): a code
    // is recognised, and its household's home observation known, by hashing it the same way.
    async function lookUp(value) {
      const pack = await LZ.pack();
      const gate = pack && (pack.gates || []).find((g) => g.code === code);
      const compound = gate && (pack.compounds || []).find((c) => c.code === gate.compound_code);
      const hash = compound ? await LZ.passHash(pack.pass_salt, value) : null;
      if (!hash) return { known: false, pack: false };
      const found = (compound.passes || []).find((p) => p.hash === hash);
      return { known: !!found, pack: true, pass: found };
    }
    function observedToday(pass) {
      // a pack kept for days: an observation that has ended since warns no more
      const d = new Date();
      const today = d.getFullYear() + "-" + String(d.getMonth() + 1).padStart(2, "0") + "-" + String(d.getDate()).padStart(2, "0");
      return !!(pass && pass.under_observation && (!pass.observation_until || pass.observation_until >= today));
    }

    function fill(body) {
      passField.value = body.pass_code || "";
      temperature.value = body.temperature || "";
      const method = form.querySelector("#method");
      if (method && body.method) method.value = body.method;
      const v = body.visitor || {};
      const set = (id, value) => { const f = form.querySelector(id); if (f) f.value = value || ""; };
      set("#visitor_name", v.name); set("#visitor_phone", v.phone); set("#visitor_id_number", v.id_number);
      set("#visitor_reason", v.reason); set("#visiting", v.visiting);
      if (v.name) form.querySelector("details.visitor").open = true;
    }

    form.addEventListener("submit", async (event) => {
      // Online, the page posts as always and the server's page says what was done and whom it
      // told; without a connection (or for a corrected record) the record goes in the queue.
      if (navigator.onLine && !editing) return;
      event.preventDefault();
      const submitter = event.submitter;
      const direction = submitter && submitter.value;
      if (!form.checkValidity() || !direction) {
        form.reportValidity();
        return;
      }
      const value = form.querySelector.bind(form);
      const passCode = passField.value.replace(/\s+/g, "").toUpperCase();
      const visitorName = (value("#visitor_name") || {}).value || "";
      clearMessages();
      if (!passCode && !visitorName.trim()) {
        say("error", W.needPass);
        passField.focus();
        return;
      }
      const t = temperatureOf(temperature.value);
      const body = {
        client_id: editing ? editing.client_id : LZ.newClientId("gate"), gate: code, direction: direction,
        at: editing ? editing.body.at : new Date().toISOString(), temperature: t,
        method: (value("#method") || {}).value || "forehead",
      };
      let label;
      if (visitorName.trim()) {
        body.visitor = {
          name: visitorName, phone: value("#visitor_phone").value, id_number: value("#visitor_id_number").value,
          reason: value("#visitor_reason").value, visiting: value("#visiting").value,
        };
        label = t + " °C " + submitter.textContent.trim() + " " + W.visitor + " " + visitorName;
      } else {
        body.pass_code = passCode;
      }
      const looked = passCode ? await lookUp(passCode) : { known: false };
      if (passCode) label = t + " °C " + submitter.textContent.trim() + " " + passCode;
      editing = null;
      await LZ.enqueue("gate", "/api/v1/gate-checks", body, label);
      if (!navigator.onLine) {
        if (parseFloat(t) >= threshold) say("warning", fmt(W.queuedFever, { t: t }));
        else say("success", fmt(W.queued, { t: t }));
        // as the server's rule (gates.rules.observation_breach): going out, household under observation
        if (direction === "out" && observedToday(looked.pass)) say("warning", W.queuedBreach);
        if (passCode && looked.pack && !looked.known) say("warning", fmt(W.unknownPass, { c: passCode }));
      }
      form.reset();
      passField.focus();
    });

    document.addEventListener("lz:answered", (event) => {
      const mine = event.detail.filter((r) => r.kind === "gate" && r.body.gate === code);
      if (!mine.length) return;
      clearMessages();
      const created = mine.filter((r) => r.state === "sent" && r.answer.status === "created");
      for (const r of mine) {
        const t = r.body.temperature;
        const alerts = (r.answer && r.answer.alerts) || [];
        if (r.state === "rejected") {
          say("error", fmt(W.rejectedMsg, { l: r.label, e: errorsOf(r.answer) }));
          continue;
        }
        if (r.answer.status === "duplicate") say("info", fmt(W.duplicate, { l: r.label }));
        else if (alerts.includes("fever")) say("warning", fmt(W.fever, { t: t }));
        else if (created.length === 1) say("success", fmt(W.recorded, { t: t }));
        if (alerts.includes("observation_breach")) say("warning", W.breach);
      }
      if (created.length > 1) say("success", fmt(W.storedMany, { n: created.length }));
      const live = document.getElementById("gate-live");
      if (live && window.htmx) {
        window.htmx.ajax("GET", live.getAttribute("hx-get"), { target: "#gate-live", swap: "outerHTML" });
      }
    });

    edited().then((record) => {
      if (record && record.kind === "gate") {
        editing = record;
        fill(record.body);
        say("error", fmt(W.rejectedMsg, { l: record.label, e: errorsOf(record.answer) }));
      }
    });
  }

  // --- the checkpoint page: online it posts as always; offline its record goes in the queue --------
  function checkpointPage(form) {
    const W = LZ.wordsOf(form);
    form.addEventListener("submit", async (event) => {
      if (navigator.onLine) return;
      event.preventDefault();
      const submitter = event.submitter;
      const field = (name) => (form.querySelector("#" + name) || {}).value || "";
      const plate = field("plate").replace(/[\s·.\-]/g, "").toUpperCase();
      if (!plate || !submitter) {
        form.reportValidity();
        return;
      }
      const body = {
        client_id: LZ.newClientId("vehicle"), checkpoint: form.dataset.checkpointCode, at: new Date().toISOString(),
        plate: plate, vehicle_type: field("vehicle_type"), origin: field("origin"),
        occupants: field("temperatures").split(/[\s,，;；]+/).filter(Boolean)
          .map((t) => ({ temperature: temperatureOf(t) })),
        disposition: submitter.value,
      };
      if (field("destination").trim()) body.destination = { compound: field("destination").trim() };
      clearMessages();
      await LZ.enqueue("vehicle", "/api/v1/vehicle-checks", body, plate + " " + submitter.textContent.trim());
      say("success", fmt(W.queued, { p: plate }));
      const pack = await LZ.pack();
      const origin = body.origin;
      // the server's rule (checkpoints.services.key_region_for): a plate prefix, or a place named
      // in the origin; the pack lists both
      const key = pack && (pack.key_regions || []).find((k) =>
        (k.plate_prefixes || []).some((p) => plate.startsWith(p)) ||
        (origin && (k.places || [k.city, k.province].filter(Boolean)).some((p) => origin.includes(p))));
      if (key) say("warning", fmt(W.keyRegion, { r: key.name || key.city || key.province }));
      form.reset();
    });
    document.addEventListener("lz:answered", (event) => {
      sayAnswered(event.detail.filter((r) => r.kind === "vehicle"));
    });
  }

  // --- the visit form ------------------------------------------------------------------------------
  async function visitPage(form) {
    const W = LZ.wordsOf(form);
    const select = form.querySelector("#fv-household");
    const members = form.querySelector("[data-members]");
    const template = document.querySelector("[data-member-template]");
    let households = [];
    let editing = null;

    async function load() {
      const pack = await LZ.pack();
      households = (pack && pack.households) || [];
      const chosen = select.value;
      select.replaceChildren(new Option("—", ""));
      for (const h of households) select.appendChild(new Option(h.label + (h.compound ? " · " + h.compound : ""), h.code));
      select.value = chosen;
      if (!pack) say("error", W.noPack);
    }
    function render() {
      members.replaceChildren();
      const h = households.find((x) => x.code === select.value);
      for (const m of (h && h.members) || []) {
        const node = template.content.firstElementChild.cloneNode(true);
        node.dataset.resident = m.resident;
        node.querySelector("[data-name]").textContent = m.name;
        node.querySelector("[data-id-number]").textContent = m.id_number || "";
        members.appendChild(node);
      }
    }
    function person(node) {
      const q = (s) => node.querySelector(s);
      const p = { resident: Number(node.dataset.resident) };
      const symptoms = Array.from(node.querySelectorAll("[data-symptom]:checked"), (c) => c.value);
      if (symptoms.length) p.symptoms = symptoms;
      const care = Array.from(node.querySelectorAll("[data-care]:checked"), (c) => c.value);
      if (care.length) p.care = care;
      if (q("[data-region]").value.trim()) {
        p.key_region_stay = { region: q("[data-region]").value.trim() };
        if (q("[data-from]").value) p.key_region_stay.from = q("[data-from]").value;
        if (q("[data-to]").value) p.key_region_stay.to = q("[data-to]").value;
      }
      if (q("[data-returned]").value) p.returned_at = q("[data-returned]").value;
      if (q("[data-travel]").value.trim()) p.travel = q("[data-travel]").value.trim();
      if (q("[data-contact]").checked) p.contact_with_case = true;
      if (q("[data-person-note]").value.trim()) p.note = q("[data-person-note]").value.trim();
      return p;
    }
    function fill(body) {
      select.value = body.household;
      render();
      form.querySelector("#fv-mode").value = body.mode;
      form.querySelector("#fv-note").value = body.note || "";
      for (const p of body.people || []) {
        const node = members.querySelector('[data-resident="' + p.resident + '"]');
        if (!node) continue;
        const q = (s) => node.querySelector(s);
        for (const c of node.querySelectorAll("[data-symptom]")) c.checked = (p.symptoms || []).includes(c.value);
        for (const c of node.querySelectorAll("[data-care]")) c.checked = (p.care || []).includes(c.value);
        const stay = p.key_region_stay || {};
        q("[data-region]").value = stay.region || ""; q("[data-from]").value = stay.from || ""; q("[data-to]").value = stay.to || "";
        q("[data-returned]").value = p.returned_at || ""; q("[data-travel]").value = p.travel || "";
        q("[data-contact]").checked = !!p.contact_with_case; q("[data-person-note]").value = p.note || "";
      }
    }
    select.addEventListener("change", render);
    document.addEventListener("lz:pack", load);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!form.checkValidity()) {
        form.reportValidity();
        return;
      }
      const h = households.find((x) => x.code === select.value);
      const mode = form.querySelector("#fv-mode").value;
      const body = {
        client_id: editing ? editing.client_id : LZ.newClientId("visit"), household: select.value,
        at: editing ? editing.body.at : new Date().toISOString(), mode: mode,
        people: mode === "nobody_home" ? [] : Array.from(members.querySelectorAll("[data-member]"), person),
        note: form.querySelector("#fv-note").value.trim(),
      };
      editing = null;
      clearMessages();
      await LZ.enqueue("visit", "/api/v1/visits", body, h ? h.label : body.household);
      if (!navigator.onLine) say("success", fmt(W.queued, { h: h ? h.label : body.household }));
      form.reset();
      members.replaceChildren();
    });
    document.addEventListener("lz:answered", (event) => {
      const answered = event.detail.filter((x) => x.kind === "visit");
      if (answered.length) clearMessages();
      for (const r of answered) {
        if (r.state === "rejected") say("error", fmt(W.rejectedMsg, { h: r.label, e: errorsOf(r.answer) }));
        else say("success", fmt(W.created, { h: r.label }));
      }
    });
    await load();
    const record = await edited();
    if (record && record.kind === "visit") {
      editing = record;
      fill(record.body);
      say("error", fmt(W.rejectedMsg, { h: record.label, e: errorsOf(record.answer) }));
    }
  }

  // --- the check-in form ---------------------------------------------------------------------------
  async function checkInPage(form) {
    const W = LZ.wordsOf(form);
    const select = form.querySelector("#fc-observation");
    const temperature = form.querySelector("#fc-temperature");
    let observations = [];
    let editing = null;
    async function load() {
      const pack = await LZ.pack();
      observations = (pack && pack.observations) || [];
      const chosen = select.value;
      select.replaceChildren(new Option("—", ""));
      for (const o of observations) select.appendChild(new Option(o.person + " · " + o.household, String(o.id)));
      select.value = chosen;
      if (!pack) say("error", W.noPack);
    }
    document.addEventListener("lz:pack", load);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!form.checkValidity()) {
        form.reportValidity();
        return;
      }
      const o = observations.find((x) => String(x.id) === select.value);
      const t = temperatureOf(temperature.value);
      const body = {
        client_id: editing ? editing.client_id : LZ.newClientId("checkin"),
        at: editing ? editing.body.at : new Date().toISOString(), temperature: t,
        symptoms: Array.from(form.querySelectorAll('[name="symptoms"]:checked'), (c) => c.value),
      };
      const endpoint = "/api/v1/observations/" + encodeURIComponent(select.value) + "/check-ins";
      const p = o ? o.person : select.value;
      editing = null;
      clearMessages();
      await LZ.enqueue("checkin", endpoint, body, p + " " + t + " °C");
      if (!navigator.onLine) say(parseFloat(t) >= 37.3 ? "warning" : "success", fmt(parseFloat(t) >= 37.3 ? W.queuedFever : W.queued, { p: p, t: t }));
      form.reset();
    });
    document.addEventListener("lz:answered", (event) => {
      const answered = event.detail.filter((x) => x.kind === "checkin");
      if (answered.length) clearMessages();
      for (const r of answered) {
        const t = r.body.temperature;
        const p = r.label.replace(/ [\d.]+ °C$/, "");
        if (r.state === "rejected") say("error", fmt(W.rejectedMsg, { p: p, e: errorsOf(r.answer) }));
        else if ((r.answer.alerts || []).some((a) => a.includes("fever"))) say("warning", fmt(W.fever, { p: p, t: t }));
        else say("success", fmt(W.created, { p: p, t: t }));
      }
    });
    await load();
    const record = await edited();
    if (record && record.kind === "checkin") {
      editing = record;
      select.value = record.endpoint.split("/")[4];
      temperature.value = record.body.temperature;
      for (const c of form.querySelectorAll('[name="symptoms"]')) c.checked = record.body.symptoms.includes(c.value);
      say("error", fmt(W.rejectedMsg, { p: record.label, e: errorsOf(record.answer) }));
    }
  }

  // --- the records on this phone -------------------------------------------------------------------
  function editUrl(r) {
    if (r.kind === "gate") return "/gates/" + encodeURIComponent(r.body.gate) + "/?edit=" + encodeURIComponent(r.client_id);
    if (r.kind === "visit") return "/field/visit/?edit=" + encodeURIComponent(r.client_id);
    if (r.kind === "checkin") return "/field/check-in/?edit=" + encodeURIComponent(r.client_id);
    return null;
  }
  async function queuePage(section) {
    const W = LZ.wordsOf(section);
    const list = section.querySelector("[data-queue-list]");
    async function draw() {
      const mine = (await LZ.mine()).sort((a, b) => b.created - a.created);
      list.replaceChildren();
      if (!mine.length) {
        const li = document.createElement("li");
        li.className = "muted";
        li.textContent = W.empty;
        list.appendChild(li);
      }
      for (const r of mine) {
        const li = document.createElement("li");
        li.dataset.clientId = r.client_id;
        li.dataset.state = r.state;
        const when = new Date(r.created);
        const state = r.state === "sent" ? (r.answer.status === "duplicate" ? W.duplicate : W.sent)
          : r.state === "rejected" ? W.rejected : W.waiting;
        li.textContent = when.toLocaleString() + " · " + r.label + " · " + state;
        if (r.state === "waiting" && Date.now() - r.created > LZ.STALE_MINUTES * 60000) {
          li.classList.add("stale");
          li.textContent += " · " + W.stale;
        }
        if (r.state === "rejected") {
          li.classList.add("error");
          li.textContent += " — " + errorsOf(r.answer) + " ";
          const url = editUrl(r);
          if (url) {
            const a = document.createElement("a");
            a.href = url;
            a.textContent = W.correct;
            li.appendChild(a);
          }
        }
        list.appendChild(li);
      }
    }
    document.addEventListener("lz:refreshed", draw);
    await draw();
  }

  // --- the offline page: what this phone keeps ------------------------------------------------------
  async function offlinePages(list) {
    const owner = await LZ.get("meta", "owner");
    const kept = owner ? await LZ.get("meta", "pages:" + owner) : null;
    const pages = (kept && kept.pages) || [];
    if (!pages.length) {
      const li = document.createElement("li");
      li.textContent = LZ.wordsOf(list).none;
      list.appendChild(li);
    }
    for (const p of pages) {
      const li = document.createElement("li");
      const a = document.createElement("a");
      a.href = p.url;
      a.textContent = p.label;
      li.appendChild(a);
      list.appendChild(li);
    }
  }

  async function prune() {
    for (const r of await LZ.all("queue")) {
      if (r.state === "sent" && Date.now() - (r.answered || r.created) > DAY) await LZ.del("queue", r.client_id);
    }
  }

  const gate = document.querySelector("[data-gate-form][data-gate-code]");
  const checkpoint = document.querySelector("[data-checkpoint-form]");
  const visit = document.querySelector("[data-field-visit]");
  const checkIn = document.querySelector("[data-field-check-in]");
  const queue = document.querySelector("[data-field-queue]");
  const offline = document.querySelector("[data-offline-pages]");
  if (gate) gatePage(gate);
  else if (checkpoint) checkpointPage(checkpoint);
  else if (visit) visitPage(visit);
  else if (checkIn) checkInPage(checkIn);
  else document.addEventListener("lz:answered", (event) => sayAnswered(event.detail));
  if (queue) queuePage(queue);
  if (offline) offlinePages(offline);
  prune();
})();
