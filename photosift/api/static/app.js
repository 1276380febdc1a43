/* photosift web UI: one album at a time, kept live by the album's Server-Sent Events. Plain JS, no build step. */
"use strict";

const $ = (id) => document.getElementById(id);
const UPLOAD_CONCURRENCY = 3;
const MAX_IDS = 1000;       // ids in one request (the API's limit)
const MAX_DOWNLOAD = MAX_IDS;  // photos in one ZIP link of a selection (the ids travel in its URL)
const WIDE = window.matchMedia("(min-width: 900px)");

const state = {
  albumId: null,
  albumName: "",
  photos: new Map(),        // id -> photo view (with faces)
  members: [],
  people: [],               // people views (hidden ones included, flagged)
  unknown: 0,
  filter: { kind: "all", id: null },
  sort: "uploaded",         // uploaded | taken | -taken
  dates: { from: "", to: "" },  // the date filter (YYYY-MM-DD, inclusive), on the day each photo was taken
  selecting: false,         // the grid's multi-select mode
  selected: new Set(),      // photo ids
  awaiting: [],             // reference messages waiting for the album's re-match to finish
  tab: "photos",
  events: null,             // EventSource
  undo: null,               // { label, run }
  memberFile: null,
  uploads: new Map(),       // photo id -> upload list item
  viewer: null,             // { photoId, faceId, zoom }: the photo in the viewer, the face chosen to correct
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
const downloadUrl = (query) => albumPath(`/download?${new URLSearchParams(query)}`);
const plural = (n, word, many = `${word}s`) => `${n} ${n === 1 ? word : many}`;

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
  Object.assign(state, { albumId, albumName: "", photos: new Map(), members: [], people: [], unknown: 0,
    filter: { kind: "all", id: null }, dates: { from: "", to: "" }, selecting: false, awaiting: [],
    events: null, undo: null });
  state.selected.clear();
  state.uploads.clear();
  $("upload-list").replaceChildren();
  $("date-from").value = $("date-to").value = "";
  cardCache.clear();
  memberCards.clear();
  unknownUi.selected.clear();
  unknownUi.open = false;
  closeViewer();
  state.picker?.(null);
  dialogDone?.(null);
  hideToast();
  await loadAlbums(albumId).catch(() => {});
  $("welcome").hidden = !!albumId;
  $("album").hidden = !albumId;
  $("album-menu").hidden = !albumId;
  $("album-menu").open = false;
  if (albumId) document.body.dataset.album = albumId; else delete document.body.dataset.album;
  if (!albumId) return;
  try {
    const [album] = await Promise.all([api("GET", albumPath()), loadPhotos(), loadMembers(), loadPeople()]);
    state.albumName = album.name;
  } catch (err) {
    toast(err.message, { error: true });
    return;
  }
  // On a phone the panels start folded once they have done their job, so the photos come first.
  $("members-panel").open = WIDE.matches || !state.members.length || !state.photos.size;
  $("upload-panel").open = WIDE.matches || !state.photos.size;
  renderAll();
  listen();
}

async function renameAlbum() {
  $("album-menu").open = false;
  const name = await ask({ title: "Rename the album", input: state.albumName, ok: "Rename" });
  if (!name || name === state.albumName) return;
  try {
    const album = await api("PATCH", albumPath(), { name });
    albumRenamed(album.name);
    toast(`The album is now “${album.name}”.`);
  } catch (err) { toast(err.message, { error: true }); }
}

function albumRenamed(name) {
  state.albumName = name;
  const option = [...$("album-select").options].find((o) => o.value === state.albumId);
  if (option) option.textContent = `${name} (${plural(state.photos.size, "photo")})`;
  if (access.session?.role === "share") $("access-text").textContent = `${name} · ${access.shareText}`;
}

async function deleteAlbum() {
  $("album-menu").open = false;
  const ok = await ask({ title: `Delete the album “${state.albumName}”?`, ok: "Delete the album", danger: true,
    text: `Its ${plural(state.photos.size, "photo")}, members, people and share links are deleted, for everyone. ` +
      "This cannot be undone." });
  if (!ok) return;
  try {
    await api("DELETE", albumPath());
    leaveAlbum(`The album “${state.albumName}” was deleted.`);
  } catch (err) { toast(err.message, { error: true }); }
}

