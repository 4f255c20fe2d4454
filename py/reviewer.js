// The reviewer page of kbquery serve: a case in, the determination out, from the service's own API.
// No framework, no build step, nothing loaded from elsewhere. Every text from a case or the
// policy goes into the page as text (textContent), never as markup.
"use strict";

const $ = (id) => document.getElementById(id);
const schemas = {};
let lastCase = null;
let deciding = 0;

const WORDS = (s) => String(s).replace(/_/g, " ");

function policyParam() {
  const p = $("policy").value;
  return p ? "&policy=" + encodeURIComponent(p) : "";
}

async function loadPolicies() {
  const list = await (await fetch("/v1/policies")).json();
  for (const p of list) {
    const o = document.createElement("option");
    o.value = p.id;
    o.textContent = `${p.id} (${p.revision})${p.default ? " default" : ""}: ${p.title}`;
    $("policy").appendChild(o);
  }
  return list;
}

async function schemaFor(policy) {
  if (!schemas[policy]) schemas[policy] = await (await fetch(`/v1/policies/${encodeURIComponent(policy)}/schema`)).json();
  return schemas[policy];
}

// "prior_procedures[0].pain.after" -> ["prior_procedures", 0, "pain", "after"]
function keysOf(path) {
  const keys = [];
  for (const part of path.split(".")) {
    const m = part.match(/^([^[]*)((?:\[\d+\])*)$/);
    if (!m) { keys.push(part); continue; }
    if (m[1]) keys.push(m[1]);
    for (const i of m[2].matchAll(/\[(\d+)\]/g)) keys.push(Number(i[1]));
  }
  return keys;
}

function subschema(schema, keys) {
  let s = schema;
  for (const k of keys) s = (typeof k === "number" ? s.items : (s.properties || {})[k]) || {};
  return s;
}

function setValue(obj, keys, value) {
  let o = obj;
  keys.slice(0, -1).forEach((k, i) => {
    const next = keys[i + 1];
    if (o[k] === undefined || o[k] === null) o[k] = typeof next === "number" ? [] : {};
    o = o[k];
  });
  const last = keys[keys.length - 1];
  if (value === undefined) delete o[last]; else o[last] = value;
}

function readCase() {
  try {
    return JSON.parse($("case").value);
  } catch (e) {
    return null;
  }
}

function writeCase(c) {
  $("case").value = JSON.stringify(c, null, 2);
  syncRequest();
}

// The request's code and date, which every case must give, as two fields above the JSON.
function syncRequest() {
  const c = readCase();
  const request = (c && c.request) || {};
  $("code").value = typeof request.code === "string" ? request.code : "";
  $("date").value = typeof request.date === "string" ? request.date : "";
}

function requestField(input, key) {
  input.onchange = () => {
    const c = readCase() || {case_id: "new-case"};
    if (typeof c.request !== "object" || c.request === null) c.request = {};
    c.request[key] = input.value;
    writeCase(c);
    if (c.request.code && c.request.date) decideNow();
  };
}

function showErrors(errors) {
  const ul = $("errors");
  ul.replaceChildren();
  for (const e of errors) {
    const li = document.createElement("li");
    const b = document.createElement("b");
    b.textContent = e.path || "(case)";
    li.append(b, ": " + e.message);
    ul.appendChild(li);
  }
  ul.hidden = errors.length === 0;
}

async function decideNow() {
  const body = $("case").value;
  const ticket = ++deciding;
  $("decide").disabled = true;
  try {
    const r = await fetch("/v1/explain?format=json" + policyParam(), {method: "POST", body,
      headers: {"Content-Type": "application/json"}});
    const data = await r.json();
    if (ticket !== deciding) return;  // a later decision is on its way
    if (!r.ok) {
      showErrors(data.errors || [{path: "", message: data.detail || r.statusText}]);
      $("result").hidden = true;
      document.body.dataset.state = "invalid";
      return;
    }
    showErrors([]);
    lastCase = readCase();
    await render(data);
    const svg = await fetch("/v1/explain?format=svg" + policyParam(), {method: "POST", body,
      headers: {"Content-Type": "application/json"}});
    if (ticket !== deciding || !svg.ok) return;
    const old = $("graph").src;
    $("graph").src = URL.createObjectURL(await svg.blob());
    if (old.startsWith("blob:")) URL.revokeObjectURL(old);
    await new Promise((done) => { $("graph").onload = done; $("graph").onerror = done; });
    document.body.dataset.state = "decided";
  } catch (e) {
    showErrors([{path: "", message: "the service did not answer: " + e}]);
  } finally {
    if (ticket === deciding) $("decide").disabled = false;
  }
}

async function render(data) {
  const d = data.determination;
  $("result").hidden = false;
  const banner = $("banner");
  banner.className = "banner " + d.determination;
  banner.replaceChildren();
  const head = document.createElement("div");
  head.className = "outcome";
  head.textContent = WORDS(d.determination).toUpperCase();
  const sub = document.createElement("div");
  sub.className = "sub";
  const decidedBy = data.why_not.decided_by.length ? ` · decided by ${data.why_not.decided_by.join(", ")}` : "";
  sub.textContent = `case ${d.case_id} · ${d.policy.id} (${d.policy.revision}) · request: ${WORDS(d.request_kind)}` +
    (d.governing_sections.length ? ` · sections ${d.governing_sections.join(", ")}` : "") + decidedBy;
  banner.append(head, sub);

  $("criteria").classList.toggle("no-reasons", Object.keys(d.reasons).length === 0);
  const tbody = $("criteria").querySelector("tbody");
  tbody.replaceChildren();
  for (const c of d.criteria) {
    const tr = document.createElement("tr");
    tr.className = "st-" + c.status;
    const cells = [c.id, WORDS(c.status), c.text, (d.reasons[c.id] || []).join("; ")];
    for (const text of cells) {
      const td = document.createElement("td");
      td.textContent = text;
      tr.appendChild(td);
    }
    tbody.appendChild(tr);
  }

  await renderMissing(d);
  renderChanges(data.why_not.would_change_it);

  $("readings-box").hidden = d.interpretation.length === 0;
  $("readings").replaceChildren(...d.interpretation.map((r) => {
    const li = document.createElement("li");
    li.textContent = `${r.clause}: ${r.id} = ${r.reading}, ${r.meaning}`;
    return li;
  }));
}

async function renderMissing(d) {
  const form = $("missing");
  form.replaceChildren();
  const words = Object.fromEntries(d.criteria.map((c) => [c.id, c.text]));
  const seen = new Map();
  for (const [cid, paths] of Object.entries(d.missing)) {
    for (const p of paths) {
      if (!seen.has(p)) seen.set(p, []);
      seen.get(p).push(cid);
    }
  }
  $("missing-box").hidden = seen.size === 0;
  const schema = await schemaFor(d.policy.id);
  for (const [path, cids] of seen) {
    const keys = keysOf(path);
    const sub = subschema(schema, keys);
    const row = document.createElement("div");
    row.className = "field";
    const label = document.createElement("label");
    const name = document.createElement("code");
    name.textContent = path;
    const why = document.createElement("span");
    why.className = "why";
    why.textContent = cids.map((c) => `${c}: ${words[c] || ""}`).join(" / ");
    label.append(name, why);
    if (sub.description) label.title = sub.description;
    row.append(label, inputFor(path, keys, sub));
    form.appendChild(row);
  }
}

function inputFor(path, keys, sub) {
  const commit = (value) => {
    const c = readCase();
    if (!c) return;
    setValue(c, keys, value);
    writeCase(c);
    decideNow();
  };
  let input;
  if (sub.type === "array") {
    input = document.createElement("span");
    input.className = "choices";
    const items = sub.items || {};
    const options = items.enum || [];
    const boxes = options.map((v) => {
      const l = document.createElement("label");
      const b = document.createElement("input");
      b.type = "checkbox";
      b.value = v;
      l.append(b, " " + WORDS(v));
      input.appendChild(l);
      return b;
    });
    const none = document.createElement("button");
    none.type = "button";
    none.textContent = options.length ? "document these" : "document none";
    none.onclick = () => commit(boxes.filter((b) => b.checked).map((b) => b.value));
    input.appendChild(none);
    if (options.length) {
      const empty = document.createElement("button");
      empty.type = "button";
      empty.textContent = "none";
      empty.onclick = () => commit([]);
      input.appendChild(empty);
    }
    input.setAttribute("name", path);
    return input;
  }
  if (sub.enum || sub.type === "boolean") {
    input = document.createElement("select");
    const values = sub.enum || [true, false];
    input.append(new Option("— not documented —", ""), ...values.map((v) => new Option(WORDS(v), JSON.stringify(v))));
    input.onchange = () => commit(input.value === "" ? undefined : JSON.parse(input.value));
  } else {
    input = document.createElement("input");
    if (sub.format === "date") input.type = "date";
    else if (sub.type === "integer") {
      input.type = "number";
      if (sub.minimum !== undefined) input.min = sub.minimum;
      if (sub.maximum !== undefined) input.max = sub.maximum;
    } else input.type = "text";
    input.onchange = () => {
      if (input.value === "") return commit(undefined);
      commit(sub.type === "integer" ? Number(input.value) : input.value);
    };
  }
  input.setAttribute("name", path);
  input.setAttribute("aria-label", path);
  return input;
}

function renderChanges(alternatives) {
  $("change-box").hidden = alternatives.length === 0;
  const ol = $("change");
  ol.replaceChildren();
  for (const alt of alternatives) {
    const li = document.createElement("li");
    const text = alt.changes.map((c) => c.was === null ? `${c.path}: document ${JSON.stringify(c.value)}`
      : `${c.path}: ${JSON.stringify(c.was)} → ${JSON.stringify(c.value)}`).join("; ");
    li.append(text + "  ⇒ " + WORDS(alt.determination) + " ");
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = "try it";
    b.onclick = () => {
      const c = readCase();
      if (!c) return;
      for (const change of alt.changes) setValue(c, keysOf(change.path), change.value);
      writeCase(c);
      decideNow();
    };
    li.appendChild(b);
    ol.appendChild(li);
  }
}

async function openPage(event) {
  event.preventDefault();
  const r = await fetch("/v1/explain?format=html" + policyParam(), {method: "POST", body: $("case").value,
    headers: {"Content-Type": "application/json"}});
  if (r.ok) window.open(URL.createObjectURL(await r.blob()), "_blank");
}

function newCase() {
  const today = new Date().toISOString().slice(0, 10);
  writeCase({case_id: "new-case", request: {date: today, code: ""}});
  $("result").hidden = true;
  showErrors([]);
  document.body.dataset.state = "new";
}

window.addEventListener("DOMContentLoaded", async () => {
  $("decide").onclick = decideNow;
  $("new").onclick = newCase;
  $("page-link").onclick = openPage;
  requestField($("code"), "code");
  requestField($("date"), "date");
  $("case").addEventListener("input", syncRequest);
  $("policy").onchange = () => { if ($("case").value.trim()) decideNow(); };
  $("upload").onchange = async () => {
    const file = $("upload").files[0];
    if (!file) return;
    $("case").value = await file.text();
    syncRequest();
    decideNow();
  };
  await loadPolicies();
  if (!$("case").value.trim()) newCase();
  document.body.dataset.state = document.body.dataset.state || "ready";
  document.body.dataset.loaded = "yes";
});
