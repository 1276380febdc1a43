"""People grouping: faces that match no member are grouped into people, incrementally, keeping user corrections.

Pure computation on embeddings (no I/O, no database): the caller keeps the state (which faces form which person,
and the user's corrections) and calls :func:`group_faces` again whenever faces arrive or a correction is made.

Method: constrained agglomerative clustering with **average linkage** on the log-odds of the calibrated similarity
(0-100 from ``photosift.faces.similarity``; :func:`log_odds`). Two groups merge when the mean log-odds over all
their face pairs reaches that of ``link_threshold``, a much stricter bar than the pairwise match threshold (see
:data:`LINK_THRESHOLD`). Averaging log-odds (evidence) rather than the similarity itself matters: the similarity
saturates near 100, so its mean cannot tell "certainly the same" from "probably the same" and lets look-alikes in
(on ``eval/people.py``, the mean similarity reached pairwise precision 0.82 on the trips at its best setting, and
at most 0.84 over all albums at any threshold; the mean log-odds reaches 0.997).
Average linkage does not chain: a face joins a group because it resembles the group as a whole, not one look-alike.
A group becomes a new person only once it has ``min_faces`` faces (density: a lone face stays "unknown" until a
second sighting backs it); faces that fit nobody stay unknown (``None``) and are reconsidered on every call.

Rules (hard constraints, never broken by automatic decisions):
- existing people are kept as they are: their ids survive, their faces stay, new faces may join them, and two
  existing people are never merged automatically (merging is a user decision; see :func:`suggest_merges`);
- two faces of one photo never end up in the same person by an automatic decision, nor faces the user split apart
  (``Corrections.cannot_link``); faces pinned to unknown stay unknown; ``usable=False`` faces (too small or
  unreliable) never seed a group nor count in any linkage; of them, ``may_join`` faces (blurred ones) join the
  group whose usable faces they reach the link threshold against on average, after the clustering;
- ``Corrections.must_link`` groups are kept together (a group of two or more faces always forms or joins a person).

Exactness and cost: average linkage >= T needs at least one face pair >= T, so the work splits into the connected
components of the graph "similarity >= T"; each component is clustered on its own. Similarities are computed for
free faces (not yet in a person) against all usable faces, in chunks: O(free x all x d) per call.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from photosift.errors import InvalidInput

FaceId = str  # the catalog's ids
PhotoId = str
PersonId = str
SimilarityFn = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""``(n, d), (m, d) -> (n, m)`` similarity 0-100 (the service passes ``photosift.application.scoring.similarity``)."""

LINK_THRESHOLD: float = 88.0
"""Default average-linkage threshold on the 0-100 similarity scale (linkage averages log-odds, see :func:`log_odds`).

The calibrated similarity is an affine function of the fitted log-likelihood ratio of "same person" on the log-odds
scale (``photosift.faces.calibration``), so averaging log-odds averages evidence. Grouping decides "is this face one
of the album's people" where a random pair of faces is the same person with prior odds of roughly ``1 : k`` for
``k`` people in the album, so the average evidence must be strong: 88 lies between 80 (a false-match rate of about
1e-3 per comparison, README) and 90 (1e-4). On ``eval/people.py`` (sweep over all albums, ``w600k_mbf``) every
threshold from 85 to 97 keeps pairwise precision at 1.000 with none of the 48 one-off distractors grouped; recall is
0.998 at 85, 0.989 at 88, 0.971 at 92 (the FaceNet + dlib release's threshold, on its own scale) and 0.883 at 97.
"""

DEFAULT_MIN_FACES: int = 2
"""Faces a new group needs before it is shown as a person."""


@dataclass(frozen=True)
class FaceRecord:
    """One face to group: ``embedding`` is the engine's vector; ``usable=False`` marks faces too small/unreliable;
    ``may_join``: an unusable face that may still join a group through that group's usable faces alone (a blurred
    face: its scores against sharp faces keep their meaning, against other blurred faces they do not)."""

    face_id: FaceId
    photo_id: PhotoId
    embedding: np.ndarray = field(repr=False)
    usable: bool = True
    may_join: bool = False


