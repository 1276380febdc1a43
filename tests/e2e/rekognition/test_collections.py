"""Collections, IndexFaces, ListFaces, DeleteFaces, SearchFaces(ByImage) with boto3 against the real server."""

from __future__ import annotations

import itertools
import re

import pytest
from botocore.exceptions import ClientError
from rk_helpers import BUCKET, jpeg, start_server, stranger

pytestmark = pytest.mark.integration

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_ids = itertools.count()


def code(err: pytest.ExceptionInfo[ClientError]) -> str:
    return err.value.response["Error"]["Code"]


@pytest.fixture()
def collection(rek) -> str:
    """A fresh, empty collection's id."""
    cid = f"test-collection-{next(_ids)}"
    reply = rek.create_collection(CollectionId=cid)
    assert reply["StatusCode"] == 200 and reply["CollectionArn"].endswith(f":collection/{cid}")
    return cid


def test_collection_lifecycle(rek, collection):
    with pytest.raises(ClientError) as err:
        rek.create_collection(CollectionId=collection)
    assert code(err) == "ResourceAlreadyExistsException"
    described = rek.describe_collection(CollectionId=collection)
    assert described["FaceCount"] == 0 and described["UserCount"] == 0
    assert described["CollectionARN"].endswith(collection) and described["FaceModelVersion"]
    assert collection in rek.list_collections()["CollectionIds"]
    assert rek.delete_collection(CollectionId=collection)["StatusCode"] == 200
    for call in (rek.describe_collection, rek.delete_collection, rek.list_faces):
        with pytest.raises(ClientError) as err:
            call(CollectionId=collection)
        assert code(err) == "ResourceNotFoundException"


def test_list_collections_pages_with_next_token(rek):
    for i in range(3):
        rek.create_collection(CollectionId=f"paged-{i}")
    seen, token, pages = [], None, 0
    while True:
        kwargs = {"MaxResults": 2, **({"NextToken": token} if token else {})}
        reply = rek.list_collections(**kwargs)
        assert len(reply["CollectionIds"]) == len(reply["FaceModelVersions"]) <= 2
        seen += reply["CollectionIds"]
        pages += 1
        token = reply.get("NextToken")
        if not token:
            break
    assert pages >= 2 and len(seen) == len(set(seen))
    assert {"paged-0", "paged-1", "paged-2"} <= set(seen)
    assert seen == rek.list_collections()["CollectionIds"]  # pages concatenate to the full, ordered list
    with pytest.raises(ClientError) as err:
        rek.list_collections(NextToken="not a token!")
    assert code(err) == "InvalidPaginationTokenException"


def test_index_faces_records_faces_with_external_image_id(rek, collection, astronaut_jpeg):
    reply = rek.index_faces(CollectionId=collection, Image={"Bytes": astronaut_jpeg}, ExternalImageId="astro:1")
    assert len(reply["FaceRecords"]) == 1 and reply["UnindexedFaces"] == []
    face = reply["FaceRecords"][0]["Face"]
    assert UUID.fullmatch(face["FaceId"]) and UUID.fullmatch(face["ImageId"])
    assert face["ExternalImageId"] == "astro:1" and face["Confidence"] > 90
    assert face["BoundingBox"] == reply["FaceRecords"][0]["FaceDetail"]["BoundingBox"]
    assert rek.describe_collection(CollectionId=collection)["FaceCount"] == 1
    listed = rek.list_faces(CollectionId=collection)["Faces"]
    assert [f["FaceId"] for f in listed] == [face["FaceId"]]
    assert listed[0]["IndexFacesModelVersion"] and listed[0]["ExternalImageId"] == "astro:1"


def test_index_faces_max_faces_and_quality_filter(rek, collection, make_group_photo):
    group = jpeg(make_group_photo(800, 400, [200, 150, 28]))  # the third face ~12 px: too small
    reply = rek.index_faces(CollectionId=collection, Image={"Bytes": group}, MaxFaces=1)
    assert len(reply["FaceRecords"]) == 1
    widths = [r["FaceDetail"]["BoundingBox"]["Width"] for r in reply["FaceRecords"]]
    reasons = [u["Reasons"] for u in reply["UnindexedFaces"]]
    assert ["EXCEEDS_MAX_FACES"] in reasons  # the second face: good enough, but over MaxFaces
    assert any("SMALL_BOUNDING_BOX" in r for r in reasons)  # the tiny face fails the default AUTO filter
    assert all(widths[0] >= u["FaceDetail"]["BoundingBox"]["Width"] for u in reply["UnindexedFaces"])
    everything = rek.index_faces(CollectionId=collection, Image={"Bytes": group}, QualityFilter="NONE")
    assert len(everything["FaceRecords"]) == 3 and everything["UnindexedFaces"] == []


