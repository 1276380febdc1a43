"""Suggestions: "Is this <member>?" for the people and faces that came close to a member without being given to them.

An album gives a face to a member only when the open-set rules of ``photosift.application.matching`` agree, so some
of a member's photos are missed (a side view, a mask, a face the album's evidence did not back). Rather than miss
them silently, a *suggestion* offers them for one tap: yes pins them to the member, no records a rejection.

What is suggested, for each member with a template of the running recogniser:

- a **person** (``photosift.application.grouping``: faces no member matched, grouped) whose faces together (their
  template) score at least :func:`suggestion_floor` against the member, after the open-set rules 2-3 (the margin
  between members and the user's rejections); hidden people are not suggested;
- a **lone face** (in no person, not placed by the user) that does so on its own;
- only faces not too small to compare and sharp enough to group (:func:`offered`), and never for a photo that
  already shows the member.

A candidate is scored against the member as the album shows them: the template of their references, the faces
confirmed as theirs and the faces the album gave them (:func:`in_album`), so a side view or a masked face is compared
with the member's side views and masked faces of this album, not only with a frontal selfie. The floor sits
:data:`SUGGEST_LOG_ODDS` below the album's threshold on the log-odds scale of the calibrated score: about twice the
threshold's false-match rate. Faces at or above the threshold that rules 4-5 kept from the member are suggested too.
Measured by ``eval/members.py`` and ``eval/members_seeds.py``; see the README's "Suggestions".
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from photosift import faces as face_engine
from photosift.application import scoring
from photosift.application.context import Services
from photosift.application.grouping import GroupedFace, sharp_enough
from photosift.application.matching import Templates, album_threshold, load_templates, open_set_scores
from photosift.catalog import albums, faces, members, people, records
from photosift.catalog.db import Session
from photosift.catalog.models import bytes_to_vector

SUGGEST_LOG_ODDS = 0.19
"""How far below the album's threshold (log-odds of the 0-100 score) a suggestion may score: ``log(2)`` in the
calibration's false-match rate (a factor of 20 per 0.81), i.e. about twice the threshold's false matches."""


@dataclass(frozen=True)
class Candidate:
    """A face that no member was given: its person (None for a lone face) and embedding."""

    face_id: str
    photo_id: str
    person_id: str | None
    vector: np.ndarray


@dataclass(frozen=True)
class Suggestion:
    """``member_id`` may be the person ``person_id`` (or the lone face): ``face_ids`` in ``photo_ids``."""

    member_id: str
    person_id: str | None
    face_ids: tuple[str, ...]
    photo_ids: tuple[str, ...]
    similarity: float


@dataclass(frozen=True, slots=True)
class MemberName:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class Shown:
    """A suggestion as the service shows it: the member, the person (None for a lone face) and the faces."""

    member: MemberName
    person: records.Person | None
    faces: list[records.PersonFace]
    photos: int
    similarity: float


@dataclass(frozen=True, slots=True)
class ShownList:
    items: list[Shown]


def suggestion_floor(threshold: float) -> float:
    """The least score (0-100) of a suggestion in an album deciding at ``threshold``."""
    t = min(max(threshold, 1e-3), 100.0 - 1e-3)
    log_odds = math.log(t / (100.0 - t)) - SUGGEST_LOG_ODDS
    return 100.0 / (1.0 + math.exp(-log_odds))


def in_album(templates: Templates, matched: dict[str, list[np.ndarray]]) -> Templates:
    """``templates`` whose vectors stand for each member as the album shows them: the template of their references,
    confirmed faces and ``matched`` faces (member id -> the faces the album gave them)."""
    if templates.vectors is None:
        return templates
    vectors = np.stack([scoring.template([*templates.evidence[col], *matched.get(member_id, [])])
                        for col, member_id in enumerate(templates.member_ids)])
    return replace(templates, vectors=vectors)


def suggest(candidates: Sequence[Candidate], templates: Templates, listed: dict[str, set[str]]) -> list[Suggestion]:
    """The suggestions for ``candidates`` (see the module docstring), most similar first; ``templates`` as
    :func:`in_album` makes them; ``listed`` gives the members each photo already shows."""
    if templates.vectors is None or not candidates:
        return []
    units: dict[str, list[Candidate]] = defaultdict(list)
    for candidate in candidates:
        units[candidate.person_id or f"face:{candidate.face_id}"].append(candidate)
    groups = list(units.values())
    vectors = np.stack([scoring.template([c.vector for c in group]) for group in groups])
    scores = open_set_scores(scoring.similarity(vectors, templates.vectors), vectors, templates)
    floor = suggestion_floor(templates.threshold)
    found = []
    for group, row in zip(groups, scores, strict=True):
        col = int(np.argmax(row))
        member_id = templates.member_ids[col]
        faces = [c for c in group if member_id not in listed.get(c.photo_id, ())]
        if row[col] >= floor and faces:
            found.append(Suggestion(member_id, group[0].person_id, tuple(c.face_id for c in faces),
                                    tuple(sorted({c.photo_id for c in faces})), round(float(row[col]), 1)))
    found.sort(key=lambda s: -s.similarity)
    return found


def offered(face: GroupedFace) -> bool:
    """Whether a face no member was given may be suggested: a face of the running recogniser, not too small to
    compare and sharp enough to group (``grouping.sharp_enough``). Small faces are offered: a suggestion compares
    them with the member, not with each other."""
    return face.recognizer == face_engine.EMBEDDER and not face.too_small and sharp_enough(face)


def album_suggestions(session: Session, album_id: str) -> list[Suggestion]:
    """Every suggestion of the album as it is now."""
    templates = load_templates(session, albums.require(session, album_id=album_id))
    if templates.vectors is None:
        return []
    hidden = {p.id for p in people.listed(session, album_id=album_id, include_hidden=True) if p.hidden}
    candidates, listed, matched = [], defaultdict(set), defaultdict(list)
    for face in faces.of_album(session, album_id=album_id):
        if face.member_id is not None:
            listed[face.photo_id].add(face.member_id)
            if face.recognizer == face_engine.EMBEDDER and not face.person_pinned:
                matched[face.member_id].append(bytes_to_vector(face.embedding))
        elif offered(face) and face.person_id not in hidden and not (face.person_pinned and face.person_id is None):
            candidates.append(Candidate(face.id, face.photo_id, face.person_id, bytes_to_vector(face.embedding)))
    return suggest(candidates, in_album(templates, matched), listed)


def counts(session: Session, album_id: str, *, before_rematch: bool = False) -> dict[str, int]:
    """Member id -> the number of photos its suggestions hold. ``before_rematch`` (a member's references just
    changed, the album's re-match is queued): leave out what scores at or above the album's threshold, which the
    re-match decides."""
    threshold = album_threshold(albums.require(session, album_id=album_id))
    out: dict[str, int] = defaultdict(int)
    for suggestion in album_suggestions(session, album_id):
        if not (before_rematch and suggestion.similarity >= threshold):
            out[suggestion.member_id] += len(suggestion.photo_ids)
    return out


def list_suggestions(svc: Services, album_id: str, *, member_id: str | None = None,
                     person_id: str | None = None) -> ShownList:
    """The album's suggestions, most similar first, optionally of one member or one person."""
    from photosift.application.people import face_item, person_view

    with svc.catalog.read() as session:
        found = [s for s in album_suggestions(session, album_id)
                 if (member_id is None or s.member_id == member_id) and (person_id is None or s.person_id == person_id)]
        names = members.names(session, album_id=album_id)
        shown = {f.id: f for f in faces.stored(session, face_ids=[face_id for s in found for face_id in s.face_ids])}
        wanted = {s.person_id for s in found if s.person_id}
        groups = {p.id: p for p in people.listed(session, album_id=album_id, include_hidden=True) if p.id in wanted}
        person_faces = faces.of_people(session, person_ids=list(groups))
        return ShownList([Shown(
            member=MemberName(s.member_id, names[s.member_id]),
            person=person_view(groups[s.person_id], person_faces[s.person_id]) if s.person_id else None,
            faces=[face_item(shown[i]) for i in s.face_ids], photos=len(s.photo_ids), similarity=s.similarity)
            for s in found])


__all__ = ["SUGGEST_LOG_ODDS", "Candidate", "MemberName", "Shown", "ShownList", "Suggestion", "album_suggestions",
           "counts", "in_album", "list_suggestions", "suggest", "suggestion_floor"]