@dataclass(frozen=True)
class Corrections:
    """What the user said, as constraints that re-grouping never undoes.

    ``must_link``: groups of faces that are one person. ``cannot_link``: face pairs that are different people.
    ``unknown``: faces pinned to "unknown" (never assigned automatically).
    """

    must_link: Sequence[Collection[FaceId]] = ()
    cannot_link: Collection[tuple[FaceId, FaceId]] = ()
    unknown: Collection[FaceId] = ()


@dataclass(frozen=True)
class GroupingParams:
    """``link_threshold``: similarity (0-100) whose log-odds the mean log-odds between two groups must reach for
    them to merge; ``min_faces``: size of a new person."""

    link_threshold: float = LINK_THRESHOLD
    min_faces: int = DEFAULT_MIN_FACES
    chunk: int = 1024  # rows of the similarity matrix computed at once (memory: chunk x faces floats)

    def __post_init__(self) -> None:
        if not 0.0 <= self.link_threshold <= 100.0:
            raise InvalidInput(f"link_threshold must be within 0-100, got {self.link_threshold}")
        if self.min_faces < 1:
            raise InvalidInput(f"min_faces must be at least 1, got {self.min_faces}")
        if self.chunk < 1:
            raise InvalidInput(f"chunk must be at least 1, got {self.chunk}")


@dataclass(frozen=True)
class Grouping:
    """Result of :func:`group_faces`.

    ``people``: every existing person with all its faces (old and newly joined). ``joined``: only the faces that
    joined each existing person in this call. ``new_people``: face groups that reached ``min_faces`` (the caller
    creates a person for each). ``unknown``: every other face.
    """

    people: dict[PersonId, frozenset[FaceId]]
    joined: dict[PersonId, frozenset[FaceId]]
    new_people: list[frozenset[FaceId]]
    unknown: frozenset[FaceId]


MAX_LOG_ODDS: float = 4.6
"""Log-odds are capped at +-4.6 (similarity 99.0 / 1.0, far beyond any decision): one extreme pair must not outvote
the others."""


def log_odds(similarity: np.ndarray) -> np.ndarray:
    """``log(s / (100 - s))`` of similarities 0-100, capped at :data:`MAX_LOG_ODDS` (the scale linkage averages)."""
    s = np.clip(np.asarray(similarity, dtype=np.float64), 0.0, 100.0)
    with np.errstate(divide="ignore"):
        odds = np.log(s) - np.log(100.0 - s)
    return np.clip(odds, -MAX_LOG_ODDS, MAX_LOG_ODDS)


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, x: int) -> int:
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


@dataclass
class _Units:
    """Starting groups: existing people, then must-link groups and single free faces (indices into ``faces``)."""

    members: list[list[int]]  # face indices of each unit (all faces, usable or not)
    person: list[PersonId | None]  # the existing person a unit is, or None for a free unit
    forced: list[bool]  # a must-link group of two or more faces: becomes a person whatever its size
    unit_of: dict[int, int]  # face index -> unit index (faces pinned unknown / unusable singletons have none)


def _check(faces: Sequence[FaceRecord], people: Mapping[PersonId, Collection[FaceId]],
           corrections: Corrections) -> dict[FaceId, int]:
    index: dict[FaceId, int] = {}
    for i, face in enumerate(faces):
        if face.face_id in index:
            raise InvalidInput(f"face {face.face_id!r} is given twice")
        index[face.face_id] = i

    def known(fid: FaceId, where: str) -> int:
        if fid not in index:
            raise InvalidInput(f"{where} names face {fid!r}, which is not among the faces given")
        return index[fid]

    owner: dict[FaceId, PersonId] = {}
    for pid, members in people.items():
        for fid in members:
            known(fid, f"person {pid!r}")
            if fid in owner:
                raise InvalidInput(f"face {fid!r} belongs to both person {owner[fid]!r} and person {pid!r}")
            owner[fid] = pid
    for fid in corrections.unknown:
        known(fid, "an unknown pin")
        if fid in owner:
            raise InvalidInput(f"face {fid!r} is pinned to unknown but belongs to person {owner[fid]!r}")
    pinned = set(corrections.unknown)
    for group in corrections.must_link:
        for fid in group:
            known(fid, "a must-link group")
            if fid in pinned:
                raise InvalidInput(f"face {fid!r} is pinned to unknown but is in a must-link group")
    for a, b in corrections.cannot_link:
        known(a, "a cannot-link pair")
        known(b, "a cannot-link pair")
    return index


