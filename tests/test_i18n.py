"""Every UI string has its Chinese text, and the compiled catalogue matches the source."""

from __future__ import annotations

from pathlib import Path

import polib

import louzhang

PO = Path(louzhang.__file__).parent / "locale/zh_Hans/LC_MESSAGES/django.po"


def test_every_string_is_translated():
    catalogue = polib.pofile(str(PO))
    untranslated = [e.msgid for e in catalogue.untranslated_entries()]
    fuzzy = [e.msgid for e in catalogue.fuzzy_entries()]
    assert not untranslated and not fuzzy


def test_compiled_catalogue_is_current():
    source = {(e.msgid, e.msgstr or str(e.msgstr_plural)) for e in polib.pofile(str(PO)) if not e.obsolete}
    compiled = {(e.msgid, e.msgstr or str(e.msgstr_plural)) for e in polib.mofile(str(PO.with_suffix(".mo")))}
    assert source - compiled == set(), "run scripts/translate_zh.py to recompile"
