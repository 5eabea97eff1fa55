#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Independent reader for TensorBoard event files, written for the tests.

Decodes TFRecord framing, checks both masked CRC32C values of every record
(table-driven CRC, unlike the writer's bitwise loop) and decodes the Event,
Summary and Value protobuf fields generically (any wire type), so that a
writer bug in framing or field numbering shows up as a failure here.
Prints one JSON object per event.
"""
import json
import struct
import sys


def crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


TABLE = crc32c_table()


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def masked(c):
    return ((((c >> 15) | (c << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def varint(buf, pos):
    shift = result = 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def fields(buf):
    """Yield (field number, wire type, value) for a protobuf message."""
    pos = 0
    while pos < len(buf):
        key, pos = varint(buf, pos)
        num, wire = key >> 3, key & 7
        if wire == 0:
            val, pos = varint(buf, pos)
        elif wire == 1:
            val = buf[pos:pos + 8]
            pos += 8
        elif wire == 2:
            n, pos = varint(buf, pos)
            val = buf[pos:pos + n]
            pos += n
        elif wire == 5:
            val = buf[pos:pos + 4]
            pos += 4
        else:
            raise ValueError("unsupported wire type %d" % wire)
        if pos > len(buf):
            raise ValueError("truncated field %d" % num)
        yield num, wire, val


def decode_event(data):
    event = {}
    for num, wire, val in fields(data):
        if num == 1 and wire == 1:
            event["wall_time"] = struct.unpack("<d", val)[0]
        elif num == 2 and wire == 0:
            event["step"] = val
        elif num == 3 and wire == 2:
            event["file_version"] = val.decode()
        elif num == 5 and wire == 2:
            values = []
            for vnum, vwire, vval in fields(val):
                if vnum != 1 or vwire != 2:
                    raise ValueError("unexpected Summary field %d" % vnum)
                tag, simple = None, None
                for f, w, x in fields(vval):
                    if f == 1 and w == 2:
                        tag = x.decode()
                    elif f == 2 and w == 5:
                        simple = struct.unpack("<f", x)[0]
                values.append({"tag": tag, "simple_value": simple})
            event["summary"] = values
        else:
            raise ValueError("unexpected Event field %d wire %d" % (num, wire))
    return event


def read(path):
    with open(path, "rb") as f:
        blob = f.read()
    pos, events = 0, []
    while pos < len(blob):
        if pos + 12 > len(blob):
            raise ValueError("truncated record header at %d" % pos)
        head = blob[pos:pos + 8]
        (length,) = struct.unpack("<Q", head)
        (lcrc,) = struct.unpack("<I", blob[pos + 8:pos + 12])
        if lcrc != masked(crc32c(head)):
            raise ValueError("bad length CRC at %d" % pos)
        data = blob[pos + 12:pos + 12 + length]
        (dcrc,) = struct.unpack("<I", blob[pos + 12 + length:pos + 16 + length])
        if len(data) != length or dcrc != masked(crc32c(data)):
            raise ValueError("bad data CRC at %d" % pos)
        events.append(decode_event(data))
        pos += 16 + length
    return events


if __name__ == "__main__":
    for ev in read(sys.argv[1]):
        print(json.dumps(ev, sort_keys=True))