def _build_units(faces: Sequence[FaceRecord], index: Mapping[FaceId, int],
                 people: Mapping[PersonId, Collection[FaceId]], corrections: Corrections) -> _Units:
    n = len(faces)
    uf = _UnionFind(n)
    for members in people.values():
        ids = [index[f] for f in members]
        for i in ids[1:]:
            uf.union(ids[0], i)
    for group in corrections.must_link:
        ids = [index[f] for f in group]
        for i in ids[1:]:
            uf.union(ids[0], i)
    person_of_face = {index[f]: pid for pid, members in people.items() for f in members}
    pinned = {index[f] for f in corrections.unknown}
    in_group = {index[f] for g in corrections.must_link if len(g) >= 2 for f in g}

    roots: dict[int, list[int]] = defaultdict(list)
    for i in range(n):
        if i in pinned:
            continue
        if not faces[i].usable and i not in person_of_face and i not in in_group:
            continue  # an unusable face on its own never takes part
        roots[uf.find(i)].append(i)

    units = _Units([], [], [], {})
    for indices in roots.values():
        owners = {person_of_face[i] for i in indices if i in person_of_face}
        if len(owners) > 1:
            raise InvalidInput(f"a must-link group joins different people {sorted(map(repr, owners))}")
        u = len(units.members)
        units.members.append(indices)
        units.person.append(next(iter(owners)) if owners else None)
        units.forced.append(not owners and any(i in in_group for i in indices))
        for i in indices:
            units.unit_of[i] = u
    return units


def _forbidden_pairs(faces: Sequence[FaceRecord], index: Mapping[FaceId, int], units: _Units,
                     corrections: Corrections) -> set[tuple[int, int]]:
    """Unit pairs that may never merge: faces of one photo, user cannot-links, and any two existing people."""
    forbidden: set[tuple[int, int]] = set()

    def add(u: int, v: int) -> None:
        if u != v:
            forbidden.add((min(u, v), max(u, v)))

    by_photo: dict[PhotoId, set[int]] = defaultdict(set)
    for i, u in units.unit_of.items():
        by_photo[faces[i].photo_id].add(u)
    for us in by_photo.values():
        ordered = sorted(us)
        for k, u in enumerate(ordered):
            for v in ordered[k + 1 :]:
                add(u, v)
    for a, b in corrections.cannot_link:
        ua, ub = units.unit_of.get(index[a]), units.unit_of.get(index[b])
        if ua is None or ub is None:
            continue
        if ua == ub and (units.person[ua] is None or units.forced[ua]):
            raise InvalidInput(f"faces {a!r} and {b!r} are both must-linked and cannot-linked")
        add(ua, ub)
    return forbidden


def _usable_rows(faces: Sequence[FaceRecord], units: _Units) -> tuple[list[int], list[int]]:
    """Faces that count for linkage (usable, in a unit) and their unit, in face order."""
    rows = [i for i in sorted(units.unit_of) if faces[i].usable]
    return rows, [units.unit_of[i] for i in rows]


def _stack(faces: Sequence[FaceRecord], rows: Sequence[int]) -> np.ndarray:
    return np.stack([np.asarray(faces[i].embedding, dtype=np.float32).ravel() for i in rows])


