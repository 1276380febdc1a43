"""Matching an album's faces to its members: open-set decisions, at most one face per member per photo.

In an album almost every face is NOT the member being looked for, so a face is given to a member only when

1. its similarity to the member's template reaches the album's threshold (default :data:`ALBUM_THRESHOLD`, 90: a
   false-match rate of about 1e-3 per comparison, where the pair threshold 80 of ``compare`` and Rekognition is
   about 1e-2; an album compares every face with every member, so it needs the stricter bar),
2. it is clearly closer to that member than to any other member above the threshold (a margin of
   :data:`MARGIN_LOG_ODDS` on the score's log-odds; otherwise it is ambiguous and stays unknown), and
3. it looks more like the member than like every face the user said is NOT that member ("not <member>"
   corrections, ``photosift.catalog.faces.reject``): a rejected face, and doubtful faces very like it
   (below :data:`CONFIDENT`), stop matching. A face at :data:`CONFIDENT` or more is the member itself far more often
   than a stranger who resembles a rejected one (``photosift.faces.same_face``: unless it is the rejected face
   itself), so one mistaken "Not" on a correct face takes the member out of fewer other photos
   (``eval/members_seeds.py``, "Not <member>"),
4. and, when it is below :data:`CONFIDENT`, the album's own photos of the member agree: the faces of other photos
   matched to the member at :data:`CONFIDENT` or more (about 4e-5 false matches per comparison: they are the member)
   show how the member looks in this album, and the face must also reach the threshold against the template of the
   references together with those faces. A stranger who happens to resemble a selfie rarely resembles the member's
   other photos as well. A member with no confident face in other photos yet is decided on the references alone.
   Faces smaller than ``grouping.GROUP_MIN_SIZE`` are never evidence (``grouping.big_enough``): a small face
   matched at ``CONFIDENT`` is the member, but a poor likeness of them;
5. and, when it is below :data:`CONFIDENT`, the face's own person agrees: when the album's other photos hold at
   least :data:`RECURRING` faces at :data:`CONFIDENT` or more to this face (the same person, seen again), one of them
   must reach the threshold for the member too. A stranger who recurs through an album (a friend of a friend in many
   photos) and resembles a member in one of them is recognised by the other photos. A masked face is exempt: its
   look-alikes are masked too, and masked faces score low against an unmasked selfie. The look-alikes come from
   neighbour queries of the album's face index (:class:`IndexedLookAlikes`: they are among a face's nearest faces),
   so rule 5 applies while a photo is analysed (from one neighbour query; when that cannot tell, the re-match the
   photo queues decides) as well as at the album's re-match; without an index (``face_index.ExactScan``, the
   benchmarks' baseline) the re-match scores every face of the album (:class:`AlbumFaces`) and an analysis leaves
   the rule to it.

A member's template is the mean of its reference faces and of the faces the user confirmed as theirs. Then faces
and members are paired greedily from the highest similarity down, each at most once per photo. The similarity
reported is the one against that template.

Only vectors of the running recogniser (``photosift.faces.EMBEDDER``) are compared: references, confirmed faces,
rejections and album evidence of another recogniser are left out until the album is re-embedded
(``photosift.application.reembedding``), and faces of another recogniser keep the member they had.

Confident faces arrive as photos are analysed, so a photo's decision may change when later photos bring evidence:
the analysis of a photo that matches a member (before rule 5: its face may be another face's look-alike) queues a
re-match of the album (``MatchJob``: jobs run in order, so it runs after the photos already queued, once per batch),
which recomputes the evidence from every confident face and applies every rule again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Protocol

import numpy as np

from photosift import faces as face_engine
from photosift.application import nearby, scoring
from photosift.application.grouping import GROUP_MIN_SIZE, Nearest
from photosift.catalog import faces as faces_repo
from photosift.catalog import members as members_repo
from photosift.catalog.db import Session

ALBUM_THRESHOLD = face_engine.DEFAULT_THRESHOLD
"""The default similarity at which an album gives a face to a member (an album's own ``threshold`` overrides it)."""

CONFIDENT = face_engine.CERTAIN_THRESHOLD
"""A face matched to a member at this similarity or more is evidence of how the member looks in the album (rule 4)."""

CONFIDENT_SAMPLE = 256
"""A photo's analysis takes each member's newest confident faces, at most this many, as the album's evidence (rule
4): their template barely moves past a few dozen faces, and reading them all would grow with the album. A re-match of
the whole album recomputes the evidence from every face."""

RECURRING = 2
"""Rule 5 applies to a face with at least this many near-certain look-alikes (>= ``CONFIDENT``) in other photos."""

MARGIN_LOG_ODDS = 1.0
"""A face above the threshold for two members goes to the better one only if its score's log-odds lead by this much
(e.g. 96 against 90); a face that fits two members about equally is unknown."""


class Thresholded(Protocol):
    """An album as matching reads it (a ``records.Album``): its id and own threshold (None: the default)."""

    @property
    def id(self) -> str: ...

    @property
    def threshold(self) -> float | None: ...


class LookAlikes(Protocol):
    """Where rule 5 finds a face's look-alikes: the faces of other photos at ``CONFIDENT`` or more to it."""

    def look_alikes(self, vectors: np.ndarray, photo_id: str | None, templates: Templates, wanted: np.ndarray
                    ) -> list[np.ndarray | None]:
        """For each face of ``vectors`` (doubtful faces of photo ``photo_id``), its look-alikes' similarity to each
        member of ``templates`` (look-alikes, members): all of them, or at least ``RECURRING`` of which some reach
        the threshold for every member ``wanted`` marks (faces, members) (more could not change the rule's answer);
        None when they cannot be told."""
        ...


@dataclass(frozen=True)
class AlbumFaces:
    """Every usable face of an album, for rule 5: embeddings, their photos, and their similarity to each member."""

    vectors: np.ndarray  # (faces, d)
    photo_ids: np.ndarray  # (faces,)
    scores: np.ndarray  # (faces, members): similarity to each member's template

    @cached_property
    def prepared(self) -> scoring.Prepared:
        """The faces made ready to score once, for the many photos a re-match compares with them."""
        return scoring.prepare(self.vectors)

    def look_alikes(self, vectors: np.ndarray, photo_id: str | None, templates: Templates, wanted: np.ndarray
                    ) -> list[np.ndarray | None]:
        """Every look-alike, from a scan of the album's faces (``scores`` are against ``templates`` already)."""
        alike = scoring.similarity(vectors, self.prepared) >= CONFIDENT  # (faces, album faces)
        alike[:, self.photo_ids == photo_id] = False  # a photo's own faces are not its look-alikes
        return [self.scores[twins] for twins in alike]


@dataclass(frozen=True)
class IndexedLookAlikes:
    """Rule 5's look-alikes from neighbour queries of the album's face index (``nearby.around``), then scored
    exactly. A face whose look-alikes the index cannot bound within ``most`` neighbours gets them from
    ``whole_album`` (a re-match: read once), or None without it (an analysis: the re-match it queues applies the
    rule; an analysis asks for one neighbour query, so that its cost does not grow with the album)."""

    session: Session
    album_id: str
    nearest: Nearest
    whole_album: Callable[[], AlbumFaces] | None = None
    most: int | None = None  # nearby.MOST

    def look_alikes(self, vectors: np.ndarray, photo_id: str | None, templates: Templates, wanted: np.ndarray
                    ) -> list[np.ndarray | None]:
        out: list[np.ndarray | None] = []
        for vector, cols in zip(vectors, wanted, strict=True):
            def twins_of(found: list[nearby.Neighbour], vector: np.ndarray = vector) -> np.ndarray:
                others = [n.vector for n in found if n.photo_id != photo_id]
                if not others:
                    return np.zeros((0, len(templates.member_ids)), np.float32)
                twins = np.stack(others)[scoring.similarity(vector, np.stack(others))[0] >= CONFIDENT]
                return scoring.similarity(twins, templates.matrix)

            def enough(found: list[nearby.Neighbour], cols: np.ndarray = cols) -> bool:
                twins = twins_of(found)
                return len(twins) >= RECURRING and bool((twins.max(axis=0)[cols] >= templates.threshold).all())

            found = nearby.around(self.session, self.album_id, self.nearest, vector, CONFIDENT, enough=enough,
                                  most=self.most)
            out.append(None if found is None else twins_of(found))
        unknown = [row for row, twins in enumerate(out) if twins is None]
        if unknown and self.whole_album is not None:
            scanned = self.whole_album().look_alikes(vectors[unknown], photo_id, templates, wanted[unknown])
            for row, twins in zip(unknown, scanned, strict=True):
                out[row] = twins
        return out


@dataclass(frozen=True)
class Templates:
    """The members of an album that have a template, the album's threshold (0-100), the users' rejections, and the
    album's evidence (rule 4 of the module docstring)."""

    member_ids: list[str]
    vectors: np.ndarray | None  # (members, d) or None when no member has references
    threshold: float
    rejected: dict[int, np.ndarray] = field(default_factory=dict)  # member column -> (k, d) rejected faces
    evidence: dict[int, np.ndarray] = field(default_factory=dict)  # member column -> (k, d) references + confirmed
    confident: dict[int, list[tuple[str, np.ndarray]]] = field(default_factory=dict)  # column -> (photo id, face)
    album: LookAlikes | None = None  # where rule 5 finds look-alikes; None: rule 5 does not apply

    @cached_property
    def album_templates(self) -> dict[int, np.ndarray]:
        """Per member column with confident faces: the template of its evidence and all of them (rule 4), made once
        for every photo that holds none of them."""
        return {col: scoring.template([*self.evidence[col], *(vector for _, vector in faces)])
                for col, faces in self.confident.items()}

    @property
    def matrix(self) -> np.ndarray:
        """``vectors``, where a caller scores against the templates (so some member has one)."""
        assert self.vectors is not None, "no member has a template"
        return self.vectors

    @cached_property
    def prepared(self) -> scoring.Prepared:
        """The members' templates made ready to score once, for the many photos a re-match scores."""
        return scoring.prepare(self.matrix)

    @cached_property
    def confident_photos(self) -> dict[int, set[str]]:
        """Per member column: the photos that hold its confident faces (a re-match asks for every photo)."""
        return {col: {owner for owner, _ in faces} for col, faces in self.confident.items()}


def load_templates(session: Session, album: Thresholded, *,
                   doubtful_for: Sequence[np.ndarray] = ()) -> Templates:
    """Each member's template: the mean of its reference faces and of the faces the user confirmed as theirs
    ("this is <member>": pinned), so corrections become evidence for later photos. For the members some face of
    ``doubtful_for`` (a photo's faces about to be matched) scores doubtfully against (between the threshold and
    ``CONFIDENT``), the album's evidence (rule 4) is loaded too: their newest faces stored with a similarity of
    ``CONFIDENT`` or more (at most ``CONFIDENT_SAMPLE``). A re-match of the whole album recomputes the evidence
    instead (``with_album_evidence``). Vectors of another recogniser than the running one are left out (see the
    module docstring)."""
    current = face_engine.EMBEDDER
    evidence = members_repo.reference_vectors(session, album_id=album.id, recognizer=current)
    rejected: dict[str, list[np.ndarray]] = {}
    if evidence:
        for placed_on, vector in faces_repo.confirmed_vectors(session, album_id=album.id, recognizer=current):
            if placed_on in evidence:
                evidence[placed_on].append(vector)
        rejected = faces_repo.rejected_vectors(session, album_id=album.id, recognizer=current)
    templates = templates_from(evidence, album_threshold(album), rejected)
    if not len(doubtful_for) or templates.vectors is None:
        return templates
    scores = scoring.similarity(np.stack(list(doubtful_for)), templates.vectors)
    doubtful = [templates.member_ids[c] for c in np.flatnonzero(
        ((scores >= templates.threshold) & (scores < CONFIDENT)).any(axis=0))]
    if not doubtful:
        return templates
    column = {m: i for i, m in enumerate(templates.member_ids)}
    confident: dict[int, list[tuple[str, np.ndarray]]] = defaultdict(list)
    newest = faces_repo.confident_vectors(session, album_id=album.id, member_ids=doubtful, recognizer=current,
                                          least=CONFIDENT, smallest=GROUP_MIN_SIZE, newest=CONFIDENT_SAMPLE)
    for matched_to, photo_id, vector in newest:
        confident[column[matched_to]].append((photo_id, vector))
    return replace(templates, confident=dict(confident))


def rebuild_template(session: Session, member_id: str) -> None:
    """Set the member's template to the template of its references of the running recogniser. A member whose
    references are all of another recogniser keeps its template until they are re-embedded; a member without
    references has none."""
    stored = members_repo.member_vectors(session, member_id=member_id)
    current = [vector for recognizer, vector in stored if recognizer == face_engine.EMBEDDER]
    if current or not stored:
        template = scoring.template(current) if current else None
        members_repo.set_template(session, member_id=member_id, template=template, recognizer=face_engine.EMBEDDER)


def templates_from(evidence: dict[str, list[np.ndarray]], threshold: float,
                   rejected: dict[str, list[np.ndarray]] | None = None) -> Templates:
    """Templates of the members in ``evidence`` (member id -> reference and confirmed faces), with the faces users
    rejected for them (member id -> faces), and no album evidence yet."""
    member_ids = sorted(m for m, faces in evidence.items() if faces)
    if not member_ids:
        return Templates([], None, threshold)
    column = {m: i for i, m in enumerate(member_ids)}
    vectors = np.stack([scoring.template(evidence[m]) for m in member_ids])
    return Templates(member_ids, vectors, threshold,
                     {column[m]: np.stack(v) for m, v in (rejected or {}).items() if m in column and v},
                     {column[m]: np.stack(evidence[m]) for m in member_ids})


def with_album_evidence(templates: Templates, photo_ids: list[str], embeddings: list[np.ndarray],
                        usable: list[bool], look_alikes: LookAlikes | None = None,
                        evidence: list[bool] | None = None) -> Templates:
    """``templates`` with its confident faces recomputed from the album's faces (``photo_ids[i]`` holds face ``i``;
    those ``usable`` (not too small) and ``evidence`` (large enough to be a member's evidence,
    ``grouping.big_enough``; None: every usable face) that score ``CONFIDENT`` at least), as the current templates
    score them: for a re-match. Rule 5 asks ``look_alikes`` (the album's face index); without it the usable faces
    given are the whole album and answer it."""
    rows = [i for i, ok in enumerate(usable) if ok]
    if templates.vectors is None or not rows:
        return replace(templates, confident={}, album=look_alikes)
    vectors = np.stack([embeddings[i] for i in rows])
    similarity = scoring.similarity(vectors, templates.vectors)
    scores = open_set_scores(similarity, vectors, templates)
    confident: dict[int, list[tuple[str, np.ndarray]]] = defaultdict(list)
    for row, col in zip(*np.nonzero(scores >= CONFIDENT), strict=True):
        if evidence is None or evidence[rows[row]]:
            confident[int(col)].append((photo_ids[rows[row]], vectors[row]))
    album = look_alikes or AlbumFaces(vectors, np.array([photo_ids[i] for i in rows]), similarity)
    return replace(templates, confident=dict(confident), album=album)


def album_faces(session: Session, album_id: str, templates: Templates) -> AlbumFaces:
    """Every face of the album that rule 5 compares (of the running recogniser, not too small, not placed by hand),
    scored against ``templates``: its look-alikes where the album's index cannot bound them."""
    rows = faces_repo.unpinned_vectors(session, album_id=album_id, recognizer=face_engine.EMBEDDER)
    vectors = (np.stack([vector for _, vector in rows]) if rows
               else np.zeros((0, face_engine.EMBEDDING_DIM), np.float32))
    return AlbumFaces(vectors, np.array([photo_id for photo_id, _ in rows]),
                      scoring.similarity(vectors, templates.matrix))


def album_threshold(album: Thresholded) -> float:
    """The similarity at which ``album`` gives a face to a member."""
    return album.threshold if album.threshold is not None else ALBUM_THRESHOLD


def open_set_scores(scores: np.ndarray, embeddings: np.ndarray, templates: Templates) -> np.ndarray:
    """``scores`` (faces, members) with every pair the open-set rules exclude set to 0 (see the module docstring)."""
    out = np.array(scores, dtype=np.float64)
    for col, rejected in templates.rejected.items():
        closest = scoring.similarity(embeddings, rejected).max(axis=1)
        doubtful = (out[:, col] < CONFIDENT) | scoring.same_face(embeddings, rejected).any(axis=1)
        out[(closest >= out[:, col]) & doubtful, col] = 0.0
    if out.shape[1] > 1:
        top2 = np.sort(out, axis=1)[:, -2:]  # (second best, best) of each face
        lead = np.diff(_log_odds(top2), axis=1)[:, 0]
        out[(top2[:, 0] >= templates.threshold) & (lead < MARGIN_LOG_ODDS)] = 0.0
    return out


def corroborate(scores: np.ndarray, embeddings: np.ndarray, templates: Templates, photo_id: str | None
                ) -> np.ndarray:
    """``scores`` (faces of photo ``photo_id``, members) with every pair that rule 4 of the module docstring excludes
    set to 0: between the threshold and ``CONFIDENT``, the face must also reach the threshold against the member's
    references together with the member's confident faces of other photos."""
    out = np.array(scores, dtype=np.float64)
    for col, faces in templates.confident.items():
        doubtful = (out[:, col] >= templates.threshold) & (out[:, col] < CONFIDENT)
        if not doubtful.any():
            continue
        if photo_id in templates.confident_photos[col]:  # its own faces are left out of its evidence
            others = [vector for owner, vector in faces if owner != photo_id]
            if not others:
                continue
            album_template = scoring.template([*templates.evidence[col], *others])
        else:
            album_template = templates.album_templates[col]
        agree = scoring.similarity(embeddings[doubtful], album_template[None, :])[:, 0]
        out[np.flatnonzero(doubtful)[agree < templates.threshold], col] = 0.0
    return out


def recurring_disagree(scores: np.ndarray, embeddings: np.ndarray, templates: Templates, photo_id: str | None
                       ) -> np.ndarray:
    """``scores`` (faces of photo ``photo_id``, members) with every pair that rule 5 of the module docstring excludes
    set to 0: a doubtful face whose look-alikes in other photos (at least ``RECURRING``) all stay below the
    threshold for the member. Unchanged where no look-alikes can be told (``Templates.album``)."""
    out = np.array(scores, dtype=np.float64)
    doubtful = (out >= templates.threshold) & (out < CONFIDENT)
    if templates.album is None or not doubtful.any():
        return out
    doubtful[scoring.mask_probability(embeddings) >= 0.5] = False  # masked look-alikes score low: no evidence
    rows = np.flatnonzero(doubtful.any(axis=1))
    if not len(rows):
        return out
    found = templates.album.look_alikes(embeddings[rows], photo_id, templates, doubtful[rows])
    for row, twins in zip(rows, found, strict=True):
        if twins is None or len(twins) < RECURRING:
            continue
        twin_best = twins.max(axis=0)  # each member's best score among the look-alikes
        out[row, doubtful[row] & (twin_best < templates.threshold)] = 0.0
    return out


def match_faces(embeddings: list[np.ndarray], too_small: list[bool], templates: Templates,
                photo_id: str | None = None) -> list[tuple[str, float] | None]:
    """For each face of ONE photo (``photo_id``: its confident faces are not evidence for themselves),
    ``(member id, similarity)`` or None (unknown).

    Faces the engine flags ``too_small`` are never matched (their embeddings are unreliable).
    """
    result: list[tuple[str, float] | None] = [None] * len(embeddings)
    usable = [i for i, small in enumerate(too_small) if not small]
    if templates.vectors is None or not usable:
        return result
    vectors = np.stack([embeddings[i] for i in usable])
    scores = open_set_scores(scoring.similarity(vectors, templates.prepared), vectors, templates)
    scores = corroborate(scores, vectors, templates, photo_id)
    scores = recurring_disagree(scores, vectors, templates, photo_id)
    for row, (col, sim) in assign_unique(scores, templates.threshold).items():
        result[usable[row]] = (templates.member_ids[col], round(float(sim), 2))
    return result


def assign_unique(scores: np.ndarray, threshold: float) -> dict[int, tuple[int, float]]:
    """One-to-one matching of rows (faces of one photo) to columns (members) from a similarity matrix.

    Pairs are taken greedily from the highest similarity down, each row and each column at most once, only pairs
    with similarity >= ``threshold``. Returns ``{row: (column, similarity)}``; rows left out are unknown faces.
    """
    scores = np.asarray(scores, dtype=np.float64)
    if scores.size == 0:
        return {}
    rows, cols = np.nonzero(scores >= threshold)
    pairs = sorted(zip(rows.tolist(), cols.tolist(), strict=True), key=lambda rc: -scores[rc])
    taken_rows: dict[int, tuple[int, float]] = {}
    taken_cols: set[int] = set()
    for r, c in pairs:
        if r in taken_rows or c in taken_cols:
            continue
        taken_rows[r] = (c, float(scores[r, c]))
        taken_cols.add(c)
    return taken_rows


def _log_odds(similarity: np.ndarray) -> np.ndarray:
    s = np.clip(similarity, 1e-6, 100.0 - 1e-6)
    log_odds: np.ndarray = np.log(s) - np.log(100.0 - s)
    return log_odds