// Back to the start page, then a message (opening no album clears the previous album's toast first).
function leaveAlbum(message) {
  if (state.events) { state.events.close(); state.events = null; }
  window.addEventListener("hashchange", () => setTimeout(() => toast(message)), { once: true });
  location.hash = "";
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

const answers = { people: 0, suggestions: 0 };  // the latest request of each kind: an older answer is dropped

async function loadPeople() {
  const seq = ++answers.people;
  const list = await api("GET", albumPath("/people?hidden=true"));
  if (seq !== answers.people) return;
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
  on("member.updated", (d) => { matchState.set(d.member_id, "updated"); refreshMembersSoon(); });
  on("member.deleted", (d) => {
    if (state.filter.kind === "member" && state.filter.id === d.member_id) setFilter("all");
    refreshMembersSoon();
  });
  on("album.matched", matchingFinished);
  on("album.updated", (d) => albumRenamed(d.name));
  on("photo.deleted", (d) => removePhotos(d.photo_ids || []));
  on("people.changed", (d) => {
    const changed = d.faces || {};
    for (const photo of state.photos.values()) {
      if (!photo.faces || !photo.faces.some((f) => f.id in changed)) continue;
      photo.faces = photo.faces.map((f) => (f.id in changed ? { ...f, person_id: changed[f.id] } : f));
      updateCard(photo);
    }
    refreshPeopleSoon();
  });
  on("album.deleted", () => leaveAlbum(`The album “${state.albumName}” was deleted.`));
}

const refreshMembersSoon = later(async () => {
  await loadMembers().catch(() => {});
  renderMembers(); renderFilters(); renderMemberCards(); renderPhotos(); renderViewer();
}, 250);
const refreshPeopleSoon = later(async () => {
  await loadPeople().catch(() => {});
  renderPeople(); renderPhotos(); renderViewer();
}, 300);

// The album's re-match is over (after a member or reference photo was added): the messages that said their photos
// are being found now say how many there are. A member's change (member.updated) comes before the album.matched of
// the re-match it queued, so the first album.matched after it ends the wait (even when it came before the answer to
// the request that made the change).
const matchState = new Map();  // member id -> "updated" | "matched"

function matchingFinished() {
  for (const [id, value] of matchState) if (value === "updated") matchState.set(id, "matched");
  reportMatches();
}

async function reportMatches() {
  const waiting = state.awaiting.filter((w) => matchState.get(w.memberId) === "matched");
  if (!waiting.length) return;
  state.awaiting = state.awaiting.filter((w) => !waiting.includes(w));
  await loadMembers().catch(() => {});
  renderMembers(); renderFilters(); renderMemberCards(); renderPhotos();
  for (const { node, memberId, added, kind, detail } of waiting) {
    const member = state.members.find((m) => m.id === memberId);
    if (!member || !node.isConnected) continue;
    const count = member.photos ?? 0;
    const found = !state.photos.size ? "the photos you add will be matched to them"
      : count ? `found in ${plural(count, "photo")}${analysing() ? " so far" : ""}`
        : `not found in any photo${analysing() ? " yet" : ""}`;
    referenceMessage(node, `${added ? `${member.name} added` : `Reference photo added to ${member.name}`}: ${found}.`,
      kind, "", detail);
    node.dataset.matched = "true";
  }
}

async function refreshPhoto(id) {
  try { upsertPhoto(await api("GET", `/v1/photos/${id}`)); } catch { /* deleted meanwhile */ }
}

function upsertPhoto(photo) {
  if (deletedIds.has(photo.id)) return;  // a late answer about a photo deleted meanwhile
  const isNew = !state.photos.has(photo.id);
  state.photos.set(photo.id, photo);
  const item = state.uploads.get(photo.id);
  if (item) markUpload(item, photo);
  updateCard(photo);
  const shown = !!cardCache.get(photo.id)?.isConnected;
  if (isNew || shown !== isShown(photo)) renderPhotos();  // it enters or leaves the current filter
  renderStats();
}

// Photos deleted here or by another client (photo.deleted): gone from the grid, the selection and the viewer.
const deletedIds = new Set();

function removePhotos(ids) {
  const gone = ids.filter((id) => state.photos.has(id));
  for (const id of ids) deletedIds.add(id);
  if (!gone.length) return;
  const viewing = state.viewer?.photoId;
  let next = null;
  if (viewing && gone.includes(viewing)) {  // the viewer moves on to the next photo still there (or the one before)
    const list = shownPhotos().map((p) => p.id);
    const at = list.indexOf(viewing);
    const rest = (part) => part.filter((id) => !gone.includes(id));
    next = at < 0 ? null : rest(list.slice(at + 1))[0] || rest(list.slice(0, at)).pop() || null;
  }
  for (const id of gone) {
    state.photos.delete(id);
    cardCache.delete(id);
    state.selected.delete(id);
    state.uploads.delete(id);
  }
  if (viewing && gone.includes(viewing)) {
    if (next) showInViewer(next); else closeViewer();
  }
  renderPhotos(); renderStats(); renderSelection();
  refreshMembersSoon(); refreshPeopleSoon();
}

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
  Object.assign(node.dataset, { pending: String(pending), done: String(done), failed: String(failed) });
  $("members-summary").textContent = state.members.length ? `(${state.members.length})` : "";
  renderUploadSummary();
  const option = $("album-select").selectedOptions[0];
  if (option?.value === state.albumId) option.textContent = `${state.albumName} (${plural(photos.length, "photo")})`;
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
  if (member) matchState.set(member.id, "requested");  // a re-match from before this change does not count
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
  const [kind, detail] = warnings.length ? ["warn", `Note: ${warnings.join("; ")}`] : ["ok", ""];
  referenceMessage(message, text, kind, "", detail);
  message.dataset.matched = "false";
  state.awaiting.push({ node: message, memberId: result.id, added: !member, kind, detail });
  reportMatches();  // the re-match may be over already
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
  renderUploadSummary();
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
  for (const node of [...$("suggestion-list").children]) {  // a pair with someone gone (merged): at once
    if (node.dataset.people.split("|").some((id) => !personOf(id))) node.remove();
  }
  $("suggestions").hidden = !$("suggestion-list").children.length;
  if (state.tab === "people") loadSuggestions();
}

