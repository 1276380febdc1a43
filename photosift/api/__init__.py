"""The HTTP interface: native REST under ``/v1``, the Rekognition-compatible ``POST /``, SSE and the web UI."""
