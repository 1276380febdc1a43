/* photosift web UI: one album at a time, kept live by the album's Server-Sent Events. Plain JS, no build step. */
"use strict";

const $ = (id) => document.getElementById(id);
const UPLOAD_CONCURRENCY = 3;

const state = {
  albumId: null,
  photos: new Map(),        // id -> photo view (with faces)
  members: [],
  people: [],               // people views (hidden ones included, flagged)
  unknown: 0,
  filter: { kind: "all", id: null },
  tab: "photos",
  events: null,             // EventSource
  undo: null,               // { label, run }
  memberFile: null,
  uploads: new Map(),       // photo id -> upload list item
};

// ---------------------------------------------------------------- API

class ApiError extends Error {}

async function api(method, path, body) {
  const init = { method, headers: {} };
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  const response = await fetch(path, init);
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(data?.error?.message || `${response.status} ${response.statusText}`);
  return data;
}

const albumPath = (rest = "") => `/v1/albums/${state.albumId}${rest}`;
const thumbUrl = (id, size = 256) => `/v1/photos/${id}/thumbnail?size=${size}`;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "text") node.textContent = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

function later(fn, ms) {
  let timer = null;
  return () => { clearTimeout(timer); timer = setTimeout(fn, ms); };
}

// ---------------------------------------------------------------- albums

async function loadAlbums(selected) {
  const albums = await api("GET", "/v1/albums");
  const select = $("album-select");
  select.replaceChildren(el("option", { value: "", text: "Choose an album…" }),
    ...albums.map((a) => el("option", { value: a.id, text: `${a.name} (${a.photos} photos)` })));
  select.value = selected || "";
}

async function createAlbum(event) {
  event.preventDefault();
  const name = $("album-name").value.trim();
  if (!name) { toast("Give the new album a name first.", { error: true }); return; }
  try {
    const album = await api("POST", "/v1/albums", { name });
    $("album-name").value = "";
    location.hash = `album=${album.id}`;
  } catch (err) { toast(err.message, { error: true }); }
}

function albumFromHash() {
  const match = /album=([0-9a-f]+)/.exec(location.hash);
  return match ? match[1] : null;
}

async function openAlbum(albumId) {
  if (state.events) state.events.close();
  Object.assign(state, { albumId, photos: new Map(), members: [], people: [], unknown: 0,
    filter: { kind: "all", id: null }, events: null, undo: null });
  state.uploads.clear();
  $("upload-list").replaceChildren();
  cardCache.clear();
  hideToast();
  await loadAlbums(albumId).catch(() => {});
  $("welcome").hidden = !!albumId;
  $("album").hidden = !albumId;
  if (!albumId) return;
  try {
    await Promise.all([loadPhotos(), loadMembers(), loadPeople()]);
  } catch (err) {
    toast(err.message, { error: true });
    return;
  }
  renderAll();
  listen();
}

async function loadPhotos() {
  let cursor = null;
  do {
    const page = await api("GET", albumPath(`/photos?limit=500${cursor ? `&cursor=${cursor}` : ""}`));
    for (const photo of page.items) state.photos.set(photo.id, photo);
    cursor = page.next_cursor;
  } while (cursor);
}

async function loadMembers() { state.members = await api("GET", albumPath("/members")); }

async function loadPeople() {
  const list = await api("GET", albumPath("/people?hidden=true"));
  state.people = list.items;
  state.unknown = list.unknown;
}

// ---------------------------------------------------------------- live events