function coverCrop(person, size) {
  const cover = el("div", { class: "crop", role: "img", "aria-label": person.name });
  if (person.cover) cropInto(cover, person.cover.photo_id, person.cover.box, size);
  return cover;
}

function personCard(person) {
  const nameInput = el("input", { placeholder: "Name this person", maxlength: "200",
    "aria-label": `Name for ${person.name}`, dataset: { testid: "rename-input" },
    list: "member-names" });
  const rename = el("form", { onsubmit: (e) => { e.preventDefault(); renamePerson(person, nameInput.value); } },
    nameInput, el("button", { type: "submit", text: "Name", dataset: { testid: "rename-save" } }));
  const facesBox = el("div", { class: "faces", hidden: true });
  const toggle = el("button", { type: "button", text: "Faces", onclick: () => toggleFaces(person.id, facesBox) });
  return el("article", { class: "person", dataset: { testid: "person", personId: person.id, name: person.name, photos: String(person.photos) } },
    el("header", {}, coverCrop(person, 64), el("div", {}, el("h3", { text: person.name }),
      el("span", { class: "count", text: plural(person.photos, "photo") }))),
    rename,
    el("div", { class: "actions" },
      el("button", { type: "button", text: "Photos", onclick: () => setFilter("person", person.id) }),
      toggle,
      el("button", { type: "button", text: "Hide", dataset: { testid: "hide" }, onclick: () => hidePerson(person) })),
    el("div", { class: "actions" },
      el("button", { type: "button", text: "Merge into…", "data-write": true, dataset: { testid: "merge-open" },
        onclick: () => pickMergeTarget(person) }),
      el("a", { class: "button", href: downloadUrl({ person: person.id }), download: "",
        dataset: { testid: "person-download" }, text: "Download" })),
    facesBox);
}

// The merge picker: the other people as faces (their covers), not just names.
async function pickMergeTarget(person) {
  const others = state.people.filter((p) => p.id !== person.id && !p.hidden);
  if (!others.length) { toast("There is nobody else to merge with."); return; }
  const grid = el("div", { class: "pick-grid" }, ...others.map((p) => el("button", { type: "button",
    class: "pick-person", dataset: { testid: "merge-target", personId: p.id, name: p.name },
    onclick: () => dialogDone?.(p.id) }, coverCrop(p, 72), el("span", { text: p.name }),
  el("span", { class: "hint", text: plural(p.photos, "photo") }))));
  const content = el("div", {}, el("div", { class: "pick-source" }, coverCrop(person, 56),
    el("span", { text: `${person.name} (${plural(person.photos, "photo")}) is…` })), grid);
  const target = await ask({ title: `Merge ${person.name} into…`, content, ok: null });
  if (target) mergePeople(person, target);
}

