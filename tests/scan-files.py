#!/usr/bin/env python3
"""Exits 1 when any file under DIR holds any of the given strings (as UTF-8 bytes).

Usage: scan-files.py DIR STRING... ; prints each hit as "path: string".
"""
import os
import sys

root, needles = sys.argv[1], [s.encode() for s in sys.argv[2:]]
hits = 0
for dirpath, _, names in os.walk(root):
    for name in names:
        path = os.path.join(dirpath, name)
        try:
            data = open(path, "rb").read()
        except OSError:
            continue
        for n in needles:
            if n in data:
                print("%s: %s" % (path, n.decode(errors="replace")))
                hits += 1
sys.exit(1 if hits else 0)
