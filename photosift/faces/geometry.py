"""Face geometry from five landmarks: head pose, box helpers.

Landmark order everywhere: subject's right eye, left eye, nose tip, right mouth corner, left mouth corner (for a
frontal face: image-left eye first). Points are ``(x, y)`` pixels.
"""

from __future__ import annotations

import math

import numpy as np

from photosift.faces.types import Box, Pose

# Nose-tip depth in front of the eye plane, relative to the eye distance (average adult head), and the nose's
# height between the eye line and the mouth line for a level head; they turn landmark offsets into angles.
_NOSE_DEPTH = 0.6
_NOSE_LEVEL = 0.52


def estimate_pose(landmarks: np.ndarray) -> Pose:
    """Yaw, pitch and roll in degrees from five ``(x, y)`` landmarks.

    roll > 0: the head tilts clockwise in the image (right eye above the left); yaw > 0: the nose points to the
    image's right; pitch > 0: the face looks up. A coarse geometric estimate (+-10 degrees), good enough to tell
    frontal from profile.
    """
    pts = np.asarray(landmarks, dtype=np.float64).reshape(5, 2)
    right_eye, left_eye, nose = pts[0], pts[1], pts[2]
    mouth = (pts[3] + pts[4]) / 2
    eye_vec = left_eye - right_eye
    roll = math.degrees(math.atan2(eye_vec[1], eye_vec[0]))
    # De-rotate by roll so x runs along the eye line.
    c, s = math.cos(math.radians(-roll)), math.sin(math.radians(-roll))
    rot = np.array([[c, -s], [s, c]])
    eyes_mid = (right_eye + left_eye) / 2
    nose_r = rot @ (nose - eyes_mid)
    mouth_r = rot @ (mouth - eyes_mid)
    eye_dist = max(float(np.hypot(*eye_vec)), 1e-6)
    face_height = max(float(mouth_r[1]), 1e-6)
    # Eye distance shrinks with cos(yaw) while the nose moves by depth*sin(yaw): offset / eye_dist = k * tan(yaw).
    yaw = math.degrees(math.atan2(nose_r[0] / eye_dist, _NOSE_DEPTH))
    pitch = math.degrees(math.atan2(_NOSE_LEVEL - nose_r[1] / face_height, _NOSE_DEPTH))
    return Pose(yaw=round(yaw, 1), pitch=round(pitch, 1), roll=round(roll, 1))


def clip_box(box: tuple[float, float, float, float], width: int, height: int) -> Box:
    """``(left, top, width, height)`` rounded to integers and clipped to a ``width`` x ``height`` image."""
    left, top = max(0.0, box[0]), max(0.0, box[1])
    right, bottom = min(float(width), box[0] + box[2]), min(float(height), box[1] + box[3])
    return (int(round(left)), int(round(top)), max(0, int(round(right - left))), max(0, int(round(bottom - top))))


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over union of boxes ``a`` (n, 4) and ``b`` (m, 4) given as ``(left, top, width, height)``."""
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    ax2, ay2 = a[:, 0] + a[:, 2], a[:, 1] + a[:, 3]
    bx2, by2 = b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]
    iw = np.clip(np.minimum(ax2[:, None], bx2[None]) - np.maximum(a[:, 0, None], b[None, :, 0]), 0, None)
    ih = np.clip(np.minimum(ay2[:, None], by2[None]) - np.maximum(a[:, 1, None], b[None, :, 1]), 0, None)
    inter = iw * ih
    union = (a[:, 2] * a[:, 3])[:, None] + (b[:, 2] * b[:, 3])[None] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0)
