/* photosift web UI, part 1 of 4: the state, the API, DOM helpers, messages and questions. Plain JS, no build step;
   the parts share one scope (classic scripts, loaded in order: base, photos, people, app). */
"use strict";

const $ = (id) => document.getElementById(id);
const UPLOAD_BATCH_FILES = 10;  // files in one upload request (the server takes up to 100)
const UPLOAD_BATCH_BYTES = 40 * 1024 * 1024;  // bytes in one upload request (one larger file goes alone)
const MAX_IDS = 1000;       // ids in one request (the API's limit)
const MAX_DOWNLOAD = MAX_IDS;  // photos in one ZIP link of a selection (the ids travel in its URL)
const WIDE = window.matchMedia("(min-width: 900px)");
const SORT = "photosift.sort";  // localStorage: the grid's order

const state = {
  albumId: null,
  albumName: "",
  photos: new Map(),        // id -> photo view (with faces)
  members: [],
  people: [],               // people views (hidden ones included, flagged)
  suggestions: [],          // "Is this <member>?" items (GET /suggestions)
  unknown: 0,
  filter: { kind: "all", id: null },
  sort: localStorage.getItem(SORT) || "taken",  // taken | -taken | uploaded (the last choice, kept)
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
  reembedding: null,        // { done, total } while a new face recogniser re-embeds the album
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

// ---------------------------------------------------------------- toast with undo; questions (a modal dialog)

const toastTimer = { id: null, ms: 0 };
const TOAST_GAP = 24; // px between the page's end and the toast's top: its 1rem from the bottom and a little air

// A short message at the bottom; it goes away by itself (not while the pointer is on it). One that offers Undo
// stays until the next action (endUndo). While it shows, the page ends that much lower, so whatever lies under it
// can be scrolled above it.
function toast(text, { error = false, undo = false } = {}) {
  $("toast-text").textContent = text;
  $("toast").classList.toggle("error", error);
  $("toast-undo").hidden = !undo;
  $("toast").hidden = false;
  document.body.style.paddingBottom = `${$("toast").offsetHeight + TOAST_GAP}px`;
  toastTimer.ms = undo ? 0 : error ? 9000 : 5000;
  armToast();
}

function armToast() {
  clearTimeout(toastTimer.id);
  if (toastTimer.ms) toastTimer.id = setTimeout(hideToast, toastTimer.ms);
}

// Another action that changes data, or another correction opened: the last one can no longer be undone.
function endUndo() {
  if (!state.undo) return;
  state.undo = null;
  hideToast();
}

function hideToast() {
  clearTimeout(toastTimer.id);
  $("toast").hidden = true;
  document.body.style.paddingBottom = "";
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
