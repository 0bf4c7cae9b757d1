#!/usr/bin/python3
"""Writes the binary fixtures of the reading tests; run from this folder, the outputs are
checked in.

reads.xlsx: openpyxl's workbook as a spreadsheet program saves one: inline strings, date cells
(day serials with a date style), binary floats with their noise (660.0000000000001).
reads_shared.xlsx: the same sheet with shared strings (xl/sharedStrings.xml, as Excel and WPS
write them), a rich-text run and a phonetic run (<rPh>) that is not part of the text.
reads_gbk.csv: reads_utf8.csv with Chinese headers, GBK-encoded, CRLF line ends.
"""
import datetime
import re
import zipfile

import openpyxl

wb = openpyxl.Workbook()
ws = wb.active
ws.title = "12月抄表"
ws.append(["计量点编号", "抄表日期", "总(kWh)", "峰(kWh)", "谷(kWh)"])
ws.append(["MP-A001", datetime.date(2026, 12, 25), 700.5, 420.3, 280.2])
ws.append(["MP-A002", datetime.date(2026, 12, 25), 1100, 660.0000000000001, 440])
ws.append(["MP-A003", datetime.date(2026, 12, 25), 200, 120, 80])
wb.save("reads.xlsx")

# Shared strings: every inline string becomes an index into xl/sharedStrings.xml.
with zipfile.ZipFile("reads.xlsx") as src:
    parts = {name: src.read(name) for name in src.namelist()}
sheet = parts["xl/worksheets/sheet1.xml"].decode()
strings = []


def shared(match):
    strings.append(match.group(2))
    return '<c r="%s" t="s"><v>%d</v></c>' % (match.group(1), len(strings) - 1)


sheet = re.sub(r'<c r="([A-Z]+[0-9]+)" t="inlineStr"><is><t>(.*?)</t></is></c>', shared, sheet)
items = []
for i, s in enumerate(strings):
    if i == 0:  # a rich-text header with a phonetic run
        items.append('<si><r><t>计量点</t></r><r><rPr><b/></rPr><t>编号</t></r>'
                     '<rPh sb="0" eb="2"><t>けいりょう</t></rPh></si>')
    else:
        items.append("<si><t>%s</t></si>" % s)
parts["xl/worksheets/sheet1.xml"] = sheet.encode()
parts["xl/sharedStrings.xml"] = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="%d" '
    'uniqueCount="%d">%s</sst>' % (len(items), len(items), "".join(items))).encode()
parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
    b"</Types>",
    b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
    b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
    b"</Relationships>",
    b'<Relationship Id="rId99" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>')
with zipfile.ZipFile("reads_shared.xlsx", "w", zipfile.ZIP_DEFLATED) as out:
    for name, data in parts.items():
        out.writestr(name, data)

with open("reads_utf8.csv", encoding="utf-8") as f:
    lines = f.read().splitlines()
header = "计量点编号,抄表日期,电费年月,总,峰,谷\r\n"
body = "".join(line + "\r\n" for line in lines[1:])
with open("reads_gbk.csv", "wb") as f:
    f.write((header + body).encode("gbk"))
