"""A saturated server answers ProvisionedThroughputExceededException (what boto3 treats as throttling)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from rk_helpers import CREDENTIALS, start_app_in_thread

from photosift.api.app import create_app
from photosift.config import Settings
from photosift.jobs.engine_pool import EnginePool

pytestmark = pytest.mark.integration


def test_saturated_engine_is_provisioned_throughput_exceeded(tmp_path, make_client, astronaut_jpeg):
    settings = Settings(data_dir=tmp_path, aws_credentials=",".join(f"{k}:{v}" for k, v in CREDENTIALS.items()))
    app = create_app(settings)
    app.state.engine = EnginePool(workers=1, max_pending=0)  # no capacity at all: every engine call is refused
    server = start_app_in_thread(app, tmp_path)
    try:
        client = make_client(url=server.url)
        with pytest.raises(ClientError) as err:
            client.detect_faces(Image={"Bytes": astronaut_jpeg})
        assert err.value.response["Error"]["Code"] == "ProvisionedThroughputExceededException"
        assert "CollectionIds" in client.list_collections()  # work without the engine is still served
    finally:
        server.stop()
        app.state.engine.shutdown()
