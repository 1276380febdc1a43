"""Member matching on simulated group albums, through the product's HTTP API: the promise "strangers stay strangers".

    nice -n 10 .venv/bin/python eval/members.py [--seeds 11,12,13] [--members N] [--markdown]

A real ``photosift serve`` (temporary data folder, default settings) gets one album per row group:

- **LFW**: ``--members`` people with >= 4 photos become members with ONE selfie each; their other photos (all but
  the first three) are mixed into group photos: composites of 3-5 face photos on one canvas, the rest of the faces
  strangers (every other LFW person, none of them a member). Real multi-face photos of ``wider/`` and ``facemask/``
  are uploaded as well: every face in them is a stranger. Then each member gets two more references (their second
  and third photo) and the album is re-matched: the "3 references" row.
- **MFR2 (masked)**: every MFR2 person with an unmasked photo is a member (one unmasked reference); their masked
  photos go into group photos among LFW strangers and other MFR2 people's masked faces.
- **CFP (side views)**: CFP people become members with one frontal reference; their profile photos go into group
  photos among strangers (LFW people and other CFP people's profiles).

A stranger is someone who is not the member: a person in two data sets (CFP's Tiger Woods is LFW's ``Tiger_Woods``) is
never drawn as a stranger into the other set's album (``outside``): the album that gives him to the member is right.

Scores, per row: per-member-photo precision (of the photos listed under a member, the share that show them) and
recall (of the group photos that show a member, the share listed under them), and false matches per 100 stranger
faces (a face of someone who is not a member, matched to any member). Faces are attributed to the tile their box
centre falls in; a face outside a tile's central area (a bystander in an LFW photo) is a stranger. A last table
scores the album's suggestions ("Is this <member>?"): the faces offered, those that are the member (each recovers a
missed member photo: a photo that already lists the member is never suggested for them) and the wrong ones.

Each seed draws other members, strangers and group photos (its own albums on the same server); the table gives the
rows of all seeds pooled (counts added up), then each seed's rows.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path

import httpx
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _data import DATA, available, detection_set  # noqa: E402
from _faces import _labels  # noqa: E402

TILE = 300  # a face photo's side on the canvas, in pixels
STRANGER = "stranger"
SWEEP = (90.0, 92.0, 94.0, 96.0)


@dataclass
class Tile:
    """One face photo placed on a group photo: its identity (or STRANGER), file, and the square it covers."""

    identity: str
    path: str
    box: tuple[int, int, int, int]  # left, top, width, height


@dataclass
class GroupPhoto:
    """A composite of face photos (``tiles``), or a real multi-face photo (``real``: every face a stranger)."""

    name: str
    tiles: list[Tile] = field(default_factory=list)
    real: Path | None = None

    @cached_property
    def jpeg(self) -> bytes:
        """The photo's bytes (a composite is drawn when first asked for)."""
        if self.real is not None:
            return self.real.read_bytes()
        width = TILE * len(self.tiles) + 40 * (len(self.tiles) + 1)
        canvas = Image.new("RGB", (width, TILE + 200), (118, 121, 125))
        for tile in self.tiles:
            with Image.open(tile.path) as img:
                canvas.paste(img.convert("RGB").resize((TILE, TILE), Image.Resampling.BICUBIC), tile.box[:2])
        buf = io.BytesIO()
        canvas.save(buf, "JPEG", quality=90)
        return buf.getvalue()

    def identity_at(self, box: list[int]) -> str:
        """The identity of the tile whose central area holds the face box's centre (else a bystander)."""
        cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
        for tile in self.tiles:
            left, top, w, h = tile.box
            if left + 0.2 * w <= cx <= left + 0.8 * w and top + 0.15 * h <= cy <= top + 0.85 * h:
                return tile.identity
        return STRANGER


