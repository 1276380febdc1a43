"""The member albums of ``eval/members.py`` (and ``eval/members_seeds.py``): a stranger is never the member."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "eval"))

import _faces  # noqa: E402
import members  # noqa: E402
import members_seeds  # noqa: E402


def test_the_same_person_under_another_data_sets_name_is_left_out() -> None:
    people = {"lfw:Tiger_Woods": ["a.jpg"], "lfw:Abel_Pacheco": ["b.jpg"], "lfw:Tigerwood": ["c.jpg"]}
    assert members.outside(people, {"Tiger Woods", "mfr2:AdrianDunbar"}) == {
        "lfw:Abel_Pacheco": ["b.jpg"], "lfw:Tigerwood": ["c.jpg"]}
    assert members.name_key("mfr2:AdrianDunbar") == members.name_key("lfw:Adrian_Dunbar") == "adriandunbar"


@pytest.mark.skipif(not members.available(), reason="no evaluation data beside the checkout (../shared/data)")
@pytest.mark.parametrize("scenario", [members.cfp_scenario, members.mfr2_scenario])
def test_no_stranger_is_a_member_of_the_album(scenario) -> None:  # noqa: ANN001 - a scenario builder
    names = members.cfp_names()
    owner = {path: person for person, paths in members._by_identity("lfw").items() for path in paths}
    for seed in range(11, 41):  # CFP's Tiger Woods is a member, and LFW's was drawn as a stranger in 1 seed of 5
        album = scenario(random.Random(seed))
        member_keys = {members.name_key(names.get(m, m)) for m in album.members}
        strangers = {tile.path for photo in album.photos for tile in photo.tiles if tile.identity == members.STRANGER}
        stranger_people = {owner[path] for path in strangers if path in owner}
        assert stranger_people, "the album draws LFW strangers"
        assert not {members.name_key(k) for k in stranger_people} & member_keys, seed


def test_a_degraded_copy_is_the_same_every_run_and_blurred_or_shrunk(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    kinds: set[str] = set()
    for k in range(200):  # the kind is drawn from the path: until every kind came up
        if kinds == {*_faces.BLURS, "small"}:
            break
        path = tmp_path / f"face{k}.jpg"
        cv2.imwrite(str(path), rng.integers(0, 255, (250, 250, 3), dtype=np.uint8))
        kind, data = _faces.degrade(str(path))
        assert _faces.degrade(str(path)) == (kind, data)
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        if kind == "small":
            assert image.shape[:2] == (480, 640)
        else:  # blurred: noise loses most of its detail
            assert kind in _faces.BLURS and image.shape[:2] == (250, 250)
            assert cv2.Laplacian(image, cv2.CV_64F).var() < 0.2 * cv2.Laplacian(cv2.imread(str(path)), cv2.CV_64F).var()
        kinds.add(kind)
    assert kinds == {*_faces.BLURS, "small"}


def test_the_degraded_album_keeps_the_selfies_and_drops_faces_its_copies_lost() -> None:
    photos = [members.compose(f"p{k}", [(f"m{k}.jpg", "ann"), (f"s{k}.jpg", members.STRANGER)], random.Random(k))
              for k in range(60)]
    scenario = members.Scenario("t", {"ann": ["selfie.jpg"]}, photos)
    paths = ["selfie.jpg"] + [t.path for p in photos for t in p.tiles]
    embedding = {p: np.zeros(3, np.float32) for p in paths}
    lost = {p: _faces.DegradedFace("motion", None) for p in paths}
    blurred = {p: _faces.DegradedFace("gaussian", np.ones(3, np.float32), relative_blur=4.0) for p in paths}
    out, copies = members_seeds.with_degraded(embedding, scenario, lost, random.Random(1))
    assert "selfie.jpg" in out and "selfie.jpg" not in copies
    assert 0.2 < len(copies) / (len(paths) - 1) < 0.5 and not set(copies) & set(out)
    out, copies = members_seeds.with_degraded(embedding, scenario, blurred, random.Random(1))
    assert all(out[p][0] == 1.0 for p in copies) and out["selfie.jpg"][0] == 0.0
