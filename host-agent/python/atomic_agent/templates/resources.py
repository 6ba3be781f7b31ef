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


def example_body(resource: str) -> str:
    """A JSON body that passes validation, for the run instructions."""
    values = {"name": "Ada Lovelace", "email": "ada@example.com", "title": "First", "author": "Ada"}
    fields = required_fields(resource)
    return "{" + ", ".join(f'"{name}": "{values.get(name, "x")}"' for name in fields) + "}"
