"""Tests' file storages: export bundles and casebooks in a folder of the test's own."""

from __future__ import annotations

from pathlib import Path


def folder_storage(folder: Path) -> dict:
    return {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(folder)},
    }


def use_folder(settings, alias: str, folder: Path) -> Path:
    """Point STORAGES[alias] at `folder` for the test (pytest-django's `settings` fixture:
    Django forgets the storages it made when STORAGES changes)."""
    settings.STORAGES = {**settings.STORAGES, alias: folder_storage(folder)}
    return folder
