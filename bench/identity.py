"""Identity resolution at scale: the streaming resolver against connected components.

Identify events are generated over a synthetic population whose identifiers never break a
limit (one user id, at most five of anything else per person), so the resolver's profiles
must equal the connected components of the identifier graph; the run checks that they do.
Usage: python -m bench.identity [--events 1000000] [--repeats 1] [--seed 7]
"""

from __future__ import annotations

import argparse
import gc
import itertools
import os
import random
import resource
import statistics
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx

from bench.harness import pin_self
from sampan.identity.identifiers import Identifier, IdentityRules, extract_identifiers
from sampan.identity.resolver import IdentityGraph, resolve

Event = tuple[Identifier, ...]
Partition = set[frozenset[Identifier]]

FIRST_NAMES = ["somchai", "suda", "anan", "malee", "niran", "pim", "kittipong", "wanida"]
DOMAINS = ["gmail.com", "hotmail.com", "yahoo.co.th", "example.co.th"]
# Where each identifier type travels in a Segment identify call.
TRAIT_KEYS = {"email": "email", "phone": "phone", "line_user_id": "lineUserId"}


@dataclass(frozen=True)
class Workload:
    events: list[Event]
    people: int
    people_seen: int
    identifiers: int
    edges: int


def make_person(p: int, rng: random.Random, phones: set[str]) -> dict[str, tuple[Identifier, ...]]:
    """Return one person's normalised identifiers by type, every type within its limit."""
    name = rng.choice(FIRST_NAMES)
    emails = tuple(
        Identifier("email", f"{name}.{p}{'x' * k}@{rng.choice(DOMAINS)}")
        for k in range(rng.randint(1, 2))
    )
    numbers: list[Identifier] = []
    wanted = rng.randint(1, 2)
    while len(numbers) < wanted:
        number = f"+668{rng.randrange(10**8):08d}"
        if number not in phones:
            phones.add(number)
            numbers.append(Identifier("phone", number))
    person = {
        "user_id": (Identifier("user_id", f"M{p:07d}"),),
        "email": emails,
        "phone": tuple(numbers),
        "anonymous_id": tuple(
            Identifier("anonymous_id", str(uuid.UUID(int=rng.getrandbits(128), version=4)))
            for _ in range(rng.randint(1, 4))
        ),
    }
    if rng.random() < 0.3:
        person["line_user_id"] = (Identifier("line_user_id", f"U{rng.getrandbits(128):032x}"),)
    return person


def make_workload(events: int, people: int, seed: int, rules: IdentityRules) -> Workload:
    """Return ``events`` identify events of 2-4 identifiers, each linking one person's own."""
    rng = random.Random(seed)
    phones: set[str] = set()
    population = [make_person(p, rng, phones) for p in range(people)]
    rank = {t: rules.rank(t) for t in rules.priority}
    out: list[Event] = []
    seen: set[int] = set()
    for _ in range(events):
        p = rng.randrange(people)
        seen.add(p)
        person = population[p]
        # Segment wants a userId or an anonymousId on every identify.
        anchor = "user_id" if rng.random() < 0.5 else "anonymous_id"
        others = [t for t in person if t != anchor]
        types = [anchor, *rng.sample(others, rng.randint(1, 3))]
        ids = [rng.choice(person[t]) for t in types]
        ids.sort(key=lambda i: (rank[i.type], i.value))
        out.append(tuple(ids))
    distinct = {i for ids in out for i in ids}
    edges = {frozenset(pair) for ids in out for pair in itertools.pairwise(ids)}
    return Workload(out, people, len(seen), len(distinct), len(edges))


def segment_message(n: int, ids: Event, rng: random.Random) -> dict[str, Any]:
    """Return the identify call carrying ``ids``, phones and e-mails written as people do."""
    message: dict[str, Any] = {"type": "identify", "messageId": f"id-{n}"}
    traits: dict[str, str] = {"firstName": "ลูกค้า"}
    for identifier in ids:
        if identifier.type == "user_id":
            message["userId"] = identifier.value
        elif identifier.type == "anonymous_id":
            message["anonymousId"] = identifier.value
        elif identifier.type == "phone":
            national = "0" + identifier.value[3:]
            traits["phone"] = rng.choice(
                [
                    national,
                    f"{national[:3]}-{national[3:6]}-{national[6:]}",
                    f"+66 {national[1:3]} {national[3:6]} {national[6:]}",
                ]
            )
        elif identifier.type == "email":
            local, _, domain = identifier.value.partition("@")
            traits["email"] = rng.choice(
                [identifier.value, f"{local.capitalize()}@{domain.upper()}", f" {local}@{domain}"]
            )
        else:
            traits[TRAIT_KEYS[identifier.type]] = identifier.value
    message["traits"] = traits
    return message


