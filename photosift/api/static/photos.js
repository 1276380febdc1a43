/* photosift web UI, part 2: the photo grid (filters, dates, order), selecting, downloading and deleting photos,
   uploads, and the viewer. */
"use strict";

// ---------------------------------------------------------------- rendering: photos

const cardCache = new Map();

function renderAll() {
  syncMemberNames();
  renderMembers(); renderFilters(); renderPhotos(); renderPeople(); renderMemberCards(); renderStats(); renderViewer();
}

// Faces carry their member's name: after a rename the photos say the new one.
function syncMemberNames() {
  const names = new Map(state.members.map((m) => [m.id, m.name]));
  for (const photo of state.photos.values()) {
    if (!photo.faces?.some((f) => f.member && names.has(f.member.id) && f.member.name !== names.get(f.member.id))) {
      continue;
    }
    photo.faces = photo.faces.map((f) => (f.member && names.has(f.member.id)
      ? { ...f, member: { ...f.member, name: names.get(f.member.id) } } : f));
    updateCard(photo);
  }
}

const isPending = (photo) => photo.status === "pending" || photo.status === "processing";
const analysing = () => [...state.photos.values()].some(isPending);

// The album's analysis at a glance: a progress bar while photos are analysed, then "done: 34 analysed, 1 failed".
function renderStats() {
  const photos = [...state.photos.values()];
  const count = (status) => photos.filter((p) => p.status === status).length;
  const done = count("done");
  const failed = count("failed");
  const pending = photos.length - done - failed;
  const node = $("album-stats");
  const failedText = failed ? `, ${failed} failed` : "";
  if (!photos.length) node.replaceChildren("no photos yet");
  else if (pending) {
    node.replaceChildren(el("progress", { max: String(photos.length), value: String(done + failed),
      "aria-label": "analysis progress" }), `analysing: ${done + failed} of ${photos.length}${failedText}`);
  } else node.replaceChildren(`${plural(photos.length, "photo")} · done: ${done} analysed${failedText}`);
  if (state.reembedding) {
    const { done: embedded, total } = state.reembedding;
    node.append(el("span", { class: "reembedding", "data-testid": "reembedding",
      text: ` · updating face recognition: ${embedded} of ${total}` }));
  }
  Object.assign(node.dataset, { pending: String(pending), done: String(done), failed: String(failed) });
  $("members-summary").textContent = state.members.length ? `(${state.members.length})` : "";
  renderUploadSummary();
}

function memberName(id) { return state.members.find((m) => m.id === id)?.name; }
function personOf(id) { return state.people.find((p) => p.id === id); }

function matchesFilter(photo) {
  const { kind, id } = state.filter;
  const faces = photo.faces || [];
  switch (kind) {
    case "blurry": return photo.blur?.blurry === true;
    case "nofaces": return photo.status === "done" && photo.face_count === 0;
    case "member": return faces.some((f) => f.member?.id === id);
    case "person": return faces.some((f) => f.person_id === id);
    default: return true;
  }
}

// ---- capture dates: taken_at is ISO 8601 with the camera's offset, without one when the camera recorded none
// (its local time), or the upload time (UTC) when the file has no date.

const HAS_OFFSET = /(?:[zZ]|[+-]\d\d:?\d\d)$/;

function takenInstant(photo) {  // ms since the epoch, for ordering (a time without an offset is read as UTC)
  const iso = photo.taken_at || photo.created_at || "";
  const ms = Date.parse(HAS_OFFSET.test(iso) ? iso : `${iso}Z`);
  return Number.isNaN(ms) ? 0 : ms;
}

function takenWallClock(photo) {  // a Date whose UTC fields are the wall-clock time the photo was taken
  const iso = photo.taken_at || photo.created_at;
  if (!iso) return null;
  if (photo.taken_at_source === "exif") {  // the camera's own clock, as it showed it
    const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)(?::(\d\d))?/.exec(iso);
    return m ? new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] || 0))) : null;
  }
  const local = new Date(takenInstant(photo));  // an upload time: the viewer's own time zone
  return new Date(Date.UTC(local.getFullYear(), local.getMonth(), local.getDate(), local.getHours(),
    local.getMinutes(), local.getSeconds()));
}

function takenDay(photo) {  // YYYY-MM-DD of the wall clock, for the date filter
  return takenWallClock(photo)?.toISOString().slice(0, 10) || "";
}

