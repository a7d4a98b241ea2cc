"""Fill the Simplified Chinese catalogue from the table below, then compile it.

Run after `louzhang makemessages -l zh_Hans` (needs GNU gettext) when UI strings change:
    python scripts/translate_zh.py
A msgid missing from the table is reported and the script exits non-zero, so an untranslated
string never reaches a user unnoticed. The test suite checks the same (tests/test_i18n.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

import polib

PO = Path(__file__).resolve().parent.parent / "louzhang/locale/zh_Hans/LC_MESSAGES/django.po"

ZH = {
    "Accounts": "账户",
    "commander": "指挥员",
    "building warden": "民警楼长",
    "checkpoint officer": "卡口民警",
    "gate staff": "门岗人员",
    "unit representative": "单元代表",
    "health liaison": "卫生联络员",
    "administrator": "系统管理员",
    "name": "名称",
    "phone": "电话",
    "police unit": "公安机关",
    "police units": "公安机关",
    "user": "用户",
    "users": "用户",
    "role": "角色",
    "grant": "授权",
    "grants": "授权",
    "API token": "接口令牌",
    "API tokens": "接口令牌",
    "Account locked": "账户已锁定",
    "Too many failed log-ins": "登录失败次数过多",
    "Log-in from this address is locked for a while after repeated wrong passwords. Try again later, or ask your station's administrator to unlock it.":
        "多次输入错误密码后，此地址的登录已被暂时锁定。请稍后再试，或联系所在单位管理员解锁。",
    "Log in": "登录",
    "Log out": "退出",
    "Epidemic prevention platform of the police building wardens": "民警“楼长”疫情防控工作平台",
    "Username": "用户名",
    "Password": "密码",
    "Jurisdiction": "辖区",
    "city": "市",
    "district / banner": "区/旗/县",
    "sub-district / town": "街道/镇",
    "community": "社区",
    "compound": "小区",
    "building": "楼栋",
    "unit": "单元",
    "household": "户",
    "code": "编码",
    "level": "层级",
    "parent": "上级",
    "area": "区域",
    "areas": "区域",
    "bureau": "公安局",
    "branch": "分局",
    "police station": "派出所",
    "traffic brigade": "交警大队",
    "kind": "类别",
    "Audit log": "审计日志",
    "created": "新建",
    "changed": "修改",
    "deleted": "删除",
    "viewed in full": "查看完整信息",
    "exported": "导出",
    "logged in": "登录",
    "failed log-in": "登录失败",
    "logged out": "退出登录",
    "token created": "创建令牌",
    "token revoked": "吊销令牌",
    "time": "时间",
    "action": "操作",
    "object type": "对象类型",
    "object": "对象",
    "summary": "摘要",
    "address": "地址",
    "audit event": "审计事件",
    "audit events": "审计事件",
    "Checkpoints": "检查站",
    "road": "道路",
    "operating unit": "执勤单位",
    "24-hour": "24小时",
    "checkpoint": "检查站",
    "checkpoints": "检查站",
    "Louzhang administration": "楼长平台管理",
    "Louzhang": "楼长",
    "Core": "核心",
    "Demo city": "演示城市",
    "Population registry": "人口登记",
    "male": "男",
    "female": "女",
    "permanent resident": "常住",
    "temporary resident": "暂住",
    "tenant": "租户",
    "gender": "性别",
    "birth date": "出生日期",
    "ID number": "身份证号",
    "residency": "人员类型",
    "head of household": "户主",
    "resident": "居民",
    "residents": "居民",
    "Simplified Chinese": "简体中文",
    "English": "英语",
    "Web": "网页",
    "Police building wardens": "民警楼长",
    "Nothing here yet.": "暂无内容。",
    "Members of the household": "家庭成员",
    "Name": "姓名",
    "Gender": "性别",
    "Phone": "电话",
    "Residency": "人员类型",
    "head": "户主",
    "No residents registered.": "尚未登记居民。",
    "All actions": "全部操作",
    "Filter": "筛选",
    "Time": "时间",
    "User": "用户",
    "Action": "操作",
    "Object": "对象",
    "Address": "地址",
    "No events.": "暂无记录。",
    "Newer": "较新",
    "Older": "较早",
    "My work": "我的工作",
    "Search": "查询",
    "Find a resident": "查找居民",
    "ID number, phone or full name": "身份证号、手机号或姓名",
    "Household": "住户",
    "Nobody in your jurisdiction matches.": "辖区内没有符合的居民。",
    "Export residents (Excel)": "导出居民名单（Excel）",
    "note": "备注",
    "plate": "车牌号",
    "vehicle type": "车辆类型",
    "owner": "车主",
    "owner name": "车主姓名",
    "owner phone": "车主电话",
    "home compound": "所在小区",
    "registered since": "登记时间",
    "last left the city": "最近出城时间",
    "vehicle": "车辆",
    "vehicles": "车辆",
    "Households by area": "各区域户数",
    "No area has been assigned to you yet. Ask your station commander.":
        "您尚未分配辖区，请联系所在派出所负责人。",
}
ZH_PLURAL = {
    "%(n)s household": "%(n)s 户",
    "%(n)s resident": "%(n)s 人",
}


def main() -> int:
    catalogue = polib.pofile(str(PO))
    missing = []
    for entry in catalogue:
        if entry.obsolete:
            continue
        if entry.msgid_plural:
            if entry.msgid not in ZH_PLURAL:
                missing.append(entry.msgid)
                continue
            entry.msgstr_plural = {0: ZH_PLURAL[entry.msgid]}
        elif entry.msgid in ZH:
            entry.msgstr = ZH[entry.msgid]
        else:
            missing.append(entry.msgid)
        if "fuzzy" in entry.flags:
            entry.flags.remove("fuzzy")
    catalogue.metadata["Plural-Forms"] = "nplurals=1; plural=0;"
    catalogue.metadata["Language"] = "zh_Hans"
    catalogue.metadata["Content-Type"] = "text/plain; charset=UTF-8"
    catalogue.save()
    catalogue.save_as_mofile(str(PO.with_suffix(".mo")))
    for msgid in missing:
        print(f"untranslated: {msgid!r}", file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
