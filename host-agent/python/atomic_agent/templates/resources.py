"""The record types the REST templates can serve."""

from __future__ import annotations

# resource -> required string fields
REQUIRED_FIELDS: dict[str, list[str]] = {
    "users": ["name", "email"],
    "todos": ["title"],
    "tasks": ["title"],
    "books": ["title", "author"],
    "products": ["name"],
    "notes": ["title"],
    "items": ["name"],
}


def required_fields(resource: str) -> list[str]:
    return REQUIRED_FIELDS.get(resource, ["name"])


_EXAMPLE = {"name": "Ada Lovelace", "email": "ada@example.com", "title": "First", "author": "Ada"}
_OTHER = {"name": "Grace Hopper", "email": "grace@example.com", "title": "Second", "author": "Grace"}


def example_fields(resource: str) -> dict[str, str]:
    """A record's fields that pass validation."""
    return {name: _EXAMPLE.get(name, "x") for name in required_fields(resource)}


def other_fields(resource: str) -> dict[str, str]:
    """Other valid fields, for a replacement in the tests."""
    return {name: _OTHER.get(name, "y") for name in required_fields(resource)}


def example_body(resource: str) -> str:
    """A JSON body that passes validation, for the run instructions."""
    return "{" + ", ".join(f'"{name}": "{value}"' for name, value in example_fields(resource).items()) + "}"
