#!/usr/bin/env python3
"""Applies a build log's PublicApiAnalyzers findings to the PublicAPI.Unshipped.txt files it names: a public symbol
not declared yet (RS0016) is added, a declared one that is gone or no longer public (RS0017) is removed, and each list
is kept in the analyzer's own order (case-insensitive). The symbol text is the analyzer's, from its message. Prints
what changed; exits 0 when something changed, 1 when nothing did (the lists agree with the build)."""
import collections, os, re, sys

FINDING = re.compile(r"^(?P<file>/\S+?)\(\d+,\d+\): error (?P<rule>RS001[67]): Symbol '(?P<symbol>.*)' is (?:not )?part of the declared")
added, removed = collections.defaultdict(set), collections.defaultdict(set)
for line in open(sys.argv[1], encoding="utf-8"):
    m = FINDING.match(line)
    if not m:
        continue
    project = re.search(r"\[(\S+\.csproj)\]\s*$", line)
    if m["rule"] == "RS0016" and project:
        added[os.path.join(os.path.dirname(project[1]), "PublicAPI.Unshipped.txt")].add(m["symbol"])
    elif m["rule"] == "RS0017" and m["file"].endswith("PublicAPI.Unshipped.txt"):
        removed[m["file"]].add(m["symbol"])

changed = False
for path in sorted(set(added) | set(removed)):
    lines = [l for l in open(path, encoding="utf-8").read().splitlines() if l and not l.startswith("#")]
    kept = set(lines) - removed[path] | added[path]
    body = sorted(kept, key=str.upper)
    open(path, "w", encoding="utf-8").write("#nullable enable\n" + "".join(l + "\n" for l in body))
    print(f"{os.path.relpath(path)}: +{len(added[path] - set(lines))} -{len(removed[path] & set(lines))}")
    changed |= bool(added[path] - set(lines)) or bool(removed[path] & set(lines))
sys.exit(0 if changed else 1)