def _components(faces: Sequence[FaceRecord], units: _Units, params: GroupingParams,
                similarity: SimilarityFn) -> list[list[int]]:
    """Unit sets joined by at least one face pair >= threshold (only those can ever merge), with a free unit."""
    rows, row_unit = _usable_rows(faces, units)
    free = [k for k, u in enumerate(row_unit) if units.person[u] is None]
    if not free:
        return []
    vectors = _stack(faces, rows)
    row_unit_arr = np.asarray(row_unit)
    uf = _UnionFind(len(units.members))
    for start in range(0, len(free), params.chunk):
        block = free[start : start + params.chunk]
        sims = np.asarray(similarity(vectors[block], vectors), dtype=np.float64)
        r, c = np.nonzero(sims >= params.link_threshold)
        for a, b in zip(np.asarray(block)[r].tolist(), c.tolist(), strict=True):
            uf.union(row_unit[a], int(row_unit_arr[b]))
    groups: dict[int, list[int]] = defaultdict(list)
    for u in range(len(units.members)):
        groups[uf.find(u)].append(u)
    return [g for g in groups.values() if len(g) > 1 and any(units.person[u] is None for u in g)]


def _cluster_component(faces: Sequence[FaceRecord], units: _Units, comp: list[int],
                       forbidden: set[tuple[int, int]], params: GroupingParams,
                       similarity: SimilarityFn) -> list[list[int]]:
    """Constrained average-linkage clustering of the units ``comp``; returns the merged unit lists."""
    n = len(comp)
    local = {u: k for k, u in enumerate(comp)}
    rows = [i for u in comp for i in units.members[u] if faces[i].usable]
    row_local = np.asarray([local[units.unit_of[i]] for i in rows])
    onehot = np.zeros((len(rows), n))
    onehot[np.arange(len(rows)), row_local] = 1.0
    is_person = np.asarray([units.person[u] is not None for u in comp])
    vectors = _stack(faces, rows)
    free_rows = np.nonzero(~is_person[row_local])[0]
    # sums[a, b] = sum of the log-odds between the usable faces of unit a and of unit b (a or b free)
    sums = np.zeros((n, n))
    for start in range(0, len(free_rows), params.chunk):
        block = free_rows[start : start + params.chunk]
        odds = log_odds(np.asarray(similarity(vectors[block], vectors), dtype=np.float64))
        sums += onehot[block].T @ (odds @ onehot)
    person_idx = np.nonzero(is_person)[0]
    sums[np.ix_(person_idx, np.arange(n))] = sums[:, person_idx].T  # person rows from the free rows (symmetric)
    size = onehot.sum(axis=0)

    blocked = np.eye(n, dtype=bool)
    blocked[np.ix_(is_person, is_person)] = True
    for u, v in forbidden:
        if u in local and v in local:
            blocked[local[u], local[v]] = blocked[local[v], local[u]] = True
    active = np.ones(n, dtype=bool)
    clusters = [[u] for u in comp]

    def linkage(r: int) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            vals = sums[r] / (size[r] * size)
        vals[blocked[r] | ~active | ~np.isfinite(vals)] = -np.inf
        return vals

    best_val = np.full(n, -np.inf)
    best_idx = np.zeros(n, dtype=int)

    def refresh(r: int) -> None:
        vals = linkage(r)
        best_idx[r] = int(np.argmax(vals))
        best_val[r] = vals[best_idx[r]]

    for r in range(n):
        refresh(r)
    bar = float(log_odds(np.asarray(params.link_threshold)))
    while True:
        r = int(np.argmax(best_val))
        if not best_val[r] >= bar:
            break
        i, j = r, int(best_idx[r])
        if is_person[j]:
            i, j = j, i  # the merged group keeps the existing person's slot
        sums[i] += sums[j]
        sums[:, i] = sums[i]
        size[i] += size[j]
        blocked[i] |= blocked[j]
        blocked[:, i] = blocked[i]
        is_person[i] |= is_person[j]
        active[j] = False
        best_val[j] = -np.inf
        clusters[i] += clusters[j]
        clusters[j] = []
        refresh(i)
        row_i = linkage(i)  # linkage is symmetric: row i is every unit's linkage to the merged group
        stale = active & ((best_idx == i) | (best_idx == j))
        stale[i] = False
        for k in np.nonzero(stale)[0].tolist():
            refresh(k)
        better = active & ~stale & (row_i > best_val)
        better[i] = False
        best_val[better] = row_i[better]
        best_idx[better] = i
    return [c for c in clusters if c]


