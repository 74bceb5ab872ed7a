// melodynet studio: the page's behaviour. Plain JavaScript, no build step, no outside code.
// Everything the server sends is put in the page as text (textContent), never as HTML.
"use strict";

const state = {
  info: null,
  jobs: new Map(),
  models: [], // the person's bundles
  pretrained: [], // the bundles installed plugins ship
  viewed: null, // the ref of the song shown
  picked: new Set(), // refs ticked for training
};

const $ = (selector, root = document) => root.querySelector(selector);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

function showError(message) {
  $("#error-text").textContent = message;
  $("#error").hidden = false;
}

function clearError() {
  $("#error").hidden = true;
}

// One call to the studio's API: JSON back, or the server's one-line message shown and thrown.
async function api(path, options = {}) {
  let response;
  try {
    response = await fetch(path, { credentials: "same-origin", ...options });
  } catch (err) {
    showError("the studio does not answer (is `melodynet studio` still running?)");
    throw err;
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : {};
  } catch (_) {
    data = { error: text.trim() || response.statusText };
  }
  if (!response.ok) {
    const message = (data && data.error) || `${response.status} ${response.statusText}`;
    showError(message);
    throw new Error(message);
  }
  return data;
}

function postJSON(path, body) {
  return api(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

const enc = encodeURIComponent;
const scoreURL = (ref, marks) => `/api/score.svg?ref=${enc(ref)}${marks ? `&marks=${marks}` : ""}`;
const audioURL = (ref) => `/api/audio.wav?ref=${enc(ref)}`;
const downloadURL = (ref, format) => `/api/download?ref=${enc(ref)}&format=${format}`;
const FORMAT_NAMES = { mid: "MIDI", musicxml: "MusicXML", abc: "ABC", wav: "WAV", txt: "tinyNotation" };

// A song as the page shows it: the engraved score, a player and the downloads.
function songFigure(ref, caption) {
  const downloads = el("p", { class: "downloads" }, "Download: ");
  for (const format of state.info ? state.info.downloads : []) {
    downloads.append(
      el("a", { class: "download", href: downloadURL(ref, format), download: "", "data-format": format, text: FORMAT_NAMES[format] || format }),
      " ",
    );
  }
  return el(
    "figure",
    { class: "song" },
    caption ? el("figcaption", { text: caption }) : null,
    el("img", { class: "score", src: scoreURL(ref), alt: "the score" }),
    el("audio", { controls: true, preload: "none", src: audioURL(ref) }),
    downloads,
  );
}

// Songs

async function loadSongs() {
  const data = await api("/api/songs");
  const root = $("#songs");
  root.replaceChildren();
  for (const source of data.sources) {
    const list = el("ul");
    for (const song of source.songs) {
      const box = el("input", { type: "checkbox", class: "train-pick", value: song.ref, checked: state.picked.has(song.ref) });
      box.addEventListener("change", () => {
        if (box.checked) state.picked.add(song.ref);
        else state.picked.delete(song.ref);
        showPicked();
      });
      const view = el("button", { type: "button", class: "view link", text: song.title, onclick: () => viewSong(song.ref) });
      list.append(
        el("li", { "data-ref": song.ref, "data-name": song.name }, box, " ", view, el("span", { class: "meta", text: ` ${song.notes} notes, ${song.time_signature}${song.key ? ", " + song.key : ""}` })),
      );
    }
    const head = el("h3", { text: source.label });
    if (source.kind === "upload") {
      head.append(" ", el("button", { type: "button", class: "link remove", text: "remove", onclick: () => removeUpload(source.ref) }));
    }
    const block = el("div", { class: "source", "data-ref": source.ref }, head);
    if (source.error) block.append(el("p", { class: "bad", text: source.error }));
    if (source.total > source.songs.length) block.append(el("p", { class: "hint", text: `first ${source.songs.length} of ${source.total} tunes` }));
    block.append(list);
    for (const note of source.notes || []) block.append(el("p", { class: "hint", text: note }));
    root.append(block);
  }
  showPicked();
}

function showPicked() {
  const names = [...state.picked].map((ref) => {
    const item = document.querySelector(`li[data-ref="${CSS.escape(ref)}"]`);
    return item ? item.dataset.name : ref;
  });
  $("#train-songs").textContent = names.length ? names.join(", ") : "none chosen (tick them in the list)";
}

async function viewSong(ref) {
  clearError();
  const data = await api(`/api/song?ref=${enc(ref)}`);
  state.viewed = ref;
  const panel = $("#song-view");
  panel.hidden = false;
  $("#song-view-title").textContent = data.title;
  $(".song-body", panel).replaceChildren(
    el("p", { class: "meta", text: `${data.notes} notes, ${data.time_signature}${data.key ? ", " + data.key : ""}` }),
    songFigure(ref, ""),
    el("details", {}, el("summary", { text: "tinyNotation" }), el("pre", { class: "tiny", text: data.tiny })),
  );
}

async function upload(event) {
  event.preventDefault();
  clearError();
  const file = $("#upload-file").files[0];
  if (!file) return showError("choose a song file to upload");
  if (state.info && file.size > state.info.upload_limit) {
    return showError(`the file is larger than the ${Math.round(state.info.upload_limit / 1048576)} MB upload limit`);
  }
  const found = await api(`/api/songs?name=${enc(file.name)}`, { method: "POST", body: file });
  $("#upload-file").value = "";
  await loadSongs();
  if (found.songs.length) viewSong(found.songs[0].ref);
}

async function addCorpus(event) {
  event.preventDefault();
  clearError();
  const reference = $("#corpus-ref").value.trim();
  if (!reference) return;
  await postJSON("/api/corpus", { reference });
  $("#corpus-ref").value = "";
  await loadSongs();
}

async function removeUpload(ref) {
  await api(`/api/songs/upload/${enc(ref.split(":")[1])}`, { method: "DELETE" });
  for (const picked of [...state.picked]) if (picked.startsWith(ref + "#")) state.picked.delete(picked);
  await loadSongs();
}

// Training

function showModelParams() {
  const name = $("#train-model").value;
  const model = state.info.models.find((m) => m.name === name);
  $("#model-description").textContent = model ? model.description : "";
  const box = $("#train-params");
  box.replaceChildren(el("legend", { text: "The model's parameters" }));
  for (const p of model ? model.params : []) {
    let input;
    if (p.type === "bool") {
      input = el("input", { type: "checkbox", "data-param": p.name, checked: !!p.default });
    } else if (p.type === "choice") {
      input = el("select", { "data-param": p.name });
      for (const c of p.choices) input.append(el("option", { value: String(c), text: String(c), selected: c === p.default }));
    } else {
      input = el("input", { type: "number", step: p.type === "float" ? "any" : "1", value: p.default, "data-param": p.name, min: p.low, max: p.high });
    }
    box.append(el("label", { title: p.help }, `${p.name} `, input));
  }
  box.hidden = !(model && model.params.length);
}

function formValues(form, skip = []) {
  const out = {};
  for (const input of form.querySelectorAll("input[name], select[name]")) {
    if (skip.includes(input.name)) continue;
    if (input.type === "checkbox") out[input.name] = input.checked;
    else if (input.value.trim() !== "") out[input.name] = input.type === "number" ? Number(input.value) : input.value.trim();
  }
  return out;
}

async function train(event) {
  event.preventDefault();
  clearError();
  const request = formValues($("#train-form"));
  request.songs = [...state.picked];
  request.params = {};
  for (const input of $("#train-params").querySelectorAll("[data-param]")) {
    request.params[input.dataset.param] = input.type === "checkbox" ? input.checked : input.value;
  }
  const job = await postJSON("/api/jobs", request);
  state.jobs.set(job.id, job);
  renderJobs();
}

function curve(history) {
  const width = 320, height = 90, ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("class", "curve");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", "learning curve: loss and accuracy by epoch");
  const lines = [["loss", "#d62728"], ["accuracy", "#1f77b4"], ["val_loss", "#ff9896"], ["val_accuracy", "#aec7e8"]];
  const lossMax = Math.max(1e-9, ...(history.loss || []), ...(history.val_loss || []));
  for (const [key, color] of lines) {
    const values = history[key] || [];
    if (values.length < 2) continue;
    const top = key.includes("loss") ? lossMax : 1;
    const points = values.map((v, i) => `${((i / (values.length - 1)) * width).toFixed(1)},${(height - (Math.min(v, top) / top) * (height - 4) - 2).toFixed(1)}`);
    const line = document.createElementNS(ns, "polyline");
    line.setAttribute("points", points.join(" "));
    line.setAttribute("fill", "none");
    line.setAttribute("stroke", color);
    line.setAttribute("stroke-width", "1.5");
    line.setAttribute("data-series", key);
    svg.append(line);
  }
  return svg;
}

function jobLine(job) {
  const loss = (job.history.loss || []).at(-1);
  const acc = (job.history.accuracy || []).at(-1);
  let text = `epoch ${job.epoch}/${job.epochs}`;
  if (loss !== undefined) text += ` · loss ${loss.toFixed(3)}`;
  if (acc !== undefined) text += ` · accuracy ${(acc * 100).toFixed(0)}%`;
  return text;
}

const jobNodes = new Map(); // job id -> its article's parts, updated in place

function renderJobs() {
  const root = $("#jobs");
  const jobs = [...state.jobs.values()].sort((a, b) => b.created - a.created);
  if (!jobs.length) {
    jobNodes.clear();
    return root.replaceChildren(el("p", { class: "empty", text: "None yet." }));
  }
  for (const [id, parts] of jobNodes) {
    if (!state.jobs.has(id)) {
      parts.root.remove();
      jobNodes.delete(id);
    }
  }
  const empty = $(".empty", root);
  if (empty) empty.remove();
  let previous = null;
  for (const job of jobs) {
    let parts = jobNodes.get(job.id);
    if (!parts) {
      parts = jobParts(job);
      jobNodes.set(job.id, parts);
    }
    updateJob(parts, job);
    if (previous === null ? root.firstChild !== parts.root : previous.nextSibling !== parts.root) {
      if (previous === null) root.prepend(parts.root);
      else previous.after(parts.root);
    }
    previous = parts.root;
  }
  const running = jobs.find((j) => j.status === "running");
  const queued = jobs.filter((j) => j.status === "queued").length;
  $("#queue-status").textContent = running
    ? `Training ${running.name}: ${jobLine(running)}${queued ? `; ${queued} queued` : ""}`
    : queued ? `${queued} queued` : "No training running.";
}

function jobParts(job) {
  const parts = {
    status: el("span", { class: "status" }),
    meta: el("p", { class: "meta" }),
    progress: el("progress", { max: 1, value: 0 }),
    text: el("p", { class: "progress-text" }),
    curve: el("div", { class: "curve-box" }),
    error: el("p", { class: "bad error-line" }),
    messages: el("pre", { class: "messages" }),
    cancel: el("button", { type: "button", class: "cancel", text: "Cancel", onclick: () => api(`/api/jobs/${job.id}/cancel`, { method: "POST" }).catch(() => {}) }),
    resume: el("button", { type: "button", class: "resume", text: "Resume", onclick: () => resume(job.name).catch(() => {}) }),
    drawn: -1,
  };
  parts.root = el(
    "article",
    { class: "job", "data-id": job.id, "data-name": job.name },
    el("h4", {}, `${job.name} `, parts.status),
    parts.meta,
    parts.progress,
    parts.text,
    parts.curve,
    parts.error,
    parts.messages,
    el("p", { class: "actions" }, parts.cancel, " ", parts.resume),
  );
  return parts;
}

function updateJob(parts, job) {
  const active = job.status === "queued" || job.status === "running";
  parts.root.className = `job ${job.status}`;
  parts.root.dataset.status = job.status;
  parts.status.className = `status ${job.status}`;
  parts.status.textContent = job.cancelling ? "cancelling" : job.status;
  const reading = job.reading || {};
  let meta = `${job.model} (${job.encoding}) on ${job.song_names.join(", ")}`;
  if (reading.part) meta += `, part ${reading.part}`;
  if ((job.options || {}).bar_inputs) meta += ", with bar inputs";
  if (reading.transpose !== undefined && reading.transpose !== null) {
    meta += reading.transpose === "common" ? ", moved to the common key" : `, transposed ${reading.transpose > 0 ? "+" : ""}${reading.transpose}`;
  }
  if (job.removed) meta += " · model deleted";
  parts.meta.textContent = meta;
  parts.progress.max = job.status === "done" ? Math.max(job.epoch, 1) : job.epochs || 1;
  parts.progress.value = job.epoch || 0;
  parts.text.textContent = jobLine(job);
  const drawn = (job.history.loss || []).length;
  if (drawn !== parts.drawn) {
    parts.curve.replaceChildren(curve(job.history));
    parts.drawn = drawn;
  }
  parts.error.textContent = job.error || "";
  parts.error.hidden = !job.error;
  if (parts.messages.textContent !== job.messages.join("\n")) parts.messages.textContent = job.messages.join("\n");
  parts.cancel.hidden = !active;
  parts.cancel.disabled = !!job.cancelling;
  parts.resume.hidden = active || !job.resumable;
}

async function resume(name) {
  clearError();
  const job = await postJSON(`/api/models/${enc(name)}/resume`, {});
  state.jobs.set(job.id, job);
  renderJobs();
}

function listen() {
  const source = new EventSource("/api/events");
  source.addEventListener("snapshot", (e) => {
    state.jobs.clear();
    for (const job of JSON.parse(e.data).jobs) state.jobs.set(job.id, job);
    renderJobs();
  });
  source.addEventListener("job", (e) => {
    const job = JSON.parse(e.data).job;
    const before = state.jobs.get(job.id);
    state.jobs.set(job.id, job);
    renderJobs();
    if (before && before.status !== job.status && ["done", "cancelled", "interrupted", "failed"].includes(job.status)) loadModels();
    if (job.status === "running" && (!before || before.status !== "running")) loadModels();
  });
  source.addEventListener("epoch", (e) => {
    const data = JSON.parse(e.data);
    const job = state.jobs.get(data.job);
    if (!job) return;
    job.epoch = data.epoch;
    job.epochs = data.epochs;
    for (const [key, value] of Object.entries(data.logs)) (job.history[key] = job.history[key] || []).push(value);
    renderJobs();
  });
  source.addEventListener("message", (e) => {
    const data = JSON.parse(e.data);
    const job = state.jobs.get(data.job);
    if (!job) return;
    job.messages.push(data.text);
    renderJobs();
  });
}

// Models and generating

async function loadModels() {
  const data = await api("/api/models");
  state.models = data.models;
  state.pretrained = data.pretrained || [];
  const select = $("#gen-model");
  const chosen = select.value;
  select.replaceChildren();
  const own = el("optgroup", { label: "Your models" });
  for (const m of state.models) {
    if (m.error) {
      // a bundle that cannot be used says why, and cannot be chosen
      own.append(el("option", { value: m.ref || m.name, disabled: true, text: `${m.name} — cannot be used: ${m.error}` }));
      continue;
    }
    const score = (m.scores || []).map((s) => `${s.song} ${s.full_song}`).join(", ");
    const label = `${m.name} — ${m.model}, ${m.epochs_run} epochs${m.status !== "complete" ? ` (${m.status})` : ""}${score ? ", " + score : ""}`;
    own.append(el("option", { value: m.ref || m.name, text: label }));
  }
  const pretrained = el("optgroup", { label: "Pretrained (installed with a package)" });
  for (const m of state.pretrained) {
    if (m.error) continue;
    const label = `${m.name} (pretrained) — ${m.description || m.model}`;
    pretrained.append(el("option", { value: m.ref, text: label, "data-pretrained": "true" }));
  }
  if (own.children.length) select.append(own);
  if (pretrained.children.length) select.append(pretrained);
  if (![...select.options].some((o) => !o.disabled)) select.prepend(el("option", { value: "", text: "no model yet: train one" }));
  if ([...select.options].some((o) => o.value === chosen)) select.value = chosen;
  else {
    const usable = [...select.options].filter((o) => !o.disabled);
    const mine = usable.filter((o) => !o.dataset.pretrained);
    select.value = (mine.at(-1) || usable[0] || select.options[0]).value;
  }
  showModelInfo();
}

function chosenModel() {
  const ref = $("#gen-model").value;
  return state.models.find((m) => (m.ref || m.name) === ref) || state.pretrained.find((m) => m.ref === ref) || null;
}

// What the chosen model is: a pretrained one's description, corpus and licence; one of
// the person's own can be deleted (a pretrained one cannot).
function showModelInfo() {
  const m = chosenModel();
  let text = "";
  if (m && m.pretrained) {
    const bits = typeof m.heldout_bits_per_note === "number" ? `, ${m.heldout_bits_per_note.toFixed(2)} bits per note on held-out songs` : "";
    text = `Pretrained, from ${m.distribution}${m.version ? " " + m.version : ""}: ${m.description}. ${m.model}, trained on ${m.songs} songs (${m.corpus})${bits}. Licence: ${m.licence}`;
  } else if (m) {
    text = `Yours: ${m.model} (${m.encoding}${m.bar_inputs ? ", bar inputs" : ""}), trained on ${(m.songs || []).join(", ")}.`;
  }
  $("#gen-model-info").textContent = text;
  $("#delete-model").hidden = !m || !!m.pretrained;
}

async function deleteModel() {
  const m = chosenModel();
  if (!m || m.pretrained) return;
  if (!window.confirm(`Delete the model ${m.name}? Its files are removed from the studio's data directory.`)) return;
  clearError();
  await api(`/api/models/${enc(m.name)}`, { method: "DELETE" });
  await loadModels();
}

function showPrimerInputs() {
  const kind = $("#primer-kind").value;
  $("#primer-count").closest("label").hidden = kind === "notes";
  $("#primer-notes").closest("label").hidden = kind !== "notes";
}

async function generate(event) {
  event.preventDefault();
  clearError();
  const values = formValues($("#generate-form"), ["primer_kind", "primer", "primer_notes"]);
  const kind = $("#primer-kind").value;
  if (kind === "notes") values.primer = $("#primer-notes").value.trim();
  else if ($("#primer-count").value !== "") values.primer = Number($("#primer-count").value);
  if (kind === "song") {
    if (!state.viewed) return showError("primer: show a song first (click its title in the list)");
    values.primer_song = state.viewed;
  }
  if (!values.model) return showError("model: train one first, then choose it");
  const button = $("#generate");
  button.disabled = true;
  try {
    const data = await postJSON("/api/generate", values);
    const root = $("#results");
    if ($(".empty", root)) root.replaceChildren();
    for (const result of data.results.reverse()) root.prepend(renderResult(result));
  } finally {
    button.disabled = false;
  }
}

function renderResult(result) {
  const ref = `result:${result.id}`;
  const title = result.song.title || result.model;
  const from = `${result.model_name || result.model}${result.pretrained ? " (pretrained)" : ""}`;
  const facts = el("p", { class: "meta" }, `${result.notes} notes from ${from}. `);
  if (result.compared) {
    facts.append(el("span", { class: result.wrong.length ? "bad" : "good", text: `${result.matches}/${result.compared} generated notes match ${result.reference} in position. ` }));
  }
  if (result.longest_copy !== undefined && result.longest_copy !== null) facts.append(`Longest run shared with the training songs: ${result.longest_copy} notes. `);
  if (result.mean_surprise !== undefined && result.mean_surprise !== null) facts.append(`Mean surprise: ${result.mean_surprise.toFixed(2)} bits per note.`);
  const compare = el("span", { class: "legend-compare" }, el("span", { class: "dot primer" }), "primer");
  if (result.compared) compare.append(el("span", { class: "dot wrong" }), "generated note that differs from the original");
  const surprise = el("span", { class: "legend-surprise", hidden: true }, "surprise: ");
  for (const band of (state.info && state.info.surprise_legend) || []) {
    const dot = el("span", { class: "dot" });
    dot.style.background = band.color;
    surprise.append(dot, band.label);
  }
  const figure = songFigure(ref, "");
  const remove = el("button", { type: "button", class: "link remove", text: "delete", title: "delete this melody" });
  const marks = el("select", { class: "marks", "aria-label": "colour the notes by" },
    el("option", { value: "compare", text: "primer and wrong notes" }),
    el("option", { value: "surprise", text: "surprise (information content)", disabled: !result.surprise }));
  marks.addEventListener("change", () => {
    $("img.score", figure).src = scoreURL(ref, marks.value);
    compare.hidden = marks.value === "surprise";
    surprise.hidden = marks.value !== "surprise";
  });
  const article = el(
    "article",
    { class: "result", "data-id": result.id },
    el("h4", {}, title, " ", remove),
    facts,
    ...(result.remarks || []).map((remark) => el("p", { class: "hint remark", text: remark })),
    el("p", { class: "legend" }, el("label", {}, "Colour the notes by ", marks), " ", compare, surprise),
    figure,
    el("details", {}, el("summary", { text: "tinyNotation" }), el("pre", { class: "tiny", text: result.tiny })),
  );
  remove.addEventListener("click", () => removeResult(result.id, article).catch(() => {}));
  return article;
}

async function removeResult(id, article) {
  clearError();
  await api(`/api/results/${enc(id)}`, { method: "DELETE" });
  article.remove();
  const root = $("#results");
  if (!$("article.result", root)) root.replaceChildren(el("p", { class: "empty", text: "Nothing generated yet." }));
}

async function loadResults() {
  const data = await api("/api/results");
  const root = $("#results");
  if (data.results.length) root.replaceChildren(...data.results.map(renderResult));
}

// Start

async function start() {
  $("#error-close").addEventListener("click", clearError);
  $("#upload-form").addEventListener("submit", (e) => upload(e).catch(() => {}));
  $("#corpus-form").addEventListener("submit", (e) => addCorpus(e).catch(() => {}));
  $("#train-form").addEventListener("submit", (e) => train(e).catch(() => {}));
  $("#generate-form").addEventListener("submit", (e) => generate(e).catch(() => {}));
  $("#primer-kind").addEventListener("change", showPrimerInputs);
  $("#gen-model").addEventListener("change", showModelInfo);
  $("#delete-model").addEventListener("click", () => deleteModel().catch(() => {}));
  showPrimerInputs();
  state.info = await api("/api/info");
  const modelSelect = $("#train-model");
  for (const m of state.info.models) modelSelect.append(el("option", { value: m.name, text: m.name, selected: m.name === "stateful-lstm" }));
  modelSelect.addEventListener("change", showModelParams);
  for (const e of state.info.encodings) $("#train-encoding").append(el("option", { value: e, text: e }));
  showModelParams();
  listen();
  await Promise.all([loadSongs(), loadModels(), loadResults()]);
  document.body.dataset.ready = "true";
}

start().catch((err) => showError(String(err.message || err)));