function listen() {
  const source = new EventSource(albumPath("/events"));
  state.events = source;
  const on = (type, fn) => source.addEventListener(type, (e) => fn(JSON.parse(e.data)));
  on("photo.added", async (d) => {
    if (!state.photos.has(d.photo_id)) await refreshPhoto(d.photo_id);
  });
  on("photo.analyzed", (d) => { upsertPhoto(d.photo); refreshPeopleSoon(); refreshMembersSoon(); });
  on("photo.failed", (d) => {
    const photo = state.photos.get(d.photo_id);
    if (photo) upsertPhoto({ ...photo, status: "failed", error: d.error });
    else refreshPhoto(d.photo_id);
  });
  on("photo.matched", (d) => {
    const photo = state.photos.get(d.photo_id);
    if (!photo || !photo.faces) return;
    const byFace = new Map(d.matches.map((m) => [m.face_id, m]));
    const faces = photo.faces.map((f) => {
      const m = byFace.get(f.id);
      const member = m ? { id: m.member_id, name: m.member_name, similarity: m.similarity } : null;
      return { ...f, member, unknown: !member, person_id: member ? null : f.person_id };
    });
    upsertPhoto({ ...photo, faces });
    refreshMembersSoon();
  });
  on("member.updated", refreshMembersSoon);
  on("member.deleted", refreshMembersSoon);
  on("people.changed", (d) => {
    const changed = d.faces || {};
    for (const photo of state.photos.values()) {
      if (!photo.faces || !photo.faces.some((f) => f.id in changed)) continue;
      photo.faces = photo.faces.map((f) => (f.id in changed ? { ...f, person_id: changed[f.id] } : f));
      updateCard(photo);
    }
    refreshPeopleSoon();
  });
  on("album.deleted", () => { source.close(); location.hash = ""; });
}

const refreshMembersSoon = later(async () => { await loadMembers().catch(() => {}); renderMembers(); renderFilters(); }, 250);
const refreshPeopleSoon = later(async () => { await loadPeople().catch(() => {}); renderPeople(); renderPhotos(); }, 300);

async function refreshPhoto(id) {
  try { upsertPhoto(await api("GET", `/v1/photos/${id}`)); } catch { /* deleted meanwhile */ }
}

function upsertPhoto(photo) {
  const isNew = !state.photos.has(photo.id);
  state.photos.set(photo.id, photo);
  const item = state.uploads.get(photo.id);
  if (item) markUpload(item, photo);
  updateCard(photo);
  const shown = !!cardCache.get(photo.id)?.isConnected;
  if (isNew || shown !== matchesFilter(photo)) renderPhotos();  // it enters or leaves the current filter
  renderStats();
}

// ---------------------------------------------------------------- rendering: photos

const cardCache = new Map();

function renderAll() { renderMembers(); renderFilters(); renderPhotos(); renderPeople(); renderStats(); }