def resolver_partition(graph: IdentityGraph) -> Partition:
    return {frozenset(graph.identifiers_of(p)) for p in graph.members}


def new_ids() -> Iterator[str]:
    # Zero-padded so that "older profile survives" compares the way creation order does.
    return (f"p{n:08d}" for n in itertools.count())


def settle() -> None:
    """Collect, then hide what exists from the cyclic GC before a timed section.

    Otherwise every method pays for the collector re-scanning the million input events
    (and earlier results), which is the benchmark's cost, not the method's.
    """
    gc.collect()
    gc.freeze()


def run_resolver(
    events: Sequence[Event], rules: IdentityRules, *, collector: bool = True
) -> tuple[float, IdentityGraph]:
    """Resolve every event into a fresh graph; fail if a limit rejected anything."""
    graph = IdentityGraph()
    next_id = new_ids().__next__
    rejections = 0
    settle()
    if not collector:
        gc.disable()
    start = time.perf_counter()
    for event in events:
        rejections += len(resolve(graph, event, rules, next_id).rejections)
    elapsed = time.perf_counter() - start
    gc.enable()
    if rejections:
        sys.exit(f"the workload broke a limit: {rejections:,} rejections")
    return elapsed, graph


def run_end_to_end(
    events: Sequence[Event], seed: int, chunk: int = 50_000
) -> tuple[float, float, IdentityGraph]:
    """Resolve from Segment messages; return normalisation time, resolve time and the graph.

    Messages are built a chunk at a time outside the clock, so a million of them never sit
    in memory at once.
    """
    rules = IdentityRules.build()  # a fresh normalisation cache, as a new process has
    rng = random.Random(seed + 1)
    graph = IdentityGraph()
    next_id = new_ids().__next__
    extracting = resolving = 0.0
    for at in range(0, len(events), chunk):
        messages = [
            segment_message(at + k, ids, rng) for k, ids in enumerate(events[at : at + chunk])
        ]
        settle()
        start = time.perf_counter()
        extracted = [extract_identifiers(m, rules) for m in messages]
        middle = time.perf_counter()
        for ids in extracted:
            resolve(graph, ids, rules, next_id)
        resolving += time.perf_counter() - middle
        extracting += middle - start
    return extracting, resolving, graph


def run_networkx(events: Sequence[Event]) -> tuple[float, float, float, Partition]:
    """Return graph build time, components time, the graph's resident MB and the partition."""
    settle()
    before = resident_mb()
    start = time.perf_counter()
    graph = nx.Graph()
    graph.add_edges_from(pair for ids in events for pair in itertools.pairwise(ids))
    built = time.perf_counter()
    components = list(nx.connected_components(graph))
    done = time.perf_counter()
    size_mb = resident_mb() - before
    return built - start, done - built, size_mb, {frozenset(c) for c in components}


def run_scipy(events: Sequence[Event]) -> tuple[float, float, Partition] | None:
    """Return (index + matrix time, components time, partition), or None without scipy."""
    try:
        import numpy as np
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components
    except ImportError:
        return None
    settle()
    start = time.perf_counter()
    index: dict[Identifier, int] = {}
    sources: list[int] = []
    targets: list[int] = []
    for ids in events:
        previous = index.setdefault(ids[0], len(index))
        for identifier in ids[1:]:
            current = index.setdefault(identifier, len(index))
            sources.append(previous)
            targets.append(current)
            previous = current
    size = len(index)
    matrix = coo_matrix(
        (np.ones(len(sources), dtype=np.int8), (np.array(sources), np.array(targets))),
        shape=(size, size),
    ).tocsr()
    built = time.perf_counter()
    _, labels = connected_components(matrix, directed=False)
    done = time.perf_counter()
    groups: dict[int, list[Identifier]] = defaultdict(list)
    for identifier, label in zip(index, labels.tolist(), strict=True):
        groups[label].append(identifier)
    return built - start, done - built, {frozenset(g) for g in groups.values()}


