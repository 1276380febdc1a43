"""Faces of analysed photos: their vectors, matches, people and corrections (rejections).

Repository functions: a session first, then keyword-only arguments; they return ``records`` dataclasses or plain
values, never ORM rows.
"""

from __future__ import annotations
