/* photosift web UI, part 3: members (the list, reference photos and their checks, member cards with their faces)
   and people (corrections, the Unknown faces, the merge picker, suggested merges). */
"use strict";

// ---------------------------------------------------------------- rendering: members

const visiting = () => access.session?.role === "share";
const meKey = () => `photosift.me.${state.albumId}`;

// The Members panel says how to find your photos: tap your name (or, on a share link that may add, add yourself
// with a selfie). A visitor's choice is remembered: the album opens on their photos next time.
function renderMembers() {
  const some = state.members.length > 0;
  const adds = !visiting() || access.session.can_upload;
  $("members-title").textContent = visiting() ? "Find your photos" : "Members";
  $("members-hint").textContent = visiting()
    ? (some ? `Tap your name to see your photos${adds ? ", or add yourself with a selfie" : ""}.`
      : adds ? "Add yourself with a selfie: the photos you are in are found for you." : "Nobody was added yet.")
    : some ? "Tap a name to see their photos." : "Add each member with a selfie: the photos they are in are found.";
  $("member-name").placeholder = visiting() ? "Your name" : "Member name";
  $("add-member").textContent = visiting() ? "Find me" : "Add member";
  $("member-list").replaceChildren(...state.members.map((m) => el("li", {},
    el("button", { type: "button", dataset: { testid: "member", memberId: m.id },
      "aria-pressed": String(state.filter.kind === "member" && state.filter.id === m.id),
      onclick: () => (visiting() ? chooseMe(m.id) : setFilter("member", m.id)) },
    el("span", { text: m.name }),
    el("span", { class: "hint", text: plural(m.photos ?? 0, "photo") })))));
  $("member-checks").replaceChildren(...state.members.filter((m) => m.suggestions)
    .map((m) => el("li", {}, checkLink(m))));
  $("member-names").replaceChildren(...state.members.map((m) => el("option", { value: m.name })));
}

function chooseMe(memberId) {
  localStorage.setItem(meKey(), memberId);
  setFilter("member", memberId);
  if (!WIDE.matches) $("photos-view").scrollIntoView({ block: "start" });
}

