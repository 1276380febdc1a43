"""Face model versions with boto3: a collection keeps the version it was created with; one of a version the server
does not run (here 1.0, the retired FaceNet + dlib recogniser, as an upgraded catalog holds it) is listed, described
and deleted as ever, and every operation that would compare or add vectors answers InvalidParameterException."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import numpy as np
import pytest
from botocore.exceptions import ClientError

from photosift import faces
from photosift.catalog.db import Catalog
from photosift.catalog.rekognition import RekognitionCollection, RekognitionFace, RekognitionUser

pytestmark = pytest.mark.integration


def _legacy_collection(data_dir, collection_id: str) -> str:  # noqa: ANN001 - Path
    """Write a collection of face model version 1.0 with one face (a 641-value vector) and one user into the
    server's catalog, as a catalog of the previous release holds it; returns the face's id."""
    catalog = Catalog(f"sqlite:///{(data_dir / 'catalog.sqlite3').resolve()}")
    face_id, now = str(uuid.uuid4()), datetime.now(UTC)
    vector = np.random.default_rng(1).normal(size=641).astype("<f4").tobytes()
    try:
        with catalog.session() as session:
            session.add(RekognitionCollection(collection_id=collection_id, face_model_version="1.0", created_at=now,
                                              arn=f"aws:rekognition:eu-west-1:000000000000:collection/{collection_id}"))
            session.flush()
            session.add(RekognitionUser(collection_id=collection_id, user_id="eileen", created_at=now))
            session.add(RekognitionFace(face_id=face_id, collection_id=collection_id, image_id=str(uuid.uuid4()),
                                        external_image_id="eileen.jpg", user_id=None, box_left=0.2, box_top=0.1,
                                        box_width=0.3, box_height=0.4, confidence=99.5, embedding=vector,
                                        created_at=now))
    finally:
        catalog.dispose()
    return face_id


def test_a_collection_of_a_retired_face_model_is_kept_but_not_searched(rek, server, astronaut_jpeg) -> None:
    cid = f"legacy-{uuid.uuid4().hex[:8]}"
    face_id = _legacy_collection(server.data_dir, cid)

    described = rek.describe_collection(CollectionId=cid)
    assert described["FaceModelVersion"] == "1.0" and described["FaceCount"] == 1 and described["UserCount"] == 1
    listed = rek.list_collections()
    assert dict(zip(listed["CollectionIds"], listed["FaceModelVersions"], strict=True))[cid] == "1.0"
    page = rek.list_faces(CollectionId=cid)
    assert page["FaceModelVersion"] == "1.0" and [f["FaceId"] for f in page["Faces"]] == [face_id]
    assert page["Faces"][0]["IndexFacesModelVersion"] == "1.0"
    assert rek.list_users(CollectionId=cid)["Users"] == [{"UserId": "eileen", "UserStatus": "CREATED"}]

    image = {"Bytes": astronaut_jpeg}
    refused = {
        "SearchFacesByImage": lambda: rek.search_faces_by_image(CollectionId=cid, Image=image),
        "SearchFaces": lambda: rek.search_faces(CollectionId=cid, FaceId=face_id),
        "IndexFaces": lambda: rek.index_faces(CollectionId=cid, Image=image),
        "SearchUsersByImage": lambda: rek.search_users_by_image(CollectionId=cid, Image=image),
        "SearchUsers": lambda: rek.search_users(CollectionId=cid, FaceId=face_id),
        "AssociateFaces": lambda: rek.associate_faces(CollectionId=cid, UserId="eileen", FaceIds=[face_id]),
    }
    for operation, call in refused.items():
        with pytest.raises(ClientError) as err:
            call()
        error = err.value.response["Error"]
        assert error["Code"] == "InvalidParameterException", operation
        assert (f"Collection {cid} holds faces of face model version 1.0, which this server no longer runs (it runs "
                f"{faces.FACE_MODEL_VERSION}); create a new collection and index the faces again (IndexFaces)"
                == error["Message"]), operation
    assert rek.describe_collection(CollectionId=cid)["FaceCount"] == 1  # nothing was added

    # a new collection gets the running recogniser's version; the old one can still be emptied and deleted
    new = f"{cid}-new"
    assert rek.create_collection(CollectionId=new)["FaceModelVersion"] == faces.FACE_MODEL_VERSION
    assert rek.describe_collection(CollectionId=new)["FaceModelVersion"] == faces.FACE_MODEL_VERSION
    assert rek.delete_faces(CollectionId=cid, FaceIds=[face_id])["DeletedFaces"] == [face_id]
    rek.delete_user(CollectionId=cid, UserId="eileen")
    for collection in (cid, new):
        assert rek.delete_collection(CollectionId=collection)["StatusCode"] == 200