def compose(name: str, photos: list[tuple[str, str]], rng: random.Random) -> GroupPhoto:
    """A group photo: ``(path, identity)`` face photos side by side, each at a random height, on a grey canvas."""
    tiles = [Tile(identity, path, (40 + i * (TILE + 40), rng.randint(20, 180), TILE, TILE))
             for i, (path, identity) in enumerate(photos)]
    return GroupPhoto(name, tiles)


def real_photo(path: Path) -> GroupPhoto:
    """A real multi-face photo: every face in it is a stranger."""
    return GroupPhoto(f"real-{path.parent.name}-{path.name}", real=path)


@dataclass
class Scenario:
    """One album: members with their references, group photos, and references added later (the k=3 row)."""

    name: str
    members: dict[str, list[str]]  # identity -> reference photo paths (the first is the selfie)
    photos: list[GroupPhoto]
    more_references: dict[str, list[str]] = field(default_factory=dict)


def _by_identity(folder: str, kinds: set[str] | None = None) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for path, identity, kind in _labels(folder):
        if kinds is None or kind in kinds:
            out[identity].append(path)
    return dict(out)


def name_key(name: str) -> str:
    """A person's name however a data set spells it ("lfw:Tiger_Woods", "Tiger Woods", "mfr2:TigerWoods")."""
    return re.sub(r"[^a-z]", "", name.split(":", 1)[-1].lower())


@cache
def cfp_names() -> dict[str, str]:
    """CFP's identities (``cfp:<id>``, as ``_labels`` names them) -> the person's name (read once: every seed's
    side-view album asks)."""
    with open(DATA / "cfp" / "labels.csv", newline="") as fh:
        return {f"cfp:{row['identity_id']}": row["identity_name"] for row in csv.DictReader(fh)}


def outside(people: dict[str, list[str]], names: set[str]) -> dict[str, list[str]]:
    """``people`` without those whose name is one of ``names`` (the same person in another data set)."""
    keys = {name_key(n) for n in names}
    return {k: v for k, v in people.items() if name_key(k) not in keys}


def _groups(name: str, members: list[tuple[str, str]], strangers: list[tuple[str, str]], rng: random.Random,
            ) -> list[GroupPhoto]:
    """Group photos of 3-5 faces holding every member photo once (at most two per photo) among strangers."""
    members = members[:]
    rng.shuffle(members)
    pool = strangers[:]
    rng.shuffle(pool)
    photos = []
    while members:
        size = rng.randint(3, 5)
        take = min(len(members), rng.choice((1, 1, 2)))
        faces = [members.pop() for _ in range(take)]
        used = {identity for _, identity in faces}
        while len(faces) < size and pool:
            path, identity = pool.pop()
            if identity not in used:
                faces.append((path, STRANGER))
                used.add(identity)
        rng.shuffle(faces)
        photos.append(compose(f"{name}-{len(photos):03d}.jpg", faces, rng))
    return photos


