// gankit studio page: asks the server what each run is, shows the matching controls, and calls its JSON API.
"use strict";

const $ = (id) => document.getElementById(id);
let runs = [];
let run = null;          // the run shown
let lastSample = null;   // the request of the grid on screen (a walk between two of its samples repeats it)
let picked = [];         // indices of the samples picked for a walk
let upload = null;       // {dataUrl, drawnSince} of an uploaded picture

function showError(message) {
  $("error").textContent = message || "";
  $("error").hidden = !message;
}

async function call(action, body) {
  showError("");
  document.body.style.cursor = "progress";
  try {
    const response = await fetch(`/api/runs/${run.id}/${action}`, {
      method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
    let data;
    try { data = await response.json(); } catch (e) { data = {error: `the server answered ${response.status}`}; }
    if (!response.ok || data.error) { showError(data.error || `the server answered ${response.status}`); return null; }
    return data;
  } catch (e) {
    showError(`cannot reach the studio server: ${e}`);
    return null;
  } finally {
    document.body.style.cursor = "";
  }
}

function img(src, cls) {
  const el = document.createElement("img");
  el.src = src;
  if (cls) el.className = cls;
  return el;
}

function figure(src, caption) {
  const fig = document.createElement("figure");
  fig.appendChild(img(src));
  const text = document.createElement("figcaption");
  text.textContent = caption;
  fig.appendChild(text);
  return fig;
}

// ------------------------------------------------------------------ noise-driven generators

function psi() { return run.truncation ? Number($("psi").value) : undefined; }

async function generate() {
  const body = {seed: Number($("seed").value), n: Number($("count").value), truncation: psi()};
  if ($("label").value !== "") body.label = Number($("label").value);
  const data = await call("sample", body);
  if (!data) return;
  lastSample = body;
  picked = [];
  $("walk").disabled = true;
  const grid = $("samples");
  grid.replaceChildren();
  grid.style.gridTemplateColumns = `repeat(${data.columns}, auto)`;
  data.images.forEach((src, i) => {
    const el = img(src, "sample");
    el.dataset.index = i;
    if (data.labels && data.labels.length) el.title = `sample ${i}: ${data.labels[i]}`;
    el.addEventListener("click", () => pick(i));
    grid.appendChild(el);
  });
}

function pick(i) {
  picked = picked.length >= 2 ? [i] : [...picked, i];
  document.querySelectorAll("#samples img").forEach((el, j) => {
    el.classList.toggle("a", picked[0] === j);
    el.classList.toggle("b", picked[1] === j);
  });
  $("walk").disabled = picked.length !== 2;
}

async function walk() {
  const data = await call("walk", {...lastSample, first: picked[0], second: picked[1], frames: 12});
  if (!data) return;
  $("walk-out").replaceChildren(img(data.gif, "walk"), img(data.strip, "strip"));
}

async function mix() {
  const data = await call("mix", {seed: Number($("seed").value), truncation: psi()});
  if (data) $("mix-out").replaceChildren(figure(data.image, "top row: sources A; left column: sources B; " +
    "blocks of rows take B's coarse, middle and fine styles"));
}

// ------------------------------------------------------------------ translators

const pad = () => $("pad");
const holes = () => $("holes");

function clearCanvases() {
  const ctx = pad().getContext("2d");
  ctx.fillStyle = run && run.paper ? "#fff" : "#000";
  ctx.fillRect(0, 0, pad().width, pad().height);
  holes().getContext("2d").clearRect(0, 0, holes().width, holes().height);
  upload = null;
}

function drawing(canvas, colour) {
  let down = false;
  const at = (e) => {
    const r = canvas.getBoundingClientRect();
    return [(e.clientX - r.left) * canvas.width / r.width, (e.clientY - r.top) * canvas.height / r.height];
  };
  canvas.addEventListener("pointerdown", (e) => {
    down = true;
    const ctx = canvas.getContext("2d");
    ctx.beginPath();
    ctx.moveTo(...at(e));
    canvas.setPointerCapture(e.pointerId);
  });
  canvas.addEventListener("pointermove", (e) => {
    if (!down) return;
    const ctx = canvas.getContext("2d");
    ctx.strokeStyle = colour();
    ctx.lineWidth = canvas === holes() ? 34 : 22;
    ctx.lineCap = ctx.lineJoin = "round";
    ctx.lineTo(...at(e));
    ctx.stroke();
    if (upload) upload.drawnSince = true;
  });
  canvas.addEventListener("pointerup", () => { down = false; });
}

// A canvas (or the holes' alpha as white on black) at side x side, as JPEG: no alpha channel, which gankit refuses.
function canvasUrl(source, side, holesMask) {
  const out = document.createElement("canvas");
  out.width = out.height = side;
  const ctx = out.getContext("2d");
  ctx.fillStyle = "#000";
  ctx.fillRect(0, 0, side, side);
  if (holesMask) {
    const tmp = document.createElement("canvas");
    tmp.width = source.width; tmp.height = source.height;
    const t = tmp.getContext("2d");
    const pixels = source.getContext("2d").getImageData(0, 0, source.width, source.height);
    for (let k = 0; k < pixels.data.length; k += 4) {
      const on = pixels.data[k + 3] > 0 ? 255 : 0;
      pixels.data[k] = pixels.data[k + 1] = pixels.data[k + 2] = on;
      pixels.data[k + 3] = 255;
    }
    t.putImageData(pixels, 0, 0);
    source = tmp;
  }
  ctx.imageSmoothingQuality = "high";
  ctx.drawImage(source, 0, 0, side, side);
  return out.toDataURL("image/jpeg", 0.95);
}

function inputSide() {
  const shape = run.inputs[$("direction").value || "a2b"];
  return shape[shape.length - 1];
}

async function runTranslate() {
  const body = {};
  if (run.kind === "upscale" && upload && !upload.drawnSince) body.image = upload.dataUrl;  // the picture itself
  else body.image = canvasUrl(pad(), inputSide());
  if (run.kind === "inpaint") body.mask = canvasUrl(holes(), inputSide(), true);
  if (run.kind === "translate") body.direction = $("direction").value;
  const data = await call("translate", body);
  if (data) $("translate-out").replaceChildren(figure(data.input, "input"), figure(data.output, "output"));
}

async function runGlyphs() {
  const data = await call("translate", {text: $("glyph-text").value});
  if (data) $("translate-out").replaceChildren(figure(data.input, "source font"), figure(data.output, "model"));
}

function readUpload(file) {
  upload = null;
  if (!file) return;
  if (file.size > 4 * 1024 * 1024) {
    showError(`${file.name} is larger than 4 MB: the studio takes smaller pictures`);
    return;
  }
  const reader = new FileReader();
  reader.onload = () => {
    const picture = new Image();
    picture.onload = () => {
      clearCanvases();
      const ctx = pad().getContext("2d");
      const s = Math.min(pad().width / picture.width, pad().height / picture.height);
      ctx.drawImage(picture, 0, 0, picture.width * s, picture.height * s);
      upload = {dataUrl: reader.result, drawnSince: false};
    };
    picture.onerror = () => { upload = {dataUrl: reader.result, drawnSince: false}; };  // the server says why
    picture.src = reader.result;
  };
  reader.readAsDataURL(file);
}

// ------------------------------------------------------------------ text models

async function writeTexts() {
  const body = {seed: Number($("text-seed").value), n: Number($("text-count").value),
                temperature: Number($("temperature").value), prefix: $("prefix").value};
  const data = await call("text", body);
  if (!data) return;
  $("texts").replaceChildren(...data.texts.map((t) => {
    const li = document.createElement("li");
    li.textContent = t;
    return li;
  }));
}

// ------------------------------------------------------------------ choosing a run

function show(index) {
  run = runs[index];
  showError("");
  const noise = run.kind === "noise" || run.kind === "points";
  $("noise").hidden = !noise;
  $("translator").hidden = !["translate", "upscale", "inpaint"].includes(run.kind);
  $("text").hidden = run.kind !== "text";
  $("what").textContent = `${run.preset || run.recipe}: ${run.kind === "noise" ? "draws images from noise" :
    run.kind === "points" ? "draws points" : run.kind === "text" ? "writes text" :
    run.kind === "upscale" ? "upscales pictures" : run.kind === "inpaint" ? "fills holes" : "translates pictures"}` +
    ` (data ${run.data})`;
  $("samples").replaceChildren();
  ["walk-out", "mix-out", "translate-out"].forEach((id) => $(id).replaceChildren());
  $("texts").replaceChildren();
  if (noise) {
    $("label-box").hidden = !(run.classes && run.classes.length);
    $("label").replaceChildren(new Option("every class", ""), ...(run.classes || []).map((c, i) => new Option(c, i)));
    $("psi-box").hidden = !run.truncation;
    $("mix").hidden = !run.mix;
    $("walk").hidden = $("walk-hint").hidden = run.kind === "points";
  } else if (run.kind !== "text") {
    $("translator-title").textContent = {upscale: "Upscale your picture", inpaint: "Erase part of a picture",
                                         translate: "Translate your picture"}[run.kind];
    $("direction-box").hidden = run.directions.length < 2;
    $("direction").replaceChildren(...run.directions.map((d) => new Option(d, d)));
    $("paint-box").hidden = run.kind !== "inpaint";
    $("holes").hidden = run.kind !== "inpaint";
    $("glyph-box").hidden = !run.glyph_text;
    $("draw-hint").textContent = run.kind === "inpaint" ?
      "Or draw in the box; then tick 'paint holes' and paint over what should be filled." : "Or draw in the box.";
    clearCanvases();
  } else {
    $("temperature").value = run.temperature;
  }
  $("report-box").hidden = !run.report;
  $("report").src = run.report ? `/runs/${run.id}/files/report.html` : "about:blank";
}

async function start() {
  try {
    runs = await (await fetch("/api/runs")).json();
  } catch (e) {
    showError(`cannot reach the studio server: ${e}`);
    return;
  }
  $("run").replaceChildren(...runs.map((r, i) => new Option(`${r.name} (${r.preset || r.recipe})`, i)));
  $("run").addEventListener("change", () => show(Number($("run").value)));
  $("generate").addEventListener("click", () => (run.kind === "points" ? points() : generate()));
  $("new-seed").addEventListener("click", () => { $("seed").value = Math.floor(Math.random() * 100000); $("generate").click(); });
  $("psi").addEventListener("input", () => { $("psi-value").textContent = Number($("psi").value).toFixed(2); });
  $("walk").addEventListener("click", walk);
  $("mix").addEventListener("click", mix);
  $("upload").addEventListener("change", (e) => readUpload(e.target.files[0]));
  $("clear").addEventListener("click", clearCanvases);
  $("run-translate").addEventListener("click", runTranslate);
  $("run-glyphs").addEventListener("click", runGlyphs);
  $("run-text").addEventListener("click", writeTexts);
  $("paint-holes").addEventListener("change", (e) => holes().classList.toggle("active", e.target.checked));
  drawing(pad(), () => (run && run.paper ? "#000" : "#fff"));
  drawing(holes(), () => "#f00");
  show(0);
  document.body.dataset.ready = "yes";  // for tests and scripts: the page has loaded its runs
}

async function points() {
  const data = await call("sample", {seed: Number($("seed").value), n: Number($("count").value)});
  if (data) $("samples").replaceChildren(img(data.images[0]));
}

start();
