#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Edit a disco session file the way damage or an attacker would (tests).

Reads and writes the block framing of docs/session-format.md (versions 2
to 4) with valid CRCs unless the edit is the damage itself.

  session_edit.py IN OUT list
  session_edit.py IN OUT bomb COUNT      IN's blocks before the SUMMARY, then
                                         COUNT STATE blocks inflating to 64 MiB
                                         of {"a":[{},{},...]} (zlib level 9)
  session_edit.py IN OUT items | deep | big COUNT
                                         the same with blocks just under the
                                         byte limit: too many items, nested
                                         too deep, or many fine ones (whole-
                                         file budget)
  session_edit.py IN OUT delete I | dup I | swap I J | flip-len I | flip-data I
"""
import struct
import sys
import zlib

V3_MAGIC = b'DBLK'
STATE, SUMMARY = 3, 4


def parse(b):
    ver = struct.unpack_from('<I', b, 8)[0]
    off, blocks = 16, []
    while off < len(b):
        if ver >= 3:
            _, t, seq, raw, comp, _, _ = struct.unpack_from('<4sIIIIII', b, off)
            h = 28
        else:
            t, raw, comp, _ = struct.unpack_from('<IIII', b, off)
            seq, h = None, 16
        blocks.append({'type': t, 'seq': seq, 'off': off,
                       'bytes': b[off:off + h + comp]})
        off += h + comp
    return ver, blocks


def frame(ver, t, seq, raw_len, data):
    if ver >= 3:
        h = struct.pack('<4sIIIII', V3_MAGIC, t, seq, raw_len, len(data),
                        zlib.crc32(data))
        return h + struct.pack('<I', zlib.crc32(h)) + data
    h = struct.pack('<III', t, raw_len, len(data))
    return h + struct.pack('<I', zlib.crc32(data, zlib.crc32(h))) + data


def json_block(ver, seq, text):
    raw = text.encode()
    return frame(ver, STATE, seq, len(raw), zlib.compress(raw, 9))


def main():
    src, dst, op = sys.argv[1], sys.argv[2], sys.argv[3]
    args = [int(a) for a in sys.argv[4:]]
    b = open(src, 'rb').read()
    ver, blocks = parse(b)
    if op == 'list':
        for i, k in enumerate(blocks):
            print(i, k['type'], k['seq'], k['off'], len(k['bytes']))
        return
    out = [k['bytes'] for k in blocks]
    if op in ('bomb', 'items', 'deep', 'big'):
        keep = [k for k in blocks if k['type'] != SUMMARY]
        out = [k['bytes'] for k in keep]
        seq = len(keep)
        if op == 'bomb':
            text = '{"a":[' + '{},' * 22000000 + '{}]}'
        elif op == 'items':
            text = '{"a":[' + '{},' * 5000000 + '{}]}'
        elif op == 'deep':
            text = '{"a":' + '[' * 100000 + ']' * 100000 + '}'
        else:
            text = '{"a":"' + 'x' * (15 << 20) + '"}'
        blk = json_block(ver, 0, text)
        for i in range(args[0]):
            if ver >= 3:
                blk = json_block(ver, seq + i, text) if i == 0 else \
                    frame(ver, STATE, seq + i, len(text), blk[28:])
            out.append(blk)
    elif op == 'delete':
        del out[args[0]]
    elif op == 'dup':
        out.insert(args[0] + 1, out[args[0]])
    elif op == 'swap':
        out[args[0]], out[args[1]] = out[args[1]], out[args[0]]
    elif op == 'flip-len':
        # the high bit of comp_len, CRCs left as they were
        k = bytearray(out[args[0]])
        k[19 if ver >= 3 else 11] ^= 0x80
        out[args[0]] = bytes(k)
    elif op == 'flip-data':
        k = bytearray(out[args[0]])
        k[(28 if ver >= 3 else 16) + 5] ^= 0x01
        out[args[0]] = bytes(k)
    else:
        sys.exit('unknown edit ' + op)
    open(dst, 'wb').write(b[:16] + b''.join(out))


if __name__ == '__main__':
    main()
