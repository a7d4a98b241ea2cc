"""Access: jurisdiction in both directions and masking.

- `jurisdiction` — what a user may see (`scope`, `jurisdiction_for`);
- `holders` — who holds a role over an area (owners, escalation tiers, alert recipients);
- `grants` — the one expansion of grants both of them read;
- `areas` — `access_area` and the way down the tree to what a user holds;
- `roles` — role sets and capabilities (`may_import`, `may_print_passes` …);
- `masking` — personal data shown in full or masked, by role, audited.
"""
