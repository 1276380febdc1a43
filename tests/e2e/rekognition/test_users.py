"""User vectors: CreateUser, DeleteUser, ListUsers, AssociateFaces, DisassociateFaces, SearchUsers(ByImage)."""

from __future__ import annotations

import itertools

import pytest
from botocore.exceptions import ClientError
from rk_helpers import jpeg, stranger

pytestmark = pytest.mark.integration

_ids = itertools.count()
MISSING_FACE = "00000000-0000-4000-8000-000000000000"


def code(err: pytest.ExceptionInfo[ClientError]) -> str:
    return err.value.response["Error"]["Code"]


@pytest.fixture()
def people(rek, astronaut_jpeg, make_group_photo) -> tuple[str, list[str]]:
    """A collection with four indexed astronaut faces: (collection id, face ids)."""
    cid = f"users-{next(_ids)}"
    rek.create_collection(CollectionId=cid)
    ids = [rek.index_faces(CollectionId=cid, Image={"Bytes": astronaut_jpeg})["FaceRecords"][0]["Face"]["FaceId"]]
    group = jpeg(make_group_photo(1600, 600, [260, 220, 200]))
    ids += [r["Face"]["FaceId"] for r in rek.index_faces(CollectionId=cid, Image={"Bytes": group})["FaceRecords"]]
    assert len(ids) == 4
    return cid, ids


def test_user_lifecycle_and_statuses(rek, people):
    cid, faces = people
    rek.create_user(CollectionId=cid, UserId="eileen")
    with pytest.raises(ClientError) as err:
        rek.create_user(CollectionId=cid, UserId="eileen")  # boto3 sends a fresh ClientRequestToken
    assert code(err) == "ConflictException"
    rek.create_user(CollectionId=cid, UserId="retry", ClientRequestToken="same-token")
    rek.create_user(CollectionId=cid, UserId="retry", ClientRequestToken="same-token")  # idempotent retry
    assert rek.list_users(CollectionId=cid)["Users"] == [
        {"UserId": "eileen", "UserStatus": "CREATED"}, {"UserId": "retry", "UserStatus": "CREATED"}]
    first = rek.list_users(CollectionId=cid, MaxResults=1)
    assert len(first["Users"]) == 1
    assert rek.list_users(CollectionId=cid, NextToken=first["NextToken"])["Users"][0]["UserId"] == "retry"

    reply = rek.associate_faces(CollectionId=cid, UserId="eileen", FaceIds=faces[:2] + [MISSING_FACE])
    assert {f["FaceId"] for f in reply["AssociatedFaces"]} == set(faces[:2])
    assert reply["UnsuccessfulFaceAssociations"] == [{"FaceId": MISSING_FACE, "Reasons": ["FACE_NOT_FOUND"]}]
    assert reply["UserStatus"] == "ACTIVE"
    assert rek.describe_collection(CollectionId=cid)["UserCount"] == 2
    listed = rek.list_faces(CollectionId=cid, UserId="eileen")["Faces"]
    assert {f["FaceId"] for f in listed} == set(faces[:2]) and all(f["UserId"] == "eileen" for f in listed)

    taken = rek.associate_faces(CollectionId=cid, UserId="retry", FaceIds=[faces[0]])
    assert taken["UnsuccessfulFaceAssociations"][0]["Reasons"] == ["ASSOCIATED_TO_A_DIFFERENT_USER"]
    assert taken["UnsuccessfulFaceAssociations"][0]["UserId"] == "eileen"
    blocked = rek.delete_faces(CollectionId=cid, FaceIds=[faces[0]])
    assert blocked["UnsuccessfulFaceDeletions"][0]["Reasons"] == ["ASSOCIATED_TO_AN_EXISTING_USER"]

    undone = rek.disassociate_faces(CollectionId=cid, UserId="eileen", FaceIds=[faces[1], faces[2]])
    assert undone["DisassociatedFaces"] == [{"FaceId": faces[1]}]
    assert undone["UnsuccessfulFaceDisassociations"][0]["FaceId"] == faces[2]
    assert undone["UserStatus"] == "ACTIVE"

    rek.delete_user(CollectionId=cid, UserId="eileen")
    assert [u["UserId"] for u in rek.list_users(CollectionId=cid)["Users"]] == ["retry"]
    assert "UserId" not in rek.list_faces(CollectionId=cid, FaceIds=[faces[0]])["Faces"][0]  # face kept, detached
    with pytest.raises(ClientError) as err:
        rek.delete_user(CollectionId=cid, UserId="eileen")
    assert code(err) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as err:
        rek.associate_faces(CollectionId=cid, UserId="nobody", FaceIds=[faces[3]])
    assert code(err) == "ResourceNotFoundException"