function takenText(photo) {
  const wall = takenWallClock(photo);
  if (!wall) return "";
  const text = wall.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" });
  return photo.taken_at_source === "exif" ? `taken ${text}` : `uploaded ${text} (no date in the file)`;
}

function inDateRange(photo) {
  const { from, to } = state.dates;
  if (!from && !to) return true;
  const day = takenDay(photo);
  return (!from || day >= from) && (!to || day <= to);
}

const isShown = (photo) => matchesFilter(photo) && inDateRange(photo);

// The grid's photos in order: the filters, then upload order or capture time.
function shownPhotos() {
  const byId = (a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  const photos = [...state.photos.values()].filter(isShown);
  if (state.sort === "uploaded") return photos.sort(byId);
  const sign = state.sort === "-taken" ? -1 : 1;
  return photos.sort((a, b) => sign * (takenInstant(a) - takenInstant(b)) || byId(a, b));
}

function renderPhotos() {
  const photos = shownPhotos();
  $("photo-grid").replaceChildren(...photos.map(cardFor));
  $("photos-empty").hidden = photos.length > 0;
  $("photos-empty").textContent = state.photos.size ? "No photos match these filters." : "No photos here yet.";
  renderFilterActions(photos);
  if (state.selecting) renderSelection();
}

// A square thumbnail that keeps the faces in frame (made again once the faces are known), sharp on phones too.
function setThumb(img, photo) {
  const base = `/v1/photos/${photo.id}/thumbnail?square=true`;
  const version = isPending(photo) ? "&pending=1" : "";
  const src = `${base}&size=256${version}`;
  if (img.getAttribute("src") === src) return;
  img.srcset = `${src} 256w, ${base}&size=512${version} 512w`;
  img.sizes = "(max-width: 480px) 50vw, 11rem";
  img.src = src;
}

function cardFor(photo) {
  let card = cardCache.get(photo.id);
  if (!card) {
    const img = el("img", { class: "thumb", loading: "lazy", alt: photo.filename || "photo" });
    img.addEventListener("error", () => { img.removeAttribute("srcset"); img.alt = "no preview"; });
    card = el("button", { type: "button", class: "photo", dataset: { testid: "photo", photoId: photo.id },
      onclick: () => (state.selecting ? toggleSelected(photo.id) : openViewer(photo.id)) },
    img, el("span", { class: "check", "aria-hidden": "true", text: "✓" }), el("div", { class: "meta" }));
    cardCache.set(photo.id, card);
  }
  fillCard(card, photo);
  return card;
}

function updateCard(photo) {
  const card = cardCache.get(photo.id);
  if (card) fillCard(card, photo);
  if (state.viewer?.photoId === photo.id) renderViewer();
}

function fillCard(card, photo) {
  Object.assign(card.dataset, { filename: photo.filename || "", status: photo.status,
    blurry: String(photo.blur?.blurry === true), faces: String(photo.face_count ?? ""),
    taken: photo.taken_at || "" });
  setThumb(card.querySelector(".thumb"), photo);
  const selected = state.selected.has(photo.id);
  card.classList.toggle("selected", selected);
  if (state.selecting) card.setAttribute("aria-pressed", String(selected)); else card.removeAttribute("aria-pressed");
  const badges = [];
  if (isPending(photo)) badges.push(badge("analysing…", "pending"));
  if (photo.status === "failed") badges.push(badge(`failed: ${photo.error || "unreadable"}`, "failed"));
  if (photo.blur?.blurry) badges.push(badge("blurry", "blurry"));
  if (photo.status === "done") badges.push(badge(photo.face_count === 1 ? "1 face" : `${photo.face_count} faces`));
  for (const face of photo.faces || []) {
    if (face.member) badges.push(badge(face.member.name || "member", "member"));
    else if (face.person_id && personOf(face.person_id)) badges.push(badge(personOf(face.person_id).name));
  }
  card.querySelector(".meta").replaceChildren(el("span", { class: "fname", text: photo.filename || photo.id }),
    ...badges);
}

function badge(text, kind = "") { return el("span", { class: `badge ${kind}`, text }); }

function renderFilters() {
  const buttons = [
    ["all", null, "All photos"], ["blurry", null, "Blurry"], ["nofaces", null, "No faces"],
    ...state.members.map((m) => ["member", m.id, m.name]),
  ];
  if (state.filter.kind === "person") {
    buttons.push(["person", state.filter.id, personOf(state.filter.id)?.name || "Person"]);
  }
  $("filters").replaceChildren(...buttons.map(([kind, id, label]) => el("button", {
    type: "button", text: label, "aria-pressed": String(state.filter.kind === kind && state.filter.id === id),
    dataset: { filter: kind, filterId: id || "" }, onclick: () => setFilter(kind, id),
  })));
}

function setFilter(kind, id = null) {
  state.filter = { kind, id };
  showTab("photos");
  renderFilters();
  renderMembers();
  renderPhotos();
}

// What can be done with the current filter: download a member's or a person's photos (a ZIP), delete every blurry
// photo in one go.
function renderFilterActions(photos) {
  const { kind, id } = state.filter;
  const actions = [];
  if ((kind === "member" || kind === "person") && photos.length) {
    const who = kind === "member" ? memberName(id) : personOf(id)?.name;
    actions.push(el("a", { class: "button", href: downloadUrl({ [kind]: id }), download: "",
      dataset: { testid: "download-filter" }, text: `Download ${who ? `${who}'s` : "these"} photos (ZIP)` }));
  }
  if (kind === "blurry" && photos.length) {
    actions.push(el("button", { type: "button", class: "danger", "data-owner": true,
      dataset: { testid: "delete-blurry" }, text: `Delete ${blurryText(photos.length)}…`,
      onclick: () => deletePhotos({ blurry: true, count: photos.length }) }));
  }
  $("filter-actions").replaceChildren(...actions);
  $("filter-actions").hidden = !actions.length;
}

// ---------------------------------------------------------------- selecting photos: download or delete them

function setSelecting(on) {
  state.selecting = on;
  state.selected.clear();
  renderSelection();
  renderPhotos();
}

function toggleSelected(id) {
  if (state.selected.has(id)) state.selected.delete(id); else state.selected.add(id);
  const photo = state.photos.get(id);
  if (photo && cardCache.has(id)) fillCard(cardCache.get(id), photo);
  renderSelection();
}

function renderSelection() {
  const on = state.selecting;
  document.body.classList.toggle("selecting", on);
  $("select-toggle").setAttribute("aria-pressed", String(on));
  $("select-toggle").textContent = on ? "Done selecting" : "Select";
  $("selection-bar").hidden = !on;
  const ids = [...state.selected];
  $("selection-count").textContent = ids.length ? `${plural(ids.length, "photo")} selected` : "Tap photos to select";
  const link = $("selection-download");
  if (ids.length && ids.length <= MAX_DOWNLOAD) {
    link.href = downloadUrl({ photo_ids: ids.join(",") });
    link.setAttribute("download", "");
    link.removeAttribute("aria-disabled");
  } else {
    link.removeAttribute("href");
    link.removeAttribute("download");
    link.setAttribute("aria-disabled", "true");
  }
  link.title = ids.length > MAX_DOWNLOAD ? `At most ${MAX_DOWNLOAD} photos in one download` : "";
  $("selection-delete").disabled = !ids.length;
}

function selectAllShown() {
  for (const photo of shownPhotos()) state.selected.add(photo.id);
  renderPhotos();
  renderSelection();
}

const blurryText = (n) => (n === 1 ? "the 1 blurry photo" : `all ${n} blurry photos`);

// Deletes photos after asking: { ids } (one or a selection) or { blurry: true, count } (every blurry photo).
async function deletePhotos({ ids = [], blurry = false, count = ids.length }) {
  const one = !blurry && ids.length === 1 ? state.photos.get(ids[0]) : null;
  const what = one ? `“${one.filename || "this photo"}”` : blurry ? blurryText(count) : plural(count, "photo");
  const ok = await ask({ title: `Delete ${what}?`, ok: "Delete", danger: true,
    text: `${one ? "It is" : "They are"} removed from the album for everyone, with ${one ? "its" : "their"} faces. ` +
      "This cannot be undone." });
  if (!ok) return false;
  endUndo();
  try {
    let deleted = [];
    if (one) {
      await api("DELETE", `/v1/photos/${ids[0]}`);
      deleted = ids;
    } else if (blurry) {
      deleted = (await api("POST", albumPath("/photos/delete"), { blurry: true })).deleted;
    } else {
      for (let i = 0; i < ids.length; i += MAX_IDS) {
        const part = ids.slice(i, i + MAX_IDS);
        deleted.push(...(await api("POST", albumPath("/photos/delete"), { photo_ids: part })).deleted);
      }
    }
    removePhotos(deleted);
    toast(deleted.length === 1 ? "1 photo deleted." : `${deleted.length} photos deleted.`);
    return true;
  } catch (err) {
    toast(err.message, { error: true });
    return false;
  }
}

// ---------------------------------------------------------------- uploads

// Uploads go one request at a time, a few files per request, in the order they were chosen: the album's upload
// order (photo ids are time-ordered) is the order of the files.
const uploadQueue = [];
let uploading = false;

function queueUploads(files) {
  endUndo();
  for (const file of files) {
    const progress = el("progress", { max: "100", value: "0" });
    const item = el("li", { class: "upload-item", dataset: { testid: "upload-item", filename: file.name } },
      el("span", { class: "name", text: file.name }), el("span", { class: "state", text: "waiting" }), progress);
    $("upload-list").prepend(item);
    uploadQueue.push({ file, item, progress, albumId: state.albumId });
  }
  renderUploadSummary();
  pumpUploads();
}

async function pumpUploads() {
  if (uploading) return;
  uploading = true;
  while (uploadQueue.length) {
    const batch = [uploadQueue.shift()];
    let bytes = batch[0].file.size;
    while (uploadQueue.length && batch.length < UPLOAD_BATCH_FILES && uploadQueue[0].albumId === batch[0].albumId
      && bytes + uploadQueue[0].file.size <= UPLOAD_BATCH_BYTES) {
      bytes += uploadQueue[0].file.size;
      batch.push(uploadQueue.shift());
    }
    await uploadBatch(batch);
  }
  uploading = false;
}

function uploadBatch(jobs) {
  const { albumId } = jobs[0];
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    const form = new FormData();
    for (const { file, item } of jobs) {
      form.append("files", file, file.name);
      setUploadState(item, "uploading 0%");
    }
    xhr.upload.addEventListener("progress", (e) => {
      if (!e.lengthComputable) return;
      const pct = Math.round((100 * e.loaded) / e.total);
      for (const { item, progress } of jobs) {
        progress.value = pct;
        setUploadState(item, `uploading ${pct}%`);
      }
    });
    xhr.addEventListener("load", () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
      if (xhr.status === 401) signInNeeded(body?.error?.message);
      jobs.forEach(({ item, progress }, i) => {
        const entry = body?.photos?.[i];
        const error = entry?.error?.message
          || (xhr.status >= 400 || !entry ? body?.error?.message || `HTTP ${xhr.status}` : null);
        progress.value = 100;
        if (error) uploadFailed(item, error);
        else uploadStored(item, entry, albumId);
      });
      resolve();
    });
    xhr.addEventListener("error", () => {
      for (const { item } of jobs) uploadFailed(item, "network error: the upload did not reach the server");
      resolve();
    });
    xhr.open("POST", `/v1/albums/${albumId}/photos`);
    xhr.send(form);
  });
}

function uploadStored(item, entry, albumId) {
  item.dataset.photoId = entry.id;
  if (albumId === state.albumId) {
    state.uploads.set(entry.id, item);
    const photo = state.photos.get(entry.id);
    if (photo) markUpload(item, photo); else refreshPhoto(entry.id);
  }
  if (entry.duplicate) setUploadState(item, "already in the album", "done");
  else if (!state.photos.get(entry.id) || state.photos.get(entry.id).status === "pending") {
    setUploadState(item, "stored · analysing…");
  }
}

function setUploadState(item, text, cls = "") {
  item.querySelector(".state").textContent = text;
  const was = item.className;
  item.classList.remove("done", "error");
  if (cls) item.classList.add(cls);
  if (item.className !== was) renderUploadSummary();
}

// The folded upload panel still says what is going on.
function renderUploadSummary() {
  const items = [...$("upload-list").children];
  const busy = items.filter((i) => !i.classList.contains("done") && !i.classList.contains("error")).length;
  const refused = items.filter((i) => i.classList.contains("error")).length;
  $("upload-summary").textContent = [busy ? `${busy} in progress` : "", refused ? `${refused} refused` : ""]
    .filter(Boolean).join(" · ");
}

function uploadFailed(item, message) {
  setUploadState(item, "refused", "error");
  item.querySelector("progress").hidden = true;
  item.append(el("span", { class: "error-text", text: message, dataset: { testid: "upload-error" } }));
}

function markUpload(item, photo) {
  if (photo.status === "done") setUploadState(item, "analysed ✓", "done");
  else if (photo.status === "failed") {
    setUploadState(item, "could not be analysed", "error");
    if (!item.querySelector(".error-text")) {
      item.append(el("span", { class: "error-text", text: photo.error || "unreadable image",
        dataset: { testid: "upload-error" } }));
    }
  }
}

function dropTarget(node, onFiles) {
  const stop = (e) => { e.preventDefault(); e.stopPropagation(); };
  node.addEventListener("dragenter", (e) => { stop(e); node.classList.add("over"); });
  node.addEventListener("dragover", (e) => { stop(e); node.classList.add("over"); });
  node.addEventListener("dragleave", (e) => { stop(e); node.classList.remove("over"); });
  node.addEventListener("drop", (e) => {
    stop(e);
    node.classList.remove("over");
    const files = [...(e.dataTransfer?.files || [])];
    if (files.length) onFiles(files);
  });
}

// ---------------------------------------------------------------- viewer: the display version, face boxes, browsing

const ZOOMS = [1, 2, 4];

function openViewer(photoId) {
  if (!state.photos.has(photoId)) return;
  showInViewer(photoId);
  $("viewer").hidden = false;
}

// Shows a photo in the viewer: its display version (an upright JPEG of any format, HEIC included), not the original.
function showInViewer(photoId) {
  const photo = state.photos.get(photoId);
  state.viewer = { photoId, faceId: null, zoom: 1 };
  const img = $("viewer-img");
  setViewerRatio(photo.width && photo.height ? photo.width / photo.height : 1.5);
  img.src = thumbUrl(photoId, 2048);
  img.alt = photo.filename || "photo";
  const download = $("viewer-download");
  download.href = `/v1/photos/${photoId}/content`;
  download.setAttribute("download", photo.filename || "");
  download.title = `The original file${photo.filename ? `, ${photo.filename}` : ""}`;
  applyZoom();
  renderViewer();
}

function stepViewer(delta) {
  if (!state.viewer) return;
  const list = shownPhotos();
  const at = list.findIndex((p) => p.id === state.viewer.photoId);
  const next = at < 0 ? null : list[at + delta];
  if (next) showInViewer(next.id);
}

function zoomViewer(level = null) {
  if (!state.viewer) return;
  const at = ZOOMS.indexOf(state.viewer.zoom);
  state.viewer.zoom = level ?? ZOOMS[(at + 1) % ZOOMS.length];
  applyZoom();
}

function setViewerRatio(ratio) { $("viewer-frame").style.setProperty("--ratio", String(ratio)); }

// Zoom: the photo (and its face boxes, placed in % of it) grows inside a scrolling stage, kept centred.
function applyZoom() {
  const scroll = $("viewer-scroll");
  const zoom = state.viewer?.zoom || 1;
  const button = $("viewer-zoom");
  button.textContent = zoom === 1 ? "Zoom" : `Zoom ${zoom}×`;
  button.setAttribute("aria-pressed", String(zoom > 1));
  $("viewer").classList.toggle("zoomed", zoom > 1);
  $("viewer-frame").style.setProperty("--zoom", String(zoom));
  scroll.scrollLeft = (scroll.scrollWidth - scroll.clientWidth) / 2;
  scroll.scrollTop = (scroll.scrollHeight - scroll.clientHeight) / 2;
}

function faceName(face) {
  const person = face.person_id ? personOf(face.person_id) : null;
  return face.member?.name || person?.name || "Unknown";
}

// Draws the viewer's face boxes, caption and the corrections of the chosen face (again on every live update).
function renderViewer() {
  const photo = state.viewer && state.photos.get(state.viewer.photoId);
  if (!photo) return;
  const frame = $("viewer-frame");
  frame.querySelectorAll(".facebox").forEach((n) => n.remove());
  const faces = photo.width && photo.height ? photo.faces || [] : [];
  if (!faces.some((f) => f.id === state.viewer.faceId)) state.viewer.faceId = null;
  for (const face of faces) {
    const chosen = face.id === state.viewer.faceId;
    const box = el("button", { type: "button", class: `facebox${face.member ? " member" : ""}${chosen ? " chosen" : ""}`,
      "aria-pressed": String(chosen), "aria-label": `Correct ${faceName(face)}`,
      dataset: { testid: "facebox", faceId: face.id },
      onclick: () => { endUndo(); state.viewer.faceId = chosen ? null : face.id; renderViewer(); } },
    el("span", { text: faceName(face) }));
    placeBox(box, face.box, photo.width, photo.height);
    frame.append(box);
  }
  placeLabels();
  const list = shownPhotos();
  const at = list.findIndex((p) => p.id === photo.id);
  $("viewer-position").textContent = at < 0 ? "" : `${at + 1} / ${list.length}`;
  $("viewer-prev").disabled = at <= 0;
  $("viewer-next").disabled = at < 0 || at >= list.length - 1;
  const blur = photo.blur ? `sharpness ${photo.blur.sharpness.toFixed(0)}${photo.blur.blurry ? " (blurry)" : ""}` : "";
  $("viewer-caption").replaceChildren(el("strong", { text: photo.filename || photo.id }),
    ...[takenText(photo), blur, photo.status === "failed" ? `could not be analysed: ${photo.error}` : ""]
      .filter(Boolean).map((part) => ` · ${part}`));
  $("viewer-caption").dataset.taken = photo.taken_at || "";
  $("viewer-actions").replaceChildren(...viewerActions(faces.find((f) => f.id === state.viewer.faceId), faces)
    .filter(Boolean));
}

// Under the photo: "Not <member>" and "This is…" for the chosen face, or how to choose one.
function viewerActions(face, faces) {
  if (!faces.length) return [];
  if (!face) return [el("span", { class: "hint", text: "Tap a face to correct who it is." })];
  return [
    el("strong", { text: faceName(face) }),
    face.member ? el("button", { type: "button", text: `Not ${face.member.name || "this member"}`,
      dataset: { testid: "face-not" }, onclick: () => rejectFace(face, face.member.id) }) : null,
    thisIsSelect(face, face.member?.id),
  ];
}

// Each face's name goes under its box (above it when there is no room below), then further down or up until it
// covers no other name (and, when it can, no other face), inside the photo when it fits. Again whenever the photo
// changes size (a zoom, a turned phone).
function placeLabels() {
  const frame = $("viewer-frame");
  const width = frame.clientWidth;
  const height = frame.clientHeight;
  if (!width) return;
  const origin = frame.getBoundingClientRect();
  const boxes = [...frame.querySelectorAll(".facebox")].map((node) => {
    const r = node.getBoundingClientRect();
    return { node, x: r.left - origin.left, y: r.top - origin.top, w: r.width, h: r.height };
  }).sort((a, b) => a.y - b.y || a.x - b.x);
  const overlaps = (a, b) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
  const placed = [];
  for (const box of boxes) {
    const label = box.node.querySelector("span");
    const w = label.offsetWidth;
    const h = label.offsetHeight;
    const x = Math.max(0, Math.min(box.x + box.w / 2 - w / 2, width - w));
    const spots = [];
    for (let k = 0; k <= boxes.length; k += 1) spots.push(box.y + box.h + k * h, box.y - h - k * h);
    const rect = (y) => ({ x, y, w, h });
    const inside = (y) => y >= 0 && y + h <= height;
    const free = (y) => !placed.some((p) => overlaps(p, rect(y)));
    const clear = (y) => free(y) && !boxes.some((b) => b !== box && overlaps(b, rect(y)));
    const y = spots.find((s) => inside(s) && clear(s)) ?? spots.find((s) => inside(s) && free(s))
      ?? spots.find(free) ?? spots[0];
    placed.push(rect(y));
    label.style.left = `${x - box.x - box.node.clientLeft}px`;
    label.style.top = `${y - box.y - box.node.clientTop}px`;
  }
}

function closeViewer() {
  state.viewer = null;
  $("viewer").hidden = true;
  $("viewer").classList.remove("zoomed");
  $("viewer-img").removeAttribute("src");
}

// A swipe left or right on the photo (not zoomed in, where a swipe pans) shows the next or previous one.
function swipeable(node) {
  let start = null;
  node.addEventListener("touchstart", (e) => {
    start = e.touches.length === 1 ? { x: e.touches[0].clientX, y: e.touches[0].clientY } : null;
  }, { passive: true });
  node.addEventListener("touchend", (e) => {
    if (!start || state.viewer?.zoom !== 1) return;
    const dx = e.changedTouches[0].clientX - start.x;
    const dy = e.changedTouches[0].clientY - start.y;
    start = null;
    if (Math.abs(dx) > 50 && Math.abs(dx) > 1.5 * Math.abs(dy)) stepViewer(dx < 0 ? 1 : -1);
  });
}
