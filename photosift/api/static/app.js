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
  viewer: null,             // { photoId, faceId }: the photo in the viewer and the face chosen to correct
  picker: null,             // finish(index | null) of the open face picker
};

// ---------------------------------------------------------------- API

class ApiError extends Error {
  constructor(message, { status = 0, type = null, details = null } = {}) {
    super(message);
    Object.assign(this, { status, type, details });  // type and details: the API's error.type / error.details
  }
}

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
  if (response.status === 401) signInNeeded(data?.error?.message);
  if (!response.ok) {
    throw new ApiError(data?.error?.message || `${response.status} ${response.statusText}`,
      { status: response.status, type: data?.error?.type, details: data?.error?.details });
  }
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
  memberCards.clear();
  closeViewer();
  state.picker?.(null);
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
  source.addEventListener("error", () => streamFailed(source));
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

const refreshMembersSoon = later(async () => {
  await loadMembers().catch(() => {});
  renderMembers(); renderFilters(); renderMemberCards(); renderViewer();
}, 250);
const refreshPeopleSoon = later(async () => {
  await loadPeople().catch(() => {});
  renderPeople(); renderPhotos(); renderViewer();
}, 300);

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

function renderAll() {
  renderMembers(); renderFilters(); renderPhotos(); renderPeople(); renderMemberCards(); renderStats(); renderViewer();
}

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
  if (state.viewer?.photoId === photo.id) renderViewer();
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
    el("span", { text: m.name }),
    el("span", { class: "hint", text: `${m.photos ?? 0} photo${m.photos === 1 ? "" : "s"}` })))));
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
  const button = $("member-form").querySelector("button[type=submit]");
  button.disabled = true;
  try {
    await sendReference({ name, file: state.memberFile, message, done: () => {
      $("member-name").value = "";
      $("member-file").value = "";
      setMemberFile(null);
    } });
  } finally {
    button.disabled = false;
  }
}

function showMessage(node, text, error, ok = false) {
  node.textContent = text;
  node.className = `message${error ? " error" : ""}${ok ? " ok" : ""}`;
}

// ---------------------------------------------------------------- reference photos and their checks

// What each refusal of a reference photo means for the person adding it (the server's message follows).
const REFERENCE_PROBLEMS = {
  NoFaceFound: "No face was found in this photo. Choose a photo where the face is clearly visible.",
  FaceTooSmall: "The face in this photo is too small to compare reliably. Choose a closer photo.",
  FaceTooBlurred: "The face in this photo is too blurred to compare. Choose a sharper photo.",
  FaceOfAnotherMember: "This face already matches another member, and one person can be only one member. " +
    "Choose a photo of this member, or correct the other member instead.",
  SeveralFaces: "This photo shows several faces of similar size; choose one.",
};

// A reference photo's outcome: what it means, then (smaller) the server's own words when they add something.
function referenceMessage(node, text, kind, errorType = "", detail = "") {
  node.replaceChildren(text, detail ? el("span", { class: "detail", text: detail }) : "");
  node.className = `message${kind ? ` ${kind}` : ""}`;
  node.dataset.errorType = errorType;
}

// Sends one reference photo: a new member's (ref.name) or another one of ref.member; the outcome goes to
// ref.message. A photo with several faces of similar size opens the face picker and is sent again with the choice.
async function sendReference(ref, face = null) {
  const { name, member, file, message } = ref;
  const who = member ? member.name : name;
  const form = new FormData();
  if (!member) form.append("name", name);
  form.append("files", file, file.name);
  if (face !== null) form.append("face", String(face));
  referenceMessage(message, `Finding ${who}'s face…`, "");
  let result;
  try {
    result = await api("POST", albumPath(member ? `/members/${member.id}/references` : "/members"), form);
  } catch (err) {
    if (err.type === "SeveralFaces" && err.details?.faces?.length) {
      referenceMessage(message, `This photo shows ${err.details.faces.length} faces: pick ${who}'s.`, "warn",
        err.type);
      const index = await pickFace(file, err.details, who);
      if (index !== null) return sendReference(ref, index);
      referenceMessage(message, `No face chosen: ${who} was not ${member ? "changed" : "added"}.`, "error", err.type);
      return false;
    }
    const hint = REFERENCE_PROBLEMS[err.type];
    referenceMessage(message, hint || err.message, "error", err.type || "", hint ? err.message : "");
    return false;
  }
  ref.done?.(result);
  const text = member ? `Reference photo added to ${who}; the album is being matched again…`
    : `${who} added. Their photos are being found…`;
  const warnings = result.warnings || [];
  if (warnings.length) referenceMessage(message, text, "warn", "", `Note: ${warnings.join("; ")}`);
  else referenceMessage(message, text, "ok");
  await loadMembers().catch(() => {});
  renderMembers(); renderFilters(); renderMemberCards();
  return true;
}

