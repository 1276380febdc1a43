"""People grouping (photosift.clustering) on synthetic embeddings: clusters of unit vectors, cosine similarity."""

from __future__ import annotations

import numpy as np
import pytest

from photosift.clustering import (
    Corrections,
    FaceRecord,
    GroupingParams,
    cover_face,
    group_faces,
    suggest_merges,
)
from photosift.errors import InvalidInput

DIM = 64
PARAMS = GroupingParams(link_threshold=80.0, min_faces=2)


def cosine_similarity(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """0-100 scale: 100 x cosine, floored at 0 (a stand-in for the calibrated engine similarity)."""
    a = np.atleast_2d(a) / np.linalg.norm(np.atleast_2d(a), axis=1, keepdims=True)
    b = np.atleast_2d(b) / np.linalg.norm(np.atleast_2d(b), axis=1, keepdims=True)
    return np.clip(100.0 * (a @ b.T), 0.0, 100.0)


def unit(v: np.ndarray) -> np.ndarray:
    return (v / np.linalg.norm(v)).astype(np.float32)


def identities(rng: np.random.Generator, n: int) -> list[np.ndarray]:
    """``n`` well separated identity centres (random directions in 64-d are nearly orthogonal)."""
    return [unit(rng.normal(size=DIM)) for _ in range(n)]


def sighting(rng: np.random.Generator, centre: np.ndarray, noise: float = 0.25) -> np.ndarray:
    """A face of the identity at ``centre``: cosine to the centre ~0.97 at the default noise."""
    return unit(centre + noise * rng.normal(size=DIM) / np.sqrt(DIM))


def group(faces, people=None, corrections=None, params=PARAMS):
    return group_faces(faces, people, corrections, params=params, similarity=cosine_similarity)


def test_separates_identities_and_leaves_singletons_unknown() -> None:
    rng = np.random.default_rng(0)
    centres = identities(rng, 5)
    faces, truth = [], {}
    for who, count in enumerate([4, 3, 2, 1, 1]):
        for k in range(count):
            fid = f"p{who}-{k}"
            faces.append(FaceRecord(fid, f"photo-{fid}", sighting(rng, centres[who])))
            truth[fid] = who
    result = group(faces)
    assert result.people == {} and result.joined == {}
    found = sorted(sorted(g) for g in result.new_people)
    expected = sorted(sorted(f for f, w in truth.items() if w == who) for who in range(3))
    assert found == expected
    assert result.unknown == {"p3-0", "p4-0"}


def test_min_faces_holds_back_small_groups() -> None:
    rng = np.random.default_rng(1)
    centre = identities(rng, 1)[0]
    faces = [FaceRecord(f"f{k}", f"ph{k}", sighting(rng, centre)) for k in range(2)]
    strict = GroupingParams(link_threshold=80.0, min_faces=3)
    assert group(faces, params=strict).new_people == []
    faces.append(FaceRecord("f2", "ph2", sighting(rng, centre)))
    assert [sorted(g) for g in group(faces, params=strict).new_people] == [["f0", "f1", "f2"]]


def test_faces_of_one_photo_are_never_grouped_together() -> None:
    rng = np.random.default_rng(2)
    centre = identities(rng, 1)[0]
    same = sighting(rng, centre)
    faces = [FaceRecord("a", "group-photo", same), FaceRecord("b", "group-photo", same.copy())]
    faces += [FaceRecord(f"x{k}", f"solo{k}", sighting(rng, centre)) for k in range(3)]
    result = group(faces)
    for g in result.new_people:
        assert not {"a", "b"} <= g
    placed = set(result.unknown).union(*result.new_people)
    assert placed == {f.face_id for f in faces}


def test_average_linkage_does_not_chain() -> None:
    """A chain of faces whose neighbours look alike but whose ends do not: single linkage would make one person."""
    rng = np.random.default_rng(3)
    a, b = identities(rng, 2)
    steps = np.linspace(0.0, 1.0, 9)
    chain = [unit((1 - t) * a + t * b) for t in steps]
    sims = cosine_similarity(np.stack(chain), np.stack(chain))
    assert all(sims[k, k + 1] >= PARAMS.link_threshold for k in range(len(chain) - 1))  # a single-linkage chain
    assert sims[0, -1] < 10
    faces = [FaceRecord(f"c{k}", f"ph{k}", v) for k, v in enumerate(chain)]
    result = group(faces)
    assert len(result.new_people) >= 2
    assert not any({"c0", "c8"} <= g for g in result.new_people)


def test_existing_person_keeps_its_id_and_faces_and_gains_new_ones() -> None:
    rng = np.random.default_rng(4)
    alice, bob = identities(rng, 2)
    first = [FaceRecord(f"a{k}", f"ph-a{k}", sighting(rng, alice)) for k in range(3)]
    result = group(first)
    assert len(result.new_people) == 1
    people = {"person-1": result.new_people[0]}
    later = first + [FaceRecord("a9", "ph-a9", sighting(rng, alice))]
    later += [FaceRecord(f"b{k}", f"ph-b{k}", sighting(rng, bob)) for k in range(2)]
    again = group(later, people)
    assert again.people["person-1"] == {"a0", "a1", "a2", "a9"}
    assert again.joined["person-1"] == {"a9"}
    assert [sorted(g) for g in again.new_people] == [["b0", "b1"]]


def test_user_corrections_survive_regrouping() -> None:
    rng = np.random.default_rng(5)
    alice = identities(rng, 1)[0]
    faces = [FaceRecord(f"a{k}", f"ph{k}", sighting(rng, alice)) for k in range(5)]
    # the person holds a0-a2; the user moved a3 to unknown and split a look-alike a4 off the person
    people = {"alice": {"a0", "a1", "a2"}}
    corrections = Corrections(unknown={"a3"}, cannot_link=[("a4", f) for f in ("a0", "a1", "a2")])
    result = group(faces, people, corrections)
    assert result.people["alice"] == {"a0", "a1", "a2"}
    assert result.unknown == {"a3", "a4"}
    assert result.new_people == []
    # without the corrections both would join
    assert group(faces, people).people["alice"] == {f"a{k}" for k in range(5)}


def test_existing_people_are_never_merged_automatically_but_are_suggested() -> None:
    rng = np.random.default_rng(6)
    alice = identities(rng, 1)[0]
    faces = [FaceRecord(f"a{k}", f"ph{k}", sighting(rng, alice)) for k in range(5)]
    people = {"p1": {"a0", "a1"}, "p2": {"a2", "a3"}}
    result = group(faces, people)
    assert result.people["p1"] >= {"a0", "a1"} and result.people["p2"] >= {"a2", "a3"}
    assert not result.people["p1"] & result.people["p2"]
    assert result.people["p1"] | result.people["p2"] == {f"a{k}" for k in range(5)}
    merges = suggest_merges(faces, people, threshold=80.0, similarity=cosine_similarity)
    assert [(a, b) for a, b, _ in merges] == [("p1", "p2")]
    split = Corrections(cannot_link=[("a0", "a2")])
    assert suggest_merges(faces, people, split, threshold=80.0, similarity=cosine_similarity) == []


def test_must_link_groups_stay_together_and_join_people() -> None:
    rng = np.random.default_rng(7)
    alice, bob = identities(rng, 2)
    faces = [FaceRecord("a0", "ph0", sighting(rng, alice)), FaceRecord("b0", "ph1", sighting(rng, bob)),
             FaceRecord("a1", "ph2", sighting(rng, alice)), FaceRecord("c0", "ph3", sighting(rng, alice))]
    # the user says b0 and c0 are one person although they look different: kept, whatever the similarity
    result = group(faces, corrections=Corrections(must_link=[{"b0", "c0"}]))
    assert sorted(sorted(g) for g in result.new_people) == [["a0", "a1"], ["b0", "c0"]]
    # a must-link group touching a person joins it
    result = group(faces, {"bob": {"b0"}}, Corrections(must_link=[{"b0", "c0"}]))
    assert result.people["bob"] == {"b0", "c0"}


def test_unusable_faces_never_join_automatically() -> None:
    rng = np.random.default_rng(8)
    alice = identities(rng, 1)[0]
    faces = [FaceRecord(f"a{k}", f"ph{k}", sighting(rng, alice)) for k in range(3)]
    faces.append(FaceRecord("tiny", "ph9", sighting(rng, alice), usable=False))
    result = group(faces)
    assert [sorted(g) for g in result.new_people] == [["a0", "a1", "a2"]]
    assert result.unknown == {"tiny"}
    # but a user may put it into a person, and it stays there
    kept = group(faces, {"alice": {"a0", "tiny"}})
    assert kept.people["alice"] == {"a0", "a1", "a2", "tiny"}


def test_blurred_faces_join_through_usable_faces_and_never_form_a_person() -> None:
    rng = np.random.default_rng(9)
    alice, bob, blur = identities(rng, 3)

    def blurred(centre: np.ndarray) -> np.ndarray:
        """A blurred sighting: still near its identity, and pulled towards what every blurred face shares."""
        return unit(sighting(rng, centre) + 0.5 * blur)

    sharp = [FaceRecord(f"a{k}", f"ph-a{k}", sighting(rng, alice)) for k in range(3)]
    soft = [FaceRecord(f"s{k}", f"ph-s{k}", blurred(alice), usable=False, may_join=True) for k in range(2)]
    # bob is only ever seen blurred: his faces look alike, but blurred faces form no person of their own
    soft += [FaceRecord(f"t{k}", f"ph-t{k}", blurred(bob), usable=False, may_join=True) for k in range(2)]
    soft.append(FaceRecord("same-photo", "ph-a0", blurred(alice), usable=False, may_join=True))
    soft.append(FaceRecord("tiny", "ph-tiny", sighting(rng, alice), usable=False))  # too small: never joins
    assert cosine_similarity(soft[2].embedding, soft[3].embedding)[0, 0] >= PARAMS.link_threshold
    assert all(cosine_similarity(f.embedding, sharp[0].embedding)[0, 0] >= PARAMS.link_threshold for f in soft[:2])
    result = group(sharp + soft)
    assert [sorted(g) for g in result.new_people] == [["a0", "a1", "a2", "s0", "s1"]]
    assert result.unknown == {"t0", "t1", "same-photo", "tiny"}
    # an existing person gains them too, and a face the user split off that person stays out
    again = group(sharp + soft, {"alice": {"a0", "a1", "a2"}}, Corrections(cannot_link=[("s1", "a2")]))
    assert again.joined["alice"] == {"s0"}
    assert again.new_people == []
    # a blurred face that joined counts for no linkage: it keeps its place, and links no new face to the person
    kept = group(sharp + soft, {"alice": {"a0", "a1", "a2", "s0"}})
    assert kept.people["alice"] == {"a0", "a1", "a2", "s0", "s1"}


def test_empty_and_invalid_input() -> None:
    empty = group([])
    assert empty.new_people == [] and empty.unknown == frozenset() and empty.people == {}
    v = unit(np.ones(DIM))
    faces = [FaceRecord("a", "p1", v), FaceRecord("b", "p2", v)]
    with pytest.raises(InvalidInput):
        group(faces + [FaceRecord("a", "p3", v)])
    with pytest.raises(InvalidInput):
        group(faces, {"x": {"a"}, "y": {"a"}})
    with pytest.raises(InvalidInput):
        group(faces, {"x": {"zzz"}})
    with pytest.raises(InvalidInput):
        group(faces, {"x": {"a"}}, Corrections(unknown={"a"}))
    with pytest.raises(InvalidInput):
        group(faces, {"x": {"a"}, "y": {"b"}}, Corrections(must_link=[{"a", "b"}]))
    with pytest.raises(InvalidInput):
        group(faces, corrections=Corrections(must_link=[{"a", "b"}], cannot_link=[("a", "b")]))
    with pytest.raises(InvalidInput):
        GroupingParams(link_threshold=120.0)


def test_incremental_batches_match_one_shot_on_clear_data() -> None:
    rng = np.random.default_rng(9)
    centres = identities(rng, 6)
    faces = [FaceRecord(f"p{w}-{k}", f"ph{w}-{k}", sighting(rng, centres[w])) for w in range(6) for k in range(4)]
    order = rng.permutation(len(faces))
    people: dict[str, frozenset] = {}
    seen: list[FaceRecord] = []
    for start in range(0, len(faces), 5):
        seen += [faces[i] for i in order[start : start + 5]]
        result = group(seen, people)
        for pid, members in result.people.items():
            assert members >= people[pid]  # never loses a face
        people = dict(result.people)
        people.update({f"person-{len(people) + k}": g for k, g in enumerate(result.new_people)})
    one_shot = group(faces)
    assert sorted(map(sorted, people.values())) == sorted(map(sorted, one_shot.new_people))
    assert len(people) == 6


def test_cover_face_is_the_most_typical_face() -> None:
    rng = np.random.default_rng(10)
    alice = identities(rng, 1)[0]
    faces = [FaceRecord("centre", "p0", alice)]
    faces += [FaceRecord(f"a{k}", f"p{k + 1}", sighting(rng, alice, noise=2.0)) for k in range(4)]
    assert cover_face(faces, similarity=cosine_similarity) == "centre"
    with pytest.raises(InvalidInput):
        cover_face([], similarity=cosine_similarity)


def test_linkage_averages_log_odds_not_similarities() -> None:
    """Two near-certain matches outweigh one weak mismatch (mean log-odds 3.2 >= logit(0.95) = 2.9, although the
    mean similarity is only 86.0); one strong mismatch outweighs them (mean log-odds < 2.9)."""
    table = {("x", "p0"): 99.0, ("x", "p1"): 99.0, ("x", "p2"): 60.0,
             ("y", "p0"): 99.0, ("y", "p1"): 99.0, ("y", "p2"): 0.01}
    names = ["x", "y", "p0", "p1", "p2"]

    def lookup(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        rows, cols = [names[int(np.argmax(v))] for v in a], [names[int(np.argmax(v))] for v in b]
        return np.array([[100.0 if r == c else table.get((r, c), table.get((c, r), 99.9)) for c in cols]
                         for r in rows])

    vectors = {n: np.eye(len(names), dtype=np.float32)[k] for k, n in enumerate(names)}
    people = {"P": {"p0", "p1", "p2"}}
    params = GroupingParams(link_threshold=95.0, min_faces=2)
    for probe, joins in (("x", True), ("y", False)):
        faces = [FaceRecord(n, f"photo-{n}", vectors[n]) for n in (probe, "p0", "p1", "p2")]
        result = group_faces(faces, people, params=params, similarity=lookup)
        assert (probe in result.people["P"]) is joins
        assert (probe in result.unknown) is not joins