// ---- suggested merges: people who look alike and are never in one photo together

const dismissedKey = () => `photosift.not-same.${state.albumId}`;
const pairKey = (a, b) => [a, b].sort().join("|");

function dismissedPairs() {
  try { return new Set(JSON.parse(localStorage.getItem(dismissedKey()) || "[]")); } catch { return new Set(); }
}

const loadSuggestions = later(async () => {
  if (!state.albumId) return;
  const seq = ++answers.suggestions;
  let items = [];
  try { items = (await api("GET", albumPath("/people/suggestions"))).items; } catch { /* keep the page as it is */ }
  if (seq !== answers.suggestions) return;
  const dismissed = dismissedPairs();
  const shown = items.filter(({ people: [a, b] }) => !dismissed.has(pairKey(a.id, b.id))
    && personOf(a.id) && personOf(b.id));
  $("suggestion-list").replaceChildren(...shown.map(suggestionCard));
  $("suggestions").hidden = !shown.length;
}, 200);

function suggestionCard({ people: [a, b], similarity }) {
  const [source, target] = a.faces <= b.faces ? [a, b] : [b, a];  // the smaller one joins the larger
  const notSame = () => {
    const dismissed = dismissedPairs();
    dismissed.add(pairKey(a.id, b.id));
    localStorage.setItem(dismissedKey(), JSON.stringify([...dismissed]));
    loadSuggestions();
  };
  return el("article", { class: "suggestion", dataset: { testid: "suggestion", people: pairKey(a.id, b.id) } },
    el("div", { class: "pair" }, coverCrop(a, 56), coverCrop(b, 56)),
    el("p", { text: `${a.name} and ${b.name}`, title: `similarity ${similarity.toFixed(0)}`,
      dataset: { testid: "suggestion-names" } }),
    el("div", { class: "actions" },
      el("button", { type: "button", class: "primary", text: "Merge", "data-write": true,
        dataset: { testid: "suggestion-merge" }, onclick: () => mergePeople(source, target.id) }),
      el("button", { type: "button", text: "Not the same", dataset: { testid: "suggestion-dismiss" },
        onclick: notSame })));
}

// ---- the Unknown faces: a grid to select from, one action for the selection, each face's photo a tap away

const unknownUi = { open: false, selected: new Set(), items: [], card: null, count: null, faces: null, bar: null };

function unknownCard() {
  if (!unknownUi.card) {
    unknownUi.count = el("span", { class: "count" });
    unknownUi.faces = el("div", { class: "faces unknown-faces", dataset: { testid: "unknown-faces" } });
    unknownUi.bar = el("div", { class: "bulk-bar", dataset: { testid: "unknown-bar" } });
    unknownUi.card = el("article", { class: "person unknown-card", dataset: { testid: "unknown" } },
      el("header", {}, el("div", { class: "crop" }), el("div", {}, el("h3", { text: "Unknown" }), unknownUi.count)),
      el("div", { class: "actions" }, el("button", { type: "button", text: "Faces", dataset: { testid: "unknown-toggle" },
        onclick: () => { unknownUi.open = !unknownUi.open; unknownUi.selected.clear(); loadUnknown(); } })),
      unknownUi.bar, unknownUi.faces);
  }
  unknownUi.count.textContent = `${plural(state.unknown, "face")} that fit nobody`;
  if (unknownUi.open) loadUnknown();
  return unknownUi.card;
}

async function loadUnknown() {
  const { card, faces, bar } = unknownUi;
  card.classList.toggle("wide", unknownUi.open);
  faces.hidden = bar.hidden = !unknownUi.open;
  if (!unknownUi.open) return;
  let detail;
  try { detail = await api("GET", albumPath("/people/unknown")); } catch (err) {
    faces.replaceChildren(el("span", { class: "hint", text: err.message }));
    return;
  }
  const ids = new Set(detail.items.map((f) => f.id));
  for (const id of [...unknownUi.selected]) if (!ids.has(id)) unknownUi.selected.delete(id);
  unknownUi.items = detail.items;
  drawUnknown();
}

