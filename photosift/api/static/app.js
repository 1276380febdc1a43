/* photosift web UI, part 4: albums, the live event stream, sign-in and share links, and the wiring. One album at a
   time, kept live by the album's Server-Sent Events. */
"use strict";

// ---------------------------------------------------------------- albums

const LAST_ALBUM = "photosift.last-album";  // the album the owner opened last: where "/" takes them back

// The owner's albums: in the header's list, and as cards (with a cover photo when the server names one) on the
// start page.
async function loadAlbums(selected) {
  const albums = await api("GET", "/v1/albums");
  const select = $("album-select");
  select.replaceChildren(el("option", { value: "", text: "Choose an album…" }),
    ...albums.map((a) => el("option", { value: a.id, text: a.name })));
  select.value = selected || "";
  $("album-list").replaceChildren(...albums.map((a) => el("li", {}, el("a", { class: "album-card", href: `#album=${a.id}`,
    dataset: { testid: "album-item", albumId: a.id } },
  a.cover_photo_id ? el("img", { class: "cover", alt: "", loading: "lazy",
    src: `${thumbUrl(a.cover_photo_id)}&square=true` }) : el("span", { class: "cover" }),
  el("span", { class: "name", text: a.name }),
  el("span", { class: "hint", text: plural(a.photos ?? 0, "photo") })))));
  $("albums").hidden = !albums.length;
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
  Object.assign(state, { albumId, albumName: "", photos: new Map(), members: [], people: [], suggestions: [], unknown: 0,
    filter: { kind: "all", id: null }, dates: { from: "", to: "" }, selecting: false, awaiting: [],
    events: null, undo: null, reembedding: null });
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
  const owner = access.session?.role === "owner";
  if (owner) await loadAlbums(albumId).catch(() => {});  // a visitor's share reaches its album only
  $("welcome").hidden = !!albumId;
  $("album").hidden = !albumId;
  $("album-menu").open = false;
  renderMenu();
  if (albumId) document.body.dataset.album = albumId; else delete document.body.dataset.album;
  if (!albumId) return;
  try {
    const [album] = await Promise.all([api("GET", albumPath()), loadPhotos(), loadMembers(), loadPeople()]);
    state.albumName = album.name;
  } catch (err) {
    if (err.status === 404 && owner) {
      localStorage.removeItem(LAST_ALBUM);
      leaveAlbum(err.message);
    } else toast(err.message, { error: true });
    return;
  }
  if (owner) localStorage.setItem(LAST_ALBUM, albumId);
  state.filter = myFilter();
  // On a phone the upload panel starts folded once there are photos, so that they come first; the Members panel
  // (how to find your photos) stays open until you have found yours.
  $("members-panel").open = WIDE.matches || state.filter.kind !== "member";
  $("upload-panel").open = WIDE.matches || !state.photos.size;
  renderAll();
  refreshSuggestionsSoon();
  listen();
}

// The header's menu: the album's actions for its owner, signing out for a session.
function renderMenu() {
  const owner = access.session?.role === "owner" && !!state.albumId;
  $("rename-album").hidden = $("delete-album").hidden = !owner;
  $("album-menu").hidden = !owner && $("sign-out").hidden;
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
  if (option) option.textContent = name;
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
    localStorage.removeItem(LAST_ALBUM);
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
  on("member.updated", (d) => { matchState.set(d.member_id, "updated"); refreshMembersSoon(); refreshSuggestionsSoon(); });
  on("member.deleted", (d) => {
    if (state.filter.kind === "member" && state.filter.id === d.member_id) setFilter("all");
    refreshMembersSoon();
  });
  on("album.matched", () => { matchingFinished(); refreshSuggestionsSoon(); });
  // A new face recogniser re-embeds the album's faces (matches stay as they were until it is over).
  on("album.reembedding", (d) => { state.reembedding = d; renderStats(); });
  on("album.reembedded", () => { state.reembedding = null; renderStats(); });
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
    refreshSuggestionsSoon();
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
    if (member.suggestions) node.insertBefore(checkLink(member), node.childNodes[1]);
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
  const last = session.role === "owner" && !albumFromHash() && localStorage.getItem(LAST_ALBUM);
  if (last) history.replaceState(null, "", `#album=${last}`);
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
  $("album-menu").open = false;
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
    $("share-new").scrollIntoView({ block: "nearest" });
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
  $("sort-select").value = state.sort;
  $("sort-select").addEventListener("change", (e) => {
    state.sort = e.target.value;
    localStorage.setItem(SORT, state.sort);
    renderPhotos();
  });
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
  $("viewer-prev").addEventListener("click", () => stepViewer(-1));
  $("viewer-next").addEventListener("click", () => stepViewer(1));
  $("viewer-zoom").addEventListener("click", () => zoomViewer());
  $("viewer-img").addEventListener("dblclick", () => zoomViewer(state.viewer?.zoom === 1 ? 2 : 1));
  $("viewer-delete").addEventListener("click", () => {
    if (state.viewer) deletePhotos({ ids: [state.viewer.photoId] });
  });
  swipeable($("viewer-scroll"));
  $("viewer-img").addEventListener("load", (e) => setViewerRatio(e.target.naturalWidth / e.target.naturalHeight));
  new ResizeObserver(placeLabels).observe($("viewer-frame"));
  $("picker-cancel").addEventListener("click", () => state.picker?.(null));
  $("picker").addEventListener("click", (e) => { if (e.target === $("picker")) state.picker?.(null); });
  document.addEventListener("keydown", onKey);
  startAccess();
}

init();