def group_faces(faces: Sequence[FaceRecord], people: Mapping[PersonId, Collection[FaceId]] | None = None,
                corrections: Corrections | None = None, *, similarity: SimilarityFn,
                params: GroupingParams | None = None) -> Grouping:
    """Group ``faces`` into people, keeping ``people`` (existing person id -> its faces) and ``corrections``.

    ``faces`` are all the faces to consider (typically every face of an album that matched no member), including
    those already in ``people``. Deterministic for a given input order. Raises ``InvalidInput`` when the input
    contradicts itself (a face given twice or in two people, a pin or link naming an unknown face, a face both
    pinned unknown and in a person, a must-link group spanning two people, must-link and cannot-link on one pair).
    """
    people = people or {}
    corrections = corrections or Corrections()
    params = params or GroupingParams()
    index = _check(faces, people, corrections)
    units = _build_units(faces, index, people, corrections)
    forbidden = _forbidden_pairs(faces, index, units, corrections)

    clusters: list[list[int]] = []
    in_component: set[int] = set()
    for comp in _components(faces, units, params, similarity):
        clusters += _cluster_component(faces, units, comp, forbidden, params, similarity)
        in_component.update(comp)
    clusters += [[u] for u in range(len(units.members)) if u not in in_component]

    result_people = {pid: set(members) for pid, members in people.items()}
    joined: dict[PersonId, set[FaceId]] = {pid: set() for pid in people}
    new_people: list[frozenset[FaceId]] = []
    placed: set[FaceId] = set()
    for cluster in clusters:
        owner = next((units.person[u] for u in cluster if units.person[u] is not None), None)
        ids = [faces[i].face_id for u in cluster for i in units.members[u]]
        if owner is not None:
            added = [f for f in ids if f not in result_people[owner]]
            result_people[owner].update(added)
            joined[owner].update(added)
        elif len(ids) >= params.min_faces or any(units.forced[u] for u in cluster):
            new_people.append(frozenset(ids))
        else:
            continue
        placed.update(ids)
    settled = placed | set(corrections.unknown)
    joiners = [i for i, f in enumerate(faces) if f.may_join and not f.usable and f.face_id not in settled]
    if joiners:
        owners = list(people)
        groups = [*(result_people[pid] for pid in owners), *new_people]
        for k, joining in _join_through_usable(faces, index, joiners, groups, corrections, params, similarity).items():
            if k < len(owners):
                result_people[owners[k]].update(joining)
                joined[owners[k]].update(joining)
            else:
                new_people[k - len(owners)] |= joining
            placed.update(joining)
    unknown = frozenset(f.face_id for f in faces if f.face_id not in placed)
    return Grouping(
        people={pid: frozenset(m) for pid, m in result_people.items()},
        joined={pid: frozenset(m) for pid, m in joined.items()},
        new_people=new_people,
        unknown=unknown,
    )


def _join_through_usable(faces: Sequence[FaceRecord], index: Mapping[FaceId, int], joiners: Sequence[int],
                         groups: Sequence[Collection[FaceId]], corrections: Corrections, params: GroupingParams,
                         similarity: SimilarityFn) -> dict[int, set[FaceId]]:
    """The faces ``joiners`` (indices) add to ``groups`` (by position): each joins the group whose usable faces it
    reaches the link threshold against on average (mean log-odds), the best such group it may join (none holding a
    face of its photo or cannot-linked with it); the joiners with the strongest evidence go first."""
    rows = [[index[f] for f in g if faces[index[f]].usable] for g in groups]
    targets = [k for k, r in enumerate(rows) if r]
    if not targets:
        return {}
    flat = [i for k in targets for i in rows[k]]
    onehot = np.zeros((len(flat), len(targets)))
    onehot[np.arange(len(flat)), np.repeat(np.arange(len(targets)), [len(rows[k]) for k in targets])] = 1.0
    vectors = _stack(faces, flat)
    means = np.vstack([
        log_odds(np.asarray(similarity(_stack(faces, joiners[start : start + params.chunk]), vectors))) @ onehot
        for start in range(0, len(joiners), params.chunk)
    ]) / onehot.sum(axis=0)
    bar = float(log_odds(np.asarray(params.link_threshold)))
    photos = [{faces[index[f]].photo_id for f in groups[k]} for k in targets]
    members = [set(groups[k]) for k in targets]
    split: dict[FaceId, set[FaceId]] = defaultdict(set)
    for a, b in corrections.cannot_link:
        split[a].add(b)
        split[b].add(a)
    added: dict[int, set[FaceId]] = defaultdict(set)
    for j in np.argsort(-means.max(axis=1), kind="stable").tolist():
        face = faces[joiners[j]]
        for t in np.argsort(-means[j], kind="stable").tolist():
            if means[j, t] < bar:
                break
            if face.photo_id in photos[t] or split[face.face_id] & members[t]:
                continue
            photos[t].add(face.photo_id)
            members[t].add(face.face_id)
            added[targets[t]].add(face.face_id)
            break
    return added