function drawUnknown() {
  const { items, faces } = unknownUi;
  faces.replaceChildren(...items.map(unknownTile));
  if (!items.length) faces.replaceChildren(el("span", { class: "hint", text: "no unknown faces" }));
  renderUnknownBar();
}

function unknownTile(face) {
  const selected = unknownUi.selected.has(face.id);
  const tile = el("div", { class: `face${selected ? " selected" : ""}`, dataset: { testid: "unknown-face", faceId: face.id } });
  const crop = el("button", { type: "button", class: "crop", "aria-pressed": String(selected),
    "aria-label": "Select this face", dataset: { testid: "unknown-face-select" }, onclick: () => {
      if (unknownUi.selected.has(face.id)) unknownUi.selected.delete(face.id); else unknownUi.selected.add(face.id);
      const on = unknownUi.selected.has(face.id);
      tile.classList.toggle("selected", on);
      crop.setAttribute("aria-pressed", String(on));
      renderUnknownBar();
    } });
  cropInto(crop, face.photo_id, face.box, 72);
  tile.append(crop, el("button", { type: "button", class: "link", text: "Photo", dataset: { testid: "face-photo" },
    onclick: () => openViewer(face.photo_id) }));
  return tile;
}

function renderUnknownBar() {
  const ids = [...unknownUi.selected];
  const move = el("select", { "aria-label": "Move the selected faces to…", disabled: !ids.length, "data-write": true,
    dataset: { testid: "unknown-move" } },
  el("option", { value: "", text: "Move them to…" }),
  el("option", { value: "new", text: "a new person (all of them)" }),
  ...state.people.filter((p) => !p.hidden).map((p) => el("option", { value: `person:${p.id}`, text: p.name })),
  ...state.members.map((m) => el("option", { value: `member:${m.id}`, text: m.name })));
  move.addEventListener("change", () => { if (move.value) moveFaces(ids, move.value); });
  const all = unknownUi.items;
  unknownUi.bar.replaceChildren(
    el("span", { text: ids.length ? `${plural(ids.length, "face")} selected` : "Tap faces to select them",
      dataset: { testid: "unknown-count" } }),
    el("button", { type: "button", text: "All", disabled: !all.length, onclick: () => {
      for (const f of all) unknownUi.selected.add(f.id);
      drawUnknown();
    } }),
    el("button", { type: "button", text: "None", disabled: !ids.length, onclick: () => {
      unknownUi.selected.clear();
      drawUnknown();
    } }),
    move);
}

// One action for several faces: into a new person (one request), or each into a person or a member.
function moveFaces(ids, value) {
  const n = plural(ids.length, "face");
  unknownUi.selected.clear();
  const back = async () => { for (const id of ids) await api("POST", albumPath(`/faces/${id}/move`), {}); };
  if (value === "new") {
    act(() => api("POST", albumPath("/people"), { face_ids: ids }), `${n} made a new person`, back);
    return;
  }
  const body = value.startsWith("member:") ? { member_id: value.slice(7) } : { person_id: value.slice(7) };
  act(async () => { for (const id of ids) await api("POST", albumPath(`/faces/${id}/move`), body); },
    `${n} moved to ${targetLabel(body)}`, back);
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
  const crop = el("button", { type: "button", class: "crop", "aria-label": "Open the photo",
    dataset: { testid: "face-photo" }, onclick: () => openViewer(face.photo_id) });
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
        el("a", { class: "button", href: downloadUrl({ member: member.id }), download: "",
          dataset: { testid: "member-download" }, text: "Download" })),
      el("div", { class: "actions" },
        el("label", { class: "file-button", text: "Add a reference photo", "data-write": true }, file)),
      el("div", { class: "actions" },
        el("button", { type: "button", text: "Rename", "data-owner": true, dataset: { testid: "member-rename" },
          onclick: () => renameMember(member.id) }),
        el("button", { type: "button", text: "Delete…", class: "danger", "data-owner": true,
          dataset: { testid: "member-delete" }, onclick: () => deleteMember(member.id) })),
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
  ui.count.textContent = `${plural(member.photos ?? 0, "photo")} · ${plural(refs, "reference photo")}`;
  ui.card.dataset.name = member.name;
  return ui.card;
}