function renderStats() {
  const photos = [...state.photos.values()];
  const pending = photos.filter((p) => p.status === "pending").length;
  $("album-stats").textContent = `${photos.length} photos` + (pending ? ` · ${pending} analysing` : "");
  const option = $("album-select").selectedOptions[0];
  if (option?.value === state.albumId) option.textContent = option.textContent.replace(/\(\d+ photos\)$/, `(${photos.length} photos)`);
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

function renderPhotos() {
  const photos = [...state.photos.values()].sort((a, b) => (a.id < b.id ? -1 : 1)).filter(matchesFilter);
  $("photo-grid").replaceChildren(...photos.map(cardFor));
  $("photos-empty").hidden = photos.length > 0;
}

function cardFor(photo) {
  let card = cardCache.get(photo.id);
  if (!card) {
    const img = el("img", { class: "thumb", loading: "lazy", alt: photo.filename || "photo", src: thumbUrl(photo.id) });
    img.addEventListener("error", () => { img.removeAttribute("src"); img.alt = "no preview"; });
    card = el("button", { type: "button", class: "photo", dataset: { testid: "photo", photoId: photo.id },
      onclick: () => openViewer(photo.id) }, img, el("div", { class: "meta" }));
    cardCache.set(photo.id, card);
  }
  fillCard(card, photo);
  return card;
}

function updateCard(photo) {
  const card = cardCache.get(photo.id);
  if (card) fillCard(card, photo);
}

function fillCard(card, photo) {
  Object.assign(card.dataset, { filename: photo.filename || "", status: photo.status,
    blurry: String(photo.blur?.blurry === true), faces: String(photo.face_count ?? "") });
  const badges = [];
  if (photo.status === "pending" || photo.status === "processing") badges.push(badge("analysing…", "pending"));
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

// ---------------------------------------------------------------- rendering: members

function renderMembers() {
  $("member-list").replaceChildren(...state.members.map((m) => el("li", {},
    el("button", { type: "button", dataset: { testid: "member", memberId: m.id },
      "aria-pressed": String(state.filter.kind === "member" && state.filter.id === m.id),
      onclick: () => setFilter("member", m.id) },
    el("span", { text: m.name }), el("span", { class: "hint", text: `${m.photos ?? 0} photos` })))));
  $("member-names").replaceChildren(...state.members.map((m) => el("option", { value: m.name })));
}

function setMemberFile(file) {
  state.memberFile = file || null;
  $("member-file-name").textContent = file ? file.name : "…or drop one here";
}

async function addMember(event) {
  event.preventDefault();
  const name = $("member-name").value.trim();
  const message = $("member-message");
  if (!name || !state.memberFile) {
    showMessage(message, "Give a name and a selfie (a photo of the member's face).", true);
    return;
  }
  const form = new FormData();
  form.append("name", name);
  form.append("files", state.memberFile, state.memberFile.name);
  const button = $("member-form").querySelector("button[type=submit]");
  button.disabled = true;
  showMessage(message, `Finding ${name}'s face…`, false);
  try {
    await api("POST", albumPath("/members"), form);
    showMessage(message, `${name} added. Their photos are being found…`, false, true);
    $("member-name").value = "";
    $("member-file").value = "";
    setMemberFile(null);
    await loadMembers();
    renderMembers();
    renderFilters();
  } catch (err) {
    showMessage(message, err.message, true);
  } finally {
    button.disabled = false;
  }
}

function showMessage(node, text, error, ok = false) {
  node.textContent = text;
  node.className = `message${error ? " error" : ""}${ok ? " ok" : ""}`;
}

// ---------------------------------------------------------------- uploads

const uploadQueue = [];
let uploadsRunning = 0;

function queueUploads(files) {
  for (const file of files) {
    const progress = el("progress", { max: "100", value: "0" });
    const item = el("li", { class: "upload-item", dataset: { testid: "upload-item", filename: file.name } },
      el("span", { class: "name", text: file.name }), el("span", { class: "state", text: "waiting" }), progress);
    $("upload-list").prepend(item);
    uploadQueue.push({ file, item, progress, albumId: state.albumId });
  }
  pumpUploads();
}

function pumpUploads() {
  while (uploadsRunning < UPLOAD_CONCURRENCY && uploadQueue.length) {
    const job = uploadQueue.shift();
    uploadsRunning += 1;
    uploadOne(job).finally(() => { uploadsRunning -= 1; pumpUploads(); });
  }
}

function uploadOne({ file, item, progress, albumId }) {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    const form = new FormData();
    form.append("files", file, file.name);
    setUploadState(item, "uploading 0%");
    xhr.upload.addEventListener("progress", (e) => {
      if (!e.lengthComputable) return;
      const pct = Math.round((100 * e.loaded) / e.total);
      progress.value = pct;
      setUploadState(item, `uploading ${pct}%`);
    });
    xhr.addEventListener("load", () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
      const entry = body?.photos?.[0];
      const error = entry?.error?.message || (xhr.status >= 400 ? body?.error?.message || `HTTP ${xhr.status}` : null);
      progress.value = 100;
      if (error) {
        uploadFailed(item, error);
      } else if (entry) {
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
      resolve();
    });
    xhr.addEventListener("error", () => { uploadFailed(item, "network error: the upload did not reach the server"); resolve(); });
    xhr.open("POST", `/v1/albums/${albumId}/photos`);
    xhr.send(form);
  });
}