function placeBox(node, box, width, height) {
  const [left, top, w, h] = box;
  Object.assign(node.style, { left: `${(100 * left) / width}%`, top: `${(100 * top) / height}%`,
    width: `${(100 * w) / width}%`, height: `${(100 * h) / height}%` });
}

// Shows the photo (a local file) with the faces the server found and resolves with the chosen face's index, or
// null when cancelled. details: SeveralFaces' error.details ({faces: [{index, box}], width, height}).
function pickFace(file, details, who) {
  state.picker?.(null);
  return new Promise((resolve) => {
    const url = URL.createObjectURL(file);
    const frame = $("picker-frame");
    const img = $("picker-img");
    frame.querySelectorAll(".facebox").forEach((n) => n.remove());
    frame.style.aspectRatio = `${details.width} / ${details.height}`;
    frame.style.width = `min(92vw, 60rem, calc(64vh * ${details.width / details.height}))`;
    img.src = url;
    img.alt = file.name;
    $("picker-title").textContent = `Which face is ${who}?`;
    const finish = (index) => {
      state.picker = null;
      $("picker").hidden = true;
      img.removeAttribute("src");
      URL.revokeObjectURL(url);
      resolve(index);
    };
    for (const face of details.faces) {
      const box = el("button", { type: "button", class: "facebox pick", "aria-label": `Face ${face.index + 1}`,
        dataset: { testid: "pick-face", index: String(face.index) }, onclick: () => finish(face.index) },
      el("span", { text: `Face ${face.index + 1}` }));
      placeBox(box, face.box, details.width, details.height);
      frame.append(box);
    }
    state.picker = finish;
    $("picker").hidden = false;
  });
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
      if (xhr.status === 401) signInNeeded(body?.error?.message);
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

function moveFace(face, value, done = null) {
  const body = value === "new" ? { new_person: true }
    : value === "unknown" ? {}
      : value.startsWith("member:") ? { member_id: value.slice(7) } : { person_id: value.slice(7) };
  let result = null;
  const label = value === "new" ? "a new person" : value === "unknown" ? "Unknown"
    : targetLabel({ member_id: body.member_id, person_id: body.person_id });
  act(async () => { result = await api("POST", albumPath(`/faces/${face.id}/move`), body); },
    done || `Face moved to ${label}`,
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

// ---------------------------------------------------------------- members: their faces, corrections, references

const MEMBER_FACES_PAGE = 60;
const memberCards = new Map();  // member id -> { card, title, count, message, faces, open }

// The Members part of the People tab: one card per member (cards are kept, so a message or an open list survives
// the live updates).
function renderMemberCards() {
  for (const id of [...memberCards.keys()]) {
    if (!state.members.some((m) => m.id === id)) memberCards.delete(id);
  }
  $("member-grid").replaceChildren(...state.members.map(memberCard));
  $("members-section").hidden = !state.members.length;
  for (const [id, ui] of memberCards) if (ui.open) loadMemberFaces(id);
}

function memberCard(member) {
  let ui = memberCards.get(member.id);
  if (!ui) {
    const file = el("input", { type: "file", accept: "image/*,.heic,.heif", dataset: { testid: "reference-file" } });
    ui = { title: el("h3"), count: el("span", { class: "count" }), open: false,
      message: el("p", { class: "message", role: "status", dataset: { testid: "reference-message" } }),
      faces: el("div", { class: "faces", hidden: true, dataset: { testid: "member-faces" } }) };
    ui.card = el("article", { class: "person member-card", dataset: { testid: "member-card", memberId: member.id } },
      el("header", {}, el("div", {}, ui.title, ui.count)),
      el("div", { class: "actions" },
        el("button", { type: "button", text: "Photos", onclick: () => setFilter("member", member.id) }),
        el("button", { type: "button", text: "Faces", dataset: { testid: "member-faces-toggle" },
          onclick: () => toggleMemberFaces(member.id) }),
        el("label", { class: "file-button", text: "Add a reference photo" }, file)),
      ui.message, ui.faces);
    file.addEventListener("change", () => {
      if (file.files[0]) addReference(member.id, file.files[0]);
      file.value = "";
    });
    dropTarget(ui.card, (files) => addReference(member.id, files[0]));
    memberCards.set(member.id, ui);
  }
  const refs = member.references?.length ?? 0;
  ui.title.textContent = member.name;
  ui.count.textContent = `${member.photos ?? 0} photo${member.photos === 1 ? "" : "s"} · ` +
    `${refs} reference photo${refs === 1 ? "" : "s"}`;
  ui.card.dataset.name = member.name;
  return ui.card;
}

function addReference(memberId, file) {
  const member = state.members.find((m) => m.id === memberId);
  const ui = memberCards.get(memberId);
  if (member && ui) sendReference({ member, file, message: ui.message });
}

function toggleMemberFaces(memberId) {
  const ui = memberCards.get(memberId);
  ui.open = !ui.open;
  ui.faces.hidden = !ui.open;
  if (ui.open) {
    ui.faces.replaceChildren(el("span", { class: "hint", text: "loading…" }));
    loadMemberFaces(memberId);
  }
}

// The faces matched to a member, a page at a time, each with "Not <member>" and "This is…".
async function loadMemberFaces(memberId, cursor = null) {
  const ui = memberCards.get(memberId);
  const member = state.members.find((m) => m.id === memberId);
  if (!ui || !member) return;
  let page;
  try {
    page = await api("GET", albumPath(`/faces?member=${memberId}&limit=${MEMBER_FACES_PAGE}` +
      (cursor ? `&cursor=${cursor}` : "")));
  } catch (err) {
    ui.faces.replaceChildren(el("span", { class: "hint", text: err.message }));
    return;
  }
  const tiles = page.items.map((face) => memberFaceTile(face, member));
  if (cursor) ui.faces.querySelector(".more")?.remove();
  else ui.faces.replaceChildren();
  ui.faces.append(...tiles);
  if (!cursor && !tiles.length) ui.faces.append(el("span", { class: "hint", text: "no faces matched yet" }));
  if (page.next_cursor) {
    ui.faces.append(el("button", { type: "button", class: "more", text: "More faces",
      onclick: () => loadMemberFaces(memberId, page.next_cursor) }));
  }
}

function memberFaceTile(face, member) {
  const crop = el("button", { type: "button", class: "crop", "aria-label": "Open the photo",
    onclick: () => openViewer(face.photo_id) });
  cropInto(crop, face.photo_id, face.box, 72);
  return el("div", { class: "face", dataset: { testid: "member-face", faceId: face.id, photoId: face.photo_id } },
    crop,
    el("button", { type: "button", class: "not", text: `Not ${member.name}`, dataset: { testid: "face-not" },
      onclick: () => rejectFace(face, member.id) }),
    thisIsSelect(face, member.id));
}

// "This is <member>": a member to give this face to (any but the one it has); null when there is none.
function thisIsSelect(face, currentMemberId) {
  const others = state.members.filter((m) => m.id !== currentMemberId);
  if (!others.length) return null;
  const select = el("select", { "aria-label": "This is…", dataset: { testid: "face-this-is" } },
    el("option", { value: "", text: "This is…" }), ...others.map((m) => el("option", { value: m.id, text: m.name })));
  select.addEventListener("change", () => {
    if (select.value) moveFace(face, `member:${select.value}`, `This is ${memberName(select.value)}`);
  });
  return select;
}

// "Not <member>": the face leaves the member, and it and faces very like it stop matching them (kept as evidence).
// Undo gives it back (which withdraws the correction).
function rejectFace(face, memberId) {
  const name = memberName(memberId) || "the member";
  return act(() => api("POST", albumPath(`/faces/${face.id}/reject`), { member_id: memberId }),
    `Not ${name}: this face and faces very like it no longer match ${name}`,
    () => api("POST", albumPath(`/faces/${face.id}/move`), { member_id: memberId }));
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
  state.viewer = { photoId, faceId: null };
  $("viewer-img").src = `/v1/photos/${photoId}/content`;
  $("viewer-img").alt = photo.filename || "photo";
  renderViewer();
  $("viewer").hidden = false;
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
      onclick: () => { state.viewer.faceId = chosen ? null : face.id; renderViewer(); } },
    el("span", { text: faceName(face) }));
    placeBox(box, face.box, photo.width, photo.height);
    frame.append(box);
  }
  const blur = photo.blur ? ` · sharpness ${photo.blur.sharpness.toFixed(0)}${photo.blur.blurry ? " (blurry)" : ""}` : "";
  $("viewer-caption").textContent = `${photo.filename || photo.id}${blur}` +
    (photo.status === "failed" ? ` · could not be analysed: ${photo.error}` : "");
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

function closeViewer() {
  state.viewer = null;
  $("viewer").hidden = true;
  $("viewer-img").removeAttribute("src");
}

// ---------------------------------------------------------------- access: sign-in, share links

// Who this browser is, from GET /v1/session: { signed_in, role: "owner" | "share", via, album_id, can_upload,
// keyless }. The session itself is an HttpOnly cookie that fetch, EventSource and <img> send by themselves.
const access = { session: null, signingIn: false };

async function startAccess() {
  $("signin-form").addEventListener("submit", signIn);
  $("sign-out").addEventListener("click", signOut);
  $("share-form").addEventListener("submit", createShareLink);
  $("share-copy").addEventListener("click", copyShareLink);
  window.addEventListener("hashchange", () => { if (keepShareInAlbum()) loadShareLinks(); });
  // A share link is <server>/#share=<token>: the fragment never reaches a server or its logs. The token is
  // exchanged for a session cookie, then removed from the address bar and the history.
  const shared = /(?:^#|&)share=([^&]+)/.exec(location.hash);
  let session = null;
  if (shared) {
    history.replaceState(null, "", location.pathname + location.search);
    session = await signInWith({ share_token: decodeURIComponent(shared[1]) });
    if (!session) return;
    if (session.album_id) history.replaceState(null, "", `#album=${session.album_id}`);
  } else {
    try { session = await api("GET", "/v1/session"); } catch (err) { showSignIn(err.message); return; }
  }
  if (!session.signed_in) { showSignIn(""); return; }
  enterAs(session);
}

function enterAs(session) {
  access.session = session;
  const body = document.body;
  delete body.dataset.signin;
  body.dataset.role = session.role;
  body.dataset.access = session.role === "owner" ? "owner" : session.can_upload ? "upload" : "view";
  $("signin").hidden = true;
  const text = session.role === "share"
    ? (session.can_upload ? "Shared album · you can add photos and yourself" : "Shared album · view only")
    : session.via === "session" ? "Signed in as the owner" : "";
  $("access-text").textContent = text;
  $("sign-out").hidden = session.via !== "session";
  $("access-bar").hidden = !text;
  if (session.role === "share") {  // no album list for a visitor: name the album they are in
    document.querySelector(".brand").setAttribute("href", `#album=${session.album_id}`);
    api("GET", `/v1/albums/${session.album_id}`)
      .then((album) => { $("access-text").textContent = `${album.name} · ${text}`; }).catch(() => {});
  }
  if (keepShareInAlbum()) openAlbum(albumFromHash());
  loadShareLinks();
}

// A share reaches one album: keep its visitor there (returns false when it moved them).
function keepShareInAlbum() {
  const session = access.session;
  if (session?.role !== "share" || albumFromHash() === session.album_id) return true;
  history.replaceState(null, "", `#album=${session.album_id}`);
  openAlbum(session.album_id);
  return false;
}

// Any 401: the session ended (signed out elsewhere, expired, or the share link was revoked).
function signInNeeded(message) {
  if (access.signingIn) return;
  const wasShare = access.session?.role === "share";
  access.session = null;
  if (state.events) { state.events.close(); state.events = null; }
  showSignIn(wasShare ? "This share link no longer works: it was revoked or has expired. Ask the album's owner "
    + "for a new link." : message || "Sign in to continue.");
}

function showSignIn(message) {
  document.body.dataset.signin = "";
  for (const id of ["welcome", "album", "access-bar", "share-panel"]) $(id).hidden = true;
  $("signin").hidden = false;
  showMessage($("signin-message"), message, !!message);
}

async function signInWith(body) {
  access.signingIn = true;
  try {
    return await api("POST", "/v1/session", body);
  } catch (err) {
    showSignIn(err.message);
    return null;
  } finally {
    access.signingIn = false;
  }
}

async function signIn(event) {
  event.preventDefault();
  const session = await signInWith({ secret: $("signin-secret").value });
  if (!session) return;
  $("signin-secret").value = "";
  enterAs(session);
}

async function signOut() {
  if (state.events) { state.events.close(); state.events = null; }
  await api("DELETE", "/v1/session").catch(() => {});
  access.session = null;
  showSignIn("");
}

// EventSource gives up (CLOSED) on a refused reconnection: find out whether the session ended.
async function streamFailed(source) {
  if (source.readyState !== EventSource.CLOSED || source !== state.events) return;
  const session = await api("GET", "/v1/session").catch(() => null);
  if (session && !session.signed_in) signInNeeded();
}

async function loadShareLinks() {
  const albumId = albumFromHash();
  const panel = $("share-panel");
  panel.hidden = !(access.session?.role === "owner" && !access.session.keyless && albumId);
  $("share-new").hidden = true;
  if (panel.hidden) return;
  try {
    renderShareLinks(albumId, await api("GET", `/v1/albums/${albumId}/shares`));
  } catch (err) {
    $("share-list").replaceChildren(el("li", { class: "hint", text: err.message }));
  }
}

function renderShareLinks(albumId, links) {
  $("share-list").replaceChildren(...links.map((link, i) => el("li", {
    class: "share-item", dataset: { testid: "share-item", shareId: link.id } },
  el("span", { class: "name", text: link.label || `Link ${i + 1}` }),
  el("span", { class: "hint", text: shareSummary(link) }),
  el("button", { type: "button", text: "Revoke", dataset: { testid: "share-revoke" },
    onclick: () => revokeShareLink(albumId, link) }))));
}

function shareSummary(link) {
  const parts = [link.can_upload ? "can add photos" : "view only"];
  if (link.expired) parts.push("expired");
  else if (link.expires_at) parts.push(`until ${new Date(link.expires_at).toLocaleDateString()}`);
  if (link.sessions) parts.push(`open in ${link.sessions} browser${link.sessions === 1 ? "" : "s"}`);
  return parts.join(" · ");
}

async function createShareLink(event) {
  event.preventDefault();
  const albumId = albumFromHash();
  const body = { can_upload: $("share-upload").checked };
  const label = $("share-label").value.trim();
  if (label) body.label = label;
  if ($("share-expiry").value) body.expires_in = Number($("share-expiry").value);
  try {
    const link = await api("POST", `/v1/albums/${albumId}/shares`, body);
    $("share-label").value = "";
    await loadShareLinks();
    $("share-url").value = link.url;
    $("share-new").hidden = false;
    $("share-url").select();
  } catch (err) { toast(err.message, { error: true }); }
}

async function copyShareLink() {
  const input = $("share-url");
  try {
    await navigator.clipboard.writeText(input.value);
  } catch {  // no clipboard API (plain http): the selection can still be copied
    input.select();
    document.execCommand("copy");
  }
  toast("Link copied.");
}

async function revokeShareLink(albumId, link) {
  try {
    await api("DELETE", `/v1/albums/${albumId}/shares/${link.id}`);
    toast(`${link.label || "The link"} revoked: it opens nothing any more.`);
  } catch (err) { toast(err.message, { error: true }); }
  await loadShareLinks();
}

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
  $("picker-cancel").addEventListener("click", () => state.picker?.(null));
  $("picker").addEventListener("click", (e) => { if (e.target === $("picker")) state.picker?.(null); });
  document.addEventListener("keydown", (e) => {
    if (e.key !== "Escape") return;
    if (state.picker) state.picker(null); else closeViewer();
  });
  startAccess();
}

init();
