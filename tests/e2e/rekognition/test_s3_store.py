"""S3Object images read from a real S3-compatible server (moto) when the store is ``s3://``, versions included."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError
from rk_helpers import CREDENTIALS, free_port, jpeg, start_server

pytestmark = pytest.mark.integration

S3_ENV = {"AWS_ACCESS_KEY_ID": "moto", "AWS_SECRET_ACCESS_KEY": "moto", "AWS_DEFAULT_REGION": "us-east-1"}


@pytest.fixture()
def moto_url():
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def test_s3_objects_come_from_the_real_bucket(tmp_path, moto_url, make_client, astronaut_jpeg, blank_photo):
    s3 = boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1", aws_access_key_id="moto",
                      aws_secret_access_key="moto")
    s3.create_bucket(Bucket="photosift-blobs")
    s3.create_bucket(Bucket="people")
    s3.put_bucket_versioning(Bucket="people", VersioningConfiguration={"Status": "Enabled"})
    old = s3.put_object(Bucket="people", Key="me.jpg", Body=astronaut_jpeg)["VersionId"]
    s3.put_object(Bucket="people", Key="me.jpg", Body=jpeg(blank_photo))  # the latest version shows no face

    server = start_server(tmp_path, ",".join(f"{k}:{v}" for k, v in CREDENTIALS.items()),
                          PHOTOSIFT_STORE_URL="s3://photosift-blobs/data", PHOTOSIFT_S3_ENDPOINT_URL=moto_url,
                          **S3_ENV)
    try:
        rek = make_client(url=server.url)
        latest = rek.detect_faces(Image={"S3Object": {"Bucket": "people", "Name": "me.jpg"}})
        versioned = rek.detect_faces(Image={"S3Object": {"Bucket": "people", "Name": "me.jpg", "Version": old}})
        assert latest["FaceDetails"] == [] and len(versioned["FaceDetails"]) == 1
        for missing in ({"Bucket": "people", "Name": "nobody.jpg"}, {"Bucket": "no-such-bucket", "Name": "me.jpg"}):
            with pytest.raises(ClientError) as err:
                rek.detect_faces(Image={"S3Object": missing})
            assert err.value.response["Error"]["Code"] == "InvalidS3ObjectException"
    finally:
        server.stop()