def test_associate_faces_refuses_faces_below_the_user_match_threshold(rek, people):
    cid, faces = people
    stranger_id = rek.index_faces(CollectionId=cid, Image={"Bytes": jpeg(stranger())}, QualityFilter="NONE")[
        "FaceRecords"][0]["Face"]["FaceId"]
    rek.create_user(CollectionId=cid, UserId="eileen")
    rek.associate_faces(CollectionId=cid, UserId="eileen", FaceIds=[faces[0]])
    reply = rek.associate_faces(CollectionId=cid, UserId="eileen", FaceIds=[stranger_id, faces[1]])
    assert reply["AssociatedFaces"] == [{"FaceId": faces[1]}]
    failure = reply["UnsuccessfulFaceAssociations"][0]
    assert failure["FaceId"] == stranger_id and failure["Reasons"] == ["LOW_MATCH_CONFIDENCE"]
    assert 0 <= failure["Confidence"] < 75  # the default UserMatchThreshold
    assert rek.associate_faces(CollectionId=cid, UserId="eileen", FaceIds=[stranger_id], UserMatchThreshold=0)[
        "AssociatedFaces"] == [{"FaceId": stranger_id}]


def test_search_users_by_face_user_and_image(rek, people, astronaut_jpeg, blank_photo):
    cid, faces = people
    rek.create_user(CollectionId=cid, UserId="eileen")
    rek.create_user(CollectionId=cid, UserId="copy")
    rek.associate_faces(CollectionId=cid, UserId="eileen", FaceIds=faces[:2])
    rek.associate_faces(CollectionId=cid, UserId="copy", FaceIds=faces[2:3])

    by_face = rek.search_users(CollectionId=cid, FaceId=faces[3])
    assert by_face["SearchedFace"] == {"FaceId": faces[3]}
    assert {m["User"]["UserId"] for m in by_face["UserMatches"]} == {"eileen", "copy"}
    assert all(m["Similarity"] >= 80 and m["User"]["UserStatus"] == "ACTIVE" for m in by_face["UserMatches"])

    by_user = rek.search_users(CollectionId=cid, UserId="eileen", MaxUsers=5)
    assert by_user["SearchedUser"] == {"UserId": "eileen"}
    assert [m["User"]["UserId"] for m in by_user["UserMatches"]] == ["copy"]  # never the searched user

    by_image = rek.search_users_by_image(CollectionId=cid, Image={"Bytes": astronaut_jpeg}, MaxUsers=1)
    assert len(by_image["UserMatches"]) == 1 and by_image["UnsearchedFaces"] == []
    assert by_image["SearchedFace"]["FaceDetail"]["Confidence"] > 90
    assert rek.search_users_by_image(CollectionId=cid, Image={"Bytes": jpeg(stranger())})["UserMatches"] == []
    anyone = rek.search_users_by_image(CollectionId=cid, Image={"Bytes": jpeg(stranger())}, UserMatchThreshold=0)
    assert {m["User"]["UserId"] for m in anyone["UserMatches"]} == {"eileen", "copy"}

    for bad in ({}, {"FaceId": faces[0], "UserId": "eileen"}):
        with pytest.raises(ClientError) as err:
            rek.search_users(CollectionId=cid, **bad)
        assert code(err) == "InvalidParameterException"
    with pytest.raises(ClientError) as err:
        rek.search_users_by_image(CollectionId=cid, Image={"Bytes": jpeg(blank_photo)})
    assert code(err) == "InvalidParameterException"


def test_search_users_by_image_lists_the_other_faces_as_unsearched(rek, people, make_group_photo):
    cid, faces = people
    rek.create_user(CollectionId=cid, UserId="eileen")
    rek.associate_faces(CollectionId=cid, UserId="eileen", FaceIds=faces[:1])
    group = jpeg(make_group_photo(1600, 600, [300, 200]))
    reply = rek.search_users_by_image(CollectionId=cid, Image={"Bytes": group})
    assert [m["User"]["UserId"] for m in reply["UserMatches"]] == ["eileen"]
    assert [u["Reasons"] for u in reply["UnsearchedFaces"]] == [["FACE_NOT_LARGEST"]]
    searched = reply["SearchedFace"]["FaceDetail"]["BoundingBox"]["Height"]
    assert searched > reply["UnsearchedFaces"][0]["FaceDetails"]["BoundingBox"]["Height"]


def test_list_users_refuses_tokens_it_did_not_issue(rek):
    for cid in ("tokens-a", "tokens-b"):
        rek.create_collection(CollectionId=cid)
        for user in ("u1", "u2"):
            rek.create_user(CollectionId=cid, UserId=user)
    token = rek.list_users(CollectionId="tokens-a", MaxResults=1)["NextToken"]
    assert [u["UserId"] for u in rek.list_users(CollectionId="tokens-a", NextToken=token)["Users"]] == ["u2"]
    for cid, bad in (("tokens-a", "u1"), ("tokens-a", "not a token!"), ("tokens-b", token)):
        with pytest.raises(ClientError) as err:
            rek.list_users(CollectionId=cid, NextToken=bad)
        assert code(err) == "InvalidPaginationTokenException"
