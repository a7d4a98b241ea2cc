"""Break-the-glass (破窗查询): a look-up outside the jurisdiction, with a stated reason, for a
limited time, audited and reported to the commanders of the area looked into.

The rule (how it is enforced, and why it widens nothing else):

- A look-up opens nothing in the access layer. No grant is made and no role is added:
  `access.jurisdiction.scope`/`jurisdiction_for`, `access.areas.access_area`, holders,
  capabilities and every page and API call of the other domains answer exactly as before —
  the household's page (`/areas/<code>/`), the car's page, `/api/v1/areas/<code>`,
  `/api/v1/vehicles/<plate>`, its follow-ups, visits, gate records, exports stay 404 to the
  officer, and the officer appears in no list of wardens, holders, escalation targets,
  on-post counts or rosters.
- What a look-up found is shown on one page only, `breakglass.views.look_up_detail`
  (`/look-ups/<id>/`), to the officer who made it, while it is open (`LookUp.until`, not ended
  early): read-only (no form there but "end now"), only what was looked up — the resident of
  the ID number (not the rest of the household, nor any car), or the car of the plate and its
  owner — with the address and who answers for it, every personal field masked as for gate
  staff except the ID number or plate the officer typed. After `until` it is a 404.
- An officer makes at most `LOUZHANG_BREAK_GLASS_PER_DAY` look-ups (default 10) in any 24
  hours: plates can be guessed, and each look-up alerts commanders.
- Each look-up is a `LookUp` row (who, when, why, what was typed, what it opened, until when —
  a car's plate kept should the car be deleted), an audit event per area opened (the ID number
  masked in it; the city when nothing was found), and a line in the inbox
  (and the channels serving commanders) of every commander over each area opened.
"""