async function renameMember(memberId) {
  const member = state.members.find((m) => m.id === memberId);
  if (!member) return;
  const old = member.name;
  const name = await ask({ title: `Rename ${old}`, input: old, ok: "Rename" });
  if (!name || name === old) return;
  act(() => api("PATCH", albumPath(`/members/${memberId}`), { name }), `${old} is now ${name}`,
    () => api("PATCH", albumPath(`/members/${memberId}`), { name: old }));
}

async function deleteMember(memberId) {
  const member = state.members.find((m) => m.id === memberId);
  if (!member) return;
  const ok = await ask({ title: `Delete the member ${member.name}?`, ok: "Delete", danger: true,
    text: "Their reference photos are removed. The photos they are in stay in the album; their faces become " +
      "unknown (or join people)." });
  if (!ok) return;
  if (state.filter.kind === "member" && state.filter.id === memberId) state.filter = { kind: "all", id: null };
  act(() => api("DELETE", albumPath(`/members/${memberId}`)), `${member.name} deleted`);
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

// ---------------------------------------------------------------- toast with undo; questions (a modal dialog)

const toastTimer = { id: null, ms: 0 };

// A short message at the bottom; it goes away by itself (later when it offers Undo, or while the pointer is on it).
function toast(text, { error = false, undo = false } = {}) {
  $("toast-text").textContent = text;
  $("toast").classList.toggle("error", error);
  $("toast-undo").hidden = !undo;
  $("toast").hidden = false;
  toastTimer.ms = undo ? 12000 : error ? 9000 : 5000;
  armToast();
}

function armToast() {
  clearTimeout(toastTimer.id);
  toastTimer.id = setTimeout(hideToast, toastTimer.ms);
}

function hideToast() {
  clearTimeout(toastTimer.id);
  $("toast").hidden = true;
}

async function runUndo() {
  const undo = state.undo;
  if (!undo) return;
  state.undo = null;
  await act(undo.run, `Undone: ${undo.label}`);
}

let dialogDone = null;  // finish(value) of the open question

// Asks in a modal dialog; resolves with the text typed (input), true (OK) or a value chosen in content (which calls
// dialogDone(value)); null when cancelled.
function ask({ title, text = "", input = null, ok = "OK", danger = false, content = null }) {
  dialogDone?.(null);
  const dialog = $("dialog");
  $("dialog-title").textContent = title;
  $("dialog-text").textContent = text;
  $("dialog-text").hidden = !text;
  const field = $("dialog-input");
  field.hidden = input === null;
  field.required = input !== null;
  field.value = input ?? "";
  $("dialog-content").replaceChildren(...(content ? [content] : []));
  $("dialog-content").hidden = !content;
  $("dialog-ok").hidden = !ok;
  $("dialog-ok").textContent = ok || "";
  $("dialog-ok").classList.toggle("danger", danger);
  return new Promise((resolve) => {
    dialogDone = (value) => {
      dialogDone = null;
      if (dialog.open) dialog.close();
      resolve(value);
    };
    dialog.showModal();
    if (input !== null) { field.focus(); field.select(); } else if (ok) $("dialog-ok").focus();
  });
}

function answerDialog(event) {
  event.preventDefault();
  const field = $("dialog-input");
  if (field.hidden) { dialogDone?.(true); return; }
  const value = field.value.trim();
  if (value) dialogDone?.(value);
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

// Zoom: the image (and its face boxes, placed in % of it) grows inside a scrolling frame, kept centred.
function applyZoom() {
  const img = $("viewer-img");
  const scroll = $("viewer-scroll");
  const zoom = state.viewer?.zoom || 1;
  const button = $("viewer-zoom");
  button.textContent = zoom === 1 ? "Zoom" : `Zoom ${zoom}×`;
  button.setAttribute("aria-pressed", String(zoom > 1));
  $("viewer").classList.toggle("zoomed", zoom > 1);
  if (zoom === 1) { img.style.width = ""; return; }
  const fit = () => {
    const box = scroll.getBoundingClientRect();
    const scale = Math.min(box.width / img.naturalWidth, box.height / img.naturalHeight, 1);
    img.style.width = `${Math.round(img.naturalWidth * scale * zoom)}px`;
    scroll.scrollLeft = (scroll.scrollWidth - scroll.clientWidth) / 2;
    scroll.scrollTop = (scroll.scrollHeight - scroll.clientHeight) / 2;
  };
  if (img.complete && img.naturalWidth) fit(); else img.addEventListener("load", fit, { once: true });
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

function closeViewer() {
  state.viewer = null;
  $("viewer").hidden = true;
  $("viewer").classList.remove("zoomed");
  $("viewer-img").removeAttribute("src");
  $("viewer-img").style.width = "";
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

// ---------------------------------------------------------------- access: sign-in, share links

// Who this browser is, from GET /v1/session: { signed_in, role: "owner" | "share", via, album_id, can_upload,
// keyless }. The session itself is an HttpOnly cookie that fetch, EventSource and <img> send by themselves.
const access = { session: null, signingIn: false, shareText: "" };

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
  access.shareText = text;
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

// Escape closes the face picker or the viewer; the arrow keys browse the viewer (not while a question is open or a
// field has the focus).
function onKey(e) {
  if ($("dialog").open) return;
  if (e.key === "Escape") {
    if (state.picker) state.picker(null); else closeViewer();
    return;
  }
  if (!state.viewer || e.target.closest?.("input, select, textarea")) return;
  if (e.key === "ArrowLeft") stepViewer(-1);
  else if (e.key === "ArrowRight") stepViewer(1);
  else return;
  e.preventDefault();
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
  $("toast").addEventListener("pointerenter", () => clearTimeout(toastTimer.id));
  $("toast").addEventListener("pointerleave", () => { if (!$("toast").hidden) armToast(); });
  $("new-album-toggle").addEventListener("click", () => {
    const open = $("album-form").classList.toggle("adding");
    $("new-album-toggle").setAttribute("aria-expanded", String(open));
    if (open) $("album-name").focus();
  });
  $("rename-album").addEventListener("click", renameAlbum);
  document.addEventListener("click", (e) => {  // the album menu closes when something else is tapped
    if ($("album-menu").open && !$("album-menu").contains(e.target)) $("album-menu").open = false;
  });
  $("delete-album").addEventListener("click", deleteAlbum);
  $("sort-select").addEventListener("change", (e) => { state.sort = e.target.value; renderPhotos(); });
  for (const id of ["date-from", "date-to"]) {
    $(id).addEventListener("change", () => {
      state.dates = { from: $("date-from").value, to: $("date-to").value };
      renderPhotos();
    });
  }
  $("select-toggle").addEventListener("click", () => setSelecting(!state.selecting));
  $("selection-cancel").addEventListener("click", () => setSelecting(false));
  $("select-all").addEventListener("click", selectAllShown);
  $("selection-delete").addEventListener("click", async () => {
    if (await deletePhotos({ ids: [...state.selected] })) setSelecting(false);
  });
  $("selection-download").addEventListener("click", (e) => {
    if (state.selected.size > MAX_DOWNLOAD) toast(`Select at most ${MAX_DOWNLOAD} photos to download at once.`);
    else if (!state.selected.size) toast("Tap photos to select them first.");
    else return;
    e.preventDefault();
  });
  $("dialog-form").addEventListener("submit", answerDialog);
  $("dialog-cancel").addEventListener("click", () => dialogDone?.(null));
  $("dialog").addEventListener("close", () => dialogDone?.(null));  // Escape
  $("viewer-close").addEventListener("click", closeViewer);
  $("viewer").addEventListener("click", (e) => { if (e.target === $("viewer")) closeViewer(); });
  $("viewer-prev").addEventListener("click", () => stepViewer(-1));
  $("viewer-next").addEventListener("click", () => stepViewer(1));
  $("viewer-zoom").addEventListener("click", () => zoomViewer());
  $("viewer-img").addEventListener("dblclick", () => zoomViewer(state.viewer?.zoom === 1 ? 2 : 1));
  $("viewer-delete").addEventListener("click", () => {
    if (state.viewer) deletePhotos({ ids: [state.viewer.photoId] });
  });
  swipeable($("viewer-scroll"));
  $("picker-cancel").addEventListener("click", () => state.picker?.(null));
  $("picker").addEventListener("click", (e) => { if (e.target === $("picker")) state.picker?.(null); });
  document.addEventListener("keydown", onKey);
  startAccess();
}

init();