def resident_mb() -> float:
    """Return the current resident set size in MB (Linux), or NaN elsewhere."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return float("nan")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--people", type=int, help="population size (default: events × 0.3)")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--e2e-events", type=int, help="events for the end-to-end run (default: all)"
    )
    args = parser.parse_args()
    pin_self(1)
    rules = IdentityRules.build()
    people = args.people or max(1, args.events * 3 // 10)
    e2e_count = min(args.e2e_events or args.events, args.events)

    start = time.perf_counter()
    work = make_workload(args.events, people, args.seed, rules)
    print(f"generated in {time.perf_counter() - start:.1f} s (seed {args.seed})")
    baseline_mb = resident_mb()

    core, no_gc, norm, e2e_resolve, nx_build, nx_comp, sp_build, sp_comp = ([] for _ in range(8))
    graph_mb = nx_mb = float("nan")
    profiles = 0
    agreed = {}
    for run in range(args.repeats):
        elapsed, graph = run_resolver(work.events, rules)
        core.append(elapsed)
        if run == 0:
            graph_mb = resident_mb() - baseline_mb
            reference = resolver_partition(graph)
            profiles = len(reference)
        del graph
        no_gc.append(run_resolver(work.events, rules, collector=False)[0])

        extracting, resolving, graph = run_end_to_end(work.events[:e2e_count], args.seed)
        norm.append(extracting)
        e2e_resolve.append(resolving)
        if run == 0:
            if e2e_count == args.events:
                prefix = reference
            else:
                prefix = resolver_partition(run_resolver(work.events[:e2e_count], rules)[1])
            agreed["end to end = resolver"] = resolver_partition(graph) == prefix
        del graph

        built, components, size_mb, partition = run_networkx(work.events)
        nx_build.append(built)
        nx_comp.append(components)
        if run == 0:
            nx_mb = size_mb
            agreed["resolver = networkx"] = partition == reference
        del partition

        scipy_run = run_scipy(work.events)
        if scipy_run is not None:
            sp_build.append(scipy_run[0])
            sp_comp.append(scipy_run[1])
            if run == 0:
                agreed["resolver = scipy"] = scipy_run[2] == reference
        print(
            f"run {run + 1}: resolver {core[-1]:.2f} s, networkx {built + components:.2f} s"
            + (f", scipy {sum(scipy_run[:2]):.2f} s" if scipy_run else "")
            + f", end to end {extracting + resolving:.2f} s"
        )

    med = statistics.median
    resolver_s = med(core)
    nx_total = med(b + c for b, c in zip(nx_build, nx_comp, strict=True))
    e2e_s = med(n + r for n, r in zip(norm, e2e_resolve, strict=True))
    print()
    print(
        f"events: {args.events:,} identify calls, 2-4 identifiers each; "
        f"{args.repeats} repeat(s), medians; the input is frozen out of the cyclic GC "
        f"before each timed section, for every method"
    )
    print(f"identifiers: {work.identifiers:,} distinct; edges: {work.edges:,}")
    print(
        f"people: {work.people:,} in the population, {work.people_seen:,} seen in events; "
        f"profiles (components): {profiles:,}"
    )
    print(
        f"(a) resolver, pre-normalised identifiers: {resolver_s:.2f} s, "
        f"{args.events / resolver_s:,.0f} events/s; "
        f"with the cyclic GC off {med(no_gc):.2f} s, {args.events / med(no_gc):,.0f} events/s"
    )
    print(
        f"(b) end to end from Segment messages ({e2e_count:,} events): {e2e_s:.2f} s, "
        f"{e2e_count / e2e_s:,.0f} events/s "
        f"(extract_identifiers {med(norm):.2f} s, resolve {med(e2e_resolve):.2f} s)"
    )
    print(
        f"networkx {nx.__version__} connected_components: build graph {med(nx_build):.2f} s "
        f"+ components {med(nx_comp):.2f} s = {nx_total:.2f} s"
    )
    print(f"ratio networkx / resolver: {nx_total / resolver_s:.2f}")
    if sp_build:
        sp_total = med(b + c for b, c in zip(sp_build, sp_comp, strict=True))
        print(
            f"scipy connected_components: index + matrix {med(sp_build):.2f} s "
            f"+ components {med(sp_comp):.2f} s = {sp_total:.2f} s; "
            f"ratio scipy / resolver: {sp_total / resolver_s:.2f}"
        )
    else:
        print("scipy: not installed, skipped (optional; not a project dependency)")
    print(
        f"memory: resolver graph {graph_mb:,.0f} MB retained, networkx graph + components "
        f"{nx_mb:,.0f} MB, peak RSS {peak_mb():,.0f} MB"
    )
    identical = all(agreed.values())
    print(f"partitions identical: {'yes' if identical else 'no'} ({', '.join(agreed)})")
    if not identical:
        failed = ", ".join(k for k, ok in agreed.items() if not ok)
        sys.exit(f"partitions differ: {failed}")


if __name__ == "__main__":
    main()