def lfw_scenario(rng: random.Random, n_members: int) -> Scenario:
    people = _by_identity("lfw")
    eligible = sorted(k for k, v in people.items() if len(v) >= 4)
    chosen = rng.sample(eligible, n_members)
    members = {k: [people[k][0]] for k in chosen}
    more = {k: people[k][1:3] for k in chosen}
    member_photos = [(p, k) for k in chosen for p in people[k][3:]]
    strangers = [(p, k) for k, paths in people.items() if k not in chosen for p in paths]
    photos = _groups("lfw", member_photos, strangers, rng)
    for extra in rng.sample(strangers, len(strangers) // 8):  # strangers alone, too
        photos.append(compose(f"lfw-single-{len(photos):03d}.jpg", [(extra[0], STRANGER)], rng))
    for folder, step in (("wider", 6), ("facemask", 3)):
        for path, _ in detection_set(folder)[::step]:
            photos.append(real_photo(path))
    return Scenario("LFW", members, photos, more)


def mfr2_scenario(rng: random.Random) -> Scenario:
    unmasked = _by_identity("mfr2", {"no-mask"})
    masked = _by_identity("mfr2", {"mask"})
    chosen = sorted(k for k in masked if k in unmasked)
    members = {k: [unmasked[k][0]] for k in chosen}
    member_photos = [(p, k) for k in chosen for p in masked[k]]
    lfw = outside(_by_identity("lfw"), set(unmasked) | set(masked))
    strangers = [(p, k) for k, paths in lfw.items() for p in paths[:1]]
    return Scenario("MFR2 (masked members)", members, _groups("mfr2", member_photos, strangers, rng))


def cfp_scenario(rng: random.Random) -> Scenario:
    frontal = _by_identity("cfp", {"frontal"})
    profile = _by_identity("cfp", {"profile"})
    ids = sorted(frontal)
    chosen = ids[: len(ids) // 2]
    members = {k: [frontal[k][0]] for k in chosen}
    member_photos = [(p, k) for k in chosen for p in profile[k][:2]]
    others = [(p, k) for k in ids[len(ids) // 2:] for p in profile[k][:2] + frontal[k][:1]]
    lfw = outside(_by_identity("lfw"), set(cfp_names().values()))
    strangers = others + [(p, k) for k, paths in lfw.items() for p in paths[:1]]
    return Scenario("CFP (side-view members)", members, _groups("cfp", member_photos, strangers, rng))


# ---- the server -------------------------------------------------------------------------------------------------


class Server:
    """``photosift serve`` on a free loopback port with a temporary data folder."""

    def __init__(self) -> None:
        self.tmp = tempfile.TemporaryDirectory(prefix="photosift-members-")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        env = {**os.environ, "PHOTOSIFT_DATA_DIR": self.tmp.name}
        if os.environ.get("PHOTOSIFT_EVAL_SERVER_TREE"):  # measure another checkout's server (e.g. a baseline)
            env["PYTHONPATH"] = os.environ["PHOTOSIFT_EVAL_SERVER_TREE"]
        for key in ("PHOTOSIFT_API_KEYS", "PHOTOSIFT_DATABASE_URL", "PHOTOSIFT_STORE_URL"):
            env.pop(key, None)
        exe = Path(sys.executable).with_name("photosift")
        self.proc = subprocess.Popen([str(exe), "serve", "--host", "127.0.0.1", "--port", str(self.port)], env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.port}/v1", timeout=600)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if self.http.get(f"http://127.0.0.1:{self.port}/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.3)
        raise RuntimeError("photosift serve did not start")

    def idle(self) -> None:
        """Wait until no job is queued or running."""
        while True:
            jobs = self.http.get("/status").json()["jobs"]
            if not jobs.get("queued") and not jobs.get("running"):
                return
            time.sleep(1.0)

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)
        self.tmp.cleanup()


def _check(response: httpx.Response) -> dict:
    if response.status_code >= 400:
        raise RuntimeError(f"{response.request.method} {response.request.url}: {response.status_code} {response.text}")
    return response.json()


def _files(paths: list[str]) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("files", (Path(p).name, Path(p).read_bytes(), "application/octet-stream")) for p in paths]


def add_reference(http: httpx.Client, url: str, path: str, data: dict | None = None) -> httpx.Response:
    """POST one reference photo; when it shows several faces of similar size, pick the one nearest the centre (the
    data sets' subject), as a user picks their own face in the UI."""
    reply = http.post(url, data=data or {}, files=_files([path]))
    error = reply.json().get("error", {}) if reply.status_code >= 400 else {}
    if error.get("type") == "SeveralFaces":
        details = error["details"]
        cx, cy = details["width"] / 2, details["height"] / 2
        best = min(details["faces"], key=lambda f: (f["box"][0] + f["box"][2] / 2 - cx) ** 2
                   + (f["box"][1] + f["box"][3] / 2 - cy) ** 2)
        reply = http.post(url, data={**(data or {}), "face": str(best["index"])}, files=_files([path]))
    return reply


def run_scenario(server: Server, scenario: Scenario) -> list[dict]:
    """Build the album through the API and score it (one row; two when references are added later)."""
    http = server.http
    album = _check(http.post("/albums", json={"name": scenario.name}))["id"]
    member_ids = {}
    for identity, refs in scenario.members.items():
        reply = add_reference(http, f"/albums/{album}/members", refs[0], {"name": identity.replace(":", " ")})
        if reply.status_code >= 400:
            print(f"  member {identity} refused: {reply.json()['error']['message']}", file=sys.stderr)
            continue
        member_ids[reply.json()["id"]] = identity
    by_name = {p.name: p for p in scenario.photos}
    photo_of: dict[str, GroupPhoto] = {}
    for i in range(0, len(scenario.photos), 20):
        batch = scenario.photos[i:i + 20]
        files = [("files", (p.name, p.jpeg, "image/jpeg")) for p in batch]
        for item in _check(http.post(f"/albums/{album}/photos", files=files))["photos"]:
            if "id" in item:
                photo_of[item["id"]] = by_name[item["filename"]]
    server.idle()
    rows = [score(http, album, photo_of, member_ids, f"{scenario.name}, 1 reference")]
    if scenario.more_references:
        for member_id, identity in member_ids.items():
            for path in scenario.more_references[identity]:
                reply = add_reference(http, f"/albums/{album}/members/{member_id}/references", path)
                if reply.status_code >= 400:
                    print(f"  reference {path} of {identity} refused: {reply.json()['error']['message']}",
                          file=sys.stderr)
        server.idle()
        rows.append(score(http, album, photo_of, member_ids, f"{scenario.name}, 3 references"))
    return rows


def score(http: httpx.Client, album: str, photo_of: dict[str, GroupPhoto], member_ids: dict[str, str],
          label: str) -> dict:
    """Per-member-photo precision/recall and false matches per 100 stranger faces of the album as it is now."""
    listed, correct, strangers, false_matches, faces = 0, 0, 0, 0, 0
    truth = 0
    listings: list[tuple[float, bool]] = []  # (similarity, right person) of every member listed on a photo
    for photo_id, photo in photo_of.items():
        view = _check(http.get(f"/photos/{photo_id}"))
        present = {t.identity for t in photo.tiles}
        truth += sum(1 for identity in member_ids.values() if identity in present)
        shown: dict[str, float] = {}
        for face in view.get("faces") or []:
            faces += 1
            who = photo.identity_at(face["box"])
            member = face.get("member") or {}
            if who == STRANGER or who not in member_ids.values():
                strangers += 1
                false_matches += bool(member)
            if member:
                shown[member["id"]] = member["similarity"] or 100.0
        for member, similarity in shown.items():
            listed += 1
            correct += member_ids.get(member) in present
            listings.append((similarity, member_ids.get(member) in present))
    missed = truth - correct
    suggested = right = 0
    for item in _check(http.get(f"/albums/{album}/suggestions"))["items"]:
        for face in item["faces"]:
            if face["photo_id"] in photo_of:
                suggested += 1
                right += photo_of[face["photo_id"]].identity_at(face["box"]) == member_ids.get(item["member"]["id"])
    return with_rates({"row": label, "members": len(member_ids), "photos": len(photo_of), "faces": faces,
                       "stranger_faces": strangers, "member_photos": truth, "listed": listed, "correct": correct,
                       "false_matches": false_matches, "listings": listings, "missed": missed,
                       "suggested": suggested, "suggested_right": right})


def with_rates(row: dict) -> dict:
    """``row`` with its precision, recall and false matches per 100 stranger faces computed from its counts."""
    listed, truth, strangers = row["listed"], row["member_photos"], row["stranger_faces"]
    return {**row, "precision": row["correct"] / listed if listed else float("nan"),
            "recall": row["correct"] / truth if truth else float("nan"),
            "false_per_100": 100.0 * row["false_matches"] / strangers if strangers else float("nan")}


COUNTS = ("members", "photos", "faces", "stranger_faces", "member_photos", "listed", "correct", "false_matches",
          "missed", "suggested", "suggested_right")


def pooled(rows: list[dict]) -> list[dict]:
    """One row per row label with the counts of every seed added up (the rates recomputed from them)."""
    out: dict[str, dict] = {}
    for r in rows:
        total = out.setdefault(r["row"], {"row": r["row"], "seed": "all seeds", "listings": [],
                                          **dict.fromkeys(COUNTS, 0)})
        total["listings"] += r["listings"]
        for key in COUNTS:
            total[key] += r[key]
    return [with_rates(r) for r in out.values()]


def seeds(value: str) -> list[int]:
    """``"11-110"`` or ``"11,12,13"``."""
    if "-" in value:
        first, last = (int(v) for v in value.split("-"))
        return list(range(first, last + 1))
    return [int(v) for v in value.split(",")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="11,12,13", help="seeds, each its own albums: 11,12,13 or a range 11-20")
    parser.add_argument("--members", type=int, default=16, help="LFW members (people with >= 4 photos)")
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the rows to this file")
    args = parser.parse_args()
    if not available():
        print(f"skipped: no evaluation data at {DATA}")
        return 0
    server = Server()
    rows = []
    try:
        for seed in seeds(args.seeds):
            rng = random.Random(seed)
            for scenario in (lfw_scenario(rng, args.members), mfr2_scenario(rng), cfp_scenario(rng)):
                started = time.monotonic()
                scenario_rows = run_scenario(server, scenario)
                rows += [{**r, "seed": f"seed {seed}"} for r in scenario_rows]
                print(f"  seed {seed}, {scenario.name}: {time.monotonic() - started:.0f} s; "
                      + "; ".join(f"{r['row']}: {r['correct']} of {r['listed']} listed right, "
                                  f"{r['member_photos']} to find" for r in scenario_rows), file=sys.stderr)
    finally:
        server.close()
    rows = [{**r, "row": f"{r['row']} ({r['seed']})"} for r in pooled(rows) + rows]
    head = ("row", "members", "photos", "stranger faces", "member photos", "listed", "precision", "recall",
            "false matches / 100 strangers")
    lines = []
    for r in rows:
        lines.append((r["row"], r["members"], r["photos"], r["stranger_faces"], r["member_photos"], r["listed"],
                      f"{r['precision']:.3f}", f"{r['recall']:.3f}", f"{r['false_per_100']:.2f}"))
    if args.markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for line in lines:
            print("| " + " | ".join(str(v) for v in line) + " |")
    else:
        print(("{:50s}" + "{:>10s}" * (len(head) - 1)).format(*[h[:10] for h in head]))
        for line in lines:
            print(("{:50s}" + "{:>10}" * (len(head) - 1)).format(*line))
    print("\nIf the album threshold were higher (listings below it dropped): precision / recall")
    print(f"{'row':50s}" + "".join(f"{t:>16g}" for t in SWEEP))
    for r in rows:
        cells = []
        for t in SWEEP:
            kept = [ok for sim, ok in r["listings"] if sim >= t]
            precision = sum(kept) / len(kept) if kept else float("nan")
            cells.append(f"{precision:.3f} / {sum(kept) / max(r['member_photos'], 1):.3f}")
        print(f"{r['row']:50s}" + "".join(f"{c:>16s}" for c in cells))
    print("\nSuggestions (\"Is this <member>?\", GET /albums/{id}/suggestions): faces offered, the missed member "
          "photos they recover, the wrong ones")
    print(f"{'row':50s}{'missed':>10s}{'suggested':>12s}{'recovered':>12s}{'wrong':>10s}")
    for r in rows:
        wrong = r["suggested"] - r["suggested_right"]
        print(f"{r['row']:50s}{r['missed']:>10d}{r['suggested']:>12d}{r['suggested_right']:>12d}{wrong:>10d}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    if any(np.isnan(r["precision"]) for r in rows):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
