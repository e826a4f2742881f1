"""Duplicate clusters without chaining. Connected components of a similarity graph chain: A ~ B and
B ~ C put A and C together however far apart they are (on real intent data only half the pairs inside
such components were themselves similar). Here each cluster is a star: a representative and the texts
that are duplicates of it, so every member is within the threshold of the row shown first. Greedy by
degree (the text with most unassigned duplicates first, ties by id), deterministic, so both engines
build the same clusters from the same pairs. A text whose duplicates were all taken by other stars is
not dropped (on planted copies a third of the missed copies were such texts): it leads a star of its
own with those duplicates, which then show in two clusters."""

from __future__ import annotations

import heapq

import numpy as np


def star_clusters(pairs: np.ndarray, sims: np.ndarray, nodes: np.ndarray) -> list[tuple[int, list[tuple[int, float]]]]:
    """pairs (m, 2) of node ids with their similarities; nodes: the ids that may be clustered (edges
    touching others are ignored). Returns [(representative, [(member, similarity to it), ...])], the
    representative first among its members with similarity 1.0; clusters of one node are left out."""
    nodes = np.unique(np.asarray(nodes, dtype=np.int64))
    if len(pairs) == 0 or len(nodes) == 0:
        return []
    a, b = pairs[:, 0].astype(np.int64), pairs[:, 1].astype(np.int64)
    keep = np.isin(a, nodes) & np.isin(b, nodes) & (a != b)
    a, b, s = a[keep], b[keep], np.asarray(sims, dtype=np.float64)[keep]
    if len(a) == 0:
        return []
    src = np.concatenate([a, b])
    dst = np.concatenate([b, a])
    sim = np.concatenate([s, s])
    order = np.lexsort((dst, src))
    src, dst, sim = src[order], dst[order], sim[order]
    starts = np.searchsorted(src, np.unique(src))
    ids = src[starts]
    bounds = dict(zip(ids.tolist(), zip(starts.tolist(), np.append(starts[1:], len(src)).tolist())))
    degree = np.diff(np.append(starts, len(src)))
    assigned: set[int] = set()
    clusters = []
    # Degree only falls as neighbours are taken, so a node is reconsidered with its current count: a
    # lazy pass over nodes sorted by their initial degree, re-queued when their count has dropped.
    heap = [(-int(d), int(n)) for n, d in zip(ids.tolist(), degree.tolist())]
    heapq.heapify(heap)
    while heap:
        neg, node = heapq.heappop(heap)
        if node in assigned:
            continue
        lo, hi = bounds[node]
        free = [(int(d), float(x)) for d, x in zip(dst[lo:hi].tolist(), sim[lo:hi].tolist()) if d not in assigned]
        if not free:
            continue
        if len(free) < -neg:
            heapq.heappush(heap, (-len(free), node))
            continue
        assigned.add(node)
        assigned.update(d for d, _ in free)
        clusters.append((node, [(node, 1.0)] + sorted(free)))
    # Texts left out: every duplicate of theirs sits in another star. Each leads one with all of them.
    for neg, node in sorted((-int(d), int(n)) for n, d in zip(ids.tolist(), degree.tolist())):
        if node in assigned:
            continue
        lo, hi = bounds[node]
        taken = [(int(d), float(x)) for d, x in zip(dst[lo:hi].tolist(), sim[lo:hi].tolist())]
        assigned.add(node)
        assigned.update(d for d, _ in taken)
        clusters.append((node, [(node, 1.0)] + sorted(taken)))
    return clusters


def cluster_rows(stars: list[tuple[int, list[tuple[int, float]]]], rows_by_text: dict[int, list[int]]
                 ) -> list[tuple[list[int], float, float, int]]:
    """Rows of each star (all rows of each member text) as (rows, lowest and highest similarity to the
    representative, representative row), plus one group per text that sits on several rows and in no
    star (identical copies, similarity 1.0); groups of fewer than two rows are left out. Sorted by
    first row."""
    groups = []
    clustered: set[int] = set()
    for rep, members in stars:
        rows = sorted(r for t, _ in members for r in rows_by_text.get(t, []))
        clustered.update(t for t, _ in members)
        if len(rows) >= 2 and rows_by_text.get(rep):
            sims = [s for t, s in members if t != rep] or [1.0]
            groups.append((rows, min(sims), max(sims), rows_by_text[rep][0]))
    for t, rows in rows_by_text.items():
        if t not in clustered and len(rows) >= 2:
            groups.append((sorted(rows), 1.0, 1.0, min(rows)))
    groups.sort(key=lambda g: g[0][0])
    return groups
