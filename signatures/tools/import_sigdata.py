#!/usr/bin/env python3
"""Regenerates the imported parts of the signature database from ../shared/sigdata.

    python3 signatures/tools/import_sigdata.py [SIGDATA_DIR]

Writes (relative to signatures/):
  sdks/exodus.json        all Exodus trackers (ODbL-1.0), owner resolved from
                          sdks/exodus_owners.tsv, else from the owner of the tracker's
                          own website when it bears the tracker's name (never from the
                          hosts it talks to); code signatures narrowed by
                          sdks/exodus_narrowed.tsv
  entities/imported.tsv   owners and parents from the GPL-3.0 ownership data sets
                          (TrackerControl X-Ray 2020, webXray), except those that
                          entities/curated.tsv already names (by alias)
  domains/imported.tsv    domain -> entity from the same data sets

Hand-curated files (entities/curated.tsv, sdks/exodus_owners.tsv, sdks/*.json other
than exodus.json, domains/curated.tsv, publishers.tsv) are read, never written.
Standard library only; output is sorted so that a re-run gives the same bytes.
"""
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SIGS = os.path.dirname(HERE)
DEFAULT_SIGDATA = os.path.join(SIGS, "..", "..", "shared", "sigdata")

CATEGORY = {
    "Advertisement": "advertising",
    "Analytics": "analytics",
    "Crash reporting": "crash-reporting",
    "Identification": "identification",
    "Location": "location",
    "Profiling": "profiling",
}
# X-Ray uses "uk"; ISO 3166-1 alpha-2 is GB.
COUNTRY_FIX = {"UK": "GB"}


def slug(name):
    s = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return s or "unnamed"


def country(code):
    if not code:
        return None
    c = code.strip().upper()
    c = COUNTRY_FIX.get(c, c)
    return c if re.fullmatch(r"[A-Z]{2}", c) else None


def read_tsv(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            rows.append([c.strip() for c in line.split("\t")])
    return rows


def registrable(host):
    """Last two labels, or three under a two-letter second-level ccTLD zone
    (good enough for the data sets' own domains, which are registrable already)."""
    labels = host.strip(".").lower().split(".")
    if len(labels) >= 3 and labels[-2] in ("co", "com", "net", "org", "gov", "ac", "edu") and len(labels[-1]) == 2:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def names_match(tracker, entity):
    """A word of four or more letters shared by the tracker's and the entity's names."""
    words = lambda n: {w for w in re.split(r"[^a-z0-9]+", n.lower()) if len(w) >= 4}
    return bool(words(tracker) & words(entity))


def network_domains(sig):
    """Literal domains of an Exodus network_signature (`a\\.b\\.com|c\\.net`);
    alternatives that are real regexes are returned separately."""
    domains, regexes = [], []
    for alt in (sig or "").split("|"):
        if not alt:
            continue
        lit = alt.replace("\\.", ".").replace("\\-", "-")
        if re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)+", lit):
            domains.append(lit)
        else:
            regexes.append(alt)
    return domains, regexes