function setUploadState(item, text, cls = "") {
  item.querySelector(".state").textContent = text;
  item.classList.remove("done", "error");
  if (cls) item.classList.add(cls);
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

// ---------------------------------------------------------------- people

function cropInto(node, photoId, box, size) {
  node.style.width = node.style.height = `${size}px`;
  const photo = state.photos.get(photoId);
  node.style.backgroundImage = `url("${thumbUrl(photoId, 512)}")`;
  if (!photo?.width || !box) { node.style.backgroundSize = "cover"; return; }
  const [left, top, width, height] = box;
  const side = Math.max(width, height) * 1.35;
  const k = size / side;
  node.style.backgroundSize = `${photo.width * k}px ${photo.height * k}px`;
  node.style.backgroundPosition = `${-(left + width / 2 - side / 2) * k}px ${-(top + height / 2 - side / 2) * k}px`;
}

function renderPeople() {
  const visible = state.people.filter((p) => !p.hidden);
  const hidden = state.people.length - visible.length;
  const cards = visible.map(personCard);
  cards.push(unknownCard());
  if (hidden) {
    cards.push(el("div", { class: "person" }, el("h3", { text: `${hidden} hidden` }),
      ...state.people.filter((p) => p.hidden).map((p) => el("button", { type: "button", text: `Show ${p.name}`,
        onclick: () => act(() => api("PATCH", albumPath(`/people/${p.id}`), { hidden: false }), `${p.name} shown`) }))));
  }
  $("people-grid").replaceChildren(...cards);
}

function personCard(person) {
  const cover = el("div", { class: "crop", role: "img", "aria-label": person.name });
  if (person.cover) cropInto(cover, person.cover.photo_id, person.cover.box, 64);
  const others = state.people.filter((p) => p.id !== person.id && !p.hidden);
  const merge = el("select", { "aria-label": `Merge ${person.name} into…`, dataset: { testid: "merge-select" } },
    el("option", { value: "", text: "Merge into…" }), ...others.map((p) => el("option", { value: p.id, text: p.name })));
  merge.addEventListener("change", () => { if (merge.value) mergePeople(person, merge.value); });
  const nameInput = el("input", { placeholder: "Name this person", maxlength: "200",
    "aria-label": `Name for ${person.name}`, dataset: { testid: "rename-input" },
    list: "member-names" });
  const rename = el("form", { onsubmit: (e) => { e.preventDefault(); renamePerson(person, nameInput.value); } },
    nameInput, el("button", { type: "submit", text: "Name", dataset: { testid: "rename-save" } }));
  const facesBox = el("div", { class: "faces", hidden: true });
  const toggle = el("button", { type: "button", text: "Faces", onclick: () => toggleFaces(person.id, facesBox) });
  return el("article", { class: "person", dataset: { testid: "person", personId: person.id, name: person.name, photos: String(person.photos) } },
    el("header", {}, cover, el("div", {}, el("h3", { text: person.name }),
      el("span", { class: "count", text: `${person.photos} photo${person.photos === 1 ? "" : "s"}` }))),
    rename,
    el("div", { class: "actions" },
      el("button", { type: "button", text: "Photos", onclick: () => setFilter("person", person.id) }),
      toggle,
      el("button", { type: "button", text: "Hide", dataset: { testid: "hide" }, onclick: () => hidePerson(person) })),
    el("div", { class: "actions" }, merge),
    facesBox);
}

function unknownCard() {
  const facesBox = el("div", { class: "faces", hidden: true });
  return el("article", { class: "person", dataset: { testid: "unknown" } },
    el("header", {}, el("div", { class: "crop" }), el("div", {}, el("h3", { text: "Unknown" }),
      el("span", { class: "count", text: `${state.unknown} face${state.unknown === 1 ? "" : "s"} that fit nobody` }))),
    el("div", { class: "actions" },
      el("button", { type: "button", text: "Faces", onclick: () => toggleFaces("unknown", facesBox) })),
    facesBox);
}

async function toggleFaces(personId, box) {
  if (!box.hidden) { box.hidden = true; return; }
  box.hidden = false;
  box.replaceChildren(el("span", { class: "hint", text: "loading…" }));
  try {
    const detail = await api("GET", albumPath(`/people/${personId}`));
    box.replaceChildren(...detail.items.map((face) => faceTile(face, personId)));
    if (!detail.items.length) box.replaceChildren(el("span", { class: "hint", text: "no faces" }));
  } catch (err) { box.replaceChildren(el("span", { class: "hint", text: err.message })); }
}

function faceTile(face, personId) {
  const crop = el("div", { class: "crop" });
  cropInto(crop, face.photo_id, face.box, 72);
  const select = el("select", { "aria-label": "Move this face to…", dataset: { testid: "move-select" } },
    el("option", { value: "", text: "Move to…" }),
    ...state.people.filter((p) => p.id !== personId).map((p) => el("option", { value: `person:${p.id}`, text: p.name })),
    ...state.members.map((m) => el("option", { value: `member:${m.id}`, text: m.name })),
    personId !== "unknown" ? el("option", { value: "unknown", text: "Unknown" }) : null,
    el("option", { value: "new", text: "New person" }));
  select.addEventListener("change", () => { if (select.value) moveFace(face, select.value); });
  return el("div", { class: "face", dataset: { testid: "face", faceId: face.id } }, crop, select);
}

function targetLabel(target) {
  if (target.member_id) return memberName(target.member_id) || "a member";
  if (target.person_id) return personOf(target.person_id)?.name || "a person";
  return "Unknown";
}

// Each action runs, refreshes, and remembers how to undo itself (only the last one).
async function act(run, label, undo) {
  try {
    await run();
  } catch (err) {
    toast(err.message, { error: true });
    return false;
  }
  await Promise.all([loadPeople(), loadMembers()]).catch(() => {});
  renderAll();
  state.undo = undo ? { label, run: undo } : null;
  toast(label, { undo: !!undo });
  return true;
}

function mergePeople(source, targetId) {
  const target = personOf(targetId);
  let moved = [];
  act(async () => { moved = (await api("POST", albumPath("/people/merge"), { source: source.id, target: targetId })).moved; },
    `Merged ${source.name} into ${target?.name || "the other person"}`,
    () => api("POST", albumPath("/people"), { face_ids: moved }));
}

function renamePerson(person, name) {
  name = name.trim();
  if (!name) { toast("Type a name first.", { error: true }); return; }
  let result = null;
  act(async () => { result = await api("POST", albumPath(`/people/${person.id}/rename`), { name }); },
    `${person.name} is now ${name}`,
    async () => {
      await api("POST", albumPath("/people"), { face_ids: result.faces });
      if (result.created) await api("DELETE", albumPath(`/members/${result.member.id}`));
    });
}

function hidePerson(person) {
  act(() => api("PATCH", albumPath(`/people/${person.id}`), { hidden: true }), `${person.name} hidden`,
    () => api("PATCH", albumPath(`/people/${person.id}`), { hidden: false }));
}

function moveFace(face, value) {
  const body = value === "new" ? { new_person: true }
    : value === "unknown" ? {}
      : value.startsWith("member:") ? { member_id: value.slice(7) } : { person_id: value.slice(7) };
  let result = null;
  const label = value === "new" ? "a new person" : value === "unknown" ? "Unknown"
    : targetLabel({ member_id: body.member_id, person_id: body.person_id });
  act(async () => { result = await api("POST", albumPath(`/faces/${face.id}/move`), body); },
    `Face moved to ${label}`,
    async () => {
      const prev = result.previous;
      const back = prev.member_id ? { member_id: prev.member_id } : prev.person_id ? { person_id: prev.person_id } : {};
      try {
        await api("POST", albumPath(`/faces/${face.id}/move`), back);
      } catch (err) {
        if (!back.person_id) throw err;  // its old person is gone (it was its last face): a new one
        await api("POST", albumPath(`/faces/${face.id}/move`), { new_person: true });
      }
    });
}

// ---------------------------------------------------------------- toast with undo

function toast(text, { error = false, undo = false } = {}) {
  $("toast-text").textContent = text;
  $("toast").classList.toggle("error", error);
  $("toast-undo").hidden = !undo;
  $("toast").hidden = false;
}

function hideToast() { $("toast").hidden = true; }

async function runUndo() {
  const undo = state.undo;
  if (!undo) return;
  state.undo = null;
  await act(undo.run, `Undone: ${undo.label}`);
}

// ---------------------------------------------------------------- viewer (face boxes with names)

function openViewer(photoId) {
  const photo = state.photos.get(photoId);
  if (!photo) return;
  const img = $("viewer-img");
  const frame = $("viewer-frame");
  frame.querySelectorAll(".facebox").forEach((n) => n.remove());
  img.src = `/v1/photos/${photoId}/content`;
  img.alt = photo.filename || "photo";
  if (photo.width && photo.height) {
    for (const face of photo.faces || []) {
      const [left, top, width, height] = face.box;
      const person = face.person_id ? personOf(face.person_id) : null;
      const name = face.member?.name || person?.name || "Unknown";
      const box = el("div", { class: `facebox${face.member ? " member" : ""}`, dataset: { testid: "facebox" } },
        el("span", { text: name }));
      Object.assign(box.style, { left: `${(100 * left) / photo.width}%`, top: `${(100 * top) / photo.height}%`,
        width: `${(100 * width) / photo.width}%`, height: `${(100 * height) / photo.height}%` });
      frame.append(box);
    }
  }
  const blur = photo.blur ? ` · sharpness ${photo.blur.sharpness.toFixed(0)}${photo.blur.blurry ? " (blurry)" : ""}` : "";
  $("viewer-caption").textContent = `${photo.filename || photo.id}${blur}` +
    (photo.status === "failed" ? ` · could not be analysed: ${photo.error}` : "");
  $("viewer").hidden = false;
}

function closeViewer() { $("viewer").hidden = true; $("viewer-img").removeAttribute("src"); }

// ---------------------------------------------------------------- tabs and wiring

function showTab(tab) {
  state.tab = tab;
  $("tab-photos").setAttribute("aria-selected", String(tab === "photos"));
  $("tab-people").setAttribute("aria-selected", String(tab === "people"));
  $("photos-view").hidden = tab !== "photos";
  $("people-view").hidden = tab !== "people";
}

function init() {
  $("album-form").addEventListener("submit", createAlbum);
  $("album-select").addEventListener("change", (e) => { location.hash = e.target.value ? `album=${e.target.value}` : ""; });
  window.addEventListener("hashchange", () => openAlbum(albumFromHash()));
  $("member-form").addEventListener("submit", addMember);
  $("member-file").addEventListener("change", (e) => setMemberFile(e.target.files[0]));
  dropTarget($("member-form"), (files) => setMemberFile(files[0]));
  $("upload-input").addEventListener("change", (e) => { queueUploads([...e.target.files]); e.target.value = ""; });
  dropTarget($("upload-zone"), queueUploads);
  document.addEventListener("dragover", (e) => e.preventDefault());  // a stray drop must not navigate away
  document.addEventListener("drop", (e) => e.preventDefault());
  $("tab-photos").addEventListener("click", () => showTab("photos"));
  $("tab-people").addEventListener("click", () => { showTab("people"); refreshPeopleSoon(); });
  $("toast-undo").addEventListener("click", runUndo);
  $("toast-close").addEventListener("click", hideToast);
  $("viewer-close").addEventListener("click", closeViewer);
  $("viewer").addEventListener("click", (e) => { if (e.target === $("viewer")) closeViewer(); });
  document.addEventListener("keydown", (e) => { if (e.key === "Escape") closeViewer(); });
  openAlbum(albumFromHash());
}

init();
