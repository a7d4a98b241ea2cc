"""Care tags (关怀标签): imported from the words communities use, shown to the warden, hidden
from gate staff and volunteers like any other health information."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook

from louzhang.identifiers import IdentifierError
from louzhang.registry.care import care_labels, parse_care_tags
from louzhang.registry.importing.residents import import_residents
from louzhang.registry.models import Resident
from tests.conftest import BAOLI_34_2_6W, web_client
from tests.test_import_residents import HEADER, LI, ZHANG, rejects, xlsx

pytestmark = pytest.mark.usefixtures("english")


@pytest.mark.parametrize(("raw", "codes"), [
    ("独居老人、高血压", "chronic,elderly_alone"),
    ("孕妇", "pregnant"),
    ("残疾人，行动不便", "bedridden,disabled"),
    ("  ", ""), ("无", ""), (None, ""),
])
def test_the_words_communities_write(raw, codes):
    assert parse_care_tags(raw) == codes


def test_an_unknown_word_is_named():
    with pytest.raises(IdentifierError, match="VIP"):
        parse_care_tags("独居老人、VIP")


@pytest.mark.django_db
def test_imported_kept_when_the_column_is_absent_and_rejected_when_unknown(tmp_path):
    header = [*HEADER, "关怀标签"]
    path = xlsx(tmp_path / "care.xlsx", [
        header,
        [1, "张建国", "男", ZHANG, "13812345678", "保利百合", 34, 2, 702, "常住", "", "", "独居老人、高血压"],
        [2, "李秀英", "女", LI, "", "保利百合", 34, 2, 701, "常住", "", "", "会员"],
    ])
    summary = import_residents(path, rejects_path=tmp_path / "r.csv")
    assert summary.created == 1 and summary.rejected == 1
    assert Resident.objects.get(id_number=ZHANG).care_tags == "chronic,elderly_alone"
    [bad] = rejects(summary)
    assert bad["错误列"] == "关怀标签" and "会员" in bad["错误原因"]

    without = xlsx(tmp_path / "phones.xlsx", [
        HEADER, [1, "张建国", "男", ZHANG, "13812345679", "保利百合", 34, 2, 702, "常住", "", ""],
    ])
    assert import_residents(without).updated == 1
    assert Resident.objects.get(id_number=ZHANG).care_tags == "chronic,elderly_alone"


@pytest.mark.django_db
def test_the_warden_sees_care_tags_and_gate_staff_do_not(warden, gate, tmp_path):
    person = Resident.objects.filter(household__code=BAOLI_34_2_6W).first()
    person.care_tags = "elderly_alone"
    person.save(update_fields=["care_tags"])
    page = web_client(warden).get(f"/areas/{BAOLI_34_2_6W}/").content.decode()
    assert "独居老人" in page
    masked = web_client(gate).get(f"/areas/{BAOLI_34_2_6W}/").content.decode()
    assert "独居老人" not in masked and 'data-field="care_tags">***' in masked


@pytest.mark.django_db
def test_exported_as_words(warden, tmp_path):
    from louzhang.areas.models import Area
    from louzhang.registry.exports import export_residents

    person = Resident.objects.filter(household__code=BAOLI_34_2_6W).first()
    person.care_tags = "chronic,pregnant"
    person.save(update_fields=["care_tags"])
    path = tmp_path / "x.xlsx"
    from django.utils import translation

    with translation.override("zh-hans"):  # as a Chinese user downloads it
        path.write_bytes(export_residents(warden, Area.objects.get(code=BAOLI_34_2_6W)))
    rows = list(load_workbook(path).active.values)
    column = rows[0].index("关怀标签")
    assert "慢性病、孕产妇" in [r[column] for r in rows[1:]]
    assert care_labels("chronic,pregnant") == ["chronic illness", "pregnant"]
