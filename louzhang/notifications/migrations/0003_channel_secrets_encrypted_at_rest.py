"""Channel addresses and signing secrets encrypted at rest with the data key (`core.crypto`):
the columns become text (a token is longer than the plain value) and the rows stored so far are
encrypted in place; backwards, they are decrypted again (which needs the key)."""

from typing import Any

from django.db import migrations

import louzhang.core.crypto

COLUMNS = ("url", "secret")


def _rows(schema_editor: Any, table: str) -> list[tuple[Any, ...]]:
    quote = schema_editor.connection.ops.quote_name
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"SELECT id, {', '.join(quote(c) for c in COLUMNS)} FROM {quote(table)}")
        return list(cursor.fetchall())


def _write(schema_editor: Any, table: str, pk: Any, values: dict[str, str]) -> None:
    quote = schema_editor.connection.ops.quote_name
    assignments = ", ".join(f"{quote(c)} = %s" for c in values)
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"UPDATE {quote(table)} SET {assignments} WHERE id = %s", [*values.values(), pk])


def encrypt_stored(apps: Any, schema_editor: Any) -> None:
    from louzhang.core.crypto import PREFIX, encrypt

    table = apps.get_model("notifications", "Channel")._meta.db_table
    for pk, *stored in _rows(schema_editor, table):
        values = {c: encrypt(v) for c, v in zip(COLUMNS, stored, strict=True)
                  if v and not v.startswith(PREFIX)}
        if values:
            _write(schema_editor, table, pk, values)


def decrypt_stored(apps: Any, schema_editor: Any) -> None:
    from louzhang.core.crypto import PREFIX, decrypt

    table = apps.get_model("notifications", "Channel")._meta.db_table
    for pk, *stored in _rows(schema_editor, table):
        values = {c: decrypt(v) for c, v in zip(COLUMNS, stored, strict=True)
                  if v and v.startswith(PREFIX)}
        if values:
            _write(schema_editor, table, pk, values)


class Migration(migrations.Migration):

    dependencies = [
        ('notifications', '0002_notifications_name_their_subject'),
    ]

    operations = [
        migrations.AlterField(
            model_name='channel',
            name='secret',
            field=louzhang.core.crypto.EncryptedTextField(blank=True, max_length=200, verbose_name='signing secret'),
        ),
        migrations.AlterField(
            model_name='channel',
            name='url',
            field=louzhang.core.crypto.EncryptedTextField(max_length=500, verbose_name='address'),
        ),
        migrations.RunPython(encrypt_stored, decrypt_stored),
    ]