def suggest_merges(faces: Sequence[FaceRecord], people: Mapping[PersonId, Collection[FaceId]],
                   corrections: Corrections | None = None, *, threshold: float,
                   similarity: SimilarityFn) -> list[tuple[PersonId, PersonId, float]]:
    """Pairs of existing people that may be one person: ``(a, b, average similarity)``, most similar first.

    Only pairs with average linkage >= ``threshold``, no shared photo and no user cannot-link between them. For a
    "same person?" prompt; never applied automatically.
    """
    corrections = corrections or Corrections()
    index = _check(faces, people, corrections)
    pids = list(people)
    rows = {p: [index[f] for f in people[p] if faces[index[f]].usable] for p in pids}
    photos = {p: {faces[index[f]].photo_id for f in people[p]} for p in pids}
    owner = {f: p for p in pids for f in people[p]}
    split = {frozenset((owner.get(a), owner.get(b))) for a, b in corrections.cannot_link}
    out: list[tuple[PersonId, PersonId, float]] = []
    vectors = {p: _stack(faces, rows[p]) for p in pids if rows[p]}
    for k, a in enumerate(pids):
        for b in pids[k + 1 :]:
            if a not in vectors or b not in vectors or photos[a] & photos[b] or frozenset((a, b)) in split:
                continue
            score = float(np.mean(similarity(vectors[a], vectors[b])))
            if score >= threshold:
                out.append((a, b, score))
    return sorted(out, key=lambda t: -t[2])


def cover_face(faces: Sequence[FaceRecord], *, similarity: SimilarityFn) -> FaceId:
    """The most typical face of one person (highest mean similarity to its other usable faces): its cover."""
    if not faces:
        raise InvalidInput("cover_face needs at least one face")
    return most_typical_first([f for f in faces if f.usable] or list(faces), similarity=similarity)[0]


def most_typical_first(faces: Sequence[FaceRecord], *, similarity: SimilarityFn) -> list[FaceId]:
    """The ids of ``faces`` of one person, highest mean similarity to the others first (two or fewer: as given)."""
    if len(faces) <= 2:
        return [f.face_id for f in faces]
    vectors = np.stack([np.asarray(f.embedding, dtype=np.float32).ravel() for f in faces])
    sims = np.asarray(similarity(vectors, vectors), dtype=np.float64)
    order = np.argsort(-(sims.sum(axis=1) - np.diag(sims)), kind="stable")
    return [faces[i].face_id for i in order]


def iter_pairs(groups: Iterable[Collection[FaceId]]) -> Iterable[tuple[FaceId, FaceId]]:
    """Every unordered face pair within each group (helper for cannot/must-link bookkeeping and evaluation)."""
    for group in groups:
        ordered = list(group)
        for k, a in enumerate(ordered):
            for b in ordered[k + 1 :]:
                yield a, b


__all__ = [
    "DEFAULT_MIN_FACES",
    "LINK_THRESHOLD",
    "MAX_LOG_ODDS",
    "Corrections",
    "FaceRecord",
    "Grouping",
    "GroupingParams",
    "cover_face",
    "group_faces",
    "iter_pairs",
    "log_odds",
    "most_typical_first",
    "suggest_merges",
]