def test_index_faces_from_s3_and_into_a_missing_collection(rek, server, astronaut_jpeg, collection):
    server.put_object("index/astronaut.jpg", astronaut_jpeg)
    image = {"S3Object": {"Bucket": BUCKET, "Name": "index/astronaut.jpg"}}
    assert len(rek.index_faces(CollectionId=collection, Image=image)["FaceRecords"]) == 1
    with pytest.raises(ClientError) as err:
        rek.index_faces(CollectionId="no-such-collection", Image=image)
    assert code(err) == "ResourceNotFoundException"


def test_list_faces_pages_and_delete_faces(rek, collection, make_group_photo):
    group = jpeg(make_group_photo(1600, 600, [260, 220, 200]))
    ids = {r["Face"]["FaceId"] for r in rek.index_faces(CollectionId=collection, Image={"Bytes": group})["FaceRecords"]}
    assert len(ids) == 3
    first = rek.list_faces(CollectionId=collection, MaxResults=2)
    second = rek.list_faces(CollectionId=collection, MaxResults=2, NextToken=first["NextToken"])
    assert len(first["Faces"]) == 2 and len(second["Faces"]) == 1 and "NextToken" not in second
    assert {f["FaceId"] for f in first["Faces"] + second["Faces"]} == ids
    victim, *rest = sorted(ids)
    missing = "00000000-0000-4000-8000-000000000000"
    reply = rek.delete_faces(CollectionId=collection, FaceIds=[victim, missing])
    assert reply["DeletedFaces"] == [victim]
    assert reply["UnsuccessfulFaceDeletions"] == [{"FaceId": missing, "Reasons": ["FACE_NOT_FOUND"]}]
    assert {f["FaceId"] for f in rek.list_faces(CollectionId=collection)["Faces"]} == set(rest)
    only = rek.list_faces(CollectionId=collection, FaceIds=[rest[0]])["Faces"]
    assert [f["FaceId"] for f in only] == [rest[0]]


def test_search_faces_finds_the_same_person(rek, collection, astronaut_jpeg, make_group_photo):
    probe = rek.index_faces(CollectionId=collection, Image={"Bytes": astronaut_jpeg})["FaceRecords"][0]["Face"]
    group = jpeg(make_group_photo(1200, 500, [260, 220]))
    others = {r["Face"]["FaceId"] for r in rek.index_faces(CollectionId=collection, Image={"Bytes": group})[
        "FaceRecords"]}
    reply = rek.search_faces(CollectionId=collection, FaceId=probe["FaceId"])
    assert reply["SearchedFaceId"] == probe["FaceId"]
    found = [m["Face"]["FaceId"] for m in reply["FaceMatches"]]
    assert set(found) == others  # never the searched face itself
    assert all(m["Similarity"] >= 80 for m in reply["FaceMatches"])
    assert len(rek.search_faces(CollectionId=collection, FaceId=probe["FaceId"], MaxFaces=1)["FaceMatches"]) == 1
    # Another person (scikit-image's cameraman) stays below the default threshold but shows at threshold 0.
    indexed = rek.index_faces(CollectionId=collection, Image={"Bytes": jpeg(stranger())}, QualityFilter="NONE")
    stranger_id = indexed["FaceRecords"][0]["Face"]["FaceId"]
    assert stranger_id not in found
    everyone = rek.search_faces(CollectionId=collection, FaceId=probe["FaceId"], FaceMatchThreshold=0)
    assert {m["Face"]["FaceId"] for m in everyone["FaceMatches"]} == others | {stranger_id}
    assert everyone["FaceMatches"][-1]["Face"]["FaceId"] == stranger_id  # most similar first
    with pytest.raises(ClientError) as err:
        rek.search_faces(CollectionId=collection, FaceId="00000000-0000-4000-8000-000000000000")
    assert code(err) == "InvalidParameterException"


