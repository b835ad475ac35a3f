#!/usr/bin/env python3
# Synthetic recall benchmark for the conversation-memory retriever (tests/memory/).
#
# Writes long multi-session conversations (3 English, 1 Russian, 1 Chinese) as JSONL in the
# import format of `longctx` memory ({"role", "content", "name", "time"}), with facts planted at
# known turns among template-built chit-chat and lexical distractors, and questions.json: questions
# that name each fact only indirectly (kinds: paraphrase, word-form, date, speaker, multi-hop,
# answer-in-reply) with the ids (0-based positions in the file) of the turns holding the answer.
# The retriever is measured by recall@k of those evidence turns.
#
# Python 3 standard library only; the output depends only on --seed:
#   python3 tools/memory_bench_make.py --out /tmp/membench [--seed 1]
# The committed fixture tests/memory/data/recall_bench.tar.zst is that directory tarred and
# compressed with `zstd -19` (see tests/memory/data/README.md).
import argparse
import json
import os
import random
import re
from collections import Counter, defaultdict
from datetime import datetime, timedelta

KINDS = ("paraphrase", "word-form", "date", "speaker", "multi-hop", "answer-in-reply")


class D(dict):
    """dict with attribute access, for slot values with several forms (cases, pronouns)."""
    __getattr__ = dict.__getitem__


class Speaker:
    def __init__(self, name, role, g, forms=None):
        self.name, self.role, self.g = name, role, g
        self.forms = D(forms or {"nom": name})
        self.ctx = {}  # per-speaker filler slots (my_pet, my_partner, ...)


# ---------------------------------------------------------------------------------------------
# Template filling: {slot}, {slot2} (a second, different value of the same pool), {slot.form}
# (one form of a value with several: a case, a pronoun). One value per slot per call; the
# values may hold slots themselves (filled again).

SLOT = re.compile(r"\{([a-zA-Z_]+?)(\d?)(?:\.([a-zA-Z_]+))?\}")


def fill(rng, tpl, pools, ctx, cache=None):
    cache = {} if cache is None else cache

    def rep(m):
        base, idx, form = m.group(1), m.group(2), m.group(3)
        key = base + idx
        if key in ctx:
            v = ctx[key]
        elif key in cache:
            v = cache[key]
        else:
            pool = pools[base]
            others = [cache[k] for k in cache if k.rstrip("0123456789") == base]
            for _ in range(20):
                v = rng.choice(pool)
                if v not in others:
                    break
            cache[key] = v
        if isinstance(v, dict):
            v = v[form or "nom"]
        return v

    for _ in range(4):
        if "{" not in tpl:
            break
        tpl = SLOT.sub(rep, tpl)
    return tpl


def cap(s):
    return s[:1].upper() + s[1:] if s else s


# ---------------------------------------------------------------------------------------------
# Facts. A fact template is a function of a FactCtx returning F: parts (one or, for multi-hop,
# two lists of (who, text) turns placed in different sessions; who is "S" the fact's speaker or
# "O" the one who asks), questions (kind, text, evidence) where evidence is None (every turn of
# every part) or a list of (part, index), distractor texts (spoken by others, elsewhere) and the
# reaction the next speaker may give ("good", "bad", None).


class F:
    def __init__(self, parts, qs, distract=(), react=None):
        self.parts, self.qs, self.distract, self.react = parts, qs, list(distract), react


class FactCtx:
    def __init__(self, rng, conv, S, O):
        self.rng, self.conv, self.pack = rng, conv, conv.pack
        self.Sp, self.Op = S, O
        self.S, self.O = S.name, O.name
        self.Sf, self.Of = S.forms, O.forms

    def choice(self, seq):
        return self.rng.choice(seq)

    def pick(self, pool):
        """A value of the pool not yet used by another fact of this conversation if possible."""
        vals = self.conv.pools[pool]
        used = self.conv.used[pool]
        fresh = [v for v in vals if json.dumps(v, sort_keys=True) not in used]
        v = self.rng.choice(fresh or vals)
        used.add(json.dumps(v, sort_keys=True))
        return D(v) if isinstance(v, dict) else v

    def any(self, pool):
        v = self.rng.choice(self.conv.pools[pool])
        return D(v) if isinstance(v, dict) else v

    def person(self, g=None):
        for _ in range(200):
            p = self.pick("name")
            if g is None or p["g"] == g:
                return p
        return p

    def other(self, *not_these, g=None):
        """Any third party of the conversation other than the given ones (for distractors)."""
        names = {p["nom"] for p in not_these}
        return D(self.rng.choice([p for p in self.conv.pools["name"]
                                  if p["nom"] not in names and (g is None or p["g"] == g)]))

    def rel(self, g=None):
        """A relative or acquaintance of S: (relation, person of the relation's gender)."""
        rels = [r for r in self.pack.RELS if g is None or r["g"] == g]
        r = D(self.rng.choice(rels))
        return r, self.person(r["g"])


# ---------------------------------------------------------------------------------------------
# Conversation building.