function myFilter() {
  const me = visiting() && localStorage.getItem(meKey());
  return state.members.some((m) => m.id === me) ? { kind: "member", id: me } : { kind: "all", id: null };
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
  const button = $("add-member");
  button.disabled = true;
  endUndo();
  let member = null;
  try {
    await sendReference({ name, file: state.memberFile, message, done: (added) => {
      member = added;
      $("member-name").value = "";
      $("member-file").value = "";
      setMemberFile(null);
    } });
  } finally {
    button.disabled = false;
  }
  if (member && visiting()) chooseMe(member.id);
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
  // the message now tells this photo's outcome: an earlier photo's re-match, when it ends, must not write over it
  state.awaiting = state.awaiting.filter((w) => w.node !== message);
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
  if (result.suggestions) message.insertBefore(checkLink(result), message.childNodes[1]);
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
  const active = document.activeElement;  // someone typing a name keeps the field, its text and the caret
  const typing = active?.dataset?.testid === "rename-input" ? active.closest("[data-person-id]")?.dataset.personId : null;
  const caret = typing ? active.selectionStart : null;
  $("people-grid").replaceChildren(...cards);
  const input = typing && $("people-grid").querySelector(`[data-person-id="${typing}"] [data-testid=rename-input]`);
  if (input) { input.focus(); input.setSelectionRange(caret, caret); }
  for (const id of nameDrafts.keys()) if (!personOf(id)) nameDrafts.delete(id);
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

// What someone is typing as a person's name survives the live updates that re-draw the cards (person id -> text).
const nameDrafts = new Map();

function personCard(person) {
  const nameInput = el("input", { placeholder: "Name this person", maxlength: "200",
    "aria-label": `Name for ${person.name}`, dataset: { testid: "rename-input" },
    list: "member-names", value: nameDrafts.get(person.id) || "",
    oninput: () => nameDrafts.set(person.id, nameInput.value) });
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
    ...state.suggestions.filter((s) => s.person?.id === person.id).map(isThisQuestion),
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
  refreshSuggestionsSoon();
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
    ui = { title: el("h3"), count: el("span", { class: "count" }), open: false, asks: el("div", { class: "asks" }),
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
      ui.asks, ui.message, ui.faces);
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
  ui.asks.replaceChildren(...state.suggestions.filter((s) => s.member.id === member.id).map(isThisQuestion));
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
  endUndo();
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
// The server says first what would leave with it: when that is more than this face, the user confirms. Undo gives
// the face back (which withdraws the correction).
async function rejectFace(face, memberId) {
  endUndo();
  const name = memberName(memberId) || "the member";
  let preview;
  try {
    preview = await api("GET", albumPath(`/faces/${face.id}/reject-preview?member_id=${memberId}`));
  } catch (err) {
    toast(err.message, { error: true });
    return false;
  }
  const photos = plural(preview.count, "photo");
  if (preview.count > 1 || preview.faces.length > 1) {
    const ok = await ask({ title: `${name} leaves ${photos}. Continue?`, ok: `Not ${name}`, danger: true,
      text: `This face and ${plural(preview.faces.length - 1, "face")} very like it stop matching ${name}. ` +
        "Undo gives them back." });
    if (!ok) return false;
  }
  return act(() => api("POST", albumPath(`/faces/${face.id}/reject`), { member_id: memberId }),
    `Not ${name}: ${photos} left ${name}`,
    () => api("POST", albumPath(`/faces/${face.id}/move`), { member_id: memberId }));
}

// ---------------------------------------------------------------- "Is this <member>?": suggestions, one tap each

const refreshSuggestionsSoon = later(async () => {
  if (!state.albumId) return;
  try { state.suggestions = (await api("GET", albumPath("/suggestions"))).items; } catch { return; }
  renderPeople(); renderMemberCards();
}, 300);

// "3 photos may show Jenny: check them" (member: a member view, with its count of suggestions).
function checkLink(member) {
  return el("span", { class: "check-link" }, `${plural(member.suggestions, "photo")} may show ${member.name}: `,
    el("button", { type: "button", class: "link", text: "check them", dataset: { testid: "check-suggestions" },
      onclick: () => showSuggestions(member.id) }));
}

function showSuggestions(memberId) {
  showTab("people");
  refreshSuggestionsSoon();
  memberCards.get(memberId)?.card.scrollIntoView({ block: "start" });
}

function isThisQuestion(item) {
  const { member, person, faces } = item;
  const ids = faces.map((f) => f.id);
  const crops = faces.slice(0, 3).map((f) => {
    const crop = el("button", { type: "button", class: "crop", "aria-label": "Open the photo",
      onclick: () => openViewer(f.photo_id) });
    cropInto(crop, f.photo_id, f.box, 48);
    return crop;
  });
  return el("div", { class: "is-this", dataset: { testid: "is-this", memberId: member.id, personId: person?.id || "",
    faces: ids.join(",") } },
  el("div", { class: "pair" }, ...crops),
  el("p", {}, el("strong", { text: `Is this ${member.name}?` }), " ",
    el("span", { class: "hint", text: `${person ? `${person.name}, ` : ""}${plural(item.photos, "photo")}` })),
  el("div", { class: "actions" },
    el("button", { type: "button", class: "primary", text: "Yes", "data-write": true,
      dataset: { testid: "is-this-yes" }, onclick: () => answerSuggestion(item, true) }),
    el("button", { type: "button", text: "No", "data-write": true, dataset: { testid: "is-this-no" },
      onclick: () => answerSuggestion(item, false) })));
}

// Yes: the faces go to the member (Undo puts them back: into a person again, or unknown). No: they stay where they
// are and stop being suggested for the member.
function answerSuggestion({ member, person, faces, photos }, accept) {
  const ids = faces.map((f) => f.id);
  const answer = () => api("POST", albumPath("/suggestions/answer"), { member_id: member.id, face_ids: ids, accept });
  if (!accept) return act(answer, `Not ${member.name}: ${plural(photos, "photo")} left as they are`);
  return act(answer, `${plural(photos, "photo")} added to ${member.name}`, async () => {
    if (person) await api("POST", albumPath("/people"), { face_ids: ids });
    else for (const id of ids) await api("POST", albumPath(`/faces/${id}/move`), {});
  });
}
