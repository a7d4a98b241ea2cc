"""The tip rule: every tip becomes a follow-up for the warden who must verify it."""