def test_search_faces_by_image_uses_the_largest_face(rek, collection, astronaut_jpeg, make_group_photo, blank_photo):
    stored = rek.index_faces(CollectionId=collection, Image={"Bytes": astronaut_jpeg})["FaceRecords"][0]["Face"]
    group = make_group_photo(1600, 600, [150, 300])
    reply = rek.search_faces_by_image(CollectionId=collection, Image={"Bytes": jpeg(group)})
    box = reply["SearchedFaceBoundingBox"]
    assert box["Left"] > 0.5 and box["Height"] > 0.2  # the right-hand, larger face (the left one is ~0.12 high)
    assert reply["SearchedFaceConfidence"] > 80
    assert [m["Face"]["FaceId"] for m in reply["FaceMatches"]] == [stored["FaceId"]]
    with pytest.raises(ClientError) as err:
        rek.search_faces_by_image(CollectionId=collection, Image={"Bytes": jpeg(blank_photo)})
    assert code(err) == "InvalidParameterException"


def test_collections_persist_across_restarts(tmp_path, make_client, astronaut_jpeg):
    first = start_server(tmp_path, credentials="AKIDPHOTOSIFTTEST01:s3cr3t-one/with+chars")
    try:
        client = make_client(url=first.url)
        client.create_collection(CollectionId="durable")
        face_id = client.index_faces(CollectionId="durable", Image={"Bytes": astronaut_jpeg})["FaceRecords"][0][
            "Face"]["FaceId"]
        client.create_user(CollectionId="durable", UserId="eileen")
        client.associate_faces(CollectionId="durable", UserId="eileen", FaceIds=[face_id])
    finally:
        first.stop()
    second = start_server(tmp_path, credentials="AKIDPHOTOSIFTTEST01:s3cr3t-one/with+chars")
    try:
        client = make_client(url=second.url)
        described = client.describe_collection(CollectionId="durable")
        assert described["FaceCount"] == 1 and described["UserCount"] == 1
        match = client.search_faces_by_image(CollectionId="durable", Image={"Bytes": astronaut_jpeg})["FaceMatches"]
        assert [m["Face"]["FaceId"] for m in match] == [face_id]
    finally:
        second.stop()


def test_list_collections_and_list_faces_refuse_tokens_they_did_not_issue(rek, collection):
    rek.create_collection(CollectionId="zzz-after-everything")
    for bad in ("zzz", collection, "paged-0"):  # ids that exist or sort anywhere are still not tokens
        with pytest.raises(ClientError) as err:
            rek.list_collections(NextToken=bad)
        assert code(err) == "InvalidPaginationTokenException"
    token = rek.list_collections(MaxResults=1)["NextToken"]
    for bad in (token, "00000000-0000-4000-8000-000000000000"):
        with pytest.raises(ClientError) as err:
            rek.list_faces(CollectionId=collection, NextToken=bad)
        assert code(err) == "InvalidPaginationTokenException"


def test_face_id_lists_at_the_models_maximum(rek, collection, astronaut_jpeg):
    """4096 FaceIds (the model's maximum) are answered; 4097 are an InvalidParameterException, never a 500."""
    face_id = rek.index_faces(CollectionId=collection, Image={"Bytes": astronaut_jpeg})["FaceRecords"][0]["Face"][
        "FaceId"]
    many = [face_id] + [f"00000000-0000-4000-8000-{i:012x}" for i in range(4095)]
    assert [f["FaceId"] for f in rek.list_faces(CollectionId=collection, FaceIds=many)["Faces"]] == [face_id]
    reply = rek.delete_faces(CollectionId=collection, FaceIds=many[::-1])
    assert reply["DeletedFaces"] == [face_id] and len(reply["UnsuccessfulFaceDeletions"]) == 4095
    with pytest.raises(ClientError) as err:
        rek.delete_faces(CollectionId=collection, FaceIds=[*many, "00000000-0000-4000-8000-ffffffffffff"])
    assert code(err) == "InvalidParameterException"
    with pytest.raises(ClientError) as err:
        rek.associate_faces(CollectionId=collection, UserId="u", FaceIds=many[:101])  # AssociateFaces: at most 100
    assert code(err) == "InvalidParameterException"