class Conv:
    def __init__(self, cfg, pack, rng):
        self.cfg, self.pack, self.rng = cfg, pack, rng
        self.name = cfg["name"]
        self.speakers = [Speaker(*s) for s in cfg["speakers"]]
        for s in self.speakers:
            s.forms = D(pack.person(s.name, s.g))
        self.humans = [s for s in self.speakers if s.role == "user"]
        self.asst = next((s for s in self.speakers if s.role == "assistant"), None)
        self.pools = pack.make_pools(rng, cfg, self.speakers)
        self.used = defaultdict(set)
        self.recent = set()  # filler templates used in the current session
        pack.make_profiles(rng, self)

    # -- sessions: runs of 10-40 turns at one date, days or weeks apart over 1-2 years
    def skeleton(self):
        rng, target = self.rng, self.cfg["turns"]
        lens = []
        while sum(lens) < target:
            lens.append(rng.randint(10, 40))
        extra = sum(lens) - target
        while extra > 0:
            i = rng.randrange(len(lens))
            if lens[i] > 10:
                lens[i] -= 1
                extra -= 1
        span = rng.randint(420, 700)
        gaps = [max(1.0, rng.expovariate(1.0)) for _ in lens[1:]]
        scale = span / sum(gaps)
        day = datetime.strptime(self.cfg["start"], "%Y-%m-%d")
        dates = [day]
        for g in gaps:
            day = day + timedelta(days=max(1, min(45, round(g * scale))))
            dates.append(day)
        sessions = []
        for L, d in zip(lens, dates):
            if self.asst:
                parts = [self.asst] + rng.sample(self.humans, 1 if rng.random() < 0.8 else len(self.humans))
            else:
                k = rng.randint(2, len(self.humans))
                parts = rng.sample(self.humans, k)
            start = d.replace(hour=rng.randint(7, 20), minute=rng.randint(0, 59))
            sessions.append({"len": L, "date": start, "parts": parts, "blocks": []})
        self.sessions = sessions

    def make_facts(self):
        rng, pack, n = self.rng, self.pack, self.cfg["facts"]
        n_multi = max(3, round(n * 0.13))
        single = [t for t in pack.FACTS if self.asst or not getattr(t, "assistant", False)]
        multi = list(pack.MULTI)
        order = []
        while len(order) < n - n_multi:
            rng.shuffle(single)
            order += single
        order = order[: n - n_multi]
        mo = []
        while len(mo) < n_multi:
            rng.shuffle(multi)
            mo += multi
        order += mo[:n_multi]
        rng.shuffle(order)
        self.facts = []
        used_by = set()
        for t in order:
            if getattr(t, "assistant", False):
                S = self.asst
                O = rng.choice(self.humans)
            else:
                fresh = [h for h in self.humans if (t.__name__, h.name) not in used_by]
                S = rng.choice(fresh or self.humans)
                used_by.add((t.__name__, S.name))
                others = [s for s in self.speakers if s is not S]
                O = self.asst if self.asst and rng.random() < 0.7 else rng.choice(others)
            f = t(FactCtx(rng, self, S, O))
            f.tid, f.S, f.O = t.__name__, S, O
            self.facts.append(f)

    def place(self):
        rng, ns = self.rng, len(self.sessions)
        load = Counter()
        for fi, f in enumerate(self.facts):
            if len(f.parts) == 1:
                cands = [s for s in range(1, ns) if load[s] < 2] or list(range(ns))
                where = [rng.choice(cands)]
            else:
                gap = max(8, ns // 4)
                s1 = rng.choice([s for s in range(0, int(ns * 0.6)) if load[s] < 2])
                s2 = rng.choice([s for s in range(s1 + gap, ns) if load[s] < 2])
                where = [s1, s2]
            f.sessions = where
            for pi, s in enumerate(where):
                load[s] += 1
                sess = self.sessions[s]
                for sp in (f.S, f.O):
                    if sp not in sess["parts"]:
                        sess["parts"].append(sp)
                turns = []
                for ti, (who, text) in enumerate(f.parts[pi]):
                    turns.append((f.S if who == "S" else f.O, text, (fi, pi, ti)))
                if pi == len(f.parts) - 1 and f.react and rng.random() < 0.55:
                    last = turns[-1][0]
                    cand = [p for p in sess["parts"] if p is not last]
                    if cand:
                        sp = rng.choice(cand)
                        turns.append((sp, self.pack.reaction(rng, self, sp, f.react), None))
                sess["blocks"].append(turns)
        # distractors: other sessions, another month than the fact, spoken by others than S
        for fi, f in enumerate(self.facts):
            months = {(self.sessions[s]["date"].year, self.sessions[s]["date"].month) for s in f.sessions}
            for text in f.distract:
                cands = [s for s in range(ns) if s not in f.sessions and load[s] < 4
                         and (self.sessions[s]["date"].year, self.sessions[s]["date"].month) not in months]
                if not cands:
                    continue
                s = rng.choice(cands)
                load[s] += 1
                sess = self.sessions[s]
                sp = rng.choice([p for p in sess["parts"] if p is not f.S and p.role == "user"]
                                or [p for p in self.humans if p is not f.S])
                if sp not in sess["parts"]:
                    sess["parts"].append(sp)
                sess["blocks"].append([(sp, text, None)])

    def render(self):
        rng, pack = self.rng, self.pack
        turns = []
        where = {}
        for sess in self.sessions:
            blocks = sess["blocks"]
            rng.shuffle(blocks)
            self.recent = set()
            budget = sess["len"] - sum(len(b) for b in blocks)
            chunks = []
            prev = None
            while budget > 0:
                ex = pack.exchange(rng, self, sess["parts"], budget, prev)
                ex = ex[:budget]
                budget -= len(ex)
                prev = ex[-1][0]
                chunks.append([(sp, txt, None) for sp, txt in ex])
            for b in blocks:
                chunks.insert(rng.randint(0, len(chunks)), b)
            t = sess["date"]
            for ch in chunks:
                for sp, txt, tag in ch:
                    t = t + timedelta(minutes=rng.randint(1, 4))
                    if tag is not None:
                        where[tag] = len(turns)
                    turns.append({"speaker": sp, "content": txt, "dt": t})
        self.turns = turns
        self.where = where

    def questions(self, target):
        rng, pack = self.rng, self.pack
        # candidate questions with evidence ids; drop ambiguous speaker/date questions
        seen_date = Counter()
        seen_spk = Counter()
        seen_text = Counter()
        for f in self.facts:
            for pi, s in enumerate(f.sessions):
                d = self.sessions[s]["date"]
                seen_date[(f.tid, d.year, d.month)] += 1
            seen_spk[(f.tid, f.S.name)] += 1
            for q in set(q[1] for q in f.qs):
                seen_text[q] += 1
        cands = []
        for fi, f in enumerate(self.facts):
            fq = []
            for q in f.qs:
                kind, text, ev = (tuple(q) + (None,))[:3]
                assert kind in KINDS, kind
                if ev is None:
                    ev = [(pi, ti) for pi, part in enumerate(f.parts) for ti in range(len(part))]
                ids = sorted(self.where[(fi, pi, ti)] for pi, ti in ev)
                if seen_text[text] > 1:
                    continue  # two facts would answer it
                if kind == "date":
                    t0 = self.turns[ids[0]]["dt"]
                    if seen_date[(f.tid, t0.year, t0.month)] > 1:
                        continue
                    text = text.replace("<WHEN>", pack.when(rng, t0))
                if kind == "speaker" and seen_spk[(f.tid, f.S.name)] > 1:
                    continue
                fq.append({"conversation": self.name, "question": text, "evidence": ids, "kind": kind})
            cands.append(fq)
        # choose: every fact gets its multi-hop / answer-in-reply question, then the rarest kinds
        weights = pack.KIND_WEIGHTS
        count = Counter()
        chosen = [[] for _ in cands]

        def need(k):
            return count[k] / weights[k] if weights.get(k) else 1e9

        order = list(range(len(cands)))
        rng.shuffle(order)
        for fi in order:
            fq = cands[fi]
            first = [q for q in fq if q["kind"] in ("multi-hop", "answer-in-reply")]
            if not first and fq:
                best = min(need(q["kind"]) for q in fq)
                first = [rng.choice([q for q in fq if need(q["kind"]) == best])]
            for q in first[:1]:
                chosen[fi].append(q)
                count[q["kind"]] += 1
        total = sum(len(c) for c in chosen)
        progress = True
        while total < target and progress:
            progress = False
            rng.shuffle(order)
            for fi in order:
                if total >= target:
                    break
                rest = [q for q in cands[fi] if q not in chosen[fi]
                        and q["question"] not in {c["question"] for c in chosen[fi]}]
                if not rest or len(chosen[fi]) >= 4:
                    continue
                best = min(need(q["kind"]) for q in rest)
                q = rng.choice([q for q in rest if need(q["kind"]) == best])
                chosen[fi].append(q)
                count[q["kind"]] += 1
                total += 1
                progress = True
        out = [q for fq in chosen for q in fq]
        out.sort(key=lambda q: q["evidence"][0])
        return out

    def write(self, out_dir):
        path = os.path.join(out_dir, self.name + ".jsonl")
        with open(path, "w", encoding="utf-8", newline="\n") as fp:
            for t in self.turns:
                sp = t["speaker"]
                rec = {"role": sp.role, "content": t["content"], "name": sp.name,
                       "time": self.pack.timefmt(t["dt"], self.cfg.get("time", "iso"))}
                fp.write(json.dumps(rec, ensure_ascii=False) + "\n")


def iso(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:00")


# ---------------------------------------------------------------------------------------------
# Filler conversation: language packs provide QA (question templates with answer templates),
# STATEMENTS, REACTIONS, and for conversations with an assistant ASSIST_QA (a person asks the
# assistant) and ASSIST_REPLY (the assistant answers a person's remark).


class Pack:
    KIND_WEIGHTS = {"paraphrase": 0.24, "word-form": 0.18, "date": 0.16, "speaker": 0.15,
                    "multi-hop": 0.12, "answer-in-reply": 0.15}

    def address(self, name, text):
        return name + ", " + text[:1].lower() + text[1:]

    def ctx_for(self, conv, sp, you):
        c = dict(sp.ctx)
        if you is not None:
            c["you"] = you.name
            for k in ("pet", "partner"):
                if "my_" + k in you.ctx:
                    c["you_" + k] = you.ctx["my_" + k]
        self.more_ctx(c, sp, you)
        return c

    def more_ctx(self, c, sp, you):
        pass

    def choose(self, rng, conv, seq):
        """A template not used yet in this session if possible."""
        for _ in range(8):
            x = rng.choice(seq)
            key = x[0] if isinstance(x, tuple) else x
            if key not in conv.recent:
                break
        conv.recent.add(key)
        return x

    def say(self, rng, conv, sp, tpl, cache, you=None):
        txt = fill(rng, tpl, conv.pools, self.ctx_for(conv, sp, you), cache)
        return self.finish(txt)

    def finish(self, txt):
        return re.sub(r"([.!?] )(\w)", lambda m: m.group(1) + m.group(2).upper(), cap(txt))

    def reaction(self, rng, conv, sp, mood):
        return self.finish(fill(rng, rng.choice(self.REACTIONS[mood]), conv.pools, self.ctx_for(conv, sp, None)))

    def exchange(self, rng, conv, parts, budget, prev):
        humans = [p for p in parts if p.role == "user"]
        asst = next((p for p in parts if p.role == "assistant"), None)
        X = rng.choice([h for h in humans if h is not prev] or humans)
        cache = {}
        r = rng.random()
        out = []
        if asst is not None:
            if budget >= 2 and r < 0.35:
                q, answers = self.choose(rng, conv, self.ASSIST_QA)
                out.append((X, self.say(rng, conv, X, q, cache, you=asst)))
                out.append((asst, self.say(rng, conv, asst, rng.choice(answers), cache, you=X)))
            elif budget >= 2 and r < 0.55:
                q, answers = self.choose(rng, conv, self.QA_ASST)
                out.append((asst, self.say(rng, conv, asst, q, cache, you=X)))
                out.append((X, self.answer(rng, conv, X, rng.choice(answers), cache, asst)))
            elif budget >= 2 and r < 0.85:
                out.append((X, self.statement(rng, conv, X, cache)))
                out.append((asst, self.say(rng, conv, asst, self.choose(rng, conv, self.ASSIST_REPLY), cache, you=X)))
            else:
                out.append((X, self.statement(rng, conv, X, cache)))
            return out
        Y = rng.choice([h for h in humans if h is not X] or humans)
        if budget >= 2 and r < 0.5:
            q, answers = self.choose(rng, conv, self.QA)
            qt = self.say(rng, conv, X, q, cache, you=Y)
            if rng.random() < 0.15:
                qt = self.address(Y.name, qt)
            out.append((X, qt))
            out.append((Y, self.answer(rng, conv, Y, rng.choice(answers), cache, X)))
            if budget >= 3 and rng.random() < 0.4:
                Z = rng.choice([X] + [h for h in humans if h is not Y])
                out.append((Z, self.reaction(rng, conv, Z, "neutral")))
        elif budget >= 2 and r < 0.8:
            out.append((X, self.statement(rng, conv, X, cache)))
            rt = self.reaction(rng, conv, Y, "neutral")
            if rng.random() < 0.3:
                rt += self.JOIN + self.statement(rng, conv, Y, cache)
            out.append((Y, rt))
        else:
            out.append((X, self.statement(rng, conv, X, cache)))
        return out

    JOIN = " "
    PREFIXES = ()
    TAILS = ()
    KEEP_CASE = ("{name", "{my_", "{you", "{film", "{show", "{series", "{team", "{book", "{city", "I ", "I'")

    def statement(self, rng, conv, sp, cache):
        r = rng.random()
        n = 1 if r < 0.45 else 2 if r < 0.85 else 3
        parts = []
        for i in range(n):
            tpl = self.choose(rng, conv, self.STATEMENTS)
            if i == 0 and self.PREFIXES and rng.random() < 0.15:
                if not tpl.startswith(self.KEEP_CASE):
                    tpl = tpl[:1].lower() + tpl[1:]
                tpl = rng.choice(self.PREFIXES) + tpl
            parts.append(self.say(rng, conv, sp, tpl, cache))
        txt = self.JOIN.join(parts)
        if self.TAILS and rng.random() < 0.08:
            txt += rng.choice(self.TAILS)
        return txt

    def answer(self, rng, conv, sp, tpl, cache, you):
        txt = self.say(rng, conv, sp, tpl, cache, you=you)
        if rng.random() < 0.3:
            txt += self.JOIN + self.say(rng, conv, sp, self.choose(rng, conv, self.STATEMENTS), cache)
        return txt

# =============================================================================================
# English


def en_person(name, g):
    he, his, him = ("she", "her", "her") if g == "f" else ("he", "his", "him")
    return {"nom": name, "name": name, "g": g, "he": he, "his": his, "him": him,
            "He": cap(he), "His": cap(his)}


EN_NAMES_F = ["Olga", "Hannah", "Rosa", "Mei", "Clara", "Ingrid", "Nadia", "Zoe", "Fatima", "Grace",
              "Lucy", "Tamsin", "Vera", "Bea", "Iris", "Maggie", "June", "Esther", "Holly", "Sofia",
              "Ruth", "Alice", "Keira", "Marta", "Chloe", "Anya", "Bridget", "Yasmin"]
EN_NAMES_M = ["Igor", "Tom", "Raj", "Felix", "Owen", "Marco", "Ben", "Diego", "Elliot", "Hugo",
              "Kenji", "Luca", "Nate", "Oscar", "Pete", "Ruben", "Theo", "Victor", "Will", "Adam",
              "Callum", "Dev", "Finn", "Gareth", "Isaac", "Jack", "Milo", "Stefan"]
EN_PETS = ["Biscuit", "Pepper", "Mochi", "Ziggy", "Luna", "Bramble", "Waffles", "Pickle", "Juniper",
           "Socks", "Nacho", "Clementine", "Bear", "Olive", "Rocket", "Tofu", "Maple", "Dot"]
EN_PET_KINDS = ["dog", "cat", "puppy", "kitten", "rabbit", "greyhound", "beagle", "tabby"]


class English(Pack):
    lang = "en"

    def person(self, name, g):
        return en_person(name, g)
    RELS = [{"rel": r, "g": "f"} for r in ["sister", "mum", "aunt", "cousin", "grandma", "niece",
                                            "best friend", "neighbour", "coworker", "old flatmate"]] + \
           [{"rel": r, "g": "m"} for r in ["brother", "dad", "uncle", "cousin", "grandad", "nephew",
                                            "best mate", "neighbour", "coworker", "old flatmate"]]
    MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
              "September", "October", "November", "December"]

    STATIC = {
        "city": ["Leeds", "Bristol", "Glasgow", "Lisbon", "Porto", "Denver", "Austin", "Seattle",
                 "Montreal", "Toronto", "Dublin", "Edinburgh", "Manchester", "Valencia", "Krakow",
                 "Berlin", "Hamburg", "Vienna", "Prague", "Oslo", "Copenhagen", "Melbourne",
                 "Auckland", "Boston", "Chicago", "Portland", "Kyoto", "Osaka", "Seoul", "Vancouver",
                 "Bilbao", "Nantes", "Bologna", "Galway", "Cardiff", "York"],
        "place": ["the park", "the gym", "the farmers market", "the library", "the climbing wall",
                  "the pub on the corner", "the new ramen place", "the cinema", "the pool",
                  "the garden centre", "the beach", "the lake", "the bakery", "the hardware store",
                  "the office", "the museum", "the community garden", "the bowling alley",
                  "the flea market", "the station", "the allotment", "the big Tesco", "the river path"],
        "food": ["pasta", "ramen", "tacos", "curry", "dumplings", "pizza", "sushi", "pho",
                 "roast chicken", "lasagne", "risotto", "falafel", "pancakes", "chili", "stir-fry",
                 "banana bread", "lentil soup", "shakshuka", "paella", "burgers", "poke bowls",
                 "pad thai", "fish pie", "gnocchi", "biryani", "mac and cheese", "Sunday roast"],
        "act_past": ["went hiking", "watched a film", "cooked a massive dinner", "cleaned the whole flat",
                     "went for a long run", "played board games", "visited my parents", "went to a gig",
                     "did some gardening", "painted the spare room", "went swimming", "had a picnic",
                     "slept in", "went to a wedding", "fixed the bike", "binge-watched a series",
                     "went to the market", "baked bread", "tried a new cafe", "walked along the river",
                     "went to a car boot sale", "did a jigsaw", "went to the football"],
        "act_fut": ["go hiking", "see a film", "try that new restaurant", "visit my parents",
                    "clean out the garage", "drive to the coast", "finish the jigsaw", "start a new book",
                    "go to the climbing wall", "have people over for dinner", "go to the football",
                    "paint the fence", "do a big food shop", "go for a swim", "sort out the garden",
                    "catch up on sleep", "go to the flea market", "bake something"],
        "film": ["The Quiet Orchard", "Northern Lights", "Glass Harbour", "The Last Ferry",
                 "Midnight Kitchen", "Paper Moons", "Salt and Iron", "The Long Summer", "Blue Meridian",
                 "Hollow Creek", "A Small Fortune", "Static", "Eastbound", "Velvet Rain", "Tin Crown",
                 "The Ninth Floor", "Wild Geese", "Low Tide"],
        "show": ["Harbour Lights", "The Bakehouse", "Cold Case Files", "Small Island", "The Expanse of It",
                 "Kitchen Wars", "Wolf Hall Road", "Night Shift", "The Allotment", "Brass Band"],
        "genre": ["thriller", "comedy", "documentary", "horror film", "rom-com", "sci-fi series",
                  "period drama", "anime", "crime drama", "cooking show", "murder mystery"],
        "hobby": ["pottery", "climbing", "running", "chess", "guitar", "gardening", "knitting",
                  "photography", "baking", "cycling", "yoga", "swimming", "birdwatching", "woodworking",
                  "salsa", "drawing", "tennis", "rowing", "bouldering", "the ukulele"],
        "weather": ["it's pouring here", "it's absolutely boiling today", "the fog hasn't lifted all day",
                    "it's freezing, there's frost on the car", "lovely sunny day here", "windy as anything",
                    "it's been grey and drizzly all week", "snow! Actual snow", "so humid today",
                    "there's a thunderstorm rolling in", "it's mild for once", "hail, out of nowhere"],
        "work": ["the quarterly report", "the client presentation", "the budget review",
                 "the new hire onboarding", "the product launch", "the audit", "the website redesign",
                 "the team offsite", "the performance reviews", "the migration project", "the sales pitch",
                 "the grant application", "the stock take", "the big tender"],
        "good": ["great", "lovely", "really nice", "brilliant", "not bad at all", "fun", "relaxing",
                 "pretty good", "amazing", "so chill"],
        "bad": ["exhausting", "a bit rubbish", "stressful", "so long", "chaotic", "boring", "meh", "rough"],
        "item": ["a new kettle", "some plants", "a rug", "running shoes", "a lamp", "a board game",
                 "a winter coat", "headphones", "a cookbook", "a frying pan", "a desk chair", "a bike lock",
                 "a raincoat", "a blender", "some paint", "a bookshelf", "a duvet", "wellies"],
        "evt": ["the weekend", "your day", "the trip", "the party", "the meeting", "the dentist",
                "the match", "the concert", "the dinner", "the interview", "the barbecue", "the wedding",
                "the drive up", "the first day back"],
        "hour": ["six", "half six", "seven", "eight", "noon", "two", "three-ish", "nine"],
        "book": ["The Salt Path", "a Le Guin novel", "that thriller everyone's reading",
                 "a biography of Darwin", "a cookbook from the library", "The Remains of the Day",
                 "a Murakami", "a book about mushrooms", "Middlemarch", "a graphic novel"],
        "day": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
        "drink": ["coffee", "tea", "hot chocolate", "beer", "wine", "kombucha", "fizzy water", "green tea"],
        "chore": ["the laundry", "the dishes", "the bins", "the hoovering", "the ironing", "the gutters",
                  "the shopping", "the recycling"],
        "room": ["kitchen", "bathroom", "hallway", "spare room", "living room", "bedroom", "study"],
        "ingredient": ["chickpeas", "spinach", "leftover rice", "mushrooms", "a tin of tomatoes",
                       "sweet potatoes", "feta", "eggs", "courgettes", "lentils"],
        "num": ["two", "three", "four", "five", "ten", "twenty", "fifteen"],
        "team": ["United", "City", "the Rovers", "the Wanderers", "Athletic"],
        "language": ["Spanish", "German", "Japanese", "Italian", "Portuguese", "Korean", "Welsh",
                     "Greek", "Dutch", "Turkish"],
    }

    def make_pools(self, rng, cfg, speakers):
        taken = {s.name for s in speakers}
        fs = rng.sample([n for n in EN_NAMES_F if n not in taken], 18)
        ms = rng.sample([n for n in EN_NAMES_M if n not in taken], 18)
        pools = dict(self.STATIC)
        pools["name"] = [en_person(n, "f") for n in fs] + [en_person(n, "m") for n in ms]
        pools["rel"] = [r["rel"] for r in self.RELS]
        return pools

    def make_profiles(self, rng, conv):
        pets = rng.sample(EN_PETS, len(conv.humans))
        partners = rng.sample([p for p in conv.pools["name"]], len(conv.humans))
        for h, pet, partner in zip(conv.humans, pets, partners):
            conv.used["name"].add(json.dumps(partner, sort_keys=True))
            h.ctx = {"my_pet": pet, "my_pet_kind": rng.choice(["dog", "cat", "dog", "rabbit"]),
                     "my_partner": partner["nom"], "my_kid": rng.choice(["Alfie", "Evie", "Noah",
                                                                          "Poppy", "Arlo", "Ivy", "Leo"]),
                     "my_his": "her" if h.g == "f" else "his"}

    def timefmt(self, dt, style):
        if style == "free":
            h = dt.hour % 12 or 12
            return f"{h}:{dt.minute:02d} {'am' if dt.hour < 12 else 'pm'} on {dt.day} {self.MONTHS[dt.month - 1]}, {dt.year}"
        return iso(dt)

    def when(self, rng, dt):
        m = self.MONTHS[dt.month - 1]
        r = rng.random()
        if r < 0.6:
            return f"in {m} {dt.year}"
        if r < 0.8:
            return f"on {dt.day} {m} {dt.year}"
        return f"on {m} {dt.day}, {dt.year}"

    QA = [
        ("How was {evt}?", ["{good}, thanks! We {act_past} and then {act_past2}.",
                            "Honestly {bad}. Glad it's over.", "It was {good}. {name} was there too.",
                            "Not bad. Bit tired now, to be honest.", "{good}! Although {weather}."]),
        ("What are you up to this weekend?", ["Probably going to {act_fut} with {name}.",
                                              "Nothing much, maybe {act_fut}.",
                                              "We're hoping to {act_fut} if the weather holds.",
                                              "Working, sadly. {work} is due Monday.",
                                              "{my_partner} wants to {act_fut}, so that I guess."]),
        ("Has anyone seen {film}?", ["Yes! Loved it, the ending is wild.", "Not yet, is it any good?",
                                     "I fell asleep halfway through, sorry.",
                                     "{name} recommended it, it's on my list."]),
        ("What's for dinner tonight?", ["Thinking {food}.", "{my_partner} is making {food}.",
                                        "Leftover {food}, living the dream.",
                                        "No idea, maybe just order {food}."]),
        ("Any recommendations for a good {genre}?", ["Try {film}, it's {good}.",
                                                     "{show} is great if you haven't seen it.",
                                                     "Not really my thing, ask {name}."]),
        ("How's work going?", ["Busy. {work} is eating my whole week.", "Fine, quiet week actually.",
                               "My boss moved the deadline for {work} again.",
                               "We finally finished {work}, so I'm celebrating with {drink}."]),
        ("How's the {hobby} going?", ["Slowly! I'm still pretty bad at it.",
                                      "Really well, I go twice a week now.",
                                      "Took a break, but I want to get back into it.",
                                      "{good}, {name} has been teaching me a few things."]),
        ("What's the weather like there?", ["{weather}.", "{weather}. Typical.",
                                            "Honestly? {weather}, so I'm staying in."]),
        ("Did you get much sleep?", ["Barely, {my_pet} woke me at five.", "Eight hours, first time in weeks!",
                                     "Not really, the neighbours had a party."]),
        ("Are you coming to {place} later?", ["Yes, see you there around {hour}.", "Can't today, sorry!",
                                              "Maybe, depends on {my_partner}."]),
        ("How is {name} doing?", ["Good I think, {name.he} just got back from {city}.",
                                  "Bit stressed with work, but fine.",
                                  "Haven't heard from {name.him} in ages actually.",
                                  "{name.He} is {good}, busy with {hobby}."]),
        ("Want to grab lunch tomorrow?", ["Sure, how about {food} at {place}?",
                                          "Can't, back-to-back meetings. {day}?", "Yes please, I need a break."]),
        ("Did you watch the match last night?", ["Yes, what a finish!", "Missed it, who won?",
                                                 "{team} were awful again."]),
        ("Any plans for the holidays?", ["We might go to {city} for a few days.",
                                         "Staying home, seeing family.", "Not yet, open to ideas!"]),
        ("What are you reading at the moment?", ["{book}. It's {good}.", "Nothing, I keep falling asleep.",
                                                 "Halfway through {book}, slow going."]),
        ("How's {you_pet} doing?", ["Chewed a shoe yesterday, otherwise fine.", "Lazy as ever.",
                                   "{good}, loves the new bed."]),
        ("Did you finish {chore}?", ["Nope, tomorrow's problem.", "Yes! Feeling very smug.",
                                     "Half of it. {my_partner} did the rest."]),
        ("Where should we eat on {day}?", ["{place}? Or somewhere with {food}.", "Your pick this time.",
                                           "Anywhere but the place with the awful {food}."]),
        ("Is it still {weather}?", ["Yep, all day.", "Cleared up an hour ago.", "Worse, if anything."]),
        ("Do you know anyone who does {hobby}?", ["{name} does, ask {name.him}.",
                                                  "Not really, sorry.", "My {rel} used to."]),
        ("How was the traffic?", ["Terrible, forty minutes just to get out of town.", "Fine, surprisingly.",
                                  "Took the train in the end."]),
        ("Coffee later?", ["Always.", "Make it tea and I'm in.", "Can't, {work} again."]),
    ]
    QA_ASST = [
        ("How was {evt}?", ["{good}, thanks for asking. We {act_past}.", "Honestly {bad}.",
                            "It was {good}. {name} came too."]),
        ("How did {chore} go today?", ["Done, finally.", "I gave up halfway.", "{my_partner} did it, bless."]),
        ("Would you like me to plan anything for the weekend?", ["Maybe something to {act_fut}.",
                                                                 "No thanks, we'll just {act_fut}.",
                                                                 "Not this week, I'm tired."]),
        ("How's the {hobby} going?", ["Slowly!", "Really well, twice a week now.", "I took a break."]),
        ("Did you sleep well?", ["Not really, {my_pet} kept me up.", "Yes, finally.", "So-so."]),
        ("How's work this week?", ["{work} is eating my week.", "Quiet, thankfully.", "{bad}."]),
    ]
    ASSIST_QA = [
        ("Can you suggest something to cook with {ingredient}?",
         ["How about {food}? It works well with {ingredient} and takes about thirty minutes.",
          "You could do a quick {food}, or a tray bake with {ingredient} and whatever veg you have."]),
        ("What's a good {genre} to watch tonight?",
         ["You might enjoy {film}; people describe it as {good}.", "{show} is popular at the moment."]),
        ("Give me a quick workout, I've only got fifteen minutes.",
         ["Try this: {num} squats, {num} push-ups, a one-minute plank, repeated three times.",
          "Fifteen minutes of intervals: forty seconds on, twenty off, alternating squats and lunges."]),
        ("How do I get a coffee stain out of a rug?",
         ["Blot it, don't rub. Then a little washing-up liquid in cold water, and blot again.",
          "Cold water and a bit of white vinegar usually works. Test a hidden corner first."]),
        ("Translate 'good morning' into {language}.",
         ["Here you go, with the pronunciation written out. Want a few more greetings?"]),
        ("What's the weather going to be like this weekend?",
         ["The forecast says {forecast} on Saturday, a bit better on Sunday.",
          "Mostly dry, but take a jacket, it will be windy."]),
        ("Write a short birthday message for {name}.",
         ["Happy birthday, {name}! Wishing you a year full of good food, good friends and fewer deadlines."]),
        ("Help me plan a day trip to {city}.",
         ["Start with the old town in the morning, lunch near the river, then the main museum.",
          "Take the early train, walk the centre, and book lunch ahead, it gets busy."]),
        ("Remind me what I have on tomorrow.",
         ["You have {work} in the morning and you wanted to {act_fut} in the evening.",
          "Just {work} at ten. The afternoon is free."]),
        ("Can you add {item} to the shopping list?", ["Added. Anything else?", "Done, it's on the list."]),
        ("Recommend a book like {book}.", ["If you liked {book}, try {book2}.",
                                            "Maybe {book2}; similar tone, shorter."]),
        ("How long should I boil an egg for a runny yolk?", ["About six minutes from boiling, then cold water."]),
        ("Set a timer for twenty minutes.", ["Timer set for twenty minutes."]),
        ("What's a polite way to decline an invitation from {name}?",
         ["Something like: thanks so much for thinking of me, I can't make it this time, but let's catch up soon."]),
    ]
    ASSIST_REPLY = ["That sounds {good}! Want me to note it down?", "Sorry to hear that. Anything I can help with?",
                    "Noted. Anything else for today?", "Ha, that sounds like a lot. Take it easy this evening.",
                    "Good to know. I'll remember that.", "Oh nice. How did {you} feel about it?",
                    "I can set a reminder for that if you like.", "Sounds like a busy day!"]
    STATEMENTS = [
        "{weather}.", "Just got back from {place}, it was {bad}.", "Just got back from {place}, {good} as always.",
        "I'm making {food} tonight, anyone want to come over?", "{name} says hi by the way.",
        "Reminder: {name}'s birthday is coming up.", "Can't believe how expensive everything has got.",
        "Going to {place} later if anyone wants to join.", "{my_pet} just knocked a mug off the table. Again.",
        "Work is {bad} this week, {work} is behind schedule.", "Started reading {book}, {good} so far.",
        "Anyone know a good plumber? The kitchen tap is leaking.", "The trains were late again this morning.",
        "Found a great little bakery near {place}.", "Just watched {film}, {good} film.",
        "I need a holiday. Somewhere warm.", "My {rel} called, we talked for an hour.",
        "Traffic was terrible on the way home.", "I'm trying to drink less {drink}. Day three, not going well.",
        "Ran into {name} at {place}, {name.he} looks well.", "{my_partner} made {food}, ten out of ten.",
        "Finally did {chore}. Rewarding myself with {drink}.", "Thinking about taking up {hobby}.",
        "Did anyone else hear the thunder last night?", "The neighbours are drilling again.",
        "Halfway through the week, somehow.", "{name} got {item} at the flea market, a bargain.", "{show} is back on tonight!",
        "I keep forgetting to call {name}.", "Lunch was {food} at my desk, very glamorous.",
        "{my_kid} has a cold, so we're staying in.", "Does anyone want my spare ticket for {film}?",
        "We {act_past} yesterday, {good}.", "Just booked the dentist, finally.", "{team} won! Unbelievable.",
        "My phone is dying, will reply later.", "I think I'm getting a cold.", "{name} is coming round on {day}.",
        "Tried a new recipe, {food} with {ingredient}. Surprisingly {good}.",
        "The {room} still smells of paint.", "Can we do {day} instead of {day2}?",
        "Long day. {work} took forever.", "I owe {name} a drink.", "Walked to {place} and back, {num} thousand steps.",
        "Just had the best {drink} at {place}.", "Back home now, {good} evening.",
        "Has anyone got a ladder I could borrow?", "Morning all!", "Night all, talk tomorrow.",
        "Happy Friday!", "Ugh, Monday.", "Haha, classic {name}.", "{name} and I {act_past}, {good}.",
        "We should {act_fut} sometime soon.", "Still can't decide what to do about {chore}.",
    ]
    REACTIONS = {
        "good": ["Congrats!!", "That's amazing news!", "Oh nice, well done!", "So happy for you!",
                 "Wow, that's big!", "Brilliant, love that.", "Ahh that's great!"],
        "bad": ["Oh no, sorry to hear that.", "Ugh, that's rough.", "Fingers crossed it gets better.",
                "That's so annoying.", "Oh no! Hope it sorts itself out.", "Sending hugs."],
        "neutral": ["Ha, fair enough.", "Makes sense.", "Interesting!", "Good to know.", "Oh really?",
                    "Nice.", "Haha", "Same here honestly.", "Ooh.", "True.", "Sounds about right.",
                    "lol", "Fair.", "Right?", "Tell me about it."],
    }


# -- English facts. c.S is the fact speaker's name; questions never quote the fact's wording.

def _his(c):
    return "her" if c.Sp.g == "f" else "his"


def en_move(c):
    r, p = c.rel()
    city, q = c.pick("city"), c.other(p)
    t = c.choice([f"Big family news: my {r.rel} {p.name} finally moved to {city}! {p.He} got the keys on Friday.",
                  f"So my {r.rel} {p.name} packed up everything and moved to {city}. {p.He} starts there on Monday."])
    return F([[("S", t)]], react="good", qs=[
        ("paraphrase", f"Which city did {p.name} relocate to?"),
        ("paraphrase", f"Where does {c.S}'s {r.rel} live these days?"),
        ("word-form", f"Where was {p.name} moving to?"),
        ("speaker", f"What news did {c.S} share about {_his(c)} {r.rel}?"),
        ("date", f"Which relative of {c.S} moved away <WHEN>?")],
        distract=[f"{q.name} keeps saying {q.he} wants to move to {c.any('city')} one day.",
                  f"{p.name} called me yesterday, {p.he} sounds tired but happy.",
                  "Moving house is the worst. Never again."])


def en_adopt(c):
    kind = c.choice(["greyhound", "kitten", "puppy", "rabbit", "parrot", "tortoise", "collie"])
    name, q = c.pick("petname"), c.other()
    return F([[("S", f"We adopted a {kind} from the rescue centre on Saturday! We've named it {name}.")]],
             react="good", qs=[
        ("paraphrase", f"What did {c.S} call the animal {_his(c)} family brought home from the shelter?"),
        ("word-form", f"What name did {c.S} give the {kind} after the adoption?"),
        ("date", f"What pet did {c.S} adopt <WHEN>?"),
        ("speaker", f"What did {c.S} say about the new pet?")],
        distract=[f"{q.name} wants to adopt a {c.choice(['dog', 'cat', 'hamster'])} but {q.his} landlord says no.",
                  "The rescue centre near the park is looking for volunteers."])


EN_COMPANIES = ["Harbour & Finch", "Brightwell Labs", "Northgate Council", "Copperleaf Studio",
                "Meridian Health", "Oakline Logistics", "Kestrel Games", "Saltmarsh Brewery",
                "Bluebell Bakery", "Ferris Engineering", "Lark Insurance", "Granite Bank"]


def en_job(c):
    role = c.choice(["a junior architect", "head chef", "a data analyst", "a physio", "a project manager",
                     "a science teacher", "a sound engineer", "a paramedic", "a UX designer"])
    co, q = c.pick("company"), c.other()
    return F([[("S", f"I signed the contract today! Starting as {role} at {co} next month.")]], react="good", qs=[
        ("paraphrase", f"Which employer hired {c.S}?"),
        ("paraphrase", f"What's {c.S}'s new position going to be?"),
        ("word-form", f"Which company's contract was {c.S} signing?"),
        ("date", f"What contract did {c.S} sign <WHEN>?"),
        ("speaker", f"What work news did {c.S} share?")],
        distract=[f"{q.name} has an interview at {c.any('company')} next week.",
                  f"{c.other().name} says {co} is always hiring.",
                  "Nobody actually reads their contract, right?"])


EN_BUYS = [("kayak", "boat", "it's bright orange and fits on the car roof"),
           ("telescope", "stargazing gear", "already spotted Saturn's rings"),
           ("espresso machine", "coffee maker", "the milk frother is amazing"),
           ("rowing machine", "home gym equipment", "it's taking up half the living room"),
           ("sewing machine", "machine for making clothes", "second-hand but works perfectly"),
           ("electric scooter", "e-scooter", "goes up the hill no problem"),
           ("digital piano", "musical instrument", "weighted keys and everything"),
           ("road bike", "bicycle", "carbon frame, ridiculously light"),
           ("campervan", "vehicle to travel and sleep in", "needs a bit of work but it's ours"),
           ("3D printer", "printer", "already printed a little dinosaur"),
           ("pizza oven", "outdoor oven", "gets up to 450 degrees"),
           ("drone", "flying camera", "crashed it into a hedge once already")]


def en_buy(c):
    item, cat, detail = c.pick("buy")
    q = c.other()
    return F([[("S", f"Finally bought a {item}! {cap(detail)}.")]], react="good", qs=[
        ("date", f"What did {c.S} buy <WHEN>?"),
        ("paraphrase", f"What kind of {cat} did {c.S} get?"),
        ("word-form", f"Who ended up buying a {item}?"),
        ("speaker", f"What did {c.S} say about {_his(c)} latest purchase?")],
        distract=[f"{q.name} is thinking of getting a {item} too, but they're so expensive.",
                  f"Saw a {item} for sale at the flea market, tempting."])


def en_allergy(c):
    food = c.pick("allergen")
    q = c.other()
    return F([[("S", f"Just so you know for Saturday, I can't eat {food}. Properly allergic, found out the hard way.")]],
             qs=[("paraphrase", f"Which food does {c.S} have to avoid?"),
                 ("word-form", f"What allergy does {c.S} have?"),
                 ("speaker", f"What did {c.S} tell us before the dinner party?")],
             distract=[f"{q.name} is allergic to cats, poor thing.",
                       "Does anyone have any allergies? I'm doing the menu for Saturday."])


EN_RESTS = [("Thai", "Lemongrass House"), ("Sichuan", "Red Lantern"), ("Ethiopian", "Blue Nile"),
            ("Georgian", "Tbilisi Nights"), ("Lebanese", "Cedar Grill"), ("Mexican", "La Paloma"),
            ("Korean", "Seoul Kitchen"), ("Turkish", "Anatolia"), ("Vietnamese", "Pho Saigon"),
            ("Peruvian", "Inca Rose"), ("Nepalese", "Everest Momo"), ("Greek", "Little Athens")]


def en_favplace(c):
    cuisine, rest = c.pick("rest")
    other = c.any("rest")
    return F([[("S", f"Honestly the best {cuisine} food in town is at {rest}. I go every Friday after work.")]], qs=[
        ("paraphrase", f"Where does {c.S} think the top {cuisine} cooking is?"),
        ("word-form", f"Which restaurant does {c.S} visit on Fridays?"),
        ("speaker", f"Which place did {c.S} recommend for dinner?")],
        distract=[f"{other[1]} has a new menu, we should try it.",
                  f"Went to a {cuisine} place in {c.any('city')}, it was good but pricey."])


def en_race(c):
    city = c.pick("city")
    tm = c.choice(["1:52", "2:05", "1:47", "2:14", "1:58", "1:39"])
    q = c.other()
    return F([[("S", f"Finished the {city} half marathon in {tm}! Legs are destroyed.")]], react="good", qs=[
        ("paraphrase", f"How long did it take {c.S} to complete the race in {city}?"),
        ("word-form", f"What was {c.S}'s finishing time in the half-marathon?"),
        ("date", f"Which race did {c.S} run <WHEN>?")],
        distract=[f"{q.name} is training for the {c.any('city')} marathon.",
                  "Anyone fancy a half marathon next spring?"])


def en_garage(c):
    part = c.choice(["clutch", "alternator", "gearbox", "timing belt", "radiator", "starter motor", "exhaust"])
    cost = c.choice(["320", "480", "650", "900", "1,200"])
    q = c.other()
    return F([[("O", "Did the garage ever call back about your car?"),
               ("S", f"Yeah, it's the {part}. {cost} quid to fix, ugh.")]], react="bad", qs=[
        ("answer-in-reply", f"What did the garage say about {c.S}'s car?", None),
        ("paraphrase", f"How much will the vehicle repair cost {c.S}?", None),
        ("word-form", f"What part needs fixing on {c.S}'s car?", [(0, 1)])],
        distract=[f"{q.name}'s car failed its MOT, something about the brakes.",
                  "Never use the garage by the station, they overcharge."])


EN_VET = [("an ear infection", "Drops twice a day for a week"), ("a sprained paw", "No long walks for two weeks"),
          ("a bad tooth", "It's coming out on Thursday"), ("an allergy to chicken", "New food from now on"),
          ("worms", "Tablets, and a very clean sofa"), ("a bit overweight", "Diet food and more walks")]


def en_vet(c):
    pet = c.Sp.ctx["my_pet"]
    what, treat = c.choice(EN_VET)
    q = c.other()
    return F([[("O", f"How did {pet}'s vet appointment go?"),
               ("S", f"Just {what}, thank god. {treat}.")]], react="bad", qs=[
        ("answer-in-reply", f"What did the vet say about {pet}?", None),
        ("paraphrase", f"What was wrong with {c.S}'s pet?", None),
        ("word-form", f"What did the vets diagnose {pet} with?", None)],
        distract=[f"{q.name}'s cat had to go to the vet too, turned out fine.",
                  "The vet near the park is so expensive."])


def en_physio(c):
    inj, act, n = c.choice([("a torn calf muscle", "running", "six"), ("a trapped nerve in my neck", "heavy lifting", "four"),
                            ("tennis elbow", "tennis", "eight"), ("a stress fracture in my foot", "football", "ten"),
                            ("runner's knee", "running", "three"), ("a frozen shoulder", "swimming", "twelve")])
    return F([[("O", "How did the physio appointment go?"),
               ("S", f"She thinks it's {inj}. No {act} for {n} weeks.")]], react="bad", qs=[
        ("answer-in-reply", f"How did {c.S}'s physio appointment go?", None),
        ("paraphrase", f"What injury does {c.S} have?", None),
        ("paraphrase", f"How long does {c.S} have to rest?", None)],
        distract=[f"{c.other().name} has been seeing a physio for months now.",
                  "My knee has been clicking lately, should I see someone?"])


def en_wedding(c):
    venue = c.choice(["an old barn", "a lighthouse", "a castle hotel", "a vineyard", "a boathouse",
                      "the botanical gardens"])
    city = c.pick("city")
    partner = c.Sp.ctx["my_partner"]
    return F([[("S", f"We've decided: the wedding will be at {venue} just outside {city}!")]], react="good", qs=[
        ("paraphrase", f"Where are {c.S} and {partner} getting married?"),
        ("word-form", f"What did {c.S} and {partner} decide about the wedding venue?"),
        ("date", f"What big announcement did {c.S} make <WHEN>?")],
        distract=[f"{c.other().name} got married at a registry office, just the two of them.",
                  f"Weddings in {city} are so expensive."])


def en_baby(c):
    r, p = c.rel("f")
    gb, baby = c.choice([("girl", "Matilda"), ("boy", "Rufus"), ("girl", "Aurora"), ("boy", "Jasper"),
                         ("girl", "Wren"), ("boy", "Ezra"), ("girl", "Hazel")])
    kg = c.choice(["3.2", "3.6", "2.9", "4.1"])
    return F([[("S", f"My {r.rel} {p.name} had the baby last night! A little {gb}, {baby}, {kg} kilos.")]],
             react="good", qs=[
        ("paraphrase", f"What did {p.name} call {p.his} newborn?"),
        ("word-form", f"How much did {p.name}'s babies weigh at birth?"),
        ("date", f"Who had a baby <WHEN>?"),
        ("speaker", f"What did {c.S} tell everyone about {_his(c)} {r.rel}?")],
        distract=[f"{c.other(p, g='f').name} is due in the spring, can't believe it.",
                  f"{p.name} looked so tired at the party, poor thing."])


def en_trip(c):
    city = c.pick("city")
    q = c.other()
    return F([[("S", f"Booked flights to {city} for our anniversary! Five nights in an old town apartment.")]],
             react="good", qs=[
        ("paraphrase", f"Where is {c.S} travelling to celebrate another year together?"),
        ("word-form", f"Which destination did {c.S} book a flight to?"),
        ("date", f"Where did {c.S} book flights to <WHEN>?")],
        distract=[f"{q.name} just got back from {city}, said it rained the whole time.",
                  "Flights are so expensive at the moment."])


def en_class(c):
    hob = c.pick("class")
    return F([[("S", f"Signed up for {hob} classes on Tuesday nights at the community centre.")]], qs=[
        ("word-form", f"Which class does {c.S} take on Tuesdays?"),
        ("paraphrase", f"What new pastime did {c.S} take up?"),
        ("date", f"What did {c.S} sign up for <WHEN>?")],
        distract=[f"{c.other().name} quit {hob} after two weeks, too hard.",
                  "Tuesday nights are the only free night I've got."])


def en_rent(c):
    amount = c.choice(["£1,150", "£1,400", "£980", "£1,275", "£1,600"])
    month = c.choice(English.MONTHS)
    return F([[("S", f"Our landlord is putting the rent up to {amount} a month from {month}. Unbelievable.")]],
             react="bad", qs=[
        ("paraphrase", f"How much will {c.S}'s flat cost per month?"),
        ("word-form", f"By how much are rents rising for {c.S}?"),
        ("speaker", f"What did {c.S} say about housing costs?")],
        distract=[f"{c.other().name}'s landlord finally fixed the boiler.", "Rents round here are ridiculous."])


def en_school(c):
    kid = c.Sp.ctx["my_kid"]
    school = c.choice(["St Anne's", "Riverside Academy", "the music school", "Hillcrest Grammar",
                       "the art college", "Kingsmead"])
    return F([[("S", f"{kid} got into {school}! We found out this morning, total joy.")]], react="good", qs=[
        ("paraphrase", f"Which school accepted {kid}?"),
        ("paraphrase", f"Where will {c.S}'s child be studying?"),
        ("date", f"What good news did {c.S} get about {_his(c)} kid <WHEN>?")],
        distract=[f"{c.other().name}'s son didn't get into {school}, they're appealing.",
                  "School admissions are so stressful."])


def en_recipe(c):
    dish = c.choice(["chilli", "bolognese", "curry", "gumbo", "tagine", "beef stew", "ragu"])
    ing = c.pick("secret")
    return F([[("S", f"The secret to my {dish} is a spoonful of {ing} in the sauce. Don't tell anyone.")]], qs=[
        ("paraphrase", f"What's {c.S}'s trick for a good {dish}?"),
        ("word-form", f"What does {c.S} add to {_his(c)} sauces?"),
        ("speaker", f"What cooking tip did {c.S} share?")],
        distract=[f"{c.other().name} makes a great {dish}, no idea how.", f"I burnt the {dish} again."])


def en_code(c):
    thing = c.pick("codething")
    code = c.choice(["4471", "2580", "1936", "7704", "3128", "8245", "6052"])
    return F([[("S", f"The code for {thing} is {code}, writing it here so I don't forget.")]], qs=[
        ("paraphrase", f"What's the PIN to get into {thing}?"),
        ("speaker", f"Which number did {c.S} post in the chat?")],
        distract=[f"Does anyone remember the code for {c.any('codething')}?", "I changed my PIN and already forgot it."])


def en_lost(c):
    item = c.pick("lostitem")
    line = c.choice(["number 12 bus", "8:05 train", "tram", "night bus", "Northern line"])
    return F([[("S", f"Lost my {item} on the {line} this morning. Gone, obviously. Gutted.")]], react="bad", qs=[
        ("word-form", f"What did {c.S} lose?"),
        ("paraphrase", f"What went missing on {c.S}'s commute?"),
        ("date", f"What did {c.S} lose <WHEN>?")],
        distract=[f"{c.other().name} found a wallet on the bus and handed it in.", f"The {line} was packed this morning."])


def en_promo(c):
    title = c.choice(["Senior designer", "Head of sales", "Team lead", "Deputy head", "Principal engineer",
                      "Store manager", "Charge nurse"])
    return F([[("S", f"I got promoted! {title} from next month.")]], react="good", qs=[
        ("word-form", f"What promotion did {c.S} get?"),
        ("paraphrase", f"What is {c.S}'s job title after moving up?"),
        ("date", f"What happened in {c.S}'s career <WHEN>?")],
        distract=[f"{c.other().name} got passed over for promotion again.", "Our team lead is leaving, apparently."])


def en_split(c):
    p1, p2 = c.person("f"), c.person("m")
    return F([[("S", f"Did you hear? {p1.name} and {p2.name} split up. Apparently it was mutual.")]], react="bad", qs=[
        ("paraphrase", f"Are {p1.name} and {p2.name} still together?"),
        ("speaker", f"What gossip did {c.S} pass on?"),
        ("date", f"Which couple separated <WHEN>?")],
        distract=[f"{p1.name} and {c.other(p1, p2).name} went hiking together last weekend.",
                  f"{p2.name} seems happier lately."])


def en_paint(c):
    color = c.choice(["sage green", "terracotta", "navy blue", "mustard yellow", "dusty pink", "off-white"])
    room = c.any("room")
    return F([[("S", f"We decided on {color} for the {room} in the end. Not grey, thank god.")]], qs=[
        ("paraphrase", f"What colour did {c.S} choose for the {room}?"),
        ("word-form", f"What was {c.S}'s decision about the {room} walls?"),
        ("speaker", f"What did {c.S} say about redecorating?")],
        distract=[f"{c.other().name} painted the {room} grey and regrets it.", "Paint is so expensive now."])


def en_diet(c):
    x, para = c.choice([("vegetarian", "stopped eating meat"), ("vegan", "cut out all animal products"),
                        ("teetotal", "given up alcohol"), ("caffeine-free", "quit coffee")])
    return F([[("S", f"I've gone {x}. It's been a month now and honestly I feel great.")]], react="good", qs=[
        ("paraphrase", f"Has {c.S} {para}?"),
        ("speaker", f"What did {c.S} say about {_his(c)} diet?"),
        ("date", f"What lifestyle change did {c.S} mention <WHEN>?")],
        distract=[f"{c.other().name} tried going {x} but lasted a week.", "I could never give up cheese."])


def en_gig(c):
    band = c.pick("band")
    venue = c.choice(["the Apollo", "the Roundhouse", "the town hall", "the Academy", "the Barrowland"])
    return F([[("S", f"Got two tickets for {band} at {venue}! Front row-ish.")]], react="good", qs=[
        ("paraphrase", f"Which band is {c.S} going to see live?"),
        ("word-form", f"Who has a ticket for the {band} gig?"),
        ("date", f"What did {c.S} get tickets for <WHEN>?")],
        distract=[f"{band} were on the radio this morning.", f"{c.other().name} saw {c.any('band')} at {venue}, said it was loud."])


def en_harvest(c):
    veg = c.choice(["courgettes", "potatoes", "tomatoes", "runner beans", "plums", "apples"])
    n = c.choice(["four", "six", "nine", "twelve"])
    return F([[("S", f"Harvested {n} kilos of {veg} from the allotment this week!")]], qs=[
        ("paraphrase", f"How much produce did {c.S} grow?"),
        ("word-form", f"How many kilos were in {c.S}'s {veg} harvest?"),
        ("date", f"What did {c.S} pick from the garden <WHEN>?")],
        distract=[f"Anyone want {veg}? {c.other().name} gave me a whole bag.", "The allotment waiting list is three years."])


def en_bookclub(c):
    book = c.pick("novel")
    return F([[("S", f"Book club picked {book} for next month, and I'm hosting.")]], qs=[
        ("paraphrase", f"Which novel is {c.S}'s reading group doing?"),
        ("word-form", f"Who is the host when the book club reads {book}?"),
        ("speaker", f"What did {c.S} say about the book club?")],
        distract=[f"Has anyone read {c.any('novel')}? Book club can't agree.", "I haven't finished a book in months."])


def en_relpet(c):
    r, p = c.rel()
    dog = c.pick("petname")
    breed = c.choice(["spaniel", "dachshund", "whippet", "labrador", "border terrier", "husky"])
    return F([[("S", f"My {r.rel} {p.name}'s new dog is called {dog}, a {breed}. Total chaos.")]], qs=[
        ("paraphrase", f"What's the name of {p.name}'s pup?"),
        ("paraphrase", f"What breed did {c.S}'s {r.rel} get?"),
        ("word-form", f"What are {p.name}'s dogs called?")],
        distract=[f"{c.other(p).name}'s {breed} keeps escaping.", f"{p.name} came round yesterday."])


def en_lang(c):
    lang = c.pick("language")
    n = c.choice(["40", "63", "100", "12", "200"])
    return F([[("S", f"I've started learning {lang}. {n}-day streak on the app!")]], qs=[
        ("paraphrase", f"Which foreign language is {c.S} studying?"),
        ("word-form", f"What language does {c.S} learn?"),
        ("date", f"What did {c.S} start learning <WHEN>?"),
        ("speaker", f"What did {c.S} say about language apps?")],
        distract=[f"{c.other().name} speaks {lang} fluently, so jealous.", "I gave up on the app after a week."])


def en_injury(c):
    bone = c.choice(["wrist", "collarbone", "ankle", "arm", "two fingers", "elbow"])
    return F([[("S", f"Fell off my bike and broke my {bone}. Cast for six weeks.")]], react="bad", qs=[
        ("paraphrase", f"Which bone did {c.S} fracture?"),
        ("word-form", f"How did {c.S} end up breaking a bone?"),
        ("date", f"What happened to {c.S} <WHEN>?")],
        distract=[f"{c.other().name} fell off {c.choice(['a ladder', 'a horse', 'the sofa'])} but was fine.",
                  "Cycling in this city is dangerous."])


def en_savings(c):
    amount = c.choice(["£8,000", "£12,500", "£21,000", "£15,000", "£6,300"])
    return F([[("S", f"We've saved {amount} for the house deposit so far. Slowly getting there.")]], qs=[
        ("paraphrase", f"How much money has {c.S} put aside to buy a home?"),
        ("word-form", f"How big are {c.S}'s savings for a deposit?"),
        ("speaker", f"What did {c.S} say about buying a house?")],
        distract=[f"{c.other().name} bought a house with {c.any('name').name}, no idea how they afforded it.",
                  "House prices are insane."])


def en_flight(c):
    city = c.pick("city")
    n = c.choice(["three", "five", "six", "nine"])
    return F([[("O", f"How was the flight back from {city}?"),
               ("S", f"Awful. Delayed {n} hours and they lost my suitcase.")]], react="bad", qs=[
        ("answer-in-reply", f"How was {c.S}'s flight back from {city}?", None),
        ("paraphrase", f"What happened to {c.S}'s luggage on the way home?", None),
        ("word-form", f"How long was the delay on {c.S}'s return?", None)],
        distract=[f"{c.other().name} flew to {city} last year, loved it.", "Flights are always delayed these days."])


def en_offer(c):
    co = c.pick("company")
    return F([[("O", f"Any news from the interview at {co}?"),
               ("S", "They offered me the job but I turned it down. The salary was way too low.")]], qs=[
        ("answer-in-reply", f"What happened with {c.S}'s interview at {co}?", None),
        ("paraphrase", f"Why did {c.S} reject the offer from {co}?", None)],
        distract=[f"{c.other().name} had three interviews at {co}, nightmare.", "Interviews are so draining."])


def en_flat(c):
    street = c.pick("street")
    return F([[("O", f"So did you like the flat on {street}?"),
               ("S", "Loved it. We put in an offer this morning, fingers crossed.")]], react="good", qs=[
        ("answer-in-reply", f"Did {c.S} like the flat on {street}?", None),
        ("paraphrase", f"Has {c.S} bid on an apartment?", None)],
        distract=[f"There's a flat on {street} with a garden, way out of my budget.",
                  f"{c.other().name} lives on {street}, I think."])


def en_exam(c):
    kid = c.Sp.ctx["my_kid"]
    subj = c.choice(["maths", "chemistry", "history", "French", "music", "biology"])
    return F([[("O", f"Did {kid} get the exam results?"),
               ("S", f"Top marks in {subj}, and Bs in everything else. Very proud.")]], react="good", qs=[
        ("answer-in-reply", f"What were {kid}'s exam results?", None),
        ("paraphrase", f"How did {c.S}'s child do in the tests?", None),
        ("word-form", f"In which subject was {kid} examined best?", None)],
        distract=[f"{c.other().name}'s kids have exams next week too.", "Exams are so much harder now."])


def en_birthday(c):
    r, p = c.rel()
    age = c.choice(["40", "50", "60", "70", "80", "30"])
    day = c.choice(["3rd", "11th", "17th", "22nd", "28th"])
    month = c.choice(English.MONTHS)
    return F([[("S", f"My {r.rel} {p.name} turns {age} on the {day} of {month}. We're planning a surprise.")]], qs=[
        ("paraphrase", f"When is {p.name}'s birthday?"),
        ("word-form", f"How old is {p.name} turning?"),
        ("speaker", f"What surprise is {c.S} planning?")],
        distract=[f"{c.other(p).name}'s birthday party was wild.", f"{p.name} hates surprises, I think."])


def en_decide(c):
    a, b = c.pick("swap")
    return F([[("S", f"Okay, decision made: we're selling the {a} and getting a {b}.")]], qs=[
        ("paraphrase", f"What is {c.S} getting rid of?"),
        ("word-form", f"What did {c.S} decide to sell?"),
        ("date", f"What did {c.S} make up {_his(c)} mind about <WHEN>?")],
        distract=[f"{c.other().name} is selling a {a}, if anyone wants one.", "Decisions, decisions."])


def en_volunteer(c):
    org = c.pick("org")
    return F([[("S", f"I'm volunteering at the {org} on Saturday mornings now.")]], qs=[
        ("word-form", f"Where does {c.S} volunteer?"),
        ("paraphrase", f"What unpaid work does {c.S} do at weekends?"),
        ("speaker", f"What did {c.S} say about Saturday mornings?")],
        distract=[f"The {org} needs more people, {c.other().name} said.", "Saturday mornings are for sleeping."])


def en_doctor(c):
    what, advice = c.choice([("migraines, probably", "New tablets and less screen time"),
                             ("low iron", "Supplements for three months"),
                             ("a chest infection", "Antibiotics and a week off work"),
                             ("high blood pressure", "Less salt, more walking, and a check in a month"),
                             ("a vitamin D deficiency", "Drops every morning over the winter")])
    sym = c.choice(["headaches", "tiredness", "cough", "dizzy spells"])
    return F([[("O", f"What did the doctor say about your {sym}?"), ("S", f"{cap(what)}. {advice}.")]],
             react="bad", qs=[
        ("answer-in-reply", f"What did the doctor say about {c.S}'s {sym}?", None),
        ("paraphrase", f"What did the GP tell {c.S} to do?", None)],
        distract=[f"{c.other().name} has had {sym} for weeks too.", "Getting a doctor's appointment is impossible."])


def en_boiler(c):
    cost = c.choice(["Two grand", "£2,400", "Three thousand", "£1,850"])
    return F([[("O", "Did the plumber sort out the boiler?"),
               ("S", f"Nope, it needs replacing completely. {cost}, apparently.")]], react="bad", qs=[
        ("answer-in-reply", f"Did the plumber fix {c.S}'s boiler?", None),
        ("word-form", f"How much does {c.S}'s boiler replacement cost?", None),
        ("paraphrase", f"What will the new heating system cost {c.S}?", None)],
        distract=[f"{c.other().name}'s boiler broke in January, nightmare.", "Our plumber never answers the phone."])


def en_boatname(c):
    name = c.pick("boatname")
    thing = c.choice(["boat", "canal boat", "dinghy", "little sailing boat"])
    return F([[("O", f"What did you end up naming the {thing}?"),
               ("S", f"'{name}'. Took us weeks to agree.")]], qs=[
        ("answer-in-reply", f"What name did {c.S} give the {thing}?", None),
        ("paraphrase", f"What is {c.S}'s vessel called?", None)],
        distract=[f"{c.other().name} wants to buy a {thing} one day.", "Naming things is the hardest part."])


def en_mortgage(c):
    rate = c.choice(["4.1", "3.8", "4.6", "5.2"])
    yrs = c.choice(["two", "five", "five", "ten"])
    return F([[("O", "Did the bank approve the mortgage?"),
               ("S", f"Approved! {rate} percent, fixed for {yrs} years.")]], react="good", qs=[
        ("answer-in-reply", f"Did the bank approve {c.S}'s mortgage?", None),
        ("paraphrase", f"What interest rate did {c.S} get on the home loan?", None),
        ("word-form", f"What was the approval for {c.S}'s mortgages?", None)],
        distract=[f"{c.other().name} is still waiting to hear back from the bank.", "Interest rates are going up again."])


def en_quote(c):
    what = c.choice(["the extension", "the new roof", "the loft conversion", "the kitchen", "the driveway"])
    amount = c.choice(["Forty-two thousand", "Eighteen grand", "Twenty-five thousand", "Nine thousand"])
    return F([[("O", f"How much did the builders quote for {what}?"),
               ("S", f"{amount}. We laughed and showed them out.")]], qs=[
        ("answer-in-reply", f"How much did the builders quote {c.S} for {what}?", None),
        ("paraphrase", f"What price were {c.S} and family given for {what}?", None)],
        distract=[f"{c.other().name}'s builders disappeared halfway through {what}.", "Builders are booked up for months."])


EN_RECS = [("tent", "camping in the rain", "Vango Halo 3", "It's light and handles wind well", "shelter"),
           ("laptop", "video editing", "Lumen Pro 16", "Good screen and plenty of memory", "computer"),
           ("pair of boots", "winter hiking", "Torren Ridge GTX", "Waterproof and warm without being heavy", "footwear"),
           ("blender", "smoothies", "Vortex 900", "Powerful and easy to clean", "kitchen gadget"),
           ("car seat", "a toddler", "SafeNest Duo", "It scored best in crash tests", "child seat"),
           ("mattress", "back pain", "Firmline Hybrid", "Medium-firm, with a long trial period", "bed"),
           ("bike", "commuting", "Urbano 7", "Hub gears, mudguards and a rack included", "bicycle")]


def en_recommend(c):
    thing, purpose, prod, why, cat = c.pick("rec")
    return F([[("O", f"Can you recommend a {thing} for {purpose}?"),
               ("S", f"I'd go for the {prod}. {why}.")]], qs=[
        ("speaker", f"What did {c.S} suggest for {purpose}?", [(0, 1)]),
        ("answer-in-reply", f"Which {thing} is good for {purpose}?", [(0, 1)]),
        ("paraphrase", f"Which {cat} model was advised to {c.O}?", None)],
        distract=[f"My old {thing} finally broke.", f"Is {purpose} even worth it?"])


en_recommend.assistant = True

EN_PLANS = [("running a 10k", "three runs a week, building from 3 to 9 km over eight weeks, with a long run on Sundays",
             "How many times a week should {O} jog to get ready for the 10k?"),
            ("learning to cook", "one new recipe each weekend, starting with omelettes, then risotto, then bread",
             "Which dish comes first in {O}'s cooking plan?"),
            ("saving money", "put 15 percent aside on payday, cancel two subscriptions, and cook at home on weekdays",
             "What share of the salary should {O} set aside?"),
            ("sleeping better", "no screens after ten, the same wake-up time every day, and no coffee after two",
             "What's the latest time {O} may have coffee?")]


def en_plan(c):
    goal, plan, para = c.pick("plan")
    return F([[("O", f"Can you make me a plan for {goal}?"), ("S", f"Sure: {plan}.")]], qs=[
        ("answer-in-reply", f"What plan for {goal} did {c.O} get?", None),
        ("paraphrase", para.replace("{O}", c.O), [(0, 1)]),
        ("speaker", f"What schedule did {c.S} propose to {c.O}?", [(0, 1)])],
        distract=[f"I gave up on {goal} last year.", "Plans never survive the first week."])


en_plan.assistant = True


# -- English multi-hop: two parts in sessions far apart

def en_mh_pet(c):
    r, p = c.rel()
    pet = c.pick("petname")
    return F([[("S", f"My {r.rel} {p.name} adopted a cat, {p.he}'s called it {pet}.")],
              [("S", f"{pet} has been ill again, the vet thinks it's eating the houseplants.")]], qs=[
        ("multi-hop", f"What made {c.S}'s {r.rel}'s cat sick?"),
        ("multi-hop", f"Why has {p.name}'s pet been unwell?")],
        distract=[f"{p.name} is thinking about getting a dog.", "Which houseplants are poisonous to cats?"])


def en_mh_company(c):
    p = c.person()
    co, city = c.pick("company"), c.pick("city")
    return F([[("S", f"{p.name} just got a job at {co}.")],
              [("O", f"{co} is opening a new office in {city}, it was on the news.")]], qs=[
        ("multi-hop", f"Which city is {p.name}'s new employer expanding to?")],
        distract=[f"{p.name} hates {p.his} commute.", f"{c.other(p).name} works in {city} now."])


def en_mh_kid(c):
    r, p = c.rel()
    kid = c.choice(["Nell", "Freya", "Edie", "Ada", "Martha", "Lottie"])
    prize = c.choice(["the county junior tournament", "the regional under-12s", "the school championship"])
    return F([[("S", f"My {r.rel} {p.name}'s daughter {kid} has just joined the chess club.")],
              [("S", f"{kid} won {prize}! Unbelievable.")]], react="good", qs=[
        ("multi-hop", f"What did {p.name}'s daughter win?")],
        distract=[f"{p.name} is teaching the kids to play chess.", f"{c.other(p).name}'s son won a swimming medal."])


def en_mh_cabin(c):
    lake = c.pick("lake")
    return F([[("S", f"We've booked the cabin by {lake} for the summer holidays.")],
              [("S", "The cabin trip is off, the whole area flooded. Refund pending.")]], react="bad", qs=[
        ("multi-hop", f"Why didn't {c.S}'s summer holiday at {lake} happen?")],
        distract=[f"{c.other().name} went to {lake} last year, loved it.", "Floods everywhere on the news."])


def en_mh_teacher(c):
    p = c.person()
    subj = c.choice(["chemistry", "geography", "PE", "music", "art", "physics"])
    return F([[("S", f"Our neighbour {p.name} teaches {subj} at the high school.")],
              [("O", f"{p.name} is retiring at Christmas, there's a party at the school.")]], qs=[
        ("multi-hop", f"When is the {subj} teacher next door to {c.S} retiring?")],
        distract=[f"{c.other(p).name} is retiring too, lucky.", f"My old {subj} teacher was terrifying."])


def en_mh_rest(c):
    p = c.person()
    cuisine, rest = c.pick("rest")
    return F([[("S", f"{p.name} opened a little {cuisine} restaurant called {rest}.")],
              [("O", f"{rest} got a glowing review in the paper this weekend!")]], react="good", qs=[
        ("multi-hop", f"What did the newspaper say about {p.name}'s restaurant?")],
        distract=[f"{p.name} looks exhausted lately.", f"There's a bad review of {c.any('rest')[1]} online."])


def en_mh_gift(c):
    p = c.person()
    gift = c.choice(["smartwatch", "coffee grinder", "bluetooth speaker", "hair dryer", "desk lamp"])
    return F([[("S", f"I got {p.name} a {gift} for {p.his} birthday.")],
              [("S", f"Turns out the {gift} broke after a week. So embarrassing.")]], react="bad", qs=[
        ("multi-hop", f"What happened to the birthday present {c.S} gave {p.name}?")],
        distract=[f"{p.name}'s birthday party was lovely.", f"My {gift} works fine, weird."])


def en_mh_car(c):
    p = c.person()
    car = c.choice(["Fiesta", "Golf", "Corsa", "Micra", "Polo", "Yaris"])
    return F([[("S", f"We sold our old {car} to {p.name}.")],
              [("O", f"{p.name} crashed the {car} into a bollard, nobody hurt thankfully.")]], react="bad", qs=[
        ("multi-hop", f"What happened to the car {c.S} used to own?")],
        distract=[f"{c.other(p).name} is selling {c.choice(['her', 'his'])} {car}.", f"{p.name} passed {p.his} driving test!"])


English.FACTS = [en_move, en_adopt, en_job, en_buy, en_allergy, en_favplace, en_race, en_garage, en_vet,
                 en_physio, en_wedding, en_baby, en_trip, en_class, en_rent, en_school, en_recipe, en_code,
                 en_lost, en_promo, en_split, en_paint, en_diet, en_gig, en_harvest, en_bookclub, en_relpet,
                 en_lang, en_injury, en_savings, en_flight, en_offer, en_flat, en_exam, en_birthday, en_decide,
                 en_volunteer, en_recommend, en_plan, en_doctor, en_boiler, en_boatname, en_mortgage,
                 en_quote]
English.MULTI = [en_mh_pet, en_mh_company, en_mh_kid, en_mh_cabin, en_mh_teacher, en_mh_rest, en_mh_gift,
                 en_mh_car]
English.STATIC.update({
    "petname": ["Pudding", "Sprout", "Kiwi", "Marmalade", "Noodle", "Pesto", "Fudge", "Gizmo", "Truffle",
                "Bumble", "Pixel", "Dumpling", "Crumpet", "Bagel", "Nutmeg", "Sherlock"],
    "company": EN_COMPANIES,
    "buy": EN_BUYS,
    "allergen": ["peanuts", "shellfish", "sesame", "kiwi", "eggs", "mustard", "celery", "walnuts"],
    "rest": EN_RESTS,
    "class": ["pottery", "life drawing", "salsa", "Italian cooking", "woodworking", "improv", "jiu-jitsu",
              "watercolour", "swing dance", "stand-up comedy"],
    "secret": ["dark chocolate", "fish sauce", "miso", "instant coffee", "anchovy paste", "marmite",
               "smoked paprika", "peanut butter"],
    "codething": ["the bike shed", "the gym lockers", "the storage unit", "the allotment gate",
                  "the office side door", "the key safe at the cabin", "the new building"],
    "lostitem": ["laptop", "wallet", "good umbrella", "headphones", "reading glasses", "kindle",
                 "scarf my gran knitted"],
    "band": ["The Lowlanders", "Static Bloom", "Marigold Avenue", "Jonny Cask", "The Fennel Brothers",
             "Harbour Ghosts", "Violet Tremor", "Paper Tigers"],
    "novel": ["The Salt Orchard", "A Map of Rain", "The Cartographer's Wife", "Small Hours",
              "The Glass Ocean", "North of Nowhere", "The Weight of Feathers"],
    "swap": [("car", "cargo bike"), ("sofa", "corner sofa"), ("caravan", "tent"), ("piano", "keyboard"),
             ("motorbike", "scooter"), ("big telly", "projector")],
    "org": ["food bank", "animal shelter", "repair café", "parkrun", "hospice shop", "community kitchen"],
    "street": ["Elm Road", "Station Street", "Victoria Terrace", "Mill Lane", "Church Street", "Harbour Row",
               "Albion Street", "Queen's Walk"],
    "lake": ["Lake Bala", "Loch Tay", "Derwentwater", "Lake Vyrnwy", "Ullswater", "Loch Ness"],
    "rec": EN_RECS,
    "boatname": ["Second Wind", "Puffin", "Slow Tide", "Marigold", "The Otter", "Good Luck", "Wanderer"],
    "plan": EN_PLANS,
})


# =============================================================================================
# Russian. Names, relatives, cities carry their case forms (nom gen dat acc ins prep); a person's
# "a" / "sya" complete a past-tense verb (переехал{a} -> переехала, вернул{sya} -> вернулась).


def ru_decl(nom, g):
    """Case forms of a first name or noun: -а/-я nouns (either gender), or a masculine consonant,
    -й, -ий, -ь noun."""
    if nom[-1] in "ая":
        stem = nom[:-1]
        soft = nom[-1] == "я"
        hush = stem[-1] in "жшщчц"
        gen = stem + ("и" if soft or stem[-1] in "гкхжшщч" else "ы")
        f = {"gen": gen, "dat": stem + "е", "acc": stem + ("ю" if soft else "у"),
             "ins": stem + ("ей" if soft or hush else "ой"), "prep": stem + "е"}
    elif nom.endswith("ий"):
        stem = nom[:-2]
        f = {"gen": stem + "ия", "dat": stem + "ию", "acc": stem + "ия", "ins": stem + "ием", "prep": stem + "ии"}
    elif nom[-1] in "йь":
        stem = nom[:-1]
        f = {"gen": stem + "я", "dat": stem + "ю", "acc": stem + "я", "ins": stem + "ем", "prep": stem + "е"}
    else:
        f = {"gen": nom + "а", "dat": nom + "у", "acc": nom + "а", "ins": nom + "ом", "prep": nom + "е"}
    f["nom"] = nom
    return f


def ru_person(nom, g):
    d = ru_decl(nom, g)
    fem = g == "f"
    d.update({"g": g, "a": "а" if fem else "", "sya": "ась" if fem else "ся", "on": "она" if fem else "он",
              "ego": "её" if fem else "его", "On": "Она" if fem else "Он"})
    return d


def ru_rel(nom, g):
    d = ru_decl(nom, g)
    fem = g == "f"
    d.update({"g": g, "my": "моя" if fem else "мой", "My": "Моя" if fem else "Мой",
              "my_gen": "моей" if fem else "моего", "svoy_prep": "своей" if fem else "своём",
              "svoy_acc": "свою" if fem else "своего"})
    return d


def ru_city(nom, gen, prep, acc, ins):
    return {"nom": nom, "gen": gen, "prep": prep, "acc": acc, "ins": ins}


RU_NAMES_F = ["Ольга", "Марина", "Наташа", "Ирина", "Лена", "Юля", "Таня", "Вера", "Люда", "Галя", "Полина",
              "Алёна", "Нина", "Зоя", "Рита", "Даша", "Софья", "Жанна", "Лиза", "Надя"]
RU_NAMES_M = ["Иван", "Олег", "Антон", "Максим", "Борис", "Роман", "Егор", "Виктор", "Артём", "Кирилл",
              "Игорь", "Алексей", "Николай", "Вадим", "Глеб", "Фёдор", "Тимур", "Денис", "Руслан", "Арсений"]
RU_CITIES = [ru_city("Казань", "Казани", "Казани", "Казань", "Казанью"),
             ru_city("Новосибирск", "Новосибирска", "Новосибирске", "Новосибирск", "Новосибирском"),
             ru_city("Екатеринбург", "Екатеринбурга", "Екатеринбурге", "Екатеринбург", "Екатеринбургом"),
             ru_city("Сочи", "Сочи", "Сочи", "Сочи", "Сочи"),
             ru_city("Пермь", "Перми", "Перми", "Пермь", "Пермью"),
             ru_city("Самара", "Самары", "Самаре", "Самару", "Самарой"),
             ru_city("Тверь", "Твери", "Твери", "Тверь", "Тверью"),
             ru_city("Калининград", "Калининграда", "Калининграде", "Калининград", "Калининградом"),
             ru_city("Хабаровск", "Хабаровска", "Хабаровске", "Хабаровск", "Хабаровском"),
             ru_city("Ярославль", "Ярославля", "Ярославле", "Ярославль", "Ярославлем"),
             ru_city("Иркутск", "Иркутска", "Иркутске", "Иркутск", "Иркутском"),
             ru_city("Томск", "Томска", "Томске", "Томск", "Томском"),
             ru_city("Воронеж", "Воронежа", "Воронеже", "Воронеж", "Воронежем"),
             ru_city("Псков", "Пскова", "Пскове", "Псков", "Псковом"),
             ru_city("Мурманск", "Мурманска", "Мурманске", "Мурманск", "Мурманском"),
             ru_city("Тула", "Тулы", "Туле", "Тулу", "Тулой"),
             ru_city("Нижний Новгород", "Нижнего Новгорода", "Нижнем Новгороде", "Нижний Новгород", "Нижним Новгородом"),
             ru_city("Петербург", "Петербурга", "Петербурге", "Петербург", "Петербургом"),
             ru_city("Минск", "Минска", "Минске", "Минск", "Минском"),
             ru_city("Ереван", "Еревана", "Ереване", "Ереван", "Ереваном"),
             ru_city("Рига", "Риги", "Риге", "Ригу", "Ригой"),
             ru_city("Калуга", "Калуги", "Калуге", "Калугу", "Калугой"),
             ru_city("Краснодар", "Краснодара", "Краснодаре", "Краснодар", "Краснодаром"),
             ru_city("Омск", "Омска", "Омске", "Омск", "Омском")]
RU_MONTH_PREP = ["январе", "феврале", "марте", "апреле", "мае", "июне", "июле", "августе", "сентябре",
                 "октябре", "ноябре", "декабре"]
RU_MONTH_GEN = ["января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября",
                "октября", "ноября", "декабря"]


def _nf(nom, acc):
    return {"nom": nom, "acc": acc}


class Russian(Pack):
    lang = "ru"
    RELS = [ru_rel(n, "f") for n in ["сестра", "тётя", "бабушка", "подруга", "соседка", "племянница", "коллега"]] + \
           [ru_rel(n, "m") for n in ["брат", "дядя", "дедушка", "друг", "сосед", "племянник"]]

    def person(self, name, g):
        return ru_person(name, g)

    def address(self, name, text):
        return name + ", " + text[:1].lower() + text[1:]

    def more_ctx(self, c, sp, you):
        c["me_a"], c["me_sya"] = sp.forms["a"], sp.forms["sya"]
        c["me_dolzh"] = c["me_soglas"] = "на" if sp.g == "f" else "ен"
        if you is not None:
            c["you_a"], c["you_sya"] = you.forms["a"], you.forms["sya"]

    def make_pools(self, rng, cfg, speakers):
        taken = {s.name for s in speakers}
        fs = rng.sample([n for n in RU_NAMES_F if n not in taken], 16)
        ms = rng.sample([n for n in RU_NAMES_M if n not in taken], 16)
        pools = dict(self.STATIC)
        pools["name"] = [ru_person(n, "f") for n in fs] + [ru_person(n, "m") for n in ms]
        return pools

    def make_profiles(self, rng, conv):
        pets = rng.sample([("Барсик", "m"), ("Мурка", "f"), ("Рыжик", "m"), ("Бублик", "m"), ("Муся", "f"),
                           ("Граф", "m"), ("Кузя", "m"), ("Соня", "f"), ("Жужа", "f")], len(conv.humans))
        partners = rng.sample(conv.pools["name"], len(conv.humans))
        kids = rng.sample([("Миша", "m"), ("Варя", "f"), ("Петя", "m"), ("Маша", "f"), ("Ваня", "m"),
                           ("Настя", "f")], len(conv.humans))
        for h, pet, partner, kid in zip(conv.humans, pets, partners, kids):
            conv.used["name"].add(json.dumps(partner, sort_keys=True))
            h.ctx = {"my_pet": ru_person(*pet), "my_partner": partner, "my_kid": ru_person(*kid)}

    def timefmt(self, dt, style):
        return iso(dt)

    def when(self, rng, dt):
        if rng.random() < 0.7:
            return f"в {RU_MONTH_PREP[dt.month - 1]} {dt.year} года"
        return f"{dt.day} {RU_MONTH_GEN[dt.month - 1]} {dt.year} года"

    STATIC = {
        "city": RU_CITIES,
        "place": [{"where": a, "whither": b} for a, b in [
            ("в парке", "в парк"), ("на даче", "на дачу"), ("в спортзале", "в спортзал"), ("на рынке", "на рынок"),
            ("в библиотеке", "в библиотеку"), ("в кино", "в кино"), ("в бассейне", "в бассейн"),
            ("в торговом центре", "в торговый центр"), ("на озере", "на озеро"), ("в лесу", "в лес"),
            ("в новом кафе на углу", "в новое кафе на углу"), ("на набережной", "на набережную"),
            ("в театре", "в театр"), ("в музее", "в музей"), ("на катке", "на каток"), ("у родителей", "к родителям"),
            ("на барахолке", "на барахолку"), ("в пекарне у дома", "в пекарню у дома")]],
        "food": [_nf(a, b) for a, b in [
            ("борщ", "борщ"), ("пельмени", "пельмени"), ("плов", "плов"), ("блины", "блины"), ("солянка", "солянку"),
            ("окрошка", "окрошку"), ("голубцы", "голубцы"), ("шашлык", "шашлык"), ("пицца", "пиццу"), ("суши", "суши"),
            ("котлеты", "котлеты"), ("гречка с грибами", "гречку с грибами"), ("уха", "уху"), ("сырники", "сырники"),
            ("пирог с капустой", "пирог с капустой"), ("лазанья", "лазанью"), ("рагу", "рагу"), ("вареники", "вареники"),
            ("харчо", "харчо"), ("оладьи", "оладьи"), ("жареная картошка", "жареную картошку")]],
        "act_past": ["ходили в поход", "смотрели кино", "жарили шашлыки", "убирались весь день",
                     "катались на велосипедах", "ездили к родителям", "ходили на концерт", "копались в огороде",
                     "клеили обои", "ходили в бассейн", "устроили пикник", "ездили за грибами", "играли в настолки",
                     "пекли пироги", "гуляли по набережной", "ходили на футбол", "ездили на рыбалку",
                     "сидели в новом кафе", "ходили в баню", "катались на лыжах"],
        "act_fut": ["сходить в поход", "посмотреть кино", "съездить на дачу", "навестить родителей", "разобрать балкон",
                    "съездить на озеро", "сходить в театр", "пожарить шашлыки", "выспаться", "сходить на каток",
                    "покататься на лыжах", "позвать гостей", "доделать ремонт", "сходить за грибами",
                    "съездить за город", "испечь пирог"],
        "film": ["«Тихая гавань»", "«Северный ветер»", "«Последний паром»", "«Стеклянный дом»", "«Бумажные луны»",
                 "«Долгое лето»", "«Соль и железо»", "«Полночная кухня»", "«Дикие гуси»", "«Девятый этаж»",
                 "«Ледокол»", "«Низкий прилив»"],
        "series": [{"nom": f"«{a}»", "gen": f"«{b}»"} for a, b in [
            ("Участковый", "Участкового"), ("Вторая смена", "Второй смены"), ("Дачники", "Дачников"),
            ("Холодный след", "Холодного следа"), ("Соседи", "Соседей"), ("Кухня на Неве", "Кухни на Неве")]],
        "genre": ["детектив", "комедию", "триллер", "сериал", "фильм ужасов", "документальный фильм", "мультфильм",
                  "мелодраму"],
        "hobby": [{"nom": a, "ins": b} for a, b in [
            ("йога", "йогой"), ("плавание", "плаванием"), ("бег", "бегом"), ("шахматы", "шахматами"),
            ("вязание", "вязанием"), ("фотография", "фотографией"), ("скалолазание", "скалолазанием"),
            ("рисование", "рисованием"), ("теннис", "теннисом"), ("керамика", "керамикой"), ("танцы", "танцами"),
            ("волейбол", "волейболом"), ("гитара", "гитарой")]],
        "weather": ["у нас льёт как из ведра", "жара невыносимая", "туман с самого утра",
                    "мороз, машина вся в инее", "солнце, красота", "ветер сбивает с ног", "всю неделю серо и моросит",
                    "снег! Настоящий снег", "душно ужасно", "надвигается гроза", "сегодня тепло, наконец-то",
                    "град ни с того ни с сего"],
        "work": [{"nom": a, "acc": b} for a, b in [
            ("квартальный отчёт", "квартальный отчёт"), ("презентация для клиента", "презентацию для клиента"),
            ("проверка", "проверку"), ("запуск продукта", "запуск продукта"), ("годовой бюджет", "годовой бюджет"),
            ("переезд офиса", "переезд офиса"), ("инвентаризация", "инвентаризацию"), ("новый сайт", "новый сайт"),
            ("тендер", "тендер"), ("аттестация", "аттестацию")]],
        "good": ["отлично", "здорово", "неплохо", "прекрасно", "классно", "спокойно", "весело", "очень душевно"],
        "bad": ["тяжело", "так себе", "скучно", "утомительно", "нервно", "ужасно"],
        "item": ["новый чайник", "пару цветов в горшках", "ковёр", "кроссовки", "лампу", "настольную игру",
                 "зимнюю куртку", "наушники", "сковородку", "офисное кресло", "замок для велосипеда", "дождевик",
                 "блендер", "краску", "книжную полку", "одеяло", "резиновые сапоги"],
        "book": ["«Мастера и Маргариту»", "детектив Акунина", "биографию Чехова", "книгу про грибы",
                 "«Анну Каренину»", "рассказы Довлатова", "«Тихий Дон»", "книгу про Японию", "роман Гончарова"],
        "day": ["понедельник", "вторник", "среду", "четверг", "пятницу", "субботу", "воскресенье"],
        "hour": ["шести", "семи", "восьми", "двум", "трём", "девяти"],
        "chore": ["уборку", "стирку", "глажку", "генеральную уборку", "ремонт на балконе", "покупки на неделю"],
        "ingredient": ["нутом", "шпинатом", "грибами", "фетой", "кабачками", "чечевицей", "тыквой", "баклажанами"],
        "num": ["пять", "десять", "двенадцать", "пятнадцать", "восемь"],
    }

    QA = [
        ("Как прошли выходные?", ["{good}, спасибо! Мы {act_past}, а потом {act_past2}.",
                                  "Честно говоря, {bad}. Хорошо, что закончились.",
                                  "{good}. {name} тоже был{name.a} с нами.",
                                  "Неплохо. Немного устал{me_a}, если честно."]),
        ("Какие планы на выходные?", ["Думаем {act_fut} с {name.ins}.", "Ничего особенного, хочу {act_fut}.",
                                      "Хотим {act_fut}, если погода не подведёт.",
                                      "Работаю, увы. Надо сдать {work.acc} до понедельника.",
                                      "{my_partner} хочет {act_fut}, так что, видимо, это."]),
        ("Кто-нибудь смотрел {film}?", ["Да! Очень понравилось, концовка огонь.", "Ещё нет, стоит?",
                                        "Я уснул{me_a} на середине, простите.",
                                        "{name} советовал{name.a}, он у меня в списке."]),
        ("Что на ужин?", ["Думаю, {food}.", "{my_partner} готовит {food.acc}.", "Остатки вчерашнего, красота.",
                          "Не знаю, может, закажем {food.acc}."]),
        ("Посоветуйте хороший {genre}.", ["Посмотри {film}, мне очень понравилось.",
                                          "Сериал {series} очень хороший, если не видел{you_a}.",
                                          "Это не моё, спроси у {name.gen}."]),
        ("Как дела на работе?", ["Завал, {work} горит.", "Нормально, на удивление тихая неделя.",
                                 "Начальник опять перенёс сроки, бесит.", "Наконец-то сдали {work.acc}, отмечаю."]),
        ("Ты всё ещё занимаешься {hobby.ins}?", ["Да, два раза в неделю.", "Забросил{me_a}, но хочу вернуться.",
                                                 "Потихоньку, пока получается так себе.",
                                                 "Да, {name} меня подтягивает."]),
        ("Какая у вас погода?", ["{weather}.", "{weather}. Как обычно.", "Честно? {weather}, так что сижу дома."]),
        ("Выспал{you_sya}?", ["Еле-еле, {my_pet} разбудил{my_pet.a} меня в пять.", "Восемь часов, впервые за месяц!",
                              "Не особо, у соседей была вечеринка."]),
        ("Пойдёшь потом {place.whither}?", ["Да, буду часам к {hour}.", "Сегодня не могу, извини!",
                                           "Может быть, зависит от {my_partner.gen}."]),
        ("Как там {name}?", ["Вроде хорошо, {name.on} только вернул{name.sya} из {city.gen}.",
                             "Немного замотан{name.a} на работе, но в целом нормально.",
                             "Давно с {name.ins} не общал{me_sya}, кстати.",
                             "{name.On} в порядке, увлекается {hobby.ins}."]),
        ("Пойдём завтра обедать?", ["Давай! Может, {place.whither}?", "Не могу, совещания подряд. Может, в {day}?",
                                    "Да, мне нужен перерыв."]),
        ("Смотрел{you_a} вчера матч?", ["Да, вот это концовка!", "Пропустил{me_a}, кто выиграл?",
                                        "Наши опять позорились."]),
        ("Какие планы на праздники?", ["Может, съездим в {city.acc} на пару дней.", "Сидим дома, ждём родню.",
                                       "Пока никаких, есть идеи?"]),
        ("Что сейчас читаешь?", ["Читаю {book}, пока нравится.", "Ничего, засыпаю на второй странице.",
                                 "Дочитываю {book}, идёт тяжело."]),
        ("Как там {you_pet}?", ["Вчера сгрыз{my_pet.a} тапок, а так ничего.", "Спит целыми днями.",
                                "Отлично, обожает новую лежанку."]),
        ("Ты уже сделал{you_a} {chore}?", ["Нет, это проблема завтрашнего дня.", "Да! Горжусь собой.",
                                           "Наполовину. Остальное доделал{my_partner.a} {my_partner}."]),
        ("Где поужинаем в {day}?", ["Давай в то новое кафе на углу.", "Выбирай ты на этот раз.",
                                    "Где угодно, только не в ту пиццерию опять."]),
        ("У вас всё ещё дождь?", ["Да, весь день.", "Час назад распогодилось.", "Даже сильнее."]),
        ("Знаешь кого-нибудь, кто занимается {hobby.ins}?", ["{name} занимается, спроси у {name.gen}.",
                                                             "Не особо, извини.", "Моя сестра раньше занималась."]),
        ("Как доехал{you_a}?", ["Ужасно, сорок минут только из города выбирал{me_sya}.", "Нормально, на удивление.",
                                "В итоге поехал{me_a} на электричке."]),
        ("Кофе попозже?", ["Всегда.", "Если чай, то я в деле.", "Не могу, опять {work}."]),
    ]
    STATEMENTS = [
        "{weather}.", "Только что был{me_a} {place.where}, {bad}.", "Сходил{me_a} {place.whither}, {good} как всегда.",
        "Сегодня готовлю {food.acc}, кто-нибудь зайдёт?", "{name} передаёт всем привет.",
        "Напоминаю: скоро день рождения у {name.gen}.", "Цены просто космос, не могу поверить.",
        "Пойду потом {place.whither}, кто со мной?", "{my_pet} опять уронил{my_pet.a} кружку со стола.",
        "На работе {bad}, {work} горит.", "Начал{me_a} читать {book}, пока {good}.",
        "Кто-нибудь знает хорошего сантехника? Кран на кухне течёт.", "Электричка опять опоздала.",
        "Открыл{me_a} для себя классную пекарню рядом с домом.", "Посмотрел{me_a} {film}, {good}.",
        "Хочу в отпуск. Куда-нибудь к морю.", "Звонила мама, проговорили час.", "Пробки по дороге домой кошмарные.",
        "Пытаюсь пить меньше кофе. Третий день, идёт плохо.", "Встретил{me_a} {name.acc} {place.where}, {name.on} отлично выглядит.",
        "{my_partner} приготовил{my_partner.a} {food.acc}, десять из десяти.",
        "Наконец-то сделал{me_a} {chore}. Награждаю себя кофе.", "Думаю заняться {hobby.ins}.",
        "Кто-нибудь слышал гром ночью?", "Соседи опять сверлят.", "Середина недели, как так.",
        "{name} купил{name.a} {item} на барахолке, почти даром.", "Сегодня новая серия {series.gen}!", "Всё время забываю позвонить {name.dat}.",
        "На обед {food} прямо за рабочим столом, очень гламурно.", "{my_kid} простыл{my_kid.a}, сидим дома.",
        "Кому нужен лишний билет на {film}?", "Мы вчера {act_past}, было {good}.",
        "Наконец записал{me_sya} к стоматологу.", "Наши выиграли! Невероятно.", "Телефон садится, отвечу позже.",
        "Кажется, я заболеваю.", "{name} зайдёт в {day}.", "Попробовал{me_a} новый рецепт, {food} с {ingredient}. На удивление {good}.",
        "На кухне до сих пор пахнет краской.", "Длинный день, совещание за совещанием.", "Я долж{me_dolzh} {name.dat} кофе.",
        "Сегодня набрал{me_a} {num} тысяч шагов.", "Выпил{me_a} лучший кофе в жизни {place.where}.",
        "Уже дома, вечер прошёл {good}.", "У кого-нибудь есть стремянка? Нужно на пару дней.", "Всем доброе утро!",
        "Всем спокойной ночи, до завтра.", "Ура, пятница!", "Понедельник, ну конечно.", "Ха-ха, {name} в своём репертуаре.",
        "Мы с {name.ins} {act_past}, было {good}.", "Надо бы как-нибудь {act_fut}.", "Никак не решу, что делать с балконом.",
        "Дача зовёт.", "Опять отключили горячую воду.", "{name} взял{name.a} абонемент в бассейн, посмотрим, надолго ли хватит.",
    ]
    REACTIONS = {
        "good": ["Поздравляю!!", "Вот это новости!", "Ого, молодец!", "Как здорово, рад{me_a} за тебя!",
                 "Ух ты, это серьёзно!", "Класс!", "Ура!"],
        "bad": ["Ой, сочувствую.", "Блин, неприятно.", "Держись, всё наладится.", "Вот засада.",
                "Ох, надеюсь, всё образуется.", "Обнимаю."],
        "neutral": ["Ну да.", "Логично.", "Интересно!", "Буду знать.", "Да ладно?", "Неплохо.", "Ахаха",
                    "У меня так же, честно.", "О, понятно.", "Точно.", "Это да.", "Жиза.", "Соглас{me_soglas}."],
    }


# -- Russian facts. S = the speaker's case forms; S.a / S.sya complete past-tense verbs.

def ru_move(c):
    S = c.Sf
    r, p = c.rel()
    city, q = c.pick("city"), c.other(p)
    t = c.choice([f"Новости: {r.my} {r.nom} {p.nom} наконец переехал{p.a} в {city.acc}! Уже получил{p.a} ключи.",
                   f"{r.My} {r.nom} {p.nom} собрал{p.a} вещи и переехал{p.a} в {city.acc}. С понедельника выходит там на работу."])
    return F([[("S", t)]], react="good", qs=[
        ("paraphrase", f"В какой город перебрал{p.sya} {p.nom}?"),
        ("paraphrase", f"Где теперь живёт {r.nom} {S.gen}?"),
        ("word-form", f"Что {S.nom} рассказывал{S.a} о переезде {p.gen}?"),
        ("word-form", f"Куда переезжает {p.nom}?"),
        ("speaker", f"Что {S.nom} рассказывал{S.a} о {r.svoy_prep} {r.prep}?"),
        ("date", f"Кто из родных {S.gen} переехал <WHEN>?")],
        distract=[f"{q.nom} всё говорит, что когда-нибудь переедет в {c.any('city')['acc']}.",
                  f"{p.nom} звонил{p.a} вчера, голос уставший, но довольный.",
                  "Переезд — это худшее, больше никогда."])


def ru_adopt(c):
    S = c.Sf
    kind = D(c.choice([{"acc": "котёнка", "gen": "котёнка"}, {"acc": "щенка", "gen": "щенка"},
                       {"acc": "кролика", "gen": "кролика"}, {"acc": "попугая", "gen": "попугая"},
                       {"acc": "черепаху", "gen": "черепахи"}]))
    name = c.pick("petname")
    return F([[("S", f"Мы взяли из приюта {kind.acc}! Назвали {name}.")]], react="good", qs=[
        ("paraphrase", f"Какую кличку получил новый питомец {S.gen}?"),
        ("word-form", f"Какое имя выбрали для взятого из приюта зверька?"),
        ("date", f"Какое животное {S.nom} взял{S.a} домой <WHEN>?"),
        ("speaker", f"Что {S.nom} рассказывал{S.a} про нового питомца?")],
        distract=[f"{c.other().nom} хочет взять собаку, но хозяин квартиры против.",
                  "Приюту возле парка нужны волонтёры."])


def ru_job(c):
    S = c.Sf
    role = c.choice(["младшим архитектором", "шеф-поваром", "аналитиком данных", "руководителем проекта",
                     "учителем химии", "звукорежиссёром", "фельдшером", "дизайнером интерфейсов"])
    co = c.pick("company")
    q = c.other()
    return F([[("S", f"Сегодня подписал{S.a} договор! Со следующего месяца работаю {role} в компании {co}.")]],
             react="good", qs=[
        ("paraphrase", f"Какая фирма наняла {S.acc}?"),
        ("paraphrase", f"Кем теперь будет {S.nom} на новом месте?"),
        ("word-form", f"С какой компанией {S.nom} подписывал{S.a} договоры?"),
        ("date", f"Что {S.nom} подписал{S.a} <WHEN>?"),
        ("speaker", f"Какими рабочими новостями делил{S.sya} {S.nom}?")],
        distract=[f"У {q.gen} на следующей неделе собеседование в компании {c.any('company')}.",
                  f"{c.other(q).nom} говорит, что компания {co} всё время ищет людей."])


RU_BUYS = [("байдарку", "байдаркой", "Ярко-оранжевая, отлично встаёт на крышу машины", "Какое судно теперь есть у {g}?"),
           ("телескоп", "телескопом", "Уже разглядел{a} кольца Сатурна", "Чем {n} теперь смотрит на звёзды?"),
           ("кофемашину", "кофемашиной", "Капучино как в кофейне", "Какой прибор для кофе появился у {g}?"),
           ("гребной тренажёр", "гребным тренажёром", "Занимает полгостиной", "Какое спортивное оборудование стоит дома у {g}?"),
           ("швейную машинку", "швейной машинкой", "Б/у, но работает идеально", "На чём {n} теперь шьёт одежду?"),
           ("электросамокат", "электросамокатом", "В горку едет без проблем", "На каком транспорте {n} теперь ездит по городу?"),
           ("цифровое пианино", "цифровым пианино", "Клавиши взвешенные, всё как надо", "Какой музыкальный инструмент появился у {g}?"),
           ("шоссейный велосипед", "шоссейным велосипедом", "Карбоновая рама, невероятно лёгкий", "Какой байк теперь у {g}?"),
           ("3D-принтер", "3D-принтером", "Уже напечатал{a} маленького динозавра", "Какое устройство для печати фигурок у {g}?"),
           ("дрон", "дроном", "Уже один раз врезал{sya} в куст", "Какая летающая камера теперь у {g}?")]


def ru_buy(c):
    S = c.Sf
    acc, ins, detail, para = c.pick("buy")
    detail = detail.format(a=S.a, sya=S.sya)
    return F([[("S", f"Наконец-то купил{S.a} {acc}! {detail}.")]], react="good", qs=[
        ("date", f"Что {S.nom} купил{S.a} <WHEN>?"),
        ("paraphrase", para.format(g=S.gen, n=S.nom)),
        ("word-form", f"Кто у нас теперь с {ins}?"),
        ("speaker", f"Что {S.nom} рассказывал{S.a} о своей последней покупке?")],
        distract=[f"{c.other().nom} тоже думает про {acc}, но это так дорого.",
                  f"На барахолке продают {acc}, заманчиво."])


def ru_allergy(c):
    S = c.Sf
    food = c.pick("allergen")
    return F([[("S", f"Имейте в виду на субботу: мне нельзя {food}, я аллергик. Проверено на собственном опыте.")]], qs=[
        ("paraphrase", f"Чего {S.nom} долж{'на' if c.Sp.g == 'f' else 'ен'} избегать в еде?"),
        ("word-form", f"На что у {S.gen} аллергия?"),
        ("speaker", f"О чём {S.nom} предупредил{S.a} перед ужином в субботу?")],
        distract=[f"У {c.other().gen} аллергия на кошек, бедняга.",
                  "У кого-нибудь есть аллергии? Составляю меню на субботу."])


RU_RESTS = [({"nom": "грузинская", "prep_m": "грузинском"}, "Сулико"), ({"nom": "узбекская", "prep_m": "узбекском"}, "Чайхона №7"),
            ({"nom": "итальянская", "prep_m": "итальянском"}, "Тратторния"), ({"nom": "японская", "prep_m": "японском"}, "Сакура"),
            ({"nom": "вьетнамская", "prep_m": "вьетнамском"}, "Фо Бо"), ({"nom": "армянская", "prep_m": "армянском"}, "Арарат"),
            ({"nom": "корейская", "prep_m": "корейском"}, "Кимчи"), ({"nom": "турецкая", "prep_m": "турецком"}, "Стамбул")]


def ru_favplace(c):
    S = c.Sf
    cui, rest = c.pick("rest")
    cui = D(cui)
    other = c.any("rest")[1]
    return F([[("S", f"Честно, лучшая {cui.nom} кухня в городе — это «{rest}». Хожу туда каждую пятницу после работы.")]], qs=[
        ("paraphrase", f"Где, по мнению {S.gen}, самая вкусная {cui.nom} еда?"),
        ("word-form", f"В какой ресторан {S.nom} ходит по пятницам?"),
        ("speaker", f"Какое место {S.nom} советовал{S.a} для ужина?")],
        distract=[f"В «{other}» новое меню, надо сходить.",
                  f"Были в {cui.prep_m} ресторане в {c.any('city')['prep']}, вкусно, но дорого."])


def ru_race(c):
    S = c.Sf
    city = c.pick("city")
    tm = c.choice(["1 час 52 минуты", "2 часа 5 минут", "1 час 47 минут", "2 часа 14 минут", "1 час 39 минут"])
    return F([[("S", f"Пробежал{S.a} полумарафон в {city.prep} за {tm}! Ноги отваливаются.")]], react="good", qs=[
        ("paraphrase", f"За сколько {S.nom} преодолел{S.a} забег в {city.prep}?"),
        ("word-form", f"Какое время показал{S.a} {S.nom} на полумарафонах?"),
        ("date", f"В каком забеге {S.nom} участвовал{S.a} <WHEN>?")],
        distract=[f"{c.other().nom} готовится к марафону в {c.any('city')['prep']}.",
                  "Кто со мной на полумарафон весной?"])


def ru_garage(c):
    S = c.Sf
    part = c.choice(["сцепление", "генератор", "коробка передач", "ремень ГРМ", "радиатор", "стартер"])
    cost = c.choice(["Тридцать", "Сорок пять", "Шестьдесят", "Восемнадцать"])
    return F([[("O", "Из сервиса перезвонили насчёт машины?"),
               ("S", f"Да, {part}. {cost} тысяч за ремонт, ужас.")]], react="bad", qs=[
        ("answer-in-reply", f"Что сказали в автосервисе про машину {S.gen}?", None),
        ("paraphrase", f"Сколько будет стоить починка автомобиля {S.gen}?", None),
        ("word-form", f"Что нужно ремонтировать в машине у {S.gen}?", None)],
        distract=[f"У {c.other().gen} машина не прошла техосмотр, что-то с тормозами.",
                  "Никогда не ездите в сервис у вокзала, там обдирают."])


def ru_vet(c):
    S = c.Sf
    pet = D(c.Sp.ctx["my_pet"])
    what, treat = c.choice([("ушная инфекция", "Капли два раза в день неделю"),
                            ("растяжение лапы", "Две недели без долгих прогулок"),
                            ("больной зуб", "В четверг будут удалять"), ("аллергия на курицу", "Теперь только новый корм"),
                            ("глисты", "Таблетки и генеральная уборка"),
                            ("лишний вес", "Диетический корм и побольше движения")])
    return F([[("O", f"Как {pet.nom} сходил{pet.a} к ветеринару?"),
               ("S", f"Просто {what}, слава богу. {treat}.")]], react="bad", qs=[
        ("answer-in-reply", f"Что сказал ветеринар про {pet.acc}?", None),
        ("paraphrase", f"Что было не так с питомцем {S.gen}?", None),
        ("word-form", f"Какой диагноз поставили {pet.dat} в ветклинике?", None)],
        distract=[f"Кошку {c.other().gen} тоже возили к ветеринару, всё обошлось.",
                  "Ветеринар возле парка такой дорогой."])


def ru_physio(c):
    S = c.Sf
    inj, rest = c.choice([("надрыв икроножной мышцы", "Никакого бега шесть недель"),
                          ("защемление нерва в шее", "Никаких тяжестей месяц"),
                          ("теннисный локоть", "Никакого тенниса два месяца"),
                          ("стрессовый перелом стопы", "Никакого футбола десять недель"),
                          ("воспаление колена", "Никакого бега три недели"),
                          ("воспаление сухожилия плеча", "Никакого плавания месяц")])
    return F([[("O", "Как прошёл приём у физиотерапевта?"),
               ("S", f"Говорит, {inj}. {rest}.")]], react="bad", qs=[
        ("answer-in-reply", f"Как у {S.gen} прошёл приём у физиотерапевта?", None),
        ("paraphrase", f"Какая травма у {S.gen}?", None),
        ("paraphrase", f"Сколько {S.dat} нельзя тренироваться?", None)],
        distract=[f"{c.other().nom} уже полгода ходит к физиотерапевту.", "У меня колено щёлкает, к кому идти?"])


def ru_wedding(c):
    S = c.Sf
    venue = c.choice(["в старой усадьбе", "на винодельне", "в ботаническом саду", "в загородном клубе",
                      "на базе отдыха у озера", "в яхт-клубе"])
    city = c.pick("city")
    partner = D(c.Sp.ctx["my_partner"])
    return F([[("S", f"Решили: свадьба будет {venue} под {city.ins}!")]], react="good", qs=[
        ("paraphrase", f"Где поженятся {S.nom} и {partner.nom}?"),
        ("word-form", f"Какое место для свадебного торжества выбрали {S.nom} и {partner.nom}?"),
        ("date", f"Какую важную новость {S.nom} объявил{S.a} <WHEN>?")],
        distract=[f"{(q := c.other()).nom} просто расписал{q.sya} в ЗАГСе, без гостей.",
                  f"Свадьбы в {city.prep} такие дорогие."])


def ru_baby(c):
    S = c.Sf
    r, p = c.rel("f")
    gb, baby = c.choice([("Девочка", "Варвара"), ("Мальчик", "Тимофей"), ("Девочка", "Алиса"), ("Мальчик", "Мирон"),
                         ("Девочка", "Ева"), ("Мальчик", "Лев"), ("Девочка", "Злата")])
    kg = c.choice(["3,2", "3,6", "2,9", "4,1"])
    return F([[("S", f"{r.My} {r.nom} {p.nom} родила! {gb}, назвали {baby}, {kg} кг.")]], react="good", qs=[
        ("paraphrase", f"Какое имя у новорождённого ребёнка {p.gen}?"),
        ("word-form", f"Сколько весил малыш {p.gen} при рождении?"),
        ("date", f"У кого родился ребёнок <WHEN>?"),
        ("speaker", f"Какую новость {S.nom} рассказал{S.a} про {r.svoy_acc} {r.acc}?")],
        distract=[f"{c.other(p, g='f').nom} ждёт ребёнка весной, не верится!",
                  f"{p.nom} на празднике выглядела такой уставшей."])


def ru_trip(c):
    S = c.Sf
    city = c.pick("city")
    q = c.other()
    return F([[("S", f"Купил{S.a} билеты в {city.acc} на нашу годовщину! Пять ночей в квартире в старом центре.")]],
             react="good", qs=[
        ("paraphrase", f"Куда {S.nom} отправится праздновать очередной год вместе?"),
        ("word-form", f"В какой город {S.nom} покупал{S.a} билет?"),
        ("date", f"Куда {S.nom} взял{S.a} билеты <WHEN>?")],
        distract=[f"{q.nom} только что вернул{q.sya} из {city.gen}, говорит, всё время шёл дождь.",
                  "Билеты сейчас безумно дорогие."])


def ru_class(c):
    S = c.Sf
    cls = c.pick("class")
    return F([[("S", f"Записал{S.sya} на {cls}, каждый вторник вечером в доме культуры.")]], qs=[
        ("word-form", f"Куда {S.nom} ходит по вторникам?"),
        ("paraphrase", f"Каким новым хобби занял{S.sya} {S.nom}?"),
        ("date", f"Куда {S.nom} записал{S.sya} <WHEN>?")],
        distract=[f"{(q := c.other()).nom} бросил{q.a} {cls} через две недели, слишком сложно.",
                  "Вторник — мой единственный свободный вечер."])


def ru_rent(c):
    S = c.Sf
    amount = c.choice(["45 тысяч", "38 тысяч", "52 тысяч", "60 тысяч"])
    month = c.choice(RU_MONTH_GEN)
    return F([[("S", f"Хозяйка квартиры поднимает аренду до {amount} в месяц с {month}. Это вообще нормально?")]],
             react="bad", qs=[
        ("paraphrase", f"Сколько {S.nom} теперь будет платить за жильё?"),
        ("word-form", f"До скольких поднимется арендная плата у {S.gen}?"),
        ("speaker", f"Что {S.nom} говорил{S.a} про хозяйку съёмной квартиры?")],
        distract=[f"Хозяин квартиры {c.other().gen} наконец починил бойлер.", "Аренда в нашем районе — это грабёж."])


def ru_school(c):
    S = c.Sf
    kid = D(c.Sp.ctx["my_kid"])
    school = c.choice(["музыкальную школу", "лицей №2", "художественную школу", "гимназию на Садовой",
                       "физмат-лицей", "кадетский корпус"])
    return F([[("S", f"{kid.nom} поступил{kid.a} в {school}! Узнали сегодня утром, радости полные штаны.")]],
             react="good", qs=[
        ("paraphrase", f"Куда взяли {kid.acc}?"),
        ("paraphrase", f"Где будет учиться ребёнок {S.gen}?"),
        ("date", f"Какую хорошую новость про ребёнка {S.nom} получил{S.a} <WHEN>?")],
        distract=[f"Сын {c.other().gen} не прошёл в {school}, будут подавать апелляцию.", "Поступление — это такой стресс."])


def ru_recipe(c):
    S = c.Sf
    dish = c.choice([("борща", "борщ"), ("плова", "плов"), ("рагу", "рагу"), ("гуляша", "гуляш"), ("харчо", "харчо")])
    ing = c.pick("secret")
    return F([[("S", f"Секрет моего {dish[0]} — ложка {ing} в соусе. Только никому!")]], qs=[
        ("paraphrase", f"В чём хитрость {dish[0]} у {S.gen}?"),
        ("word-form", f"Что {S.nom} добавляет в соусы?"),
        ("speaker", f"Каким кулинарным советом поделил{S.sya} {S.nom}?")],
        distract=[f"{c.other().nom} варит потрясающий {dish[1]}, не знаю как.", f"Опять пересолили {dish[1]}, эх."])


def ru_code(c):
    S = c.Sf
    thing = c.pick("codething")
    code = c.choice(["4471", "2580", "1936", "7704", "3128", "8245"])
    return F([[("S", f"Код от {thing} — {code}, пишу сюда, чтобы не забыть.")]], qs=[
        ("paraphrase", f"Какой пин-код нужен для {thing}?"),
        ("speaker", f"Какие цифры {S.nom} записал{S.a} в чат?")],
        distract=[f"Кто-нибудь помнит код от {c.any('codething')}?", "Пин-код поменяли, а новый никто не помнит."])


def ru_lost(c):
    S = c.Sf
    item = c.pick("lostitem")
    where = c.choice(["в автобусе", "в электричке", "в метро", "в трамвае", "в такси"])
    return F([[("S", f"Потерял{S.a} {item} {where} сегодня утром. Конечно, с концами.")]], react="bad", qs=[
        ("word-form", f"Какая потеря случилась у {S.gen}?"),
        ("paraphrase", f"Что пропало у {S.gen} по дороге на работу?"),
        ("date", f"Что {S.nom} потерял{S.a} <WHEN>?")],
        distract=[f"{(q := c.other()).nom} подобрал{q.a} в автобусе чужой кошелёк и отдал{q.a} водителю.",
                  "В метро сегодня была давка."])


def ru_promo(c):
    S = c.Sf
    title = c.choice(["старший дизайнер", "начальник отдела продаж", "руководитель группы", "завуч",
                      "ведущий инженер", "директор магазина"])
    return F([[("S", f"Меня повысили! С нового месяца я {title}.")]], react="good", qs=[
        ("word-form", f"Какое повышение получил{S.a} {S.nom}?"),
        ("paraphrase", f"Какую должность теперь занимает {S.nom}?"),
        ("date", f"Что произошло в карьере {S.gen} <WHEN>?")],
        distract=[f"{c.other().acc} опять обошли с повышением.", "Наш руководитель, говорят, увольняется."])


def ru_split(c):
    S = c.Sf
    p1, p2 = c.person("f"), c.person("m")
    return F([[("S", f"Слышали? {p1.nom} и {p2.nom} расстались. Говорят, по обоюдному согласию.")]], react="bad", qs=[
        ("paraphrase", f"{p1.nom} и {p2.nom} всё ещё вместе?"),
        ("speaker", f"Какой сплетней поделил{S.sya} {S.nom}?"),
        ("date", f"Какая пара разошлась <WHEN>?")],
        distract=[f"{p1.nom} и {c.other(p1, p2).nom} ходили в поход в выходные.",
                  f"{p2.nom} в последнее время какой-то повеселевший."])


def ru_paint(c):
    S = c.Sf
    room = D(c.choice([{"gen": "кухни", "acc": "кухню", "prep": "кухне"}, {"gen": "ванной", "acc": "ванную", "prep": "ванной"},
                       {"gen": "прихожей", "acc": "прихожую", "prep": "прихожей"},
                       {"gen": "гостиной", "acc": "гостиную", "prep": "гостиной"},
                       {"gen": "спальни", "acc": "спальню", "prep": "спальне"},
                       {"gen": "кабинета", "acc": "кабинет", "prep": "кабинете"}]))
    color = c.choice(["шалфейный", "терракотовый", "тёмно-синий", "горчичный", "пыльно-розовый", "молочный"])
    return F([[("S", f"В итоге выбрали для {room.gen} {color} цвет. Не серый, слава богу.")]], qs=[
        ("paraphrase", f"В какой оттенок {S.nom} перекрасит {room.acc}?"),
        ("word-form", f"Какой выбор {S.nom} сделал{S.a} насчёт стен в {room.prep}?"),
        ("speaker", f"Что {S.nom} рассказывал{S.a} про ремонт?")],
        distract=[f"{(q := c.other()).nom} покрасил{q.a} стены в серый и жалеет.",
                  "Краска сейчас такая дорогая."])


def ru_diet(c):
    S = c.Sf
    f = c.Sp.g == "f"
    t, para = c.choice([
        ("Я больше не ем мясо", f"{S.nom} стал{S.a} {'вегетарианкой' if f else 'вегетарианцем'}?"),
        (f"Я бросил{S.a} пить", f"{S.nom} отказал{S.sya} от алкоголя?"),
        (f"Я отказал{S.sya} от сахара", f"{S.nom} больше не ест сладкое?"),
        (f"Я бросил{S.a} курить", f"{S.nom} распрощал{S.sya} с сигаретами?")])
    return F([[("S", f"{t}. Уже месяц, и чувствую себя отлично.")]], react="good", qs=[
        ("paraphrase", para),
        ("speaker", f"Что {S.nom} рассказывал{S.a} о своих привычках?"),
        ("date", f"О каких переменах в образе жизни {S.nom} рассказал{S.a} <WHEN>?")],
        distract=[f"{c.other().nom} пытается бросить, но пока не выходит.", "Без сыра жизнь не мила."])


def ru_gig(c):
    S = c.Sf
    band = c.pick("band")
    venue = c.choice(["в клубе «Космонавт»", "в клубе «Шум»", "в ДК Гагарина", "в летнем театре"])
    return F([[("S", f"Взял{S.a} два билета на концерт группы {band} {venue}!")]], react="good", qs=[
        ("paraphrase", f"Чьё выступление {S.nom} собирается послушать вживую?"),
        ("word-form", f"У кого есть билет на {band}?"),
        ("date", f"На что {S.nom} взял{S.a} билеты <WHEN>?")],
        distract=[f"Группу {band} крутили утром по радио.", f"{(q := c.other()).nom} был{q.a} на концерте группы {c.any('band')}, говорит, громко."])


def ru_lang(c):
    S = c.Sf
    lang = c.pick("language")
    n = c.choice(["40", "63", "100", "12", "200"])
    return F([[("S", f"Начал{S.a} учить {lang}. Уже {n} дней подряд в приложении!")]], qs=[
        ("paraphrase", f"Какой иностранный язык осваивает {S.nom}?"),
        ("word-form", f"Изучением какого языка занят{S.a} {S.nom}?"),
        ("date", f"Что {S.nom} начал{S.a} учить <WHEN>?"),
        ("speaker", f"Что {S.nom} говорил{S.a} про приложения для языков?")],
        distract=[f"{c.other().nom} свободно говорит на языке, завидую.", "Приложения для языков надоедают через неделю."])


def ru_injury(c):
    S = c.Sf
    bone = c.choice(["запястье", "ключицу", "лодыжку", "руку", "два пальца", "локоть"])
    return F([[("S", f"Упал{S.a} с велосипеда и сломал{S.a} {bone}. Гипс на шесть недель.")]], react="bad", qs=[
        ("paraphrase", f"Какой перелом у {S.gen}?"),
        ("word-form", f"Как {S.nom} умудрил{S.sya} сломать {bone}?"),
        ("date", f"Что случилось с {S.ins} <WHEN>?")],
        distract=[f"{(q := c.other()).nom} упал{q.a} с лестницы, но обошлось.",
                  "Ездить на велосипеде в нашем городе опасно."])


def ru_savings(c):
    S = c.Sf
    amount = c.choice(["800 тысяч", "1,2 миллиона", "650 тысяч", "2 миллиона"])
    return F([[("S", f"Мы уже накопили {amount} на первый взнос за квартиру. Медленно, но верно.")]], qs=[
        ("paraphrase", f"Сколько денег {S.nom} отложил{S.a} на жильё?"),
        ("word-form", f"Каковы накопления {S.gen} на первый взнос?"),
        ("speaker", f"Что {S.nom} рассказывал{S.a} про покупку квартиры?")],
        distract=[f"{(q := c.other()).nom} купил{q.a} квартиру в ипотеку, не представляю как.",
                  "Цены на квартиры безумные."])


def ru_flight(c):
    S = c.Sf
    city = c.pick("city")
    n = c.choice(["три часа", "пять часов", "шесть часов", "девять часов"])
    return F([[("O", f"Как долетел{S.a} из {city.gen}?"),
               ("S", f"Ужасно. Задержали на {n} и потеряли мой чемодан.")]], react="bad", qs=[
        ("answer-in-reply", f"Как {S.nom} долетел{S.a} из {city.gen}?", None),
        ("paraphrase", f"Что случилось с багажом {S.gen}?", None),
        ("word-form", f"Насколько задержался рейс {S.gen}?", None)],
        distract=[f"{(q := c.other()).nom} летал{q.a} в {city.acc} в прошлом году, в восторге.",
                  "Рейсы сейчас вечно задерживают."])


def ru_offer(c):
    S = c.Sf
    co = c.pick("company")
    return F([[("O", f"Есть новости после собеседования в компании {co}?"),
               ("S", f"Предложили работу, но я отказал{S.sya}. Зарплата слишком маленькая.")]], qs=[
        ("answer-in-reply", f"Чем закончилось собеседование {S.gen} в компании {co}?", None),
        ("paraphrase", f"Почему {S.nom} не принял{S.a} предложение от {co}?", None)],
        distract=[f"У {c.other().gen} было три собеседования в {co}, кошмар.", "Собеседования так выматывают."])


def ru_flat(c):
    S = c.Sf
    street = c.pick("street")
    return F([[("O", f"Ну как, понравилась квартира на {street}?"),
               ("S", "Очень! Сегодня утром внесли задаток, держим кулаки.")]], react="good", qs=[
        ("answer-in-reply", f"Понравилась ли {S.dat} квартира на {street}?", None),
        ("paraphrase", f"{S.nom} уже платил{S.a} за жильё на {street}?", None)],
        distract=[f"На {street} сдают квартиру с садом, но мне не по карману.", f"{c.other().nom} вроде живёт на {street}."])


def ru_doctor(c):
    S = c.Sf
    sym = c.choice(["головные боли", "слабость", "кашель", "головокружения"])
    what, advice = c.choice([("Скорее всего, мигрень", "Новые таблетки и поменьше экранов"),
                             ("Низкий гемоглобин", "Железо три месяца"), ("Бронхит", "Антибиотики и неделя дома"),
                             ("Давление повышенное", "Меньше соли, больше ходить"),
                             ("Не хватает витамина D", "Капли каждое утро всю зиму")])
    return F([[("O", f"Что сказал врач про {sym}?"), ("S", f"{what}. {advice}.")]], react="bad", qs=[
        ("answer-in-reply", f"Что врач сказал {S.dat} про {sym}?", None),
        ("paraphrase", f"Какое лечение назначили {S.dat}?", None)],
        distract=[f"У {c.other().gen} тоже {sym} уже который месяц.", "К терапевту невозможно записаться."])


def ru_boiler(c):
    S = c.Sf
    cost = c.choice(["Сорок тысяч", "Тридцать пять тысяч", "Пятьдесят тысяч"])
    return F([[("O", "Сантехник починил колонку?"),
               ("S", f"Нет, надо менять целиком. {cost}, представляешь.")]], react="bad", qs=[
        ("answer-in-reply", f"Починил ли сантехник колонку у {S.gen}?", None),
        ("word-form", f"Сколько стоит замена колонки у {S.gen}?", None)],
        distract=[f"У {c.other().gen} колонка сломалась в январе, кошмар.", "Наш сантехник никогда не берёт трубку."])


# -- Russian multi-hop

def ru_mh_pet(c):
    S = c.Sf
    r, p = c.rel()
    pet = c.pick("petname")
    return F([[("S", f"{r.My} {r.nom} {p.nom} взял{p.a} кошку, назвал{p.a} её {pet}.")],
              [("S", f"{pet} опять болеет, ветеринар думает, что она ест комнатные цветы.")]], qs=[
        ("multi-hop", f"Почему заболела кошка {r.gen} {S.gen}?"),
        ("multi-hop", f"Что случилось с питомицей {p.gen}?")],
        distract=[f"{p.nom} думает завести собаку.", "Какие комнатные растения ядовиты для кошек?"])


def ru_mh_company(c):
    p = c.person()
    co, city = c.pick("company"), c.pick("city")
    return F([[("S", f"{p.nom} устроил{p.sya} в компанию {co}.")],
              [("O", f"Компания {co} открывает новый офис в {city.prep}, в новостях показывали.")]], qs=[
        ("multi-hop", f"В каком городе открывает офис фирма, где теперь работает {p.nom}?")],
        distract=[f"{p.nom} ненавидит дорогу на работу.", f"{c.other(p).nom} теперь работает в {city.prep}."])


def ru_mh_kid(c):
    r, p = c.rel()
    kid = c.choice(["Варя", "Соня", "Ника", "Аня", "Вика"])
    prize = c.choice(["первенство области среди юниоров", "городской турнир", "школьный чемпионат"])
    return F([[("S", f"Дочка {r.my_gen} {r.gen} {p.gen}, {kid}, пошла в шахматный кружок.")],
              [("S", f"{kid} выиграла {prize}! Невероятно.")]], react="good", qs=[
        ("multi-hop", f"Что выиграла дочь {p.gen}?")],
        distract=[f"{p.nom} учит детей играть в шахматы.", f"Сын {c.other(p).gen} выиграл медаль по плаванию."])


def ru_mh_cabin(c):
    S = c.Sf
    lake = c.pick("lake")
    return F([[("S", f"Забронировали домик на {lake} на летние каникулы.")],
              [("S", "Поездка в домик отменяется, там всё затопило. Ждём возврат денег.")]], react="bad", qs=[
        ("multi-hop", f"Почему не состоялся летний отдых {S.gen} на {lake}?")],
        distract=[f"{(q := c.other()).nom} отдыхал{q.a} на {lake} в прошлом году.",
                  "В новостях везде наводнения."])


def ru_mh_teacher(c):
    S = c.Sf
    r = c.choice([("Наша соседка", "f"), ("Наш сосед", "m")])
    p = c.person(r[1])
    subj = c.choice([("химию", "химии"), ("географию", "географии"), ("физкультуру", "физкультуры"),
                     ("музыку", "музыки"), ("рисование", "рисования"), ("физику", "физики")])
    return F([[("S", f"{r[0]} {p.nom} преподаёт {subj[0]} в школе.")],
              [("O", f"{p.nom} в конце года уходит на пенсию, в школе будет праздник.")]], qs=[
        ("multi-hop", f"Когда уходит на пенсию учитель {subj[1]}, живущий по соседству с {S.ins}?")],
        distract=[f"{c.other(p).nom} тоже скоро на пенсию, везёт же.", f"Мой школьный учитель {subj[1]} был страшный."])


def ru_mh_gift(c):
    S = c.Sf
    p = c.person()
    acc, nom, past = c.choice([("фен", "Этот фен", "сломался"), ("кофемолку", "Эта кофемолка", "сломалась"),
                               ("колонку", "Эта колонка", "сломалась"), ("умные часы", "Эти часы", "сломались"),
                               ("настольную лампу", "Эта лампа", "сломалась")])
    return F([[("S", f"Подарил{S.a} {p.dat} {acc} на день рождения.")],
              [("S", f"{nom} {past} через неделю. Так стыдно.")]], react="bad", qs=[
        ("multi-hop", f"Что стало с подарком, который {S.nom} вручил{S.a} {p.dat}?")],
        distract=[f"У {p.gen} был чудесный день рождения.", f"{p.nom} любит практичные подарки."])


Russian.FACTS = [ru_move, ru_adopt, ru_job, ru_buy, ru_allergy, ru_favplace, ru_race, ru_garage, ru_vet, ru_physio,
                 ru_wedding, ru_baby, ru_trip, ru_class, ru_rent, ru_school, ru_recipe, ru_code, ru_lost, ru_promo,
                 ru_split, ru_paint, ru_diet, ru_gig, ru_lang, ru_injury, ru_savings, ru_flight, ru_offer, ru_flat,
                 ru_doctor, ru_boiler]
Russian.MULTI = [ru_mh_pet, ru_mh_company, ru_mh_kid, ru_mh_cabin, ru_mh_teacher, ru_mh_gift]
Russian.STATIC.update({
    "petname": ["Пирожок", "Ириска", "Бусинка", "Кекс", "Тыковка", "Пломбир", "Сухарик", "Фунтик", "Мармелад",
                "Пряник", "Кнопка", "Дымок"],
    "company": ["«Гранит-Софт»", "«Вектор-М»", "«Ладога Логистик»", "«Медцентр Надежда»", "«Кедр Девелопмент»",
                "«Пекарня Колосок»", "«Студия Маяк»", "«Сибирские Сети»", "«Северный Банк»"],
    "buy": RU_BUYS,
    "allergen": ["арахис", "креветки", "кунжут", "киви", "яйца", "горчицу", "сельдерей", "грецкие орехи"],
    "rest": RU_RESTS,
    "class": ["уроки сальсы", "гончарные курсы", "курсы итальянской кухни", "столярные курсы", "уроки импровизации",
              "курсы акварели", "уроки свинга", "курсы фотографии"],
    "secret": ["тёмного шоколада", "рыбного соуса", "мисо", "растворимого кофе", "копчёной паприки", "аджики", "мёда"],
    "codething": ["велосипедной кладовки", "шкафчиков в спортзале", "домофона на даче", "калитки на участке",
                  "нового подъезда", "боковой двери в офисе"],
    "lostitem": ["ноутбук", "кошелёк", "хороший зонт", "наушники", "очки", "электронную книгу",
                 "шарф, который связала бабушка"],
    "band": ["«Северный порт»", "«Сухой лист»", "«Мятный трамвай»", "«Ночные окна»", "«Бумажный змей»",
             "«Кирпичи и мёд»"],
    "language": ["испанский", "немецкий", "японский", "итальянский", "португальский", "корейский", "турецкий",
                 "греческий"],
    "street": ["Садовой", "Лесной", "Вокзальной", "Парковой", "Заводской", "Речной"],
    "lake": ["Селигере", "Байкале", "Ладоге", "Валдае", "Онежском озере"],
})


# =============================================================================================
# Chinese (Simplified), written without spaces.


def zh_person(name, g):
    return {"nom": name, "name": name, "g": g, "ta": "她" if g == "f" else "他"}


ZH_NAMES_F = ["张婷", "刘洋", "赵敏", "孙悦", "吴芳", "黄丽", "徐静", "宋佳", "唐宁", "许晴", "何雪", "郭琳",
              "罗丹", "梁雨", "谢婉", "韩梅"]
ZH_NAMES_M = ["张伟", "郑凯", "何晨", "林峰", "马超", "高远", "周航", "杨帆", "胡斌", "朱磊", "田野", "彭涛",
              "董亮", "曹阳", "程浩", "邓凯"]


class Chinese(Pack):
    lang = "zh"
    JOIN = ""
    RELS = [{"rel": r, "g": "f"} for r in ["姐姐", "妹妹", "表姐", "姑姑", "小姨", "奶奶", "闺蜜", "邻居", "同事", "室友"]] + \
           [{"rel": r, "g": "m"} for r in ["哥哥", "弟弟", "表哥", "舅舅", "叔叔", "爷爷", "好哥们", "邻居", "同事", "室友"]]
    KIND_WEIGHTS = {"paraphrase": 0.28, "word-form": 0.12, "date": 0.17, "speaker": 0.16,
                    "multi-hop": 0.12, "answer-in-reply": 0.15}

    def person(self, name, g):
        return zh_person(name, g)

    def finish(self, txt):
        return txt

    def address(self, name, text):
        return name + "，" + text

    def make_pools(self, rng, cfg, speakers):
        taken = {s.name for s in speakers}
        fs = rng.sample([n for n in ZH_NAMES_F if n not in taken], 14)
        ms = rng.sample([n for n in ZH_NAMES_M if n not in taken], 14)
        pools = dict(self.STATIC)
        pools["name"] = [zh_person(n, "f") for n in fs] + [zh_person(n, "m") for n in ms]
        pools["rel"] = [r["rel"] for r in self.RELS]
        return pools

    def make_profiles(self, rng, conv):
        pets = rng.sample(["豆豆", "团子", "可乐", "年糕", "糖糖", "花卷", "球球", "馒头"], len(conv.humans))
        partners = rng.sample(conv.pools["name"], len(conv.humans))
        kids = rng.sample(["乐乐", "果果", "小宇", "妞妞", "天天", "可可"], len(conv.humans))
        for h, pet, partner, kid in zip(conv.humans, pets, partners, kids):
            conv.used["name"].add(json.dumps(partner, sort_keys=True))
            h.ctx = {"my_pet": pet, "my_partner": partner["nom"], "my_kid": kid}

    def timefmt(self, dt, style):
        return iso(dt)

    def when(self, rng, dt):
        if rng.random() < 0.7:
            return f"{dt.year}年{dt.month}月"
        return f"{dt.year}年{dt.month}月{dt.day}日"

    STATIC = {
        "city": ["杭州", "成都", "西安", "南京", "厦门", "青岛", "重庆", "武汉", "苏州", "深圳", "广州", "大连",
                 "昆明", "长沙", "哈尔滨", "天津", "合肥", "贵阳", "三亚", "拉萨", "桂林", "洛阳"],
        "place": ["公园", "健身房", "菜市场", "图书馆", "攀岩馆", "街角那家酒吧", "新开的拉面店", "电影院", "游泳馆",
                  "花鸟市场", "海边", "湖边", "面包店", "五金店", "公司", "博物馆", "社区菜园", "保龄球馆",
                  "跳蚤市场", "火车站", "江边步道"],
        "food": ["火锅", "饺子", "小龙虾", "麻辣烫", "烤鸭", "酸菜鱼", "牛肉面", "煎饼果子", "红烧肉", "包子",
                 "米线", "寿司", "披萨", "烧烤", "螺蛳粉", "炸酱面", "回锅肉", "凉皮", "馄饨", "咖喱饭"],
        "act_past": ["去爬山了", "看了场电影", "在家做了一大桌菜", "把家里彻底打扫了一遍", "去跑了个长跑",
                     "玩了一下午桌游", "回爸妈家吃饭了", "去听了场演唱会", "在阳台种了些花", "把次卧刷了一遍",
                     "去游泳了", "去公园野餐了", "睡了个懒觉", "去参加婚礼了", "修了自行车", "追了一整天剧",
                     "去菜市场逛了逛", "自己烤了面包", "去了一家新开的咖啡馆", "去江边散步了"],
        "act_fut": ["去爬山", "去看电影", "试试那家新餐厅", "回爸妈家", "收拾车库", "开车去海边", "拼完那个拼图",
                    "开始读一本新书", "去攀岩馆", "请朋友来家里吃饭", "去看球赛", "大扫除", "去游泳", "收拾阳台",
                    "补觉", "逛跳蚤市场", "包饺子"],
        "film": ["《安静的果园》", "《北方的光》", "《玻璃港》", "《最后一班渡轮》", "《午夜厨房》", "《纸月亮》",
                 "《盐与铁》", "《漫长的夏天》", "《蓝色子午线》", "《空谷》", "《第九层》", "《野雁》"],
        "show": ["《夜班》", "《灯火》", "《南方的雨》", "《厨房战争》", "《老街坊》", "《冷案追踪》"],
        "genre": ["悬疑片", "喜剧", "纪录片", "恐怖片", "爱情片", "科幻剧", "古装剧", "动漫", "综艺"],
        "hobby": ["陶艺", "攀岩", "跑步", "下棋", "吉他", "种花", "织毛衣", "摄影", "烘焙", "骑行", "瑜伽", "游泳",
                  "观鸟", "木工", "跳舞", "画画", "网球", "羽毛球", "书法"],
        "weather": ["下大雨了", "热得要命", "雾一整天都没散", "冷死了，车上都结霜了", "阳光明媚", "风大得吓人",
                    "这周一直阴天小雨", "下雪了！真的下雪了", "闷热得不行", "要打雷了", "今天难得暖和",
                    "突然下冰雹了"],
        "work": ["季度报告", "客户提案", "预算评审", "新员工培训", "产品发布", "年度审计", "网站改版", "团建",
                 "绩效考核", "系统迁移", "招标方案"],
        "good": ["挺好的", "不错", "特别棒", "很开心", "还挺放松的", "超赞", "挺有意思的"],
        "bad": ["累死了", "有点无聊", "压力好大", "乱糟糟的", "一般般", "挺烦的"],
        "item": ["一个新水壶", "几盆绿植", "一块地毯", "一双跑鞋", "一盏台灯", "一套桌游", "一件羽绒服",
                 "一副耳机", "一本菜谱", "一口平底锅", "一把办公椅", "一把车锁", "一件雨衣", "一台榨汁机"],
        "book": ["《活着》", "《三体》", "一本东野圭吾的小说", "一本讲蘑菇的书", "《围城》", "一本漫画",
                 "《平凡的世界》", "一本菜谱"],
        "day": ["周一", "周二", "周三", "周四", "周五", "周六", "周日"],
        "hour": ["六点", "六点半", "七点", "八点", "中午", "两点", "三点左右"],
        "drink": ["咖啡", "奶茶", "啤酒", "红酒", "可乐", "茶"],
        "chore": ["洗衣服", "洗碗", "倒垃圾", "大扫除", "熨衣服", "买菜"],
        "ingredient": ["鹰嘴豆", "菠菜", "剩米饭", "蘑菇", "番茄", "红薯", "豆腐", "鸡蛋", "西葫芦"],
        "num": ["五", "八", "十", "十二", "十五"],
    }
    QA = [
        ("周末过得怎么样？", ["{good}，我们{act_past}，然后又{act_past2}。", "说实话{bad}，还好结束了。",
                              "{good}，{name}也来了。", "还行，就是有点累。"]),
        ("这周末有什么打算？", ["可能和{name}一起{act_fut}。", "没什么安排，也许{act_fut}。",
                                "天气好的话想{act_fut}。", "加班，{work}周一要交。", "{my_partner}想{act_fut}，那就去呗。"]),
        ("有人看过{film}吗？", ["看过！超喜欢，结局太绝了。", "还没，好看吗？", "我看到一半睡着了，哈哈。",
                                "{name}推荐过，在我的片单里。"]),
        ("今晚吃什么？", ["想吃{food}。", "{my_partner}在做{food}。", "吃昨天剩的{food}，美滋滋。",
                          "不知道，可能点个{food}外卖。"]),
        ("有什么好看的{genre}推荐吗？", ["试试{film}，{good}。", "{show}挺好看的，你没看过的话。",
                                         "这个我不太懂，问问{name}吧。"]),
        ("最近工作怎么样？", ["忙死了，{work}占了我一整周。", "还行，这周挺清闲的。", "老板又把{work}的截止日期改了。",
                              "{work}终于搞定了，今晚喝{drink}庆祝。"]),
        ("{hobby}练得怎么样了？", ["慢慢来吧，还是很菜。", "挺好的，现在一周去两次。", "停了一阵，想重新开始。",
                                   "{good}，{name}教了我不少。"]),
        ("你那边天气怎么样？", ["{weather}。", "{weather}，老样子。", "说真的，{weather}，我就宅家了。"]),
        ("昨晚睡得好吗？", ["几乎没睡，{my_pet}五点就把我叫醒了。", "睡了八个小时，几周来第一次！",
                            "不太好，邻居开派对。"]),
        ("等会儿去{place}吗？", ["去，大概{hour}到。", "今天去不了，抱歉！", "看情况，要问问{my_partner}。"]),
        ("{name}最近怎么样？", ["挺好的吧，{name.ta}刚从{city}回来。", "工作有点累，不过还行。",
                                "好久没联系{name.ta}了。", "{name.ta}挺好的，最近在忙{hobby}。"]),
        ("明天一起吃午饭吗？", ["好啊，去{place}附近吃{food}？", "不行，会一个接一个。{day}呢？", "好啊，正好需要休息一下。"]),
        ("昨晚的球赛看了吗？", ["看了，最后太刺激了！", "没看，谁赢了？", "我们队又输了，气死。"]),
        ("假期有什么计划？", ["可能去{city}玩几天。", "在家待着，走走亲戚。", "还没想好，有推荐吗？"]),
        ("最近在看什么书？", ["{book}，{good}。", "没有，一看书就犯困。", "{book}看到一半，有点慢热。"]),
        ("{you_pet}还好吗？", ["昨天咬坏了一只鞋，其他都好。", "还是那么懒。", "{good}，特别喜欢新窝。"]),
        ("{chore}做完了吗？", ["没有，明天再说。", "做完了！感觉自己棒棒的。", "做了一半，剩下的{my_partner}做了。"]),
        ("{day}去哪儿吃？", ["{place}附近？或者找家{food}。", "这次你来选。", "哪儿都行，别再去那家难吃的就好。"]),
        ("路上堵吗？", ["堵死了，光出城就花了四十分钟。", "还好，意外地顺。", "最后坐地铁了。"]),
        ("等会儿喝杯咖啡？", ["必须的。", "换成奶茶我就去。", "不行，又要弄{work}。"]),
    ]
    STATEMENTS = [
        "{weather}。", "刚从{place}回来，{bad}。", "刚从{place}回来，{good}。", "今晚做{food}，有人要来吗？",
        "{name}让我跟大家问好。", "提醒一下：{name}的生日快到了。", "东西越来越贵了，真受不了。",
        "等会儿去{place}，有人一起吗？", "{my_pet}又把杯子从桌上推下去了。", "这周工作{bad}，{work}进度落后了。",
        "开始看{book}了，目前{good}。", "有人认识靠谱的水管工吗？厨房水龙头漏水了。", "今天早上地铁又晚点了。",
        "在{place}附近发现了一家很棒的面包店。", "刚看完{film}，{good}。", "想放假了，去个暖和的地方。",
        "我{rel}打电话来，聊了一个小时。", "下班路上堵得要命。", "我在尝试少喝{drink}，第三天，不太顺利。",
        "在{place}碰到{name}了，{name.ta}气色不错。", "{my_partner}做了{food}，满分。",
        "终于把{chore}搞定了，奖励自己一杯{drink}。", "在考虑学{hobby}。", "昨晚有人听到打雷了吗？",
        "邻居又在装修。", "一周过半了，好快。", "{name}在跳蚤市场淘到了{item}，超便宜。", "{show}今晚更新！", "老是忘了给{name}打电话。",
        "午饭就在工位上吃了{food}，很精致。", "{my_kid}感冒了，我们在家待着。", "有人要{film}的多余电影票吗？",
        "我们昨天{act_past}，{good}。", "终于约上牙医了。", "我们队赢了！不敢相信。", "手机快没电了，晚点回。",
        "感觉我要感冒了。", "{name}{day}来我家。", "试了个新菜谱，用{ingredient}做的，意外地{good}。",
        "客厅还有油漆味。", "{day}可以吗？{day2}我不行。", "好累的一天，{work}搞了好久。", "我欠{name}一顿饭。",
        "走到{place}又走回来，{num}千步。", "在{place}喝到了超好喝的{drink}。", "到家了，今晚{good}。",
        "谁有梯子可以借我用一下？", "大家早！", "晚安，明天聊。", "周五快乐！", "唉，周一。", "哈哈，{name}还是老样子。",
        "我和{name}{act_past}，{good}。", "我们哪天一起{act_fut}吧。", "阳台的事还是没想好怎么弄。",
    ]
    REACTIONS = {
        "good": ["恭喜恭喜！！", "太棒了！", "哇，厉害！", "真替你高兴！", "哇，这可是大事！", "好消息！"],
        "bad": ["啊，太惨了。", "唉，好烦。", "希望快点好起来。", "抱抱。", "这也太糟心了。"],
        "neutral": ["哈哈", "有道理。", "有意思！", "知道了。", "真的假的？", "不错。", "我也是。", "哦哦。",
                    "确实。", "笑死", "好吧。", "懂了。"],
    }


# -- Chinese facts

def zh_move(c):
    r, p = c.rel()
    city, q = c.pick("city"), c.other(p)
    t = c.choice([f"大新闻：我{r.rel}{p.name}终于搬到{city}了！上周五拿到的钥匙。",
                  f"我{r.rel}{p.name}收拾好东西搬到{city}去了，下周一就在那边上班。"])
    return F([[("S", t)]], react="good", qs=[
        ("paraphrase", f"{p.name}现在住在哪个城市？"),
        ("word-form", f"{p.name}搬家去了哪里？"),
        ("speaker", f"{c.S}说了{r.rel}的什么消息？"),
        ("date", f"<WHEN>{c.S}家里谁搬走了？")],
        distract=[f"{q.name}一直说以后想搬去{c.any('city')}。", f"{p.name}昨天给我打电话了，听起来挺累但挺开心的。",
                  "搬家真是太折腾了，再也不想搬了。"])


def zh_adopt(c):
    kind = c.choice(["小狗", "小猫", "兔子", "鹦鹉", "乌龟", "柯基"])
    name = c.pick("petname")
    return F([[("S", f"我们周六从救助站领养了一只{kind}！给它起名叫{name}。")]], react="good", qs=[
        ("paraphrase", f"{c.S}从动物收容所带回家的宠物叫什么？"),
        ("word-form", f"{c.S}收养的{kind}叫什么名字？"),
        ("date", f"<WHEN>{c.S}养了什么宠物？"),
        ("speaker", f"{c.S}聊过新宠物的什么事？")],
        distract=[f"{c.other().name}想养狗，但是房东不同意。", "公园旁边的救助站在招志愿者。"])


def zh_job(c):
    co = c.pick("company")
    role = c.choice(["建筑师", "厨师长", "数据分析师", "项目经理", "化学老师", "音响师", "产品经理"])
    return F([[("S", f"今天签合同了！下个月开始去{co}当{role}。")]], react="good", qs=[
        ("paraphrase", f"{c.S}被哪家公司录用了？"),
        ("paraphrase", f"{c.S}的新职位是什么？"),
        ("word-form", f"{c.S}和哪家公司签的约？"),
        ("date", f"<WHEN>{c.S}签了什么？"),
        ("speaker", f"{c.S}分享了什么工作上的消息？")],
        distract=[f"{c.other().name}下周在{c.any('company')}有个面试。", f"{c.other().name}说{co}一直在招人。"])


ZH_BUYS = [("皮划艇", "{S}入手了什么水上装备？", "橙色的，正好能放车顶上"),
           ("天文望远镜", "{S}现在用什么看星星？", "已经看到土星环了"),
           ("咖啡机", "{S}家里新添了什么做咖啡的电器？", "奶泡打得特别好"),
           ("划船机", "{S}家里多了什么健身器材？", "占了半个客厅"),
           ("缝纫机", "{S}现在用什么做衣服？", "二手的，但很好用"),
           ("电动滑板车", "{S}现在骑什么上下班？", "上坡一点问题都没有"),
           ("电钢琴", "{S}新添了什么乐器？", "配重键盘，手感很好"),
           ("公路车", "{S}的新自行车是什么样的？", "碳纤维车架，轻得离谱"),
           ("3D打印机", "{S}有了什么能打印立体模型的设备？", "已经打印了一只小恐龙"),
           ("无人机", "{S}有了什么会飞的相机？", "已经撞过一次树了")]


def zh_buy(c):
    item, para, detail = c.pick("buy")
    return F([[("S", f"终于买了{item}！{detail}。")]], react="good", qs=[
        ("date", f"<WHEN>{c.S}买了什么？"),
        ("paraphrase", para.replace("{S}", c.S)),
        ("word-form", f"谁购买了{item}？"),
        ("speaker", f"{c.S}说过自己最近的哪笔消费？")],
        distract=[f"{c.other().name}也想买{item}，就是太贵了。", f"跳蚤市场有人卖{item}，有点心动。"])


def zh_allergy(c):
    x = c.pick("allergen")
    return F([[("S", f"提前说一下，周六聚餐我不能吃{x}，严重过敏，吃过亏。")]], qs=[
        ("paraphrase", f"{c.S}有什么忌口？"),
        ("word-form", f"{c.S}的过敏原是什么？"),
        ("speaker", f"聚会前{c.S}提醒了大家什么？")],
        distract=[f"{c.other().name}对猫过敏，好可怜。", "大家有什么不吃的吗？我在定周六的菜单。"])


ZH_RESTS = [("泰国菜", "香茅屋"), ("川菜", "红灯笼"), ("新疆菜", "丝路小馆"), ("粤菜", "南园茶楼"), ("日料", "鹤寿司"),
            ("湘菜", "辣椒公社"), ("云南菜", "彩云间"), ("西北菜", "老陕面馆")]


def zh_favplace(c):
    cui, rest = c.pick("rest")
    return F([[("S", f"说真的，城里最好吃的{cui}就在{rest}，我每周五下班都去。")]], qs=[
        ("paraphrase", f"{c.S}觉得哪家的{cui}最地道？"),
        ("word-form", f"{c.S}每逢周五去哪家店吃饭？"),
        ("speaker", f"{c.S}推荐过哪家餐厅？")],
        distract=[f"{c.any('rest')[1]}出了新菜单，我们去试试吧。", f"在{c.any('city')}吃了家{cui}，好吃但是贵。"])


def zh_race(c):
    city = c.pick("city")
    tm = c.choice(["1小时52分", "2小时05分", "1小时47分", "2小时14分", "1小时39分"])
    return F([[("S", f"{city}半马跑完了，{tm}！腿已经废了。")]], react="good", qs=[
        ("paraphrase", f"{c.S}在{city}的比赛用了多长时间？"),
        ("word-form", f"{c.S}的半程马拉松成绩是多少？"),
        ("date", f"<WHEN>{c.S}参加了什么比赛？")],
        distract=[f"{c.other().name}在准备{c.any('city')}的全马。", "明年春天有人一起跑半马吗？"])


def zh_garage(c):
    part = c.choice(["离合器", "发电机", "变速箱", "正时皮带", "水箱", "启动机"])
    cost = c.choice(["3200", "4800", "6500", "9000"])
    return F([[("O", "修车厂给你回电话了吗？"), ("S", f"回了，是{part}坏了，修一下要{cost}块，唉。")]], react="bad", qs=[
        ("answer-in-reply", f"修车厂怎么说{c.S}的车？", None),
        ("paraphrase", f"{c.S}的汽车维修要花多少钱？", None),
        ("word-form", f"{c.S}车上哪个零件出毛病了？", None)],
        distract=[f"{c.other().name}的车年检没过，好像是刹车的问题。", "千万别去火车站旁边那家修车厂，宰人。"])


def zh_vet(c):
    pet = c.Sp.ctx["my_pet"]
    what, treat = c.choice([("耳朵发炎", "一天滴两次药，滴一周"), ("爪子扭伤了", "两周不能长时间散步"),
                            ("有颗坏牙", "周四要拔掉"), ("对鸡肉过敏", "以后换新粮"), ("有寄生虫", "吃药，外加沙发大清洗"),
                            ("有点超重", "吃减肥粮，多运动")])
    return F([[("O", f"{pet}去看兽医怎么样了？"), ("S", f"就是{what}，还好。{treat}。")]], react="bad", qs=[
        ("answer-in-reply", f"兽医说{pet}怎么了？", None),
        ("paraphrase", f"{c.S}的宠物得了什么病？", None)],
        distract=[f"{c.other().name}家的猫也去看了兽医，没什么事。", "公园旁边那家宠物医院好贵。"])


def zh_physio(c):
    inj, n, act = c.choice([("小腿肌肉拉伤", "六", "跑步"), ("颈椎神经压迫", "四", "提重物"), ("网球肘", "八", "打网球"),
                            ("脚部应力性骨折", "十", "踢球"), ("膝盖劳损", "三", "跑步")])
    return F([[("O", "去看康复医生怎么样？"), ("S", f"说是{inj}，{n}周不能{act}。")]], react="bad", qs=[
        ("answer-in-reply", f"{c.S}看康复医生的结果怎么样？", None),
        ("paraphrase", f"{c.S}受了什么伤？", None),
        ("paraphrase", f"{c.S}要休养多久？", None)],
        distract=[f"{c.other().name}做康复治疗好几个月了。", "我膝盖最近老响，该去看哪个科？"])


def zh_wedding(c):
    venue = c.choice(["一个老谷仓", "海边的灯塔", "一座古堡酒店", "葡萄酒庄", "湖边的船屋", "植物园"])
    city = c.pick("city")
    partner = c.Sp.ctx["my_partner"]
    return F([[("S", f"定了：婚礼就在{city}郊外的{venue}办！")]], react="good", qs=[
        ("paraphrase", f"{c.S}和{partner}在哪里结婚？"),
        ("date", f"<WHEN>{c.S}宣布了什么大消息？")],
        distract=[f"{c.other().name}就领了个证，没办酒席。", f"在{city}办婚礼好贵。"])


def zh_baby(c):
    r, p = c.rel("f")
    gb, baby = c.choice([("女孩", "朵朵"), ("男孩", "小宝"), ("女孩", "安安"), ("男孩", "乐天"), ("女孩", "甜甜"), ("男孩", "豆包")])
    w = c.choice(["六斤四两", "七斤二两", "五斤八两", "八斤"])
    return F([[("S", f"我{r.rel}{p.name}昨晚生了！是个{gb}，叫{baby}，{w}。")]], react="good", qs=[
        ("paraphrase", f"{p.name}的新生儿叫什么名字？"),
        ("word-form", f"{p.name}家宝宝出生时多重？"),
        ("date", f"<WHEN>谁家添了孩子？"),
        ("speaker", f"{c.S}说了{r.rel}的什么喜讯？")],
        distract=[f"{c.other(p, g='f').name}明年春天预产期，真不敢相信。", f"{p.name}在聚会上看起来好累。"])


def zh_trip(c):
    city = c.pick("city")
    return F([[("S", f"订好了去{city}的机票，纪念日去玩！老城区的公寓住五晚。")]], react="good", qs=[
        ("paraphrase", f"{c.S}要去哪里庆祝在一起的周年？"),
        ("word-form", f"{c.S}预订了飞往哪里的航班？"),
        ("date", f"<WHEN>{c.S}订了去哪儿的票？")],
        distract=[f"{c.other().name}刚从{city}回来，说一直在下雨。", "最近机票贵得离谱。"])


def zh_class(c):
    cls = c.pick("class")
    return F([[("S", f"报了个{cls}班，每周二晚上在社区中心上课。")]], qs=[
        ("word-form", f"{c.S}每个星期二去上什么课？"),
        ("paraphrase", f"{c.S}最近培养了什么新爱好？"),
        ("date", f"<WHEN>{c.S}报名了什么？")],
        distract=[f"{c.other().name}学{cls}两周就放弃了，太难了。", "周二晚上是我唯一的空闲时间。"])


def zh_rent(c):
    amount = c.choice(["4500元", "5200元", "3800元", "6000元"])
    m = c.choice(["三", "五", "七", "九", "十一"])
    return F([[("S", f"房东说从{m}月起房租涨到每月{amount}，离谱。")]], react="bad", qs=[
        ("paraphrase", f"{c.S}现在每个月的住房开销是多少？"),
        ("word-form", f"{c.S}的租金涨到多少了？"),
        ("speaker", f"{c.S}对房东有什么抱怨？")],
        distract=[f"{c.other().name}的房东终于把热水器修好了。", "这边的房租简直是抢钱。"])


def zh_school(c):
    kid = c.Sp.ctx["my_kid"]
    school = c.choice(["外国语学校", "实验中学", "音乐学院附中", "美术学校", "市一中", "科技高中"])
    return F([[("S", f"{kid}考上{school}了！今天早上知道的，全家都乐坏了。")]], react="good", qs=[
        ("paraphrase", f"{kid}被哪所学校录取了？"),
        ("paraphrase", f"{c.S}的孩子以后在哪儿念书？"),
        ("date", f"<WHEN>{c.S}收到了孩子的什么好消息？")],
        distract=[f"{c.other().name}的儿子没考上{school}，在申请复议。", "升学真是压力太大了。"])


def zh_recipe(c):
    dish = c.choice(["红烧肉", "麻婆豆腐", "咖喱", "番茄炖牛腩", "酸菜鱼"])
    ing = c.pick("secret")
    return F([[("S", f"我做{dish}的秘诀是加{ing}，别告诉别人。")]], qs=[
        ("paraphrase", f"{c.S}做{dish}有什么窍门？"),
        ("speaker", f"{c.S}分享过什么做饭的小技巧？")],
        distract=[f"{c.other().name}做的{dish}特别好吃，不知道怎么做的。", f"{dish}又做咸了。"])


def zh_code(c):
    thing = c.pick("codething")
    code = c.choice(["4471", "2580", "1936", "7704", "3128", "8245"])
    return F([[("S", f"{thing}的密码是{code}，写在这儿免得忘了。")]], qs=[
        ("paraphrase", f"进{thing}要输入什么数字？"),
        ("speaker", f"{c.S}在群里发过什么号码？")],
        distract=[f"有人记得{c.any('codething')}的密码吗？", "改了密码，转头就忘了。"])


def zh_lost(c):
    item = c.pick("lostitem")
    tr = c.choice(["12路公交", "早上八点那班地铁", "有轨电车", "出租车", "夜班公交"])
    return F([[("S", f"今天早上把{item}落在{tr}上了，肯定找不回来了，心痛。")]], react="bad", qs=[
        ("paraphrase", f"{c.S}通勤路上弄丢了什么？"),
        ("word-form", f"{c.S}丢失了什么东西？"),
        ("date", f"<WHEN>{c.S}丢了什么？")],
        distract=[f"{c.other().name}在公交上捡到一个钱包，交给司机了。", "今天早上地铁挤爆了。"])


def zh_promo(c):
    title = c.choice(["高级设计师", "销售总监", "组长", "副校长", "首席工程师", "店长"])
    return F([[("S", f"我升职了！下个月开始当{title}。")]], react="good", qs=[
        ("word-form", f"{c.S}升了什么职位？"),
        ("paraphrase", f"{c.S}的新头衔是什么？"),
        ("date", f"<WHEN>{c.S}的事业有什么变化？")],
        distract=[f"{c.other().name}又没评上晋升。", "听说我们领导要离职了。"])


def zh_split(c):
    p1, p2 = c.person("f"), c.person("m")
    return F([[("S", f"听说了吗？{p1.name}和{p2.name}分手了，据说是和平分手。")]], react="bad", qs=[
        ("paraphrase", f"{p1.name}和{p2.name}还在一起吗？"),
        ("speaker", f"{c.S}传了什么八卦？"),
        ("date", f"<WHEN>哪对情侣分开了？")],
        distract=[f"{p1.name}和{c.other(p1, p2).name}周末一起去爬山了。", f"{p2.name}最近心情好像不错。"])


def zh_paint(c):
    room = c.choice(["厨房", "卫生间", "玄关", "客厅", "卧室", "书房"])
    color = c.choice(["鼠尾草绿", "陶土色", "藏青色", "芥末黄", "脏粉色", "奶白色"])
    return F([[("S", f"{room}最后决定刷成{color}了，还好没选灰色。")]], qs=[
        ("paraphrase", f"{c.S}给{room}选了什么颜色？"),
        ("word-form", f"{c.S}家{room}的墙刷了什么颜色？"),
        ("speaker", f"{c.S}聊装修时说了什么？")],
        distract=[f"{c.other().name}把{room}刷成了灰色，后悔死了。", "现在油漆好贵。"])


def zh_diet(c):
    x, para = c.choice([("吃素", "{S}是不是不吃肉了？"), ("戒酒", "{S}是不是不喝酒了？"),
                        ("戒糖", "{S}是不是不吃甜食了？"), ("戒咖啡", "{S}还喝咖啡吗？")])
    return F([[("S", f"我开始{x}了，已经一个月，感觉特别好。")]], react="good", qs=[
        ("paraphrase", para.replace("{S}", c.S)),
        ("speaker", f"{c.S}说过自己饮食习惯上的什么变化？"),
        ("date", f"<WHEN>{c.S}提到了什么生活方式的改变？")],
        distract=[f"{c.other().name}试过{x}，坚持了一周。", "让我不吃芝士，我做不到。"])


def zh_gig(c):
    band = c.pick("band")
    venue = c.choice(["体育馆", "Livehouse", "大剧院", "音乐节现场"])
    return F([[("S", f"抢到了两张{band}在{venue}的票！位置还挺靠前。")]], react="good", qs=[
        ("paraphrase", f"{c.S}要去看哪个乐队的现场？"),
        ("word-form", f"谁有{band}演出的门票？"),
        ("date", f"<WHEN>{c.S}抢到了什么票？")],
        distract=[f"早上电台放了{band}的歌。", f"{c.other().name}去看了{c.any('band')}的演出，说太吵了。"])


def zh_lang(c):
    lang = c.pick("language")
    n = c.choice(["40", "63", "100", "12", "200"])
    return F([[("S", f"我开始学{lang}了，App上已经连续打卡{n}天！")]], qs=[
        ("paraphrase", f"{c.S}在攻读哪门外语？"),
        ("word-form", f"{c.S}正在学习什么语言？"),
        ("date", f"<WHEN>{c.S}开始学什么？"),
        ("speaker", f"{c.S}聊过背单词App的什么？")],
        distract=[f"{c.other().name}{lang}说得特别流利，羡慕。", "那个App我用了一周就放弃了。"])


def zh_injury(c):
    bone = c.choice(["手腕", "锁骨", "脚踝", "胳膊", "两根手指", "手肘"])
    return F([[("S", f"骑车摔了，{bone}骨折，要打六周石膏。")]], react="bad", qs=[
        ("paraphrase", f"{c.S}哪里断了？"),
        ("word-form", f"{c.S}是怎么摔成骨折的？"),
        ("date", f"<WHEN>{c.S}出了什么事？")],
        distract=[f"{c.other().name}从梯子上摔下来，还好没事。", "在这个城市骑车太危险了。"])


def zh_savings(c):
    amount = c.choice(["八万", "十二万", "二十万", "十五万"])
    return F([[("S", f"首付已经攒了{amount}，慢慢来。")]], qs=[
        ("paraphrase", f"{c.S}为买房存了多少钱？"),
        ("word-form", f"{c.S}的首付存款有多少？"),
        ("speaker", f"{c.S}说过买房的什么事？")],
        distract=[f"{c.other().name}贷款买了房，不知道怎么做到的。", "房价太疯狂了。"])


def zh_flight(c):
    city = c.pick("city")
    n = c.choice(["三", "五", "六", "九"])
    return F([[("O", f"从{city}回来的航班怎么样？"), ("S", f"别提了，延误了{n}个小时，行李箱还丢了。")]], react="bad", qs=[
        ("answer-in-reply", f"{c.S}从{city}回来的航班怎么样？", None),
        ("paraphrase", f"{c.S}的行李出了什么事？", None),
        ("word-form", f"{c.S}回程耽误了多久？", None)],
        distract=[f"{c.other().name}去年飞过{city}，特别喜欢。", "现在航班动不动就延误。"])


def zh_offer(c):
    co = c.pick("company")
    return F([[("O", f"{co}的面试有消息了吗？"), ("S", "给了offer，但我拒了，工资太低了。")]], qs=[
        ("answer-in-reply", f"{c.S}在{co}的面试结果如何？", None),
        ("paraphrase", f"{c.S}为什么没接受那份工作？", None)],
        distract=[f"{c.other().name}在{co}面了三轮，崩溃。", "面试太累人了。"])


def zh_flat(c):
    street = c.pick("street")
    return F([[("O", f"{street}那套房子你喜欢吗？"), ("S", "特别喜欢！今天早上已经交了定金，祈祷吧。")]], react="good", qs=[
        ("answer-in-reply", f"{c.S}喜欢{street}那套房子吗？", None),
        ("paraphrase", f"{c.S}是不是已经为那套公寓付了订金？", None)],
        distract=[f"{street}有套带院子的房子，可惜超预算了。", f"{c.other().name}好像就住在{street}。"])


def zh_doctor(c):
    sym = c.choice(["头疼", "乏力", "咳嗽", "头晕"])
    what, advice = c.choice([("可能是偏头痛", "开了新药，让我少看屏幕"), ("有点贫血", "补铁三个月"),
                             ("支气管炎", "吃抗生素，在家休息一周"), ("血压偏高", "少吃盐，多走路")])
    return F([[("O", f"医生怎么说你{sym}的事？"), ("S", f"{what}。{advice}。")]], react="bad", qs=[
        ("answer-in-reply", f"医生怎么说{c.S}{sym}的问题？", None),
        ("paraphrase", f"医生给{c.S}开了什么治疗方案？", None)],
        distract=[f"{c.other().name}也{sym}好几周了。", "现在挂个号太难了。"])


# -- Chinese multi-hop

def zh_mh_pet(c):
    r, p = c.rel()
    pet = c.pick("petname")
    return F([[("S", f"我{r.rel}{p.name}养了只猫，叫{pet}。")],
              [("S", f"{pet}又病了，兽医觉得是偷吃了家里的绿植。")]], qs=[
        ("multi-hop", f"{c.S}{r.rel}的猫为什么生病？"),
        ("multi-hop", f"{p.name}的宠物怎么不舒服了？")],
        distract=[f"{p.name}在考虑再养一只狗。", "哪些绿植对猫有毒？"])


def zh_mh_company(c):
    p = c.person()
    co, city = c.pick("company"), c.pick("city")
    return F([[("S", f"{p.name}刚入职{co}。")],
              [("O", f"{co}要在{city}开新办公室了，新闻上说的。")]], qs=[
        ("multi-hop", f"{p.name}的新东家要在哪个城市设立分部？")],
        distract=[f"{p.name}特别讨厌通勤。", f"{c.other(p).name}现在在{city}工作。"])


def zh_mh_kid(c):
    r, p = c.rel()
    kid = c.choice(["小雪", "欣欣", "悦悦", "晴晴", "思思"])
    prize = c.choice(["全市少儿组", "省青少年赛", "校际联赛"])
    return F([[("S", f"我{r.rel}{p.name}的女儿{kid}刚加入了国际象棋社。")],
              [("S", f"{kid}拿了{prize}冠军！太厉害了。")]], react="good", qs=[
        ("multi-hop", f"{p.name}的女儿赢了什么？")],
        distract=[f"{p.name}在教孩子们下棋。", f"{c.other(p).name}的儿子拿了游泳奖牌。"])


def zh_mh_cabin(c):
    lake = c.pick("lake")
    return F([[("S", f"我们订了暑假在{lake}边的小木屋。")],
              [("S", "小木屋的行程取消了，那边发大水全淹了，等退款。")]], react="bad", qs=[
        ("multi-hop", f"{c.S}暑假去{lake}的计划为什么泡汤了？")],
        distract=[f"{c.other().name}去年去过{lake}，很喜欢。", "新闻里到处都是洪水。"])


def zh_mh_teacher(c):
    p = c.person()
    subj = c.choice(["化学", "地理", "体育", "音乐", "美术", "物理"])
    return F([[("S", f"我们邻居{p.name}在高中教{subj}。")],
              [("O", f"{p.name}年底就退休了，学校要给{p.ta}办欢送会。")]], qs=[
        ("multi-hop", f"{c.S}家隔壁那位{subj}老师什么时候退休？")],
        distract=[f"{c.other(p).name}也快退休了，真羡慕。", f"我以前的{subj}老师超凶。"])


def zh_mh_gift(c):
    p = c.person()
    gift = c.choice(["智能手表", "磨豆机", "蓝牙音箱", "吹风机", "台灯"])
    return F([[("S", f"我送了{p.name}一个{gift}当生日礼物。")],
              [("S", f"结果那个{gift}一周就坏了，太尴尬了。")]], react="bad", qs=[
        ("multi-hop", f"{c.S}送给{p.name}的生日礼物后来怎么了？")],
        distract=[f"{p.name}的生日聚会很开心。", f"我的{gift}用得好好的，奇怪。"])


Chinese.FACTS = [zh_move, zh_adopt, zh_job, zh_buy, zh_allergy, zh_favplace, zh_race, zh_garage, zh_vet, zh_physio,
                 zh_wedding, zh_baby, zh_trip, zh_class, zh_rent, zh_school, zh_recipe, zh_code, zh_lost, zh_promo,
                 zh_split, zh_paint, zh_diet, zh_gig, zh_lang, zh_injury, zh_savings, zh_flight, zh_offer, zh_flat,
                 zh_doctor]
Chinese.MULTI = [zh_mh_pet, zh_mh_company, zh_mh_kid, zh_mh_cabin, zh_mh_teacher, zh_mh_gift]
Chinese.STATIC.update({
    "petname": ["布丁", "芝麻", "汤圆", "咖啡", "橘子", "饭团", "奶茶", "大黄", "小黑", "雪球"],
    "company": ["星河科技", "青松设计", "蓝海物流", "华康医疗", "启明教育", "远山建筑", "橙子游戏", "麦田面包"],
    "buy": ZH_BUYS,
    "allergen": ["花生", "虾", "芝麻", "猕猴桃", "鸡蛋", "芒果", "牛奶", "核桃"],
    "rest": ZH_RESTS,
    "class": ["陶艺", "素描", "萨尔萨舞", "意大利菜", "木工", "即兴表演", "水彩", "书法"],
    "secret": ["一勺黑巧克力", "一点鱼露", "一勺味噌", "一点速溶咖啡", "一勺豆瓣酱", "一点冰糖"],
    "codething": ["自行车棚", "健身房储物柜", "仓库", "菜园大门", "公司侧门", "新小区大门"],
    "lostitem": ["笔记本电脑", "钱包", "好用的雨伞", "耳机", "老花镜", "电子书阅读器", "奶奶织的围巾"],
    "band": ["北港乐队", "落叶乐队", "薄荷电车", "夜窗乐队", "纸风筝", "砖与蜜"],
    "language": ["西班牙语", "德语", "日语", "意大利语", "韩语", "法语", "俄语"],
    "street": ["梧桐路", "解放街", "滨江路", "学院路", "中山路"],
    "lake": ["千岛湖", "洱海", "抚仙湖", "青海湖", "太湖"],
})


# =============================================================================================
# More filler (all languages): longer remarks, more questions and a larger vocabulary.

English.PREFIXES = ("Honestly, ", "Oh, ", "Ha, ", "Anyway, ", "Btw, ", "Okay so ", "Right, ", "Ugh, ", "Hmm, ")
English.TAILS = (" lol", " haha", " :)", "!!")
English.STATEMENTS += [
    "The {food} at that new café was {good}, but the queue was ridiculous.", "{name} finally replied to my message after three weeks.",
    "The radiator in the {room} is making that noise again.", "Saw a fox on the way back from {place} last night.",
    "I've been listening to a podcast about {topic} all week.", "My {rel} sent photos from {city}, looks {good}.",
    "Power cut for two hours this morning, had to shower in the dark.", "Planning to {act_fut} next {day}, weather permitting.",
    "Why does every recipe call for {ingredient} when I never have any?", "{name} lent me {book}, I'm about halfway.",
    "Found twenty quid in an old coat pocket, best day ever.", "The new series of {show} is {bad}, sorry to say.",
    "Does anyone know how to get rid of fruit flies?", "My knees are not happy after {hobby} yesterday.",
    "Tried {hobby} for the first time at {place}, {good}.", "The ring road was backed up for miles because of roadworks.",
    "The kids next door have started learning the drums. Pray for me.", "{my_partner} is away in {city} for work until {day}.",
    "I miss the summer already.", "Made way too much {food}, there's enough for a week.",
    "The café by {place} has started doing brunch on weekends.", "Finally fixed the squeaky door. Only took a year.",
    "{name} is organising a quiz night at {place} on {day}.", "We watched {film} again, still {good} the second time.",
    "Started a new jigsaw, a thousand pieces of sky, terrible idea.", "Got soaked walking back from {place}.",
    "The heating bill this month was painful.", "I really need to sort out my wardrobe.",
    "Just realised I've been pronouncing quinoa wrong my entire life.", "{name} recommended a {genre} called {film}, anyone seen it?",
    "The market had amazing strawberries today.", "My {hobby} teacher says I'm improving. Slowly.",
    "Our street is having a party in the summer, {name} is organising it.", "Ran out of {drink}, the day is ruined.",
    "There's a new {food} place near the station, we should go.", "My back hurts from sitting at the laptop all day.",
    "Finished {work} early, going to {act_fut} instead.", "The garden is a jungle after all that rain.",
    "Has anyone been to {city}? Thinking about a weekend there.",
    "Remember when {name} got lost on the way to {place}? Still makes me laugh.",
    "The printer at work jammed three times before lunch.", "My inbox is a disaster after {work}.",
    "Can't stop thinking about that {food} from {place}.", "{name} and {name2} are coming over for {food} on {day}.",
    "The neighbour's cat has decided our garden is its toilet.", "Our washing machine sounds like a jet engine.",
    "Just walked past {place}, it's heaving.", "I swear the bus timetable is pure fiction.",
    "{my_kid} wants to be an astronaut this week. Last week it was a chef.", "Spent the whole evening sorting out old photos.",
    "Is it just me or is everyone ill at the moment?", "The sunset over {place} tonight was unreal.",
    "Someone at work brought in homemade {food}, dangerous.", "Reading about {topic} at 2am again, help.",
]
English.QA += [
    ("Did you end up going to {place}?", ["Yes, it was {good}.", "No, ran out of time.", "Tomorrow, hopefully."]),
    ("How's {you_partner} doing?", ["Good, busy with {work}.", "Tired, but fine. Says hi!", "Away in {city} this week."]),
    ("What did you think of {film}?", ["Loved it, the music especially.", "Bit long, honestly.", "{good}, but the ending was weird."]),
    ("Anyone want to {act_fut} on {day}?", ["Me! What time?", "Can't, sorry, {work}.", "Maybe, let me check with {my_partner}."]),
    ("Is {place} open on Sundays?", ["I think so, till four.", "No idea, sorry.", "Only in summer."]),
    ("Have you tried the {food} at {place}?", ["Yes, {good}.", "Not yet, is it good?", "Once, too salty for me."]),
    ("Where did you get the recipe for the {food}?", ["{name} gave it to me.", "Off the back of a packet, honestly.",
                                                      "From {book}, believe it or not."]),
    ("Did {name} ever call you back?", ["Not yet, typical.", "Yes, all sorted.", "Finally, yesterday."]),
    ("What time are we meeting?", ["Around {hour}?", "{hour} at {place}.", "Whenever suits you."]),
    ("How was the drive back?", ["Long, {weather} the whole way.", "Easy, no traffic.", "We stopped in {city} for lunch, nice."]),
    ("Any good podcasts lately?", ["One about {topic}, weirdly gripping.", "Not really, I've gone back to music.",
                                   "{name} got me into one about {topic2}."]),
    ("How's {my_kid} getting on at school?", ["Fine, loves art, hates maths.", "Good! New best friend every week.",
                                              "Parents' evening is on {day}, we'll see."]),
]
English.STATIC["forecast"] = ["rain", "sunshine", "strong winds", "light showers", "a heatwave", "fog in the morning",
                              "snow", "thunderstorms", "grey skies"]
English.STATIC["topic"] = ["ancient Rome", "sleep science", "true crime", "the history of bread", "deep sea creatures",
                           "famous heists", "urban planning", "the space race", "chess openings", "medieval medicine",
                           "volcanoes", "the Vikings"]
English.STATIC["food"] += ["carbonara", "fish and chips", "jollof rice", "moussaka", "a veggie chilli", "bao buns",
                           "a ploughman's", "katsu curry", "enchiladas", "a big salad", "cheese toasties", "a stew"]
English.STATIC["place"] += ["the garden", "the high street", "the leisure centre", "the market hall", "the canal",
                            "the retail park", "the old cinema", "the climbing centre"]

Russian.PREFIXES = ("Кстати, ", "Слушайте, ", "Ну ", "Короче, ", "Блин, ", "Ой, ", "Так, ", "Ладно, ")
Russian.TAILS = (" ахах", " :)", ")))")
Russian.KEEP_CASE = ("{name", "{my_", "{you", "{film", "{series", "{book", "{city", "Я ", "Мы ")
Russian.STATEMENTS += [
    "{name} наконец ответил{name.a} на сообщение, спустя три недели.", "Батарея {room} опять стучит.",
    "Вчера вечером видел{me_a} во дворе лису!", "Всю неделю слушаю подкаст про {topic}.",
    "Мама прислала фотки с дачи, помидоры уродились {good}.", "Утром два часа не было света, собирал{me_sya} в темноте.",
    "Планирую в {day} {act_fut}, если погода позволит.", "Почему в каждом рецепте есть то, чего у меня нет?",
    "{name} дал{name.a} почитать {book}, я на середине.", "Новый сезон {series.gen} — {bad}, увы.",
    "Кто-нибудь знает, как избавиться от мошек?", "Колени после вчерашней тренировки не в восторге.",
    "На кольцевой пробка на километры из-за ремонта.", "Соседские дети начали учиться играть на барабанах. Молитесь за меня.",
    "{my_partner} уехал{my_partner.a} в командировку в {city.acc}.", "Уже скучаю по лету.", "Наготовил{me_a} еды на неделю вперёд.",
    "В кафе на углу теперь по выходным завтраки.", "Наконец-то смазал{me_a} скрипучую дверь. Всего-то год прошёл.",
    "{name} устраивает квиз в пятницу, кто в деле?", "Пересмотрели {film}, второй раз тоже {good}.",
    "Начал{me_a} новый пазл на тысячу деталей, одно небо, зря.", "Попал{me_a} под ливень по дороге домой.",
    "Счёт за отопление в этом месяце — боль.", "Надо разобрать шкаф, давно пора.", "Клубника на рынке сегодня просто огонь.",
    "Тренер говорит, что я прогрессирую. Медленно.", "У нас во дворе летом будет праздник, {name} организует.",
    "Кончился кофе, день испорчен.", "Возле вокзала открылось новое место, где делают {food.acc}, надо сходить.",
    "Спина болит от ноутбука, весь день за столом.", "Кто-нибудь был в {city.prep}? Думаю съездить на выходные.",
    "Помните, как {name} заблудил{name.sya} по дороге на дачу? До сих пор смешно.",
    "Сдал{me_a} {work.acc} раньше срока, пойду лучше {act_fut}.", "Огород после дождей превратился в джунгли.",
    "Принтер на работе зажевал бумагу три раза до обеда.", "После того как сдали {work.acc}, почта просто взорвалась.",
    "Не могу перестать думать про {food.acc} {place.where}.", "{name} и {name2} придут в {day} на {food.acc}.",
    "Соседский кот решил, что наш огород — его туалет.", "Стиральная машина гудит, как самолёт.",
    "Автобусное расписание — это чистая фантастика.", "{my_kid} на этой неделе хочет стать космонавтом. На прошлой — поваром.",
    "Весь вечер разбирал{me_a} старые фотографии.", "Мне кажется, или сейчас все болеют?",
    "Закат сегодня над набережной просто нереальный.", "Коллега принёс домашние {food.acc}, опасно.",
    "Опять в два часа ночи читаю про {topic}, помогите.", "В подъезде наконец покрасили стены.",
]
Russian.QA += [
    ("В итоге сходил{you_a} {place.whither}?", ["Да, было {good}.", "Нет, не успел{me_a}.", "Завтра, надеюсь."]),
    ("Как там {you_partner}?", ["{my_partner} в порядке, передаёт привет.", "Много работы, но держится.",
                                "{my_partner} на этой неделе в {city.prep}."]),
    ("Как тебе {film}?", ["Очень понравилось, особенно музыка.", "Затянуто, честно говоря.", "{good}, но концовка странная."]),
    ("Кто хочет {act_fut} в {day}?", ["Я! Во сколько?", "Не могу, прости, {work}.", "Может быть, спрошу у {my_partner.gen}."]),
    ("Пробовал{you_a} {food.acc} в новом кафе?", ["Да, {good}.", "Ещё нет, вкусно?", "Один раз, пересолено."]),
    ("{name} тебе перезвонил{name.a}?", ["Пока нет, как обычно.", "Да, всё решили.", "Наконец-то, вчера."]),
    ("Во сколько встречаемся?", ["Давай к {hour}?", "К {hour} {place.where}.", "Когда тебе удобно."]),
    ("Как обратная дорога?", ["Долгая, сплошные пробки.", "Легко, трасса пустая.",
                              "Останавливались пообедать в {city.prep}, было {good}."]),
    ("Слушаешь какие-нибудь подкасты?", ["Один про {topic}, неожиданно затягивает.", "Не особо, вернул{me_sya} к музыке.",
                                         "{name} подсадил{name.a} меня на подкаст про {topic2}."]),
    ("Как {my_kid} в школе?", ["Нормально, любит рисование, ненавидит математику.", "Хорошо! Каждую неделю новый лучший друг.",
                               "В {day} родительское собрание, посмотрим."]),
]
Russian.STATIC["topic"] = ["Древний Рим", "сон", "космос", "историю хлеба", "глубоководных рыб", "знаменитые ограбления",
                           "архитектуру", "шахматы", "викингов", "вулканы", "средневековую медицину"]
Russian.STATIC["room"] = ["на кухне", "в ванной", "в спальне", "в гостиной", "в детской"]
Russian.STATIC["food"] += [_nf(a, b) for a, b in [("шаурма", "шаурму"), ("драники", "драники"), ("манты", "манты"),
                                                   ("хачапури", "хачапури"), ("оливье", "оливье"), ("селёдка под шубой", "селёдку под шубой"),
                                                   ("запеканка", "запеканку"), ("щи", "щи"), ("пирожки", "пирожки")]]

Chinese.PREFIXES = ("对了，", "话说，", "哈哈，", "唉，", "嗯，", "其实，", "说起来，")
Chinese.TAILS = ("哈哈", "～", "！！")
Chinese.STATEMENTS += [
    "那家新店的{food}{good}，就是排队排太久了。", "{name}过了三个星期终于回我消息了。", "卧室的暖气又在响了。",
    "昨晚回来路上看到一只狐狸！", "这周一直在听一个讲{topic}的播客。", "我妈发来了老家院子的照片，花开得{good}。",
    "早上停电两个小时，摸黑洗的澡。", "打算{day}{act_fut}，看天气吧。", "为什么每个菜谱都要我家没有的东西？",
    "{name}借了我{book}，看到一半了。", "{show}新一季{bad}，说实话。", "有人知道怎么除果蝇吗？",
    "昨天{hobby}完膝盖好疼。", "第一次在{place}试了{hobby}，{good}。", "环路修路，堵了好几公里。",
    "隔壁小孩开始学打鼓了，为我祈祷吧。", "{my_partner}出差去{city}了，{day}才回来。", "已经开始想念夏天了。",
    "{food}做多了，够吃一周。", "{place}旁边那家咖啡馆周末开始做早午餐了。", "终于把吱吱响的门修好了，拖了一年。",
    "{name}{day}在{place}组织了个知识竞赛。", "又看了一遍{film}，第二遍还是{good}。",
    "开始拼一个一千片的拼图，全是天空，后悔了。", "从{place}走回来淋成落汤鸡了。", "这个月暖气费好贵。",
    "衣柜真该整理了。", "菜市场今天的草莓超好。", "{hobby}老师说我进步了，虽然很慢。",
    "我们小区夏天要办聚会，{name}在组织。", "{drink}喝完了，今天毁了。", "火车站附近新开了家{food}，要不要去试试？",
    "对着电脑坐了一天，腰疼。", "{work}提前搞完了，我要去{act_fut}。", "下了这么多雨，院子成丛林了。",
    "有人去过{city}吗？想周末去玩。", "还记得{name}去{place}的路上迷路那次吗？现在想起来还笑。",
    "公司的打印机一上午卡纸三次。", "{work}一结束，邮箱就爆了。", "一直在想{place}的那家{food}。",
    "{name}和{name2}{day}来我家吃{food}。", "邻居家的猫把我们的菜园当厕所了。", "洗衣机响得像飞机起飞。",
    "公交时刻表完全是科幻小说。", "{my_kid}这周想当宇航员，上周还想当厨师。", "整个晚上都在整理老照片。",
    "是我的错觉吗，最近大家都在生病。", "今晚江边的晚霞美哭了。", "同事带了自己做的{food}，太危险了。",
    "又在凌晨两点看关于{topic}的东西，救命。", "楼道终于重新刷漆了。",
]
Chinese.QA += [
    ("最后去{place}了吗？", ["去了，{good}。", "没有，没时间了。", "明天吧，希望能去。"]),
    ("{you_partner}最近怎么样？", ["挺好的，忙着{work}。", "有点累，不过还好，让我跟你问好！", "这周出差去{city}了。"]),
    ("你觉得{film}怎么样？", ["很喜欢，尤其是配乐。", "说实话有点长。", "{good}，就是结局有点怪。"]),
    ("{day}有人想{act_fut}吗？", ["我！几点？", "不行，要弄{work}。", "可能吧，我问问{my_partner}。"]),
    ("你吃过{place}附近的{food}吗？", ["吃过，{good}。", "还没，好吃吗？", "吃过一次，太咸了。"]),
    ("{name}给你回电话了吗？", ["还没，老样子。", "回了，都搞定了。", "终于，昨天回的。"]),
    ("几点见？", ["{hour}左右？", "{hour}在{place}见。", "你方便就行。"]),
    ("回来路上顺利吗？", ["好久，一路都在堵。", "很顺，没堵车。", "我们在{city}停下来吃了午饭，挺好。"]),
    ("最近有什么好听的播客吗？", ["有个讲{topic}的，意外地好听。", "没怎么听，又回去听歌了。", "{name}给我安利了一个讲{topic2}的。"]),
    ("{my_kid}在学校怎么样？", ["还行，喜欢美术，讨厌数学。", "挺好！每周都有新的好朋友。", "{day}开家长会，到时候看看。"]),
]
Chinese.STATIC["topic"] = ["古罗马", "睡眠", "宇宙", "面包的历史", "深海生物", "有名的抢劫案", "城市规划", "象棋开局",
                           "维京人", "火山", "中世纪医学"]
Chinese.STATIC["food"] += ["羊肉串", "肠粉", "糖醋排骨", "冒菜", "生煎", "热干面", "黄焖鸡", "过桥米线", "锅包肉"]


English.STATIC["news"] = ["the train strike", "the bin collection changes", "the new tram line", "the heatwave",
                          "the storm warnings", "the council's parking plan", "the price of butter", "the new stadium",
                          "the bridge closure", "the festival line-up", "the postal strike", "the water shortage",
                          "the library cuts", "the lottery winner from our town", "the new hospital wing",
                          "the sinkhole on the high street"]
English.STATIC["anecdote"] = [
    "a seagull stole a whole sandwich out of someone's hand at the pier",
    "the office fridge is now covered in passive-aggressive notes",
    "someone left a goat tied up outside the post office", "the library is getting a robot receptionist",
    "the chip shop has started doing deep-fried mince pies", "a man on the train was ironing his shirt",
    "the council painted the new cycle lane straight through a lamppost",
    "there's a secret tunnel under the old brewery", "the swimming pool is closing for a month for repairs",
    "the school play had a real pony in it", "the corner shop owner won a cheese-rolling race",
    "the museum found a Roman coin in the car park", "the bakery sold out of croissants by seven",
    "the neighbours' parrot has learned the microwave beep", "a wedding party got stuck in the lift for an hour",
    "the village fete raised money for a new defibrillator", "the cinema is showing silent films with a live pianist",
    "a tortoise escaped from the pet shop and got halfway down the road", "the new barber only accepts cash and compliments",
    "the allotment society is at war over a giant marrow"]
English.QA += [("Did you see the news about {news}?", ["Yes, unbelievable.", "No, what happened?",
                                                      "{name} was telling me about it, mad.",
                                                      "I've stopped reading the news, honestly."])]
English.STATEMENTS += ["{name} told me {anecdote}.", "Apparently {anecdote}.", "Did you hear that {anecdote}?",
                       "Everyone at work is talking about {news}.", "Reading about {news}, what a mess."]
English.STATIC["item"] += ["a hammock", "a laundry basket", "some picture frames", "a slow cooker", "a toolbox",
                           "a yoga mat", "a doormat", "a shower curtain", "an alarm clock", "a thermos", "a picnic blanket"]

Russian.STATIC["news"] = ["забастовку на железной дороге", "новую линию трамвая", "жару", "штормовое предупреждение",
                          "новые тарифы на ЖКХ", "ремонт моста", "цены на масло", "новый стадион", "закрытие рынка",
                          "фестиваль в парке", "реконструкцию набережной", "новую развязку", "провал на главной улице"]
Russian.STATIC["anecdote"] = [
    "чайка утащила у кого-то целый бутерброд прямо на набережной", "в офисном холодильнике теперь висят записки с угрозами",
    "кто-то привязал козу у почты", "в библиотеке поставят робота-администратора", "в электричке мужчина гладил рубашку",
    "новую велодорожку провели прямо через фонарный столб", "под старым пивзаводом есть секретный тоннель",
    "бассейн закрывают на месяц на ремонт", "в школьном спектакле участвовал настоящий пони",
    "в музее нашли римскую монету прямо на парковке", "в пекарне круассаны заканчиваются к семи утра",
    "соседский попугай научился пищать как микроволновка", "свадьба застряла в лифте на целый час",
    "в кинотеатре показывают немое кино с живым пианистом", "черепаха сбежала из зоомагазина и дошла до середины улицы",
    "на даче у соседей выросла тыква размером с кресло", "в нашем дворе сняли сцену для сериала"]
Russian.QA += [("Видели новости про {news}?", ["Да, это что-то.", "Нет, а что случилось?",
                                                "{name} рассказывал{name.a}, жесть.", "Я перестал{me_a} читать новости, честно."])]
Russian.STATEMENTS += ["{name} рассказал{name.a}, что {anecdote}.", "Говорят, {anecdote}.", "Слышали, что {anecdote}?",
                       "На работе все обсуждают {news}.", "Читаю про {news}, ну и бардак."]

Chinese.STATIC["news"] = ["新地铁线开通", "高温预警", "暴雨预警", "水电费涨价", "大桥封闭维修", "黄油涨价", "新体育馆",
                          "菜市场要拆", "公园音乐节", "共享单车新规", "老街改造", "主干道塌陷"]
Chinese.STATIC["anecdote"] = [
    "海边有只海鸥抢走了别人一整个三明治", "公司冰箱上贴满了阴阳怪气的纸条", "有人把一只羊拴在邮局门口",
    "图书馆要用机器人当前台", "楼下早餐店老板中了彩票", "地铁上有人在熨衬衫", "新修的自行车道正好穿过一根电线杆",
    "老酒厂底下有条秘密地道", "游泳馆要关门整修一个月", "学校话剧里用了一匹真的小马", "博物馆在停车场挖出了一枚古钱币",
    "面包店的可颂七点就卖完了", "邻居家的鹦鹉学会了微波炉的提示音", "一群参加婚礼的人在电梯里困了一个小时",
    "电影院在放默片，还有现场钢琴伴奏", "宠物店跑出来一只乌龟，爬到了马路中间", "隔壁小区在拍电视剧"]
Chinese.QA += [("看到{news}的新闻了吗？", ["看到了，太离谱了。", "没有，怎么了？", "{name}跟我说了，真夸张。", "说实话我已经不看新闻了。"])]
Chinese.STATEMENTS += ["{name}跟我说{anecdote}。", "听说{anecdote}。", "你们听说了吗，{anecdote}？", "公司里大家都在聊{news}的事。",
                       "在看{news}的新闻，真是一团糟。"]


# =============================================================================================
# Driver

CONVS = [
    {"name": "en_friends", "lang": "en", "turns": 3000, "facts": 60, "questions": 110, "start": "2023-01-14",
     "time": "iso", "speakers": [("Mark", "user", "m"), ("Priya", "user", "f"), ("Jonah", "user", "m"),
                                 ("Leila", "user", "f"), ("Sam", "user", "m")]},
    {"name": "en_household", "lang": "en", "turns": 3000, "facts": 60, "questions": 110, "start": "2023-06-02",
     "time": "iso", "speakers": [("Dana", "user", "f"), ("Luis", "user", "m"), ("Nova", "assistant", "n")]},
    {"name": "en_trio", "lang": "en", "turns": 3000, "facts": 60, "questions": 110, "start": "2022-09-05",
     "time": "free", "speakers": [("Tessa", "user", "f"), ("Ravi", "user", "m"), ("Gwen", "user", "f")]},
    {"name": "ru_family", "lang": "ru", "turns": 2000, "facts": 40, "questions": 85, "start": "2023-03-04",
     "time": "iso", "speakers": [("Анна", "user", "f"), ("Дмитрий", "user", "m"), ("Катя", "user", "f"),
                                 ("Сергей", "user", "m")]},
    {"name": "zh_friends", "lang": "zh", "turns": 2000, "facts": 40, "questions": 85, "start": "2023-02-18",
     "time": "iso", "speakers": [("李娜", "user", "f"), ("王磊", "user", "m"), ("陈静", "user", "f")]},
]


def packs():
    out = {"en": English()}
    if "Russian" in globals():
        out["ru"] = Russian()
    if "Chinese" in globals():
        out["zh"] = Chinese()
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    P = packs()
    allq = []
    stats = []
    for cfg in CONVS:
        if cfg["lang"] not in P:
            continue
        pack = P[cfg["lang"]]
        rng = random.Random(f"{args.seed}:{cfg['name']}")
        conv = Conv(cfg, pack, rng)
        conv.skeleton()
        conv.make_facts()
        conv.place()
        conv.render()
        qs = conv.questions(cfg["questions"])
        conv.write(args.out)
        allq += qs
        stats.append((cfg["name"], cfg["lang"], len(conv.turns), len(conv.sessions), len(conv.facts),
                      conv.turns[0]["dt"].date(), conv.turns[-1]["dt"].date(), len(qs)))
    with open(os.path.join(args.out, "questions.json"), "w", encoding="utf-8", newline="\n") as fp:
        json.dump(allq, fp, ensure_ascii=False, indent=1)
        fp.write("\n")
    print(f"{'conversation':14} lang  turns sessions facts  first       last        questions")
    for name, lang, nt, ns, nf, d0, d1, nq in stats:
        print(f"{name:14} {lang:4} {nt:6} {ns:8} {nf:5}  {d0}  {d1}  {nq:9}")
    lang_of = {c["name"]: c["lang"] for c in CONVS}
    langs = sorted({lang_of[q["conversation"]] for q in allq})
    cnt = Counter((q["kind"], lang_of[q["conversation"]]) for q in allq)
    print(f"\n{'kind':16}" + "".join(f"{l:>6}" for l in langs) + f"{'all':>6}")
    for k in KINDS:
        print(f"{k:16}" + "".join(f"{cnt[(k, l)]:6}" for l in langs) + f"{sum(cnt[(k, l)] for l in langs):6}")
    print(f"{'all':16}" + "".join(f"{sum(cnt[(k, l)] for k in KINDS):6}" for l in langs) + f"{len(allq):6}")


if __name__ == "__main__":
    main()
