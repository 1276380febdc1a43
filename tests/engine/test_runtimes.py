"""The recogniser's vectors do not depend on the runtime: OpenVINO (which runs w600k_mbf) and onnxruntime give the
same vectors for the same faces, so vectors stored before the change of runtime are compared with new ones as
before; and they are taken from the recogniser's centre."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import cv2
import numpy as np
from gil import longest_stall

from photosift.faces import recognizers
from photosift.faces.models import model_path
from photosift.faces.onnx import forwards, without_unused_inputs
from photosift.faces.recognizers import RECOGNIZERS, l2_normalize


def test_openvino_and_onnxruntime_agree_on_the_recogniser(astronaut_face: np.ndarray) -> None:
    spec = RECOGNIZERS["w600k_mbf"]
    assert spec.runtime == "openvino"
    faces = [cv2.resize(astronaut_face, (112, 112)), cv2.resize(astronaut_face[20:180, 10:160], (112, 112)),
             np.ascontiguousarray(cv2.resize(astronaut_face, (112, 112))[:, ::-1])]
    batch = np.ascontiguousarray((np.stack(faces).astype(np.float32).transpose(0, 3, 1, 2) - spec.mean) * spec.scale)
    run_openvino = forwards(spec.model, runtime="openvino")[0]
    openvino = l2_normalize(run_openvino(batch))
    onnxruntime = l2_normalize(forwards(spec.model, runtime="onnxruntime")[0](batch))
    assert openvino.shape == onnxruntime.shape == (3, spec.dim)
    assert np.min(np.sum(openvino * onnxruntime, axis=1)) > 0.99999
    assert np.max(np.abs(openvino @ openvino.T - onnxruntime @ onnxruntime.T)) < 1e-4
    one = l2_normalize(run_openvino(batch[:1]))  # any batch size
    assert np.allclose(one[0], openvino[0], atol=1e-4)


def test_sfaces_int8_file_runs_in_openvino_with_the_vectors_onnxruntime_gives(astronaut_face: np.ndarray) -> None:
    # its int8 weights expanded to float32 (OpenVINO cannot read block-quantised ones): the same network, 3-4x
    # faster, so vectors stored by the release that ran the int8 file in onnxruntime compare with new ones as before
    import onnx
    import onnxruntime as ort

    spec = RECOGNIZERS["sface"]
    assert spec.runtime == "openvino" and spec.dequantize and RECOGNIZERS["sface-yunet"].model == spec.model
    int8 = without_unused_inputs(onnx.load(str(model_path(spec.model))))  # as the release before loaded it
    before = ort.InferenceSession(int8.SerializeToString(), providers=["CPUExecutionProvider"])
    run_openvino = forwards(spec.model, runtime="openvino", dequantize=True)[0]
    for face in (astronaut_face, astronaut_face[20:180, 10:160]):
        batch = np.ascontiguousarray(cv2.resize(face, (112, 112)).astype(np.float32).transpose(2, 0, 1)[None])
        now = l2_normalize(run_openvino(batch))
        then = l2_normalize(before.run(None, {before.get_inputs()[0].name: batch})[0])
        assert now.shape == then.shape == (1, spec.dim) and float(now[0] @ then[0]) > 0.99999


def test_the_recogniser_embeds_through_its_runtime(astronaut_face: np.ndarray) -> None:
    recognizer = recognizers.Recognizer("w600k_mbf")
    face = cv2.resize(astronaut_face, (112, 112))
    vectors = recognizer.embed_aligned([face, face[:, ::-1]])
    assert vectors.shape == (2, 512)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert float(vectors[0] @ vectors[1]) > 0.999  # a face and its mirror image: the same flip-averaged vector


def test_vectors_are_taken_from_the_recognisers_centre(astronaut_face: np.ndarray) -> None:
    recognizer = recognizers.Recognizer("w600k_mbf")
    spec = recognizer.spec
    face = cv2.resize(astronaut_face, (112, 112))
    batch = np.ascontiguousarray((np.stack([face, face[:, ::-1]]).astype(np.float32).transpose(0, 3, 1, 2)
                                  - spec.mean) * spec.scale)
    raw = l2_normalize(forwards(spec.model, runtime="onnxruntime")[0](batch))
    flipped = l2_normalize(raw[0] + raw[1])
    centre = recognizers.centre("w600k_mbf")
    assert centre.shape == (512,) and 0.05 < float(np.linalg.norm(centre)) < 0.5
    seen: list[np.ndarray] = []
    own, both = recognizer.embed_aligned([face, face], mirror=lambda v: seen.append(v) or np.array([False, True]))
    assert float(own @ l2_normalize(raw[0] - centre)) > 0.995  # the quick forward's (bf16 where the CPU has it)
    np.testing.assert_allclose(both, l2_normalize(flipped - centre), atol=1e-4)  # the mirrored ones: fp32
    np.testing.assert_allclose(seen[0][0], own, atol=1e-6)  # the mirror choice sees the centred vectors
    assert float(own @ (raw[0] - centre)) > 0.999 and float(raw[0] @ own) < 0.999  # not the plain vector
    # references: fp32, each face with its mirror image
    np.testing.assert_allclose(recognizer.embed_aligned([face])[0], l2_normalize(flipped - centre), atol=1e-4)


def test_album_faces_without_the_mirror_image_take_the_quick_forward(astronaut_face: np.ndarray) -> None:
    recognizer = recognizers.Recognizer("w600k_mbf")
    face = cv2.resize(astronaut_face, (112, 112))
    calls: list[str] = []
    for name in ("_forward", "_quick"):
        real = getattr(recognizer, name)
        setattr(recognizer, name, lambda batch, real=real, name=name: calls.append(name) or real(batch))
    recognizer.embed_aligned([face, face], mirror=lambda v: np.array([False, False]))
    assert calls == ["_quick"]
    calls.clear()
    recognizer.embed_aligned([face, face], mirror=lambda v: np.array([False, True]))
    assert calls == ["_quick", "_forward", "_forward"]  # the turned or masked face again, itself and mirrored
    calls.clear()
    recognizer.embed_aligned([face])
    assert calls == ["_forward", "_forward"]


def test_embedding_lets_other_threads_run(astronaut_face: np.ndarray) -> None:
    # OpenVINO releases the GIL while it infers, as onnxruntime does: the server's other threads keep running.
    recognizer = recognizers.Recognizer("w600k_mbf")
    faces = [cv2.resize(astronaut_face, (112, 112))] * 16
    stall, whole = longest_stall(lambda: [recognizer.embed_aligned(faces) for _ in range(3)])
    assert stall < whole / 3


def test_the_runtimes_send_no_telemetry(tmp_path: Path) -> None:
    # ``import openvino`` would import its model converter, which sends a usage event to Google Analytics from a
    # forked process; onnxruntime would queue a usage event with a device identifier under ~/.cache/Microsoft.
    # In a fresh interpreter (the test session may have loaded them) with a home of its own:
    script = ("import sys\nfrom photosift.faces.onnx import forwards, session\n"
              "forwards('w600k_mbf', runtime='openvino')\nsession('scrfd_500m')\n"
              "print(sorted(m for m, module in sys.modules.items()\n"
              "             if module is not None and ('telemetry' in m or m.startswith('openvino.tools.'))))")
    env = {k: v for k, v in os.environ.items() if k != "ORT_DISABLE_TELEMETRY"} | {"HOME": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120,
                         env=env)
    assert out.stdout.strip() == "[]"
    assert [p.relative_to(tmp_path) for p in tmp_path.rglob("*")] == []  # no ~/intel, no ~/.cache/Microsoft


def test_openvino_runs_once_in_the_thread_that_loads_it(monkeypatch) -> None:
    # two threads' first OpenVINO inferences at once can deadlock in the bindings' one-time (per process) numpy
    # set-up (1 fresh process in 12 did, embedding with the fp32 and bf16 forwards at once), so loading runs one
    from photosift.faces import onnx

    calls: list[tuple[int, tuple[int, ...]]] = []
    real = onnx._openvino_run

    def counted(compiled):
        run = real(compiled)

        def wrapped(batch):
            calls.append((threading.get_ident(), batch.shape))
            return run(batch)

        return wrapped

    monkeypatch.setattr(onnx, "_openvino_run", counted)
    onnx.forwards("w600k_mbf", runtime="openvino", bf16=True)
    assert calls == [(threading.get_ident(), (1, 3, 112, 112))]