def main():
    sigdata = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_SIGDATA
    curated = read_tsv(os.path.join(SIGS, "entities", "curated.tsv"))
    curated_ids = {r[0] for r in curated}
    alias = {}
    for r in curated:
        alias[slug(r[1])] = r[0]
        alias[r[0]] = r[0]
        for a in (r[4] if len(r) > 4 else "").split("|"):
            if a.strip():
                alias[slug(a)] = r[0]

    def resolve(name):
        s = slug(name)
        return alias.get(s, s)

    # ---- ownership data sets (GPL-3.0) -> entities and domains
    entities = {}  # id -> [name, parent, country, source]
    domains = {}  # domain -> (entity, source)

    def add_entity(eid, name, parent, cc, source):
        if eid in curated_ids:
            return
        cur = entities.get(eid)
        if cur is None:
            entities[eid] = [name, parent or "", cc or "", source]
        else:
            if not cur[1] and parent:
                cur[1] = parent
            if not cur[2] and cc:
                # The country comes from the entity's own record: cite that.
                cur[2] = cc
                cur[3] = source

    xray = json.load(open(os.path.join(sigdata, "ownership", "trackercontrol_xray-blacklist.json")))
    for r in xray:
        cc = country(r.get("country"))
        owner = resolve(r["owner_name"])
        parent = resolve(r["parent"]) if r.get("parent") else None
        root = resolve(r["root_parent"]) if r.get("root_parent") else None
        if parent == owner:
            parent = None
        src = "TrackerControl X-Ray 2020 (GPL-3.0)"
        add_entity(owner, r["owner_name"], parent, cc, src)
        # The record's country is the owner's: a parent named here gets no
        # country from it (Sony is not British because a subsidiary is).
        if parent:
            add_entity(parent, r["parent"], root if root and root != parent else None, None, src + ", named as a parent")
        if root and root != parent and root != owner:
            add_entity(root, r["root_parent"], None, None, src + ", named as a parent")
        for d in r.get("doms", []):
            if "." in d:
                domains.setdefault(d.lower(), (owner, "xray"))

    webx = json.load(open(os.path.join(sigdata, "ownership", "webxray_domain_owners.json")))
    by_id = {r["id"]: r for r in webx}
    for r in webx:
        cc = country(r.get("country"))
        owner = resolve(r["owner_name"])
        parent = resolve(by_id[r["parent_id"]]["owner_name"]) if r.get("parent_id") in by_id else None
        if parent == owner:
            parent = None
        add_entity(owner, r["owner_name"], parent, cc, "webXray domain_owners.json (GPL-3.0)")
        for d in r.get("domains", []):
            if "." in d:
                domains.setdefault(d.lower(), (owner, "webxray"))

    # A parent never takes a subsidiary's country: one with no country of its
    # own (in these data sets or entities/curated.tsv) is dropped below, and
    # its subsidiaries keep their own country without a parent link.
    known = set(entities) | curated_ids
    # Entities without a country cannot answer "where": keep them out, with their domains.
    dropped = {eid for eid, e in entities.items() if not e[2]}
    for eid in dropped:
        del entities[eid]
    known -= dropped
    for eid, e in entities.items():
        if e[1] not in known:
            e[1] = ""
    domains = {d: v for d, v in domains.items() if v[0] in known}

    # ---- Exodus trackers (ODbL-1.0)
    owners = {int(r[0]): (r[1], r[2]) for r in read_tsv(os.path.join(SIGS, "sdks", "exodus_owners.tsv"))}
    narrowed = {int(r[0]): (r[1], r[2]) for r in read_tsv(os.path.join(SIGS, "sdks", "exodus_narrowed.tsv"))}
    trackers = json.load(open(os.path.join(sigdata, "exodus", "trackers.json")))["trackers"]
    sdks = []
    for key in sorted(trackers, key=lambda k: int(k)):
        t = trackers[key]
        tid = int(t["id"])
        nd, nre = network_domains(t.get("network_signature"))
        # Owners come from exodus_owners.tsv, else from the owner of the
        # tracker's own website when that owner bears the tracker's name.
        # Where a tracker's hosts are served from (a CDN, an ad exchange it
        # buys from) says nothing about who owns the tracker: never used.
        owner, owner_src = owners.get(tid, (None, None))
        site = re.sub(r"^https?://(www\.)?", "", t.get("website") or "").split("/")[0].lower()
        reg = registrable(site) if site else None
        if owner is None and reg in domains and names_match(t["name"], entities.get(domains[reg][0], [""])[0]):
            owner = domains[reg][0]
            owner_src = "owner of the tracker's website %s in %s (same name)" % (reg, domains[reg][1])
        sdks.append({
            "id": "exodus-%d" % tid,
            "exodus_id": tid,
            "name": t["name"],
            "owner": owner,
            "owner_source": owner_src,
            "categories": sorted(CATEGORY.get(c, slug(c)) for c in t.get("categories") or []),
            "code_signature": narrowed[tid][0] if tid in narrowed else (t.get("code_signature") or ""),
            "network_signature": t.get("network_signature") or "",
            "domains": sorted(set(nd)),
            "website": t.get("website") or "",
            "source": "Exodus Privacy tracker #%d (created %s)%s" % (
                tid, t.get("creation_date") or "?",
                "; code signature narrowed: " + narrowed[tid][1] if tid in narrowed else ""),
        })

    out = {
        "licence": "ODbL-1.0: derived from the Exodus Privacy trackers database "
                   "(https://reports.exodus-privacy.eu.org/), see ../LICENSE-ODbL",
        "generated_by": "tools/import_sigdata.py",
        "sdks": sdks,
    }
    with open(os.path.join(SIGS, "sdks", "exodus.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1, ensure_ascii=False, sort_keys=True)
        f.write("\n")

    with open(os.path.join(SIGS, "entities", "imported.tsv"), "w", encoding="utf-8") as f:
        f.write("# Generated by tools/import_sigdata.py from the GPL-3.0 ownership data sets; do not edit.\n")
        f.write("# id\tname\tparent\tcountry\taliases\tsource\n")
        for eid in sorted(entities):
            n, p, c, s = entities[eid]
            f.write("\t".join([eid, n, p, c, "", s]) + "\n")

    with open(os.path.join(SIGS, "domains", "imported.tsv"), "w", encoding="utf-8") as f:
        f.write("# Generated by tools/import_sigdata.py from the GPL-3.0 ownership data sets; do not edit.\n")
        f.write("# domain\tentity\tsource\n")
        for d in sorted(domains):
            f.write("%s\t%s\t%s\n" % (d, domains[d][0], domains[d][1]))

    owned = sum(1 for s in sdks if s["owner"])
    print("exodus: %d trackers, %d with an owner; entities: %d imported (+%d curated), %d dropped without country; domains: %d"
          % (len(sdks), owned, len(entities), len(curated_ids), len(dropped), len(domains)))


if __name__ == "__main__":
    main()
